"""Typed records of the Bookings entities this add-on reads, and the rules that parse them from Graph JSON.

Every ``parse_*`` function takes one decoded JSON item and returns a frozen record, or raises ``MalformedItem``
naming what is wrong. What is read liberally: only what billing needs (an appointment's id, start, end, customers,
service, price and price type; a customer's or service's id and name) makes an item unreadable. An optional value
that is malformed is left out and named in the record's ``warnings``. Nothing here touches the network or the ORM.
"""
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Optional, Tuple

import isodate
import pytz
from dateutil.parser import isoparse
from tzlocal.windows_tz import win_tz

from .errors import MalformedItem, _

#: An e-mail address as this add-on accepts one (Bookings customers and business mailboxes alike).
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Invalid(ValueError):
    """A field cannot be read; turned into ``MalformedItem`` with the item's identity by ``_parser``."""


def normalize_email(value):
    """Return the address trimmed and lower-cased, or None when it is empty or not an address."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if EMAIL_RE.match(value) else None


def _text(item, key, required=False):
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise _Invalid("%s is missing" % key)
        return None
    if not isinstance(value, str):
        raise _Invalid("%s is not a string" % key)
    return value


def _strings(item, key):
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid("%s is not a list of strings" % key)
    return tuple(value)


def _money(item, key):
    value = item.get(key)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Invalid("%s is not a number" % key)
    try:
        amount = Decimal(str(value))  # str() of a float is its shortest exact decimal form: 10.1 -> 10.1
    except InvalidOperation:
        raise _Invalid("%s is not a number" % key)
    if not amount.is_finite() or amount < 0:
        raise _Invalid("%s is not a positive amount" % key)
    return amount


def _optional(warnings, read, *args, default=None):
    """``read(*args)``, or ``default`` when the value is malformed: an optional value never makes an item
    unreadable; what was wrong is appended to ``warnings``."""
    try:
        return read(*args)
    except _Invalid as error:
        warnings.append(str(error))
        return default


def _price_type(item, key):
    value = item.get(key)
    if value is None:
        return "undefined"
    if not isinstance(value, str) or not value:
        raise _Invalid("%s is not a string" % key)
    return value


def parse_duration(value, key="duration"):
    """An ISO 8601 duration (``PT30M``, ``PT1H30M``, ``P1D``) as a ``timedelta``; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid("%s is not a string" % key)
    try:
        duration = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise _Invalid("%s %r is not an ISO 8601 duration" % (key, value))
    if not isinstance(duration, datetime.timedelta):  # years or months have no fixed length
        raise _Invalid("%s %r uses years or months" % (key, value))
    if duration < datetime.timedelta(0):
        raise _Invalid("%s %r is negative" % (key, value))
    return duration


def _time_zone(name):
    if name.upper() in ("UTC", "Z", "GMT", "COORDINATED UNIVERSAL TIME"):
        return pytz.utc
    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError:
        if name in win_tz:  # Graph may name zones the Windows way: "W. Europe Standard Time"
            return pytz.timezone(win_tz[name])
    raise _Invalid("unknown time zone %r" % name)


def parse_datetime(value, key):
    """A Graph ``dateTimeTimeZone`` as an aware UTC ``datetime``.

    The date-time may carry seven fractional digits and a ``Z`` or an offset; when it carries neither, it is read
    in the item's ``timeZone`` (IANA or Windows name).
    """
    if not isinstance(value, dict):
        raise _Invalid("%s is not a dateTimeTimeZone object" % key)
    text = value.get("dateTime")
    if not isinstance(text, str) or not text:
        raise _Invalid("%s.dateTime is missing" % key)
    try:
        moment = isoparse(text)
    except (ValueError, OverflowError):
        raise _Invalid("%s.dateTime %r is not an ISO 8601 date-time" % (key, text))
    zone = None  # the date-time's own offset applies
    if moment.tzinfo is None:
        zone_name = value.get("timeZone") or "UTC"
        if not isinstance(zone_name, str):
            raise _Invalid("%s.timeZone is not a string" % key)
        zone = _time_zone(zone_name)
    try:
        return (zone.localize(moment) if zone else moment).astimezone(pytz.utc)
    except (OverflowError, ValueError):  # e.g. 0001-01-01 in a zone ahead of UTC
        raise _Invalid("%s.dateTime %r is out of range in UTC" % (key, text))


@dataclass(frozen=True)
class Business:
    id: str
    display_name: str
    email: Optional[str]
    currency: Optional[str]
    time_zone: Optional[str] = None  # the IANA name of the business's zone; None when absent or unknown
    warnings: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    id: str
    display_name: str
    description: Optional[str]
    default_price: Decimal
    default_price_type: str
    default_duration: Optional[datetime.timedelta]
    warnings: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Address:
    """A Graph ``physicalAddress``: ``country`` and ``state`` as Bookings has them (a code or a name)."""

    street: Optional[str]
    city: Optional[str]
    state: Optional[str]
    postal_code: Optional[str]
    country: Optional[str]


