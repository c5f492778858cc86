"""Billing rules: rows per attendee and invoice terms per price type."""
import datetime
from decimal import Decimal

import pytest
from test_graph_records import appointment

from bookings_invoicing import rules
from bookings_invoicing.graph.records import Attendee, parse_appointment


def attendee(customer_id=None, email=None, name="X"):
    return Attendee(customer_id=customer_id, name=name, email=email, phone=None)


def test_one_row_per_attendee_with_stable_keys():
    group = parse_appointment(appointment(customers=[
        {"customerId": "a", "name": "A"}, {"name": "B", "emailAddress": "b@example.com"}, {"name": "C"}]))
    assert [key for key, _a in rules.attendee_rows(group)] == ["a", "email:b@example.com", "#2"]


def test_an_appointment_without_customer_gives_one_row():
    assert rules.attendee_rows(parse_appointment(appointment(customers=[]))) == [(rules.NO_CUSTOMER_KEY, None)]


def test_a_customer_listed_twice_is_billed_once():
    twice = parse_appointment(appointment(customers=[{"customerId": "a", "name": "A"}] * 2))
    assert len(rules.attendee_rows(twice)) == 1


@pytest.mark.parametrize("price_type, price, hours, fallback, expected", [
    ("fixedPrice", 10.0, 0.5, 99, (Decimal(1), Decimal("10.0"), False)),  # not 5.00 for 30 minutes
    ("startingAt", 60, 2, 99, (Decimal(1), Decimal("60"), False)),
    ("hourly", 80, 1.5, 99, (Decimal("1.5"), Decimal("80"), False)),
    ("priceVaries", 45, 1, 99, (Decimal(1), Decimal("45"), True)),
    ("callUs", 0, 1, 30, (Decimal(1), Decimal("30"), True)),
    ("notSet", 0, 1, 30, (Decimal(1), Decimal("30"), True)),
    ("undefined", 0, 1, 30, (Decimal(1), Decimal("30"), True)),
    ("unknownFutureValue", 0, 1, 30, (Decimal(1), Decimal("30"), True)),
    ("someNewType", 12.5, 1, 30, (Decimal(1), Decimal("12.5"), True)),
])
def test_invoice_terms_per_price_type(price_type, price, hours, fallback, expected):
    assert tuple(rules.invoice_terms(price_type, price, hours, fallback)) == expected


def test_free_invoices_nothing():
    assert rules.invoice_terms("free", 0, 1, 30) is None


def test_the_line_description():
    start = datetime.datetime(2026, 4, 30, 8, 0)
    assert rules.line_description("Hair cut", start, 45, "Alice") == "Hair cut - 2026-04-30 08:00 (45 min) - Alice"
    assert rules.line_description("Workshop", start, 90, None) == "Workshop - 2026-04-30 08:00 (1 h 30 min)"

