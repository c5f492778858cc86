"""Billing rules of Bookings appointments, in plain Python (no Odoo import) so they are tested fast.

* ``attendee_rows``: an appointment becomes one billable row per attendee (a group booking is billed per
  attendee), or one row without customer when Bookings names none; each row has a stable key.
* ``invoice_terms``: what one row puts on an invoice line for each Bookings price type, exact to the cent.
* ``cancellation_timing`` and ``fee_terms``: whether a cancellation was late by a cancellation policy, and what a
  late cancellation or a no-show is billed.
* ``default_invoice_until``: the last day Invoice All invoices by default, last month's during its close;
  ``month_to_close``: the month closed on a day.

It also holds the selections that the Odoo models share (price types, invoice grouping), defined once here.
"""
from collections import namedtuple
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

#: Graph's ``bookingPriceType`` values with their labels, as Odoo selections show them.
PRICE_TYPE_SELECTION = [
    ("fixedPrice", "Fixed price"),
    ("startingAt", "Starting at"),
    ("hourly", "Hourly"),
    ("free", "Free"),
    ("priceVaries", "Price varies"),
    ("callUs", "Call us"),
    ("notSet", "Not set"),
    ("undefined", "Undefined"),
    ("unknownFutureValue", "Other (new in Bookings)"),
]
#: The values of Graph's ``bookingPriceType`` enumeration known to this add-on. Any other value (a future one) is
#: kept as 'other'; the invoicing treats it like ``priceVaries``.
PRICE_TYPES = tuple(value for value, _label in PRICE_TYPE_SELECTION)
#: How appointments are grouped on draft invoices (the business's default, and Invoice All's choice).
INVOICE_GROUPING_SELECTION = [
    ("customer", "One invoice per customer"),
    ("appointment", "One invoice per appointment"),
]

#: How a cancellation policy's fee is set: an amount, or a percentage of what the booking would have billed.
FEE_TYPE_SELECTION = [
    ("percent", "Percentage of the booking's price"),
    ("fixed", "Fixed amount"),
]
#: When a booking was cancelled, by a cancellation policy's hours before its start.
CANCELLATION_SELECTION = [
    ("late", "Late"),
    ("early", "In time"),
    ("unknown", "Not known"),
]

#: The first days of a month, when last month is closed: Invoice All invoices up to its end by default.
MONTH_CLOSE_DAYS = 10

#: Key of the single row of an appointment that has no customer.
NO_CUSTOMER_KEY = "-"

FIXED_PRICE = "fixedPrice"
STARTING_AT = "startingAt"
HOURLY = "hourly"
FREE = "free"
#: The price types whose Bookings price is billed as it is; the others fall back on the product's price without one.
FIRM_PRICE_TYPES = (FREE, HOURLY, FIXED_PRICE, STARTING_AT)

#: What one row puts on its invoice line. ``quantity``, ``unit_price`` and ``amount`` are Decimals: ``amount`` is
#: rounded once, to the currency, and the line's ``quantity x unit_price``, rounded to the currency as Odoo does,
#: equals it. ``to_confirm``: the price is not a firm Bookings price (a minimum, or none). ``hourly_rate``: the
#: Bookings price per hour when the line bills a duration as one unit (a duration its quantity cannot hold), else
#: None.
InvoiceTerms = namedtuple("InvoiceTerms", "quantity unit_price amount to_confirm hourly_rate")
#: The terms of a line that bills nothing (a free booking's).
NOTHING = InvoiceTerms(Decimal(0), Decimal(0), Decimal(0), False, None)


def price_type_value(price_type):
    """The selection value of a Bookings price type; a type Bookings adds later is kept as 'other'."""
    return price_type if price_type in PRICE_TYPES else "unknownFutureValue"


def attendee_key(attendee, index):
    """A key that identifies an attendee within its appointment across synchronizations."""
    if attendee.customer_id:
        return attendee.customer_id
    if attendee.email:
        return "email:%s" % attendee.email
    return "#%d" % index


def attendee_rows(appointment):
    """``[(key, attendee)]``: one row per attendee, or ``[(NO_CUSTOMER_KEY, None)]`` for none.

    Should Bookings list one customer twice, the second entry is dropped: one person is billed once.
    """
    rows = {}
    for index, attendee in enumerate(appointment.attendees):
        rows.setdefault(attendee_key(attendee, index), attendee)
    return list(rows.items()) or [(NO_CUSTOMER_KEY, None)]


def to_decimal(value):
    """``value`` (a number, or a float as Odoo stores money) as a Decimal: a float by its shortest exact form."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_money(amount, digits):
    """``amount`` rounded half up to ``digits`` decimals, as Odoo rounds a currency."""
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def uses_fallback_price(price_type, price):
    """Whether a row of this price type and Bookings price is billed at the product's sales price."""
    return price_type not in FIRM_PRICE_TYPES and not to_decimal(price) > 0