@dataclass(frozen=True)
class Customer:
    id: str
    display_name: str
    email: Optional[str]
    phone: Optional[str]
    address: Optional[Address] = None
    warnings: Tuple[str, ...] = ()


@dataclass(frozen=True)
class StaffMember:
    id: str
    display_name: str


@dataclass(frozen=True)
class Attendee:
    """One customer of an appointment (``bookingCustomerInformation``)."""

    customer_id: Optional[str]
    name: str
    email: Optional[str]
    phone: Optional[str]
    time_zone: Optional[str]  # the IANA name of the zone the customer booked in; None when absent or unknown
    answers: Tuple[Tuple[str, str], ...] = ()  # (question, answer) of the business's custom questions answered

    def as_customer(self):
        """The Bookings customer this attendee stands for (its ``id`` is None when Bookings gives none)."""
        return Customer(id=self.customer_id, display_name=self.name, email=self.email, phone=self.phone)


@dataclass(frozen=True)
class Appointment:
    id: str
    service_id: Optional[str]
    service_name: Optional[str]
    start: datetime.datetime
    end: datetime.datetime
    price: Decimal
    price_type: str
    attendees: Tuple[Attendee, ...]
    staff_member_ids: Tuple[str, ...]
    notes: Optional[str]
    last_updated: Optional[datetime.datetime]
    warnings: Tuple[str, ...] = ()


def _parser(kind):
    """Turn the ``_Invalid`` and type errors of a parse function into ``MalformedItem`` naming the item."""

    def decorate(parse):
        def wrapper(item):
            if not isinstance(item, dict):
                raise MalformedItem(kind=kind, item="?", detail="not a JSON object")
            item_id = item.get("id")
            try:
                if not isinstance(item_id, str) or not item_id.strip():
                    raise _Invalid("id is missing")
                return parse(item)
            except _Invalid as error:
                label = item_id if isinstance(item_id, str) and item_id.strip() else "?"
                raise MalformedItem(kind=kind, item=label, detail=str(error))

        wrapper.__name__ = parse.__name__
        wrapper.__doc__ = parse.__doc__
        return wrapper

    return decorate


@_parser(_("Business"))
def parse_business(item):
    warnings = []
    currency = _text(item, "defaultCurrencyIso")
    return Business(
        id=item["id"],
        display_name=_text(item, "displayName") or item["id"],
        email=normalize_email(item.get("email")),
        currency=currency.strip().upper() if currency else None,
        time_zone=_optional(warnings, _business_time_zone, item),
        warnings=tuple(warnings),
    )


def _business_time_zone(item):
    """The IANA name of the business's zone: ``bookingPageSettings.businessTimeZone``, an IANA or a Windows name,
    absent where the business never published its booking page."""
    settings = item.get("bookingPageSettings")
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise _Invalid("bookingPageSettings is not an object")
    name = _text(settings, "businessTimeZone")
    return _time_zone(name).zone if name else None


@_parser(_("Service"))
def parse_service(item):
    warnings = []
    return Service(
        id=item["id"],
        display_name=_text(item, "displayName", required=True),
        description=_optional(warnings, _text, item, "description"),
        default_price=_money(item, "defaultPrice"),
        default_price_type=_price_type(item, "defaultPriceType"),
        default_duration=_optional(warnings, parse_duration, item.get("defaultDuration"), "defaultDuration"),
        warnings=tuple(warnings),
    )


def _first_phone(item):
    phones = item.get("phones") or []
    if not isinstance(phones, list):
        raise _Invalid("phones is not a list")
    for phone in phones:
        if isinstance(phone, dict) and isinstance(phone.get("number"), str) and phone["number"].strip():
            return phone["number"].strip()
    return None


def _address(item):
    """The customer's first address that says anything (Graph gives a list of ``physicalAddress``)."""
    addresses = item.get("addresses") or []
    if not isinstance(addresses, list):
        raise _Invalid("addresses is not a list")
    for address in addresses:
        if not isinstance(address, dict):
            raise _Invalid("addresses holds an entry that is not an object")
        values = {key: (_text(address, key) or "").strip() or None
                  for key in ("street", "city", "state", "postalCode", "countryOrRegion")}
        if any(values.values()):
            return Address(street=values["street"], city=values["city"], state=values["state"],
                           postal_code=values["postalCode"], country=values["countryOrRegion"])
    return None


