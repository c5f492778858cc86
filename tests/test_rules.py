"""Billing rules: rows per attendee and invoice terms per price type."""
import datetime
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


@pytest.mark.parametrize("price_type, price, minutes, fallback, expected", [
    # quantity, unit price, amount, to confirm, hourly rate of a duration billed as one unit
    ("fixedPrice", 10.0, 30, 99, (1, "10.00", "10.00", False, None)),  # not 5.00 for 30 minutes
    ("startingAt", 60, 120, 99, (1, "60.00", "60.00", True, None)),  # a minimum: to confirm
    ("hourly", 80, 90, 99, ("1.5", "80", "120.00", False, None)),
    ("hourly", 0.01, 90, 99, (1, "0.02", "0.02", False, "0.01")),  # 1.5 x 0.01 would leave a half cent to round
    ("hourly", 60, 20, 99, (1, "20.00", "20.00", False, "60")),  # not 0.333 x 60.00 = 19.98
    ("hourly", 55.55, 25, 99, (1, "23.15", "23.15", False, "55.55")),  # 23.1458... rounded once
    ("hourly", 45, 70, 99, (1, "52.50", "52.50", False, "45")),
    ("hourly", 1.86, 125, 99, (1, "3.88", "3.88", False, "1.86")),  # 3.875 exactly: half a cent rounds up
    ("priceVaries", 45, 60, 99, (1, "45.00", "45.00", True, None)),
    ("callUs", 0, 60, 30, (1, "30.00", "30.00", True, None)),
    ("notSet", 0, 60, 30, (1, "30.00", "30.00", True, None)),
    ("undefined", 0, 60, 30, (1, "30.00", "30.00", True, None)),
    ("unknownFutureValue", 0, 60, 30, (1, "30.00", "30.00", True, None)),
    ("someNewType", 12.5, 60, 30, (1, "12.50", "12.50", True, None)),
])
def test_invoice_terms_per_price_type(price_type, price, minutes, fallback, expected):
    quantity, unit_price, amount, to_confirm, rate = expected
    terms = rules.invoice_terms(price_type, price, minutes * 60, fallback)
    assert terms == (Decimal(quantity), Decimal(unit_price), Decimal(amount), to_confirm,
                     Decimal(rate) if rate else None)


def test_free_invoices_nothing():
    assert rules.invoice_terms("free", 0, 3600, 30) is None


def cents_half_up(value):
    """An exact fraction rounded half up to the cent: the oracle of the properties below."""
    return Fraction(math.floor(value * 100 + Fraction(1, 2)), 100)


@settings(max_examples=2000, deadline=None)
@given(minutes=st.integers(1, 600), cents=st.integers(0, 10 ** 7),
       price_type=st.sampled_from(["fixedPrice", "startingAt", "hourly", "priceVaries", "callUs", "notSet",
                                   "undefined", "unknownFutureValue", "somethingNew"]),
       fallback_cents=st.integers(0, 10 ** 6))
def test_every_line_bills_what_the_rule_says_to_the_cent(minutes, cents, price_type, fallback_cents):
    price, fallback = Fraction(cents, 100), Fraction(fallback_cents, 100)
    terms = rules.invoice_terms(price_type, Decimal(cents) / 100, minutes * 60, Decimal(fallback_cents) / 100)
    if price_type == "hourly":
        expected = cents_half_up(price * Fraction(minutes, 60))
    elif price_type in ("fixedPrice", "startingAt") or price > 0:
        expected = price
    else:
        expected = fallback
    assert Fraction(terms.amount) == expected
    # the line: its quantity fits three decimals, and quantity x unit price is the amount, with nothing to round
    assert Fraction(terms.quantity) * 1000 == int(Fraction(terms.quantity) * 1000)
    assert Fraction(terms.quantity) * Fraction(terms.unit_price) == expected
    assert terms.to_confirm == (price_type not in ("fixedPrice", "hourly"))


def test_the_line_description():
    start = datetime.datetime(2026, 4, 30, 8, 0)
    assert rules.line_description("Hair cut", start, 45, "Alice") == "Hair cut - 2026-04-30 08:00 (45 min) - Alice"
    assert rules.line_description("Workshop", start, 90, None) == "Workshop - 2026-04-30 08:00 (1 h 30 min)"
    assert rules.line_description("Colour", start, 20, None, hourly_rate="60.00 USD") == \
        "Colour - 2026-04-30 08:00 (20 min \u00d7 60.00 USD/h)"



# --- cancellation policies ------------------------------------------------------------------------------------------
START = datetime.datetime(2026, 3, 29, 10, 0)
HOUR = datetime.timedelta(hours=1)


