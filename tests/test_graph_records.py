"""Parsing rules of Graph Bookings items into typed records."""
import datetime
import subprocess
import sys
from decimal import Decimal

import pytest
import pytz

from bookings_invoicing.graph import errors
from bookings_invoicing.graph.records import (
    Address,
    normalize_email,
    parse_appointment,
    parse_business,
    parse_customer,
    parse_duration,
    parse_service,
)

UTC = pytz.utc


def appointment(**changes):
    item = {
        "id": "AAMkADKoAAA=",
        "serviceId": "57da6774-a087-4d69-b0e6-6fb82c339976",
        "serviceName": "Catered bento",
        "customers": [{"customerId": "829e3cb5", "name": "Bob Kelly", "emailAddress": "bobk@tailspintoys.com",
                       "timeZone": "America/Chicago"}],
        "startDateTime": {"dateTime": "2026-04-30T13:00:00.0000000Z", "timeZone": "UTC"},
        "endDateTime": {"dateTime": "2026-04-30T13:30:00.0000000Z", "timeZone": "UTC"},
        "duration": "PT30M",
        "priceType": "fixedPrice",
        "price": 10.0,
        "staffMemberIds": ["staff-1"],
        "lastUpdatedDateTime": "2026-04-20T09:12:44.0000000Z",
    }
    item.update(changes)
    return item


