import datetime
import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ..rules import PRICE_TYPES
from .common import BookingsCase, hours_ago, set_rate, today_of

#: a row: minutes (1 to 600), Bookings price in cents, price type (each of Graph's)
ROWS = st.lists(st.tuples(st.integers(1, 600), st.integers(0, 500000), st.sampled_from(PRICE_TYPES)),
                min_size=1, max_size=3)


def cents_half_up(value):
    """An exact fraction rounded half up to the cent: the oracle of these tests, independent of the add-on."""
    return Fraction(math.floor(value * 100 + Fraction(1, 2)), 100)


class TestMoney(BookingsCase):
    """Every draft is exact to the cent: each line and each invoice total is what the rule says, for durations of 1
    to 600 minutes, prices with cents, every price type, taxes excluded and included, and two currencies (the
    product's sales price, when Bookings gives no price, converted at Odoo's rate)."""

    RATE = Fraction(5, 4)  # units of the other currency for one of the company's
    FALLBACK = Fraction(3099, 100)  # the product's sales price, in the company's currency

    @classmethod
    def setUpClass(cls):
        super(TestMoney, cls).setUpClass()
        env = cls.env
        cls.tax = env["account.tax"].create({"name": "VAT 20% (money)", "amount": 20.0, "amount_type": "percent",
                                             "type_tax_use": "sale"})
        env["account.tax"].create({"name": "VAT 20% included (money)", "amount": 20.0, "amount_type": "percent",
                                   "type_tax_use": "sale", "price_include": True})
        cls.product = env["product.product"].create({
            "name": "Money service", "type": "service", "list_price": float(cls.FALLBACK),
            "uom_id": env.ref("product.product_uom_hour").id, "uom_po_id": env.ref("product.product_uom_hour").id,
            "taxes_id": [(6, 0, cls.tax.ids)]})
        cls.service = env["bookings.service"]._bookings_as_mirror().create({
            "business_id": cls.business.id, "bookings_id": "money", "name": "Money service",
            "product_id": cls.product.id})
        cls.partner = env["res.partner"].create({"name": "Money customer"})
        company_currency = cls.company.currency_id
        cls.other = env.ref("base.EUR") if company_currency != env.ref("base.EUR") else env.ref("base.USD")
        cls.other.active = True
        set_rate(env, cls.company, cls.other, float(cls.RATE), today_of(env.user))

    def expected(self, minutes, cents, price_type, rate):
        """The amount of the row's line; None: no line (free, or nothing to bill, when the row waits for a
        price)."""
        price = Fraction(cents, 100)
        if price_type == "free":
            return None
        if price_type == "hourly":
            amount = cents_half_up(price * Fraction(minutes, 60))
        elif price_type in ("fixedPrice", "startingAt") or price > 0:
            amount = price
        else:
            amount = cents_half_up(self.FALLBACK * rate)
        return amount or None

    @settings(max_examples=40, deadline=None, database=None)
    @given(rows=ROWS, included=st.booleans(), other_currency=st.booleans())
    def test_each_line_and_each_total_is_exact(self, rows, included, other_currency):
        with self.rolled_back():
            self.check_drafts(rows, included, other_currency)

    def check_drafts(self, rows, included, other_currency):
        self.business.price_include_tax = included
        currency = self.other if other_currency else self.company.currency_id
        records = self.env["bookings.appointment"]._bookings_as_mirror()  # as the synchronization
        for index, (minutes, cents, price_type) in enumerate(rows):
            start = hours_ago(20 + 11 * index)
            records |= records.create({
                "business_id": self.business.id, "bookings_id": "money-%d" % index, "attendee_key": "c",
                "partner_id": self.partner.id, "service_id": self.service.id, "customer_name": "Money customer",
                "start": start, "end": start + datetime.timedelta(minutes=minutes), "duration": minutes / 60.0,
                "price": cents / 100.0, "price_type": price_type, "currency_id": currency.id})
        rate = self.RATE if other_currency else 1
        expected = {row.id: self.expected(minutes, cents, price_type, rate)
                    for row, (minutes, cents, price_type) in zip(records, rows)}
        invoices, skipped = records.sudo(self.user)._create_invoices()
        self.assertEqual(set(skipped), {row_id for row_id, amount in expected.items() if amount is None})
        billed = {row_id: amount for row_id, amount in expected.items() if amount is not None}
        for row in records.filtered(lambda r: r.id in billed):
            line = row.invoice_line_id
            total = line.price_total if included else line.price_subtotal  # with taxes when prices include them
            self.assertEqual(Fraction(str(total)), billed[row.id], (row.price_type, row.duration, row.price))
            self.assertEqual(Fraction(str(row.amount)), billed[row.id], "the Uninvoiced list shows the same amount")
        if billed:
            invoice_total = invoices.amount_total if included else invoices.amount_untaxed
            self.assertEqual(Fraction(str(invoice_total)), sum(billed.values()))
            self.assertEqual(invoices.currency_id, currency)
