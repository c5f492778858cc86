"""Property-based tests: whatever JSON Graph sends, the parsing layer returns a record or raises MalformedItem."""
import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_graph_records import appointment

from bookings_invoicing.graph import errors
from bookings_invoicing.graph.records import (
    Appointment,
    Business,
    Customer,
    Service,
    parse_appointment,
    parse_business,
    parse_customer,
    parse_service,
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["<script>alert(1)</script>", "'; DROP TABLE res_partner; --", "\u202eevil\u202c", "\x00\x1b[2J",
                     "A" * 100000, "2026-04-30T13:00:00.0000000Z", "PT30M", "P1M", "NaN", "1e400", "-1",
                     "0001-01-01T00:00:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"]),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
date_time = st.one_of(
    json_value,
    st.fixed_dictionaries({"dateTime": hostile_text}, optional={"timeZone": hostile_text}),
    st.builds(lambda moment, zone: {"dateTime": moment.isoformat(), "timeZone": zone},
              st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)),
              st.sampled_from(["UTC", "America/Chicago", "W. Europe Standard Time", "Pacific/Kiritimati", "Mars"])),
    st.sampled_from([{"dateTime": "0001-01-01T00:00:00", "timeZone": "Pacific/Kiritimati"},
                     {"dateTime": "9999-12-31T23:00:00-05:00"}]),
)
APPOINTMENT_FIELDS = {
    "id": json_value, "serviceId": json_value, "serviceName": json_value, "customers": json_value,
    "startDateTime": date_time, "endDateTime": date_time, "duration": json_value, "price": json_value,
    "priceType": json_value, "staffMemberIds": json_value, "lastUpdatedDateTime": json_value,
    "customerId": json_value, "customerEmailAddress": json_value, "additionalInformation": json_value,
}


def mutated(base, fields):
    """The reference item with some fields replaced by arbitrary values, or removed."""
    return st.dictionaries(st.sampled_from(sorted(fields)), st.one_of(st.just(None), *fields.values()),
                           max_size=4).map(lambda changes: {**base, **changes})


def check(parse, record_type, item):
    try:
        record = parse(item)
    except errors.MalformedItem as problem:
        assert problem.message  # a message a user can read, built without error
        return None
    assert isinstance(record, record_type)
    assert isinstance(record.id, str) and record.id.strip()
    return record


@SETTINGS
@given(st.one_of(json_value, mutated(appointment(), APPOINTMENT_FIELDS),
                 st.fixed_dictionaries({}, optional=APPOINTMENT_FIELDS)))
def test_appointments(item):
    record = check(parse_appointment, Appointment, item)
    if record is not None:
        assert record.start.tzinfo is not None and record.end >= record.start
        assert record.price >= 0 and record.price.is_finite()
        assert isinstance(record.price_type, str) and record.price_type
        assert all(isinstance(a.name, str) for a in record.attendees)


@SETTINGS
@given(st.one_of(json_value, st.fixed_dictionaries({}, optional={
    "id": json_value, "displayName": json_value, "emailAddress": json_value, "phones": json_value})))
def test_customers(item):
    check(parse_customer, Customer, item)


@SETTINGS
@given(st.one_of(json_value, st.fixed_dictionaries({}, optional={
    "id": json_value, "displayName": json_value, "defaultPrice": json_value, "defaultPriceType": json_value,
    "defaultDuration": json_value, "maximumAttendeesCount": json_value, "description": json_value})))
def test_services(item):
    check(parse_service, Service, item)


@SETTINGS
@given(st.one_of(json_value, st.fixed_dictionaries({}, optional={
    "id": json_value, "displayName": json_value, "defaultCurrencyIso": json_value, "email": json_value})))
def test_businesses(item):
    check(parse_business, Business, item)