def test_the_graph_layer_imports_without_odoo():
    code = "import sys; import bookings_invoicing.graph; assert 'odoo' not in sys.modules, 'odoo was imported'"
    result = subprocess.run([sys.executable, "-c", "import conftest; " + code], cwd=__file__.rsplit("/", 1)[0],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_appointment_from_the_reference_example():
    record = parse_appointment(appointment())
    assert record.id == "AAMkADKoAAA="
    assert record.start == datetime.datetime(2026, 4, 30, 13, 0, tzinfo=UTC)
    assert record.end == datetime.datetime(2026, 4, 30, 13, 30, tzinfo=UTC)
    assert record.price == Decimal("10.0") and record.price_type == "fixedPrice"
    assert [(a.customer_id, a.name, a.email) for a in record.attendees] == [
        ("829e3cb5", "Bob Kelly", "bobk@tailspintoys.com")]
    assert record.staff_member_ids == ("staff-1",)
    assert record.last_updated == datetime.datetime(2026, 4, 20, 9, 12, 44, tzinfo=UTC)


@pytest.mark.parametrize("value, expected", [
    ({"dateTime": "2026-04-30T13:00:00.1234567Z", "timeZone": "UTC"},
     datetime.datetime(2026, 4, 30, 13, 0, 0, 123456, tzinfo=UTC)),
    ({"dateTime": "2026-04-30T15:00:00+02:00", "timeZone": "UTC"}, datetime.datetime(2026, 4, 30, 13, 0, tzinfo=UTC)),
    ({"dateTime": "2026-04-30T08:00:00.0000000", "timeZone": "America/Chicago"},
     datetime.datetime(2026, 4, 30, 13, 0, tzinfo=UTC)),
    ({"dateTime": "2026-01-15T08:00:00.0000000", "timeZone": "W. Europe Standard Time"},
     datetime.datetime(2026, 1, 15, 7, 0, tzinfo=UTC)),
    ({"dateTime": "2026-04-30T13:00:00"}, datetime.datetime(2026, 4, 30, 13, 0, tzinfo=UTC)),
])
def test_date_times_become_aware_utc(value, expected):
    record = parse_appointment(appointment(startDateTime=value, endDateTime=value))
    assert record.start == expected and record.start.tzinfo == UTC


@pytest.mark.parametrize("text, minutes", [("PT30M", 30), ("PT1H30M", 90), ("P1D", 1440), ("PT0S", 0)])
def test_iso_durations(text, minutes):
    assert parse_duration(text) == datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize("changes, warning", [
    ({"lastUpdatedDateTime": "yesterday"}, "lastUpdatedDateTime"),
    ({"lastUpdatedDateTime": {"dateTime": 5}}, "lastUpdatedDateTime"),
    ({"staffMemberIds": [1, 2]}, "staffMemberIds"),
    ({"staffMemberIds": "staff-1"}, "staffMemberIds"),
    ({"serviceName": {"en": "Catered bento"}}, "serviceName"),
    ({"additionalInformation": ["see me"]}, "additionalInformation"),
    ({"customers": [{"customerId": "829e3cb5", "name": "Bob Kelly", "phone": 5550100}]}, "phone"),
    ({"customers": [{"customerId": "829e3cb5", "name": "Bob Kelly", "timeZone": 7}]}, "timeZone"),
    ({"customers": [{"customerId": "829e3cb5", "name": "Bob Kelly", "timeZone": "Mars/Olympus_Mons"}]},
     "Mars/Olympus_Mons"),
    ({"customers": [{"customerId": "829e3cb5", "name": ["Bob"], "emailAddress": "bobk@tailspintoys.com"}]},
     "name"),
])
def test_a_malformed_optional_value_is_a_warning_and_the_appointment_is_kept(changes, warning):
    record = parse_appointment(appointment(**changes))
    assert [w for w in record.warnings if warning in w], record.warnings
    # what billing needs is all there
    assert (record.id, record.price, record.price_type) == ("AAMkADKoAAA=", Decimal("10.0"), "fixedPrice")
    assert record.end - record.start == datetime.timedelta(minutes=30)
    assert [a.customer_id for a in record.attendees] == ["829e3cb5"]


def test_a_well_formed_appointment_has_no_warning_and_unknown_keys_are_ignored():
    record = parse_appointment(appointment(**{"@odata.etag": "W/1", "anotherFutureKey": {"x": [1]}}))
    assert record.warnings == ()


def test_the_start_and_end_shape_of_microsofts_calendar_view_example():
    item = appointment(start={"dateTime": "2026-04-30T08:00:00.0000000", "timeZone": "America/Chicago"},
                       end={"dateTime": "2026-04-30T08:30:00.0000000", "timeZone": "America/Chicago"})
    del item["startDateTime"], item["endDateTime"]
    record = parse_appointment(item)
    assert (record.start, record.end) == (datetime.datetime(2026, 4, 30, 13, 0, tzinfo=UTC),
                                          datetime.datetime(2026, 4, 30, 13, 30, tzinfo=UTC))
    del item["start"]
    with pytest.raises(errors.MalformedItem) as raised:  # a start is needed, in one shape or the other
        parse_appointment(item)
    assert "startDateTime" in raised.value.message


def test_legacy_single_customer_fields_name_the_customer_when_customers_is_absent_null_or_empty():
    legacy = {"customerId": "c-9", "customerName": "Ann Legacy", "customerEmailAddress": " Ann@Example.COM ",
              "customerPhone": "+1 555 0100"}
    absent = appointment(**legacy)
    del absent["customers"]
    # microsoft-graph-docs-contrib#539, msgraph-metadata#408: v1.0 lists such appointments with "customers": []
    for item in (absent, appointment(customers=None, **legacy), appointment(customers=[], **legacy)):
        assert [(a.customer_id, a.name, a.email, a.phone) for a in parse_appointment(item).attendees] == [
            ("c-9", "Ann Legacy", "ann@example.com", "+1 555 0100")]
    # v1.0 has no top-level customerId: the name and e-mail are enough
    v1 = appointment(customers=[], customerName="Ann Legacy", customerEmailAddress="ann@example.com")
    assert [(a.customer_id, a.email) for a in parse_appointment(v1).attendees] == [(None, "ann@example.com")]


def test_customers_win_over_legacy_fields_that_disagree():
    # Microsoft's own example response names one customer in customers[0] and another in the legacy fields
    item = appointment(customers=[{"customerId": "a", "name": "Jordan Miller", "emailAddress": "jordan@contoso.com"}],
                       customerName="Joni Sherman", customerEmailAddress="joni@contoso.com")
    assert [(a.customer_id, a.email) for a in parse_appointment(item).attendees] == [("a", "jordan@contoso.com")]


@pytest.mark.parametrize("blank", [None, "", "  ", "\t"])
def test_blank_legacy_fields_name_nobody(blank):
    item = appointment(customers=[], customerName=blank, customerEmailAddress=blank)
    assert parse_appointment(item).attendees == ()


@pytest.mark.parametrize("zone, expected", [
    ("Europe/Paris", "Europe/Paris"),
    ("W. Europe Standard Time", "Europe/Berlin"),  # the Windows name, as Graph sometimes gives it
    ("UTC", "UTC"),
    ("Mars/Olympus_Mons", None),  # a zone this server does not know is dropped, the appointment kept
    (None, None),
])
def test_the_zone_each_customer_booked_in(zone, expected):
    item = appointment(customers=[{"customerId": "a", "name": "A", "timeZone": zone}])
    assert parse_appointment(item).attendees[0].time_zone == expected
    legacy = appointment(customerId="c-9", customerName="Ann Legacy", customerTimeZone=zone)
    del legacy["customers"]
    assert parse_appointment(legacy).attendees[0].time_zone == expected


def test_group_and_empty_appointments():
    group = appointment(customers=[{"customerId": "a", "name": "A"}, {"customerId": "b", "name": "B",
                                                                      "emailAddress": "not-an-address"}])
    attendees = parse_appointment(group).attendees
    assert [a.customer_id for a in attendees] == ["a", "b"]
    assert attendees[1].email is None
    assert parse_appointment(appointment(customers=[])).attendees == ()


@pytest.mark.parametrize("price_type", ["fixedPrice", "startingAt", "hourly", "free", "priceVaries", "callUs",
                                        "notSet", "undefined", "unknownFutureValue", "perAttendeeSomeday"])
def test_every_price_type_is_kept_as_received(price_type):
    assert parse_appointment(appointment(priceType=price_type)).price_type == price_type


def test_prices_are_exact_decimals():
    assert parse_appointment(appointment(price=49.9)).price == Decimal("49.9")
    assert parse_appointment(appointment(price=0.1)).price + Decimal("0.2") == Decimal("0.3")
    assert parse_appointment(appointment(price=None, priceType=None)).price == Decimal(0)
    assert parse_appointment(appointment(priceType=None)).price_type == "undefined"


@pytest.mark.parametrize("changes, detail", [
    ({"id": None}, "id is missing"),
    ({"id": 42}, "id is missing"),
    ({"startDateTime": None}, "startDateTime"),
    ({"startDateTime": {"dateTime": "yesterday"}}, "startDateTime"),
    ({"startDateTime": {"dateTime": "2026-04-30T13:00:00", "timeZone": "Mars/Olympus"}}, "Mars/Olympus"),
    ({"endDateTime": {"dateTime": "2026-04-30T12:00:00Z"}}, "before"),
    ({"startDateTime": {"dateTime": "0001-01-01T00:00:00", "timeZone": "Pacific/Kiritimati"}}, "out of range"),
    ({"endDateTime": {"dateTime": "9999-12-31T23:00:00-05:00"}}, "out of range"),
    ({"price": "ten"}, "price"),
    ({"price": -5}, "price"),
    ({"price": True}, "price"),
    ({"customers": "Bob"}, "customers"),
    ({"customers": ["Bob"]}, "customers"),
    ({"serviceId": {"x": 1}}, "serviceId"),
])
def test_malformed_appointments_raise_malformed_item(changes, detail):
    with pytest.raises(errors.MalformedItem) as raised:
        parse_appointment(appointment(**changes))
    assert detail in raised.value.message


@pytest.mark.parametrize("item", [None, [], "text", 3])
def test_an_item_that_is_not_an_object(item):
    with pytest.raises(errors.MalformedItem):
        parse_appointment(item)


def test_emails_are_normalized():
    assert normalize_email("  Bob.Kelly@Example.COM ") == "bob.kelly@example.com"
    assert normalize_email("") is None
    assert normalize_email("bob at example") is None
    assert normalize_email(None) is None


def test_customer_service_and_business():
    customer = parse_customer({"id": "c1", "displayName": " Zoë Ångström ", "emailAddress": "ZOE@example.org",
                               "phones": [{"number": "", "type": "home"}, {"number": "+1 555", "type": "mobile"}]})
    assert (customer.display_name, customer.email, customer.phone) == ("Zoë Ångström", "zoe@example.org", "+1 555")
    assert customer.address is None and customer.warnings == ()
    service = parse_service({"id": "s1", "displayName": "Yoga", "defaultPrice": 12.5, "defaultPriceType": "hourly",
                             "defaultDuration": "PT1H30M", "maximumAttendeesCount": 6})
    assert service.default_price == Decimal("12.5") and service.default_duration == datetime.timedelta(minutes=90)
    business = parse_business({"id": "shop@contoso.com", "displayName": "Shop", "defaultCurrencyIso": "eur "})
    assert business.currency == "EUR"
    assert business.time_zone is None  # a business that never published its booking page
    with pytest.raises(errors.MalformedItem):
        parse_service({"id": "s2"})  # a service needs a name


def test_a_customers_address():
    customer = parse_customer({"id": "c1", "displayName": "Ann", "addresses": [
        {"street": "", "city": None, "state": "", "postalCode": "", "countryOrRegion": "", "type": "home"},
        {"street": "1 Elm Street", "city": "Springfield", "state": "IL", "postalCode": "62701",
         "countryOrRegion": "United States", "type": "business"}]})
    assert customer.address == Address(street="1 Elm Street", city="Springfield", state="IL", postal_code="62701",
                                       country="United States")


@pytest.mark.parametrize("changes, warning", [
    ({"phones": "+1 555"}, "phones"),
    ({"addresses": {"street": "1 Elm Street"}}, "addresses"),
    ({"addresses": [{"street": 1}]}, "street"),
    ({"displayName": 5}, "displayName"),
])
def test_a_customer_with_a_malformed_optional_value_is_kept(changes, warning):
    customer = parse_customer(dict({"id": "c1", "displayName": "Ann", "emailAddress": "ann@example.com"}, **changes))
    assert customer.email == "ann@example.com"
    assert [w for w in customer.warnings if warning in w], customer.warnings


def test_the_answers_to_custom_questions_are_kept_and_odd_ones_are_warnings():
    customer = {"customerId": "a", "name": "Bob Kelly", "emailAddress": "bobk@tailspintoys.com",
                "customQuestionAnswers": [
                    {"questionId": "1", "question": " Purchase\torder ", "answer": " PO-7 ", "selectedOptions": []},
                    {"questionId": "2", "question": "How did you hear of us?", "answer": "",
                     "selectedOptions": ["Friend", "Web"]},
                    {"questionId": "3", "question": "Allergies", "answer": "", "selectedOptions": []},
                    {"questionId": "4", "answer": "no question"}, "not an object"]}
    record = parse_appointment(appointment(customers=[customer]))
    assert record.attendees[0].answers == (("Purchase order", "PO-7"), ("How did you hear of us?", "Friend, Web"))
    assert len(record.warnings) == 2, "an entry without question is a warning, an unanswered question is not"
    record = parse_appointment(appointment(customers=[dict(customer, customQuestionAnswers="PO-7")]))
    assert (record.attendees[0].answers, len(record.warnings)) == ((), 1)


@pytest.mark.parametrize("settings, time_zone, warned", [
    ({"businessTimeZone": "America/Chicago"}, "America/Chicago", False),
    ({"businessTimeZone": "Central Standard Time"}, "America/Chicago", False),  # a Windows name
    ({"businessTimeZone": "UTC"}, "UTC", False),
    ({}, None, False),
    ({"businessTimeZone": "Mars/Olympus"}, None, True),
    ({"businessTimeZone": 6}, None, True),
    ("Central", None, True),
])
def test_the_business_time_zone_is_read_liberally(settings, time_zone, warned):
    business = parse_business({"id": "shop@contoso.com", "displayName": "Shop", "bookingPageSettings": settings})
    assert business.time_zone == time_zone
    assert bool(business.warnings) == warned