def invoice_terms(price_type, price, seconds, fallback_price, currency_digits=2, quantity_digits=3):
    """What one row puts on an invoice line, or None when there is nothing to invoice.

    ``seconds``: the appointment's duration; ``fallback_price``: the product's sales price in the invoice's
    currency; ``currency_digits``: the decimals of that currency; ``quantity_digits``: those of a line's quantity.

    * fixed price: 1 x the Bookings price;
    * starting at: 1 x the Bookings price, which is a minimum: to confirm;
    * hourly: the Bookings price x the exact duration, rounded once. The quantity is the duration in hours when
      ``quantity_digits`` hold it and hours x price needs no rounding (90 minutes at 60.00: 1.5 x 60.00); else the
      line bills the duration as one unit at the amount (20 minutes at 60.00 an hour: 1 x 20.00, not
      0.333 x 60.00 = 19.98);
    * free: nothing;
    * price varies, call us, not set, undefined and any value Bookings adds later: 1 x the Bookings price when it
      is positive, else 1 x ``fallback_price``; to confirm.
    """
    price, fallback_price = to_decimal(price), to_decimal(fallback_price)
    if price_type == FREE:
        return None
    if price_type == HOURLY:
        hours = Decimal(int(seconds)) / Decimal(3600)
        # multiplied before divided: 1.86 an hour for 125 minutes is 3.875 exactly, rounded to 3.88
        exact = price * int(seconds) / Decimal(3600)
        amount = round_money(exact, currency_digits)
        # hours x price only where nothing is left to round (Odoo rounds a line's float product its own way)
        if (hours == hours.quantize(Decimal(1).scaleb(-quantity_digits)) and exact == amount
                and price == round_money(price, currency_digits)):
            return InvoiceTerms(hours.normalize(), price, amount, False, None)
        return InvoiceTerms(Decimal(1), amount, amount, False, price)
    if price_type == FIXED_PRICE:
        unit_price, to_confirm = price, False
    elif price_type == STARTING_AT:
        unit_price, to_confirm = price, True
    else:
        unit_price, to_confirm = (fallback_price if uses_fallback_price(price_type, price) else price), True
    unit_price = round_money(unit_price, currency_digits)
    return InvoiceTerms(Decimal(1), unit_price, unit_price, to_confirm, None)


def line_description(service, local_start, minutes, staff, hourly_rate=None):
    """``Service - 2026-04-30 08:00 (30 min) - Staff`` in the customer's eyes (local time, no seconds). With
    ``hourly_rate`` (a text such as ``60.00 USD``), the duration says what it was billed at: ``(20 min x 60.00
    USD/h)``."""
    hours, rest = divmod(int(round(minutes)), 60)
    duration = ("%d h %02d min" % (hours, rest)) if hours else ("%d min" % rest)
    if hourly_rate:
        duration = "%s \u00d7 %s/h" % (duration, hourly_rate)
    parts = [service, "%s (%s)" % (local_start.strftime("%Y-%m-%d %H:%M"), duration)]
    if staff:
        parts.append(staff)
    return " - ".join(parts)


def cancellation_timing(start, last_seen, first_missed, hours):
    """When a booking starting at ``start`` was cancelled, by a policy that calls late a cancellation less than
    ``hours`` before the start: ``"late"``, ``"early"``, or ``"unknown"`` when the synchronizations do not tell.

    The booking was still there at ``last_seen`` (a synchronization returned it; None when none that tells did) and
    gone at ``first_missed``: it was cancelled in between. Naive UTC datetimes."""
    deadline = start - timedelta(hours=hours)
    if first_missed <= deadline:
        return "early"
    if last_seen is not None and last_seen >= deadline:
        return "late"
    return "unknown"


def fee_kind(has_policy, no_show, cancellation):
    """What a booking bills instead of its price by its cancellation policy (none without one): ``"no_show"`` when
    the customer did not come, ``"late_cancellation"`` when it was cancelled late (``cancellation_timing``), else
    False."""
    if not has_policy:
        return False
    if no_show:
        return "no_show"
    return "late_cancellation" if cancellation == "late" else False


def invoice_status(invoiced, cancelled, excluded, fee_kind, has_customer, amount, price_type):
    """Where a row stands with invoicing: ``"invoiced"`` (on a live invoice), ``"cancelled"`` (in Bookings, unless
    it bills a late cancellation), ``"excluded"`` (a fee waived too), ``"nothing"`` (a fee of nothing for its
    customer, or a free booking), ``"no_customer"``, ``"no_price"`` (only a free booking is invoiced at nothing) or
    ``"to_invoice"``; ``amount``: what it bills, before taxes."""
    if invoiced:
        return "invoiced"
    if cancelled and fee_kind != "late_cancellation":
        return "cancelled"
    if excluded:
        return "excluded"
    if fee_kind and has_customer and not amount:
        return "nothing"
    if price_type == FREE and not fee_kind:
        return "nothing"
    if not has_customer:
        return "no_customer"
    if not amount:
        return "no_price"
    return "to_invoice"


def fee_terms(fee_type, fee, booking_amount, currency_digits=2):
    """What a late cancellation or a no-show puts on its invoice line: 1 x the fixed ``fee`` (in the invoice's
    currency), or 1 x ``fee`` percent of ``booking_amount``, what the booking would have billed, rounded once. None
    when that is nothing."""
    if fee_type == "fixed":
        amount = round_money(to_decimal(fee), currency_digits)
    else:
        amount = round_money(to_decimal(booking_amount) * to_decimal(fee) / 100, currency_digits)
    if not amount > 0:
        return None
    return InvoiceTerms(Decimal(1), amount, amount, False, None)


def default_invoice_until(today):
    """The last day Invoice All invoices by default on ``today`` (a date): the last day of last month during the
    first ``MONTH_CLOSE_DAYS`` days of a month, when the accountant closes it, else ``today``."""
    if today.day <= MONTH_CLOSE_DAYS:
        return today.replace(day=1) - timedelta(days=1)
    return today


def month_to_close(today):
    """``(first day, last day)`` of the month an accountant closes on ``today`` (a date): last month, whichever day
    of this one it is."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last