@pytest.mark.parametrize("last_seen, first_missed, expected", [
    (START - 30 * HOUR, START - 25 * HOUR, "early"),  # gone before the deadline, whenever it was last seen
    (None, START - 24 * HOUR, "early"),  # gone exactly at the deadline: in time
    (START - 23 * HOUR, START - 22 * HOUR, "late"),  # still there after the deadline
    (START - 24 * HOUR, START - 20 * HOUR, "late"),  # still there at the deadline itself
    (START + HOUR, START + 2 * HOUR, "late"),  # cancelled after the start
    (START - 30 * HOUR, START - 20 * HOUR, "unknown"),  # the deadline passed between the two runs
    (None, START - 20 * HOUR, "unknown"),  # no run that found it tells
])
def test_a_cancellation_is_late_only_where_the_runs_tell(last_seen, first_missed, expected):
    assert rules.cancellation_timing(START, last_seen, first_missed, 24) == expected


@pytest.mark.parametrize("has_policy, no_show, cancellation, expected", [
    (True, False, "late", "late_cancellation"),
    (True, False, "early", False),
    (True, False, "unknown", False),  # not charged while the runs do not tell
    (True, True, False, "no_show"),
    (True, False, False, False),
    (False, True, "late", False),  # no policy, no fee
])
def test_a_fee_is_billed_by_the_policy_only(has_policy, no_show, cancellation, expected):
    assert rules.fee_kind(has_policy, no_show, cancellation) == expected


@pytest.mark.parametrize("invoiced, cancelled, excluded, fee_kind, has_customer, amount, price_type, expected", [
    (False, False, False, False, True, 35.0, rules.FIXED_PRICE, "to_invoice"),
    (True, True, True, False, False, 0.0, rules.FREE, "invoiced"),  # on a live invoice, whatever changed since
    (False, True, False, False, True, 35.0, rules.FIXED_PRICE, "cancelled"),
    (False, True, False, "late_cancellation", True, 17.5, rules.FIXED_PRICE, "to_invoice"),  # its fee
    (False, False, True, "no_show", True, 25.0, rules.FIXED_PRICE, "excluded"),  # a fee waived
    (False, False, False, "no_show", True, 0.0, rules.FIXED_PRICE, "nothing"),  # a fee of nothing
    (False, False, False, False, True, 0.0, rules.FREE, "nothing"),
    (False, False, False, "no_show", True, 25.0, rules.FREE, "to_invoice"),  # a free booking's no-show fee
    (False, False, False, False, False, 35.0, rules.FIXED_PRICE, "no_customer"),
    (False, False, False, False, True, 0.0, "priceVaries", "no_price"),
])
def test_where_a_row_stands_with_invoicing(invoiced, cancelled, excluded, fee_kind, has_customer, amount, price_type,
                                          expected):
    assert rules.invoice_status(invoiced, cancelled, excluded, fee_kind, has_customer, amount,
                                price_type) == expected


@pytest.mark.parametrize("fee_type, fee, booking_amount, expected", [
    ("percent", 50, Decimal("35.00"), Decimal("17.50")),
    ("percent", 33, Decimal("10.00"), Decimal("3.30")),
    ("percent", 12.5, Decimal("0.99"), Decimal("0.12")),  # 0.12375, rounded once, half up
    ("percent", 100, Decimal("0.5"), Decimal("0.50")),
    ("fixed", 25, Decimal("35.00"), Decimal("25.00")),  # whatever the booking's price
    ("fixed", 19.999, 0, Decimal("20.00")),
])
def test_a_fee_is_one_unit_at_the_policys_amount(fee_type, fee, booking_amount, expected):
    terms = rules.fee_terms(fee_type, fee, booking_amount)
    assert (terms.quantity, terms.unit_price, terms.amount, terms.to_confirm) == (1, expected, expected, False)


@pytest.mark.parametrize("fee_type, fee, booking_amount", [("percent", 50, 0), ("fixed", 0, 35), ("percent", 1, "0.4")])
def test_a_fee_of_nothing_bills_nothing(fee_type, fee, booking_amount):
    assert rules.fee_terms(fee_type, fee, booking_amount) is None


def test_a_fee_in_a_currency_without_cents():
    assert rules.fee_terms("percent", 50, Decimal("1001"), currency_digits=0).amount == Decimal("501")


@pytest.mark.parametrize("today, until", [
    ("2026-12-01", "2026-11-30"), ("2026-12-07", "2026-11-30"), ("2026-12-10", "2026-11-30"),
    ("2026-12-11", "2026-12-11"), ("2026-12-31", "2026-12-31"), ("2027-01-05", "2026-12-31"),
    ("2028-03-01", "2028-02-29"),
])
def test_invoice_all_closes_last_month_during_its_first_days_and_invoices_to_today_after(today, until):
    day = datetime.date.fromisoformat
    assert rules.default_invoice_until(day(today)) == day(until)


@pytest.mark.parametrize("today, first, last", [
    ("2026-12-01", "2026-11-01", "2026-11-30"), ("2026-12-07", "2026-11-01", "2026-11-30"),
    ("2026-12-31", "2026-11-01", "2026-11-30"), ("2027-01-15", "2026-12-01", "2026-12-31"),
    ("2028-03-01", "2028-02-01", "2028-02-29"),
])
def test_the_month_to_close_is_last_month_whichever_day_it_is(today, first, last):
    day = datetime.date.fromisoformat
    assert rules.month_to_close(day(today)) == (day(first), day(last))
