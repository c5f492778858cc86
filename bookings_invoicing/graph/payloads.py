"""The JSON this add-on writes to Bookings: a customer or a service from plain values, an appointment's invoice
(Graph beta), and whether Bookings already holds what a payload writes. Nothing here touches the network or the
ORM.

Bookings keeps of a customer what ``records.parse_customer`` reads (name, e-mail, first phone, first address), and
of a service what ``records.parse_service`` reads: a payload is compared with Bookings through the same parser, so
that a push writes a record again only when the reader would see a difference.
"""
import datetime
from decimal import Decimal

from .records import Address, parse_customer, parse_service

CUSTOMER_TYPE = "#microsoft.graph.bookingCustomer"
SERVICE_TYPE = "#microsoft.graph.bookingService"
APPOINTMENT_TYPE = "#microsoft.graph.bookingAppointment"
#: Graph beta's ``bookingInvoiceStatus``: what an appointment's ``invoiceStatus`` may say.
INVOICE_STATUSES = ("draft", "reviewing", "open", "canceled", "paid", "corrective")

#: What is compared between a payload and the record Bookings gives back.
CUSTOMER_FIELDS = ("display_name", "email", "phone", "address")
SERVICE_FIELDS = ("display_name", "description", "default_price", "default_price_type", "default_duration")
#: The duration of a service whose product names none.
DEFAULT_DURATION = datetime.timedelta(hours=1)


def customer_payload(name, email, phone=None, phone_type="home", address=None):
    """A ``bookingCustomer``: ``address`` is a ``records.Address`` (or None), written as Graph's
    ``physicalAddress``."""
    payload = {
        "@odata.type": CUSTOMER_TYPE,
        "displayName": (name or "").strip(),
        "emailAddress": (email or "").strip(),
        "phones": [{"number": phone.strip(), "type": phone_type}] if phone and phone.strip() else [],
        "addresses": [],
    }
    if address and any(getattr(address, name) for name in Address.__dataclass_fields__):
        payload["addresses"] = [{
            "street": address.street or "", "city": address.city or "", "state": address.state or "",
            "postalCode": address.postal_code or "", "countryOrRegion": address.country or "",
        }]  # no "type": v1.0's physicalAddress has none (the Update bookingCustomer page)
    return payload


def service_payload(name, price, price_type, duration, description=None):
    """A ``bookingService``: ``price`` a ``Decimal``, ``price_type`` a Graph ``bookingPriceType``, ``duration`` a
    ``timedelta`` (written in ISO 8601, whole minutes)."""
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return {
        "@odata.type": SERVICE_TYPE,
        "displayName": (name or "").strip(),
        "description": description or None,
        "defaultPrice": float(Decimal(price)),
        "defaultPriceType": price_type,
        "defaultDuration": "PT%s%s" % ("%dH" % hours if hours else "", "%dM" % minutes if minutes or not hours else ""),
    }


def invoice_payload(invoice_id, status, amount, date, url=None):
    """The invoice properties of a ``bookingAppointment`` in Graph **beta** (v1.0 has none): ``invoice_id`` the
    invoice's number, ``status`` one of ``INVOICE_STATUSES``, ``amount`` a ``Decimal``, ``date`` a ``date`` (written
    as a ``dateTimeTimeZone`` at midnight UTC), ``url`` where the invoice opens."""
    if status not in INVOICE_STATUSES:
        raise ValueError("not a Bookings invoice status: %r" % (status,))
    return {
        "@odata.type": APPOINTMENT_TYPE,
        "invoiceId": invoice_id,
        "invoiceStatus": status,
        "invoiceAmount": float(Decimal(amount)),
        "invoiceDate": {"dateTime": "%sT00:00:00.0000000" % date.isoformat(), "timeZone": "UTC"},
        "invoiceUrl": url,
    }


def _as_read(parse, payload, fields):
    return tuple(getattr(as_record(parse, payload, "-"), name) for name in fields)


def customer_is_current(payload, record):
    """Whether the Bookings customer ``record`` (``records.Customer``) already holds what ``payload`` writes."""
    return _as_read(parse_customer, payload, CUSTOMER_FIELDS) == tuple(getattr(record, f) for f in CUSTOMER_FIELDS)


def service_is_current(payload, record):
    """Whether the Bookings service ``record`` (``records.Service``) already holds what ``payload`` writes."""
    return _as_read(parse_service, payload, SERVICE_FIELDS) == tuple(getattr(record, f) for f in SERVICE_FIELDS)


def as_record(parse, payload, item_id):
    """The record Bookings holds once ``payload`` is written to the item ``item_id``."""
    return parse(dict(payload, id=item_id))

