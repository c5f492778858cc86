"""Billing rules of Bookings appointments, in plain Python (no Odoo import) so they are tested fast.

* ``attendee_rows``: an appointment becomes one billable row per attendee (a group booking is billed per
  attendee), or one row without customer when Bookings names none; each row has a stable key.
* ``invoice_terms``: what one row puts on an invoice line for each Bookings price type.

It also holds the selections that the Odoo models share (price types, invoice grouping), defined once here.
"""
from collections import namedtuple
from decimal import Decimal

from .graph import PRICE_TYPES

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
#: How appointments are grouped on draft invoices (the business's default, and Invoice All's choice).
INVOICE_GROUPING_SELECTION = [
    ("customer", "One invoice per customer"),
    ("appointment", "One invoice per appointment"),
]

#: Key of the single row of an appointment that has no customer.
NO_CUSTOMER_KEY = "-"

FIXED_PRICE_TYPES = ("fixedPrice", "startingAt")
HOURLY = "hourly"
FREE = "free"

#: quantity and unit_price are Decimals; to_confirm: the price is not a firm Bookings price.
InvoiceTerms = namedtuple("InvoiceTerms", "quantity unit_price to_confirm")


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


def invoice_terms(price_type, price, hours, fallback_price):
    """The quantity and unit price to invoice for one row, or None when there is nothing to invoice.

    * fixed price and starting at: 1 x the Bookings price;
    * hourly: the appointment's hours x the Bookings price (the caller rounds to the unit of measure);
    * free: nothing;
    * price varies, call us, not set, undefined and any value Bookings adds later: 1 x the Bookings price when it
      is positive, else 1 x ``fallback_price`` (the product's sales price), and the price is to be confirmed.
    """
    price, hours, fallback_price = Decimal(str(price)), Decimal(str(hours)), Decimal(str(fallback_price))
    if price_type == FREE:
        return None
    if price_type in FIXED_PRICE_TYPES:
        return InvoiceTerms(Decimal(1), price, False)
    if price_type == HOURLY:
        return InvoiceTerms(hours, price, False)
    return InvoiceTerms(Decimal(1), price if price > 0 else fallback_price, True)


def line_description(service, local_start, minutes, staff):
    """``Service - 2026-04-30 08:00 (30 min) - Staff`` in the customer's eyes (local time, no seconds)."""
    hours, rest = divmod(int(round(minutes)), 60)
    duration = ("%d h %02d min" % (hours, rest)) if hours else ("%d min" % rest)
    parts = [service, "%s (%s)" % (local_start.strftime("%Y-%m-%d %H:%M"), duration)]
    if staff:
        parts.append(staff)
    return " - ".join(parts)