@_parser(_("Customer"))
def parse_customer(item):
    warnings = []
    email = _optional(warnings, _text, item, "emailAddress")
    name = _optional(warnings, _text, item, "displayName")
    return Customer(
        id=item["id"],
        display_name=(name or email or item["id"]).strip(),
        email=normalize_email(email),
        phone=_optional(warnings, _first_phone, item),
        address=_optional(warnings, _address, item),
        warnings=tuple(warnings),
    )


@_parser(_("Staff member"))
def parse_staff_member(item):
    return StaffMember(id=item["id"], display_name=(_text(item, "displayName") or "").strip())


def _attendee(info, warnings):
    if not isinstance(info, dict):
        raise _Invalid("customers holds an entry that is not an object")
    email = _optional(warnings, _text, info, "emailAddress")
    name = _optional(warnings, _text, info, "name") or email or ""
    return Attendee(
        customer_id=_text(info, "customerId"),
        name=name.strip(),
        email=normalize_email(email),
        phone=_optional(warnings, _text, info, "phone"),
        time_zone=_optional(warnings, _customer_time_zone, info),
        answers=_answers(info, warnings),
    )


def _answers(info, warnings):
    """``(question, answer)`` of each custom question answered (``customQuestionAnswers``: ``question`` and
    ``answer``, or the ``selectedOptions`` of a question with options); what cannot be read is a warning."""
    entries = info.get("customQuestionAnswers")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        warnings.append("customQuestionAnswers is not a list")
        return ()
    answers = []
    for entry in entries:
        question = entry.get("question") if isinstance(entry, dict) else None
        if not isinstance(question, str) or not question.strip():
            warnings.append("customQuestionAnswers holds an entry without question")
            continue
        answer = entry.get("answer")
        options = entry.get("selectedOptions")
        if not (isinstance(answer, str) and answer.strip()) and isinstance(options, list):
            answer = ", ".join(option.strip() for option in options if isinstance(option, str) and option.strip())
        if isinstance(answer, str) and answer.strip():
            answers.append((" ".join(question.split()), answer.strip()))
    return tuple(answers)


def _customer_time_zone(info):
    """The IANA name of the zone a customer booked in (an IANA or a Windows name in Graph)."""
    name = _text(info, "timeZone")
    return _time_zone(name).zone if name else None


def _attendees(item, warnings):
    """The appointment's customers: ``customers[]``, else the legacy single-customer fields, else none.

    Graph v1.0 lists some appointments with ``"customers": []`` while ``customerName`` / ``customerEmailAddress``
    name the customer (microsoft-graph-docs-contrib#539, msgraph-metadata#408): an empty list is no answer, and the
    legacy fields apply. Where both name someone, ``customers[]`` wins.
    """
    customers = item.get("customers")
    if customers is not None and not isinstance(customers, list):
        raise _Invalid("customers is not a list")
    if customers:
        return tuple(_attendee(info, warnings) for info in customers)
    legacy = {
        "customerId": item.get("customerId"),  # beta only; read when given
        "name": item.get("customerName"),
        "emailAddress": item.get("customerEmailAddress"),
        "phone": item.get("customerPhone"),
        "timeZone": item.get("customerTimeZone"),
    }
    if not any(_present(legacy[key]) for key in ("customerId", "name", "emailAddress")):
        return ()
    return (_attendee(legacy, warnings),)


def _present(value):
    """Whether a legacy field says anything (blank text does not; a value of the wrong type does, and is warned of)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _moment(item, *keys):
    """The first of ``keys`` the item has (Graph v1.0 says ``startDateTime``, its calendarView example ``start``)."""
    key = next((key for key in keys if item.get(key) is not None), keys[0])
    return parse_datetime(item.get(key), key)


def _last_updated(item):
    updated = _text(item, "lastUpdatedDateTime")
    return parse_datetime({"dateTime": updated}, "lastUpdatedDateTime") if updated else None


def _notes(item, warnings):
    notes = [_optional(warnings, _text, item, key) for key in ("serviceNotes", "additionalInformation")]
    return "\n\n".join(n.strip() for n in notes if n and n.strip()) or None


@_parser(_("Appointment"))
def parse_appointment(item):
    start = _moment(item, "startDateTime", "start")
    end = _moment(item, "endDateTime", "end")
    if end < start:
        raise _Invalid("the end is before the start")
    warnings = []
    return Appointment(
        id=item["id"],
        service_id=_text(item, "serviceId"),
        service_name=_optional(warnings, _text, item, "serviceName"),
        start=start,
        end=end,
        price=_money(item, "price"),
        price_type=_price_type(item, "priceType"),
        attendees=_attendees(item, warnings),
        staff_member_ids=_optional(warnings, _strings, item, "staffMemberIds", default=()),
        notes=_notes(item, warnings),
        last_updated=_optional(warnings, _last_updated, item),
        warnings=tuple(warnings),
    )
