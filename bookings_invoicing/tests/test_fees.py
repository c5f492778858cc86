import datetime

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import formatLang

from .common import MAILBOX, NOW, BookingsCase, hours_ago


class TestFees(BookingsCase):
    """Late cancellations and no-shows billed at the fees of a cancellation policy."""

    def setUp(self):
        super(TestFees, self).setUp()
        self.add_salon(price=40.0, minutes=60)
        self.fee_tax = self.env["account.tax"].create({
            "name": "Fee tax 10%", "amount": 10.0, "amount_type": "percent", "type_tax_use": "sale"})
        self.fee_product = self.env["product.product"].create({
            "name": "Cancellation fee", "type": "service", "taxes_id": [(6, 0, self.fee_tax.ids)]})
        self.policy = self.env["bookings.cancellation.policy"].sudo(self.manager).create({
            "name": "24 hours' notice", "late_hours": 24, "late_fee_type": "percent", "late_fee": 50.0,
            "no_show_fee_type": "fixed", "no_show_fee": 25.0, "product_id": self.fee_product.id})
        self.business.cancellation_policy_id = self.policy

    def cancel(self, appointment):
        """Bookings cancels ``appointment`` after a synchronization found it; the next one misses it."""
        self.sync()
        self.store.remove(MAILBOX, "appointments", appointment["id"])
        return self.sync()

    def uninvoiced(self):
        Appointment = self.env["bookings.appointment"]
        return Appointment.search(Appointment._uninvoiced_domain() + [("business_id", "=", self.business.id)])

    def test_a_late_cancellation_bills_the_policys_fee_on_its_own_product(self):
        late = self.add_appointment(self.cut, [self.ann], hours_ago(2))  # still there an hour before it ended
        self.cancel(late)
        row = self.rows(late).sudo(self.user)
        self.assertEqual((row.state, row.cancellation, row.fee_kind, row.invoice_status, row.status),
                         ("cancelled", "late", "late_cancellation", "to_invoice", "late_cancellation"))
        self.assertEqual(row.amount, 20.0, "half of the booking's price")
        self.assertTrue(row.last_seen and row.last_seen <= row.first_missed)
        # still found once it had begun: it says so, and the policy's rule for that case bills it
        self.assertGreater(row.last_seen, row.start)
        reader = row.with_context(lang="en_US", tz="UTC")
        self.assertEqual(reader.cancellation_text, (
            "Removed from Bookings after its start: still there at %s, gone at %s. Charged as a late cancellation, "
            "as the policy says." % (reader._local_text(row.last_seen), reader._local_text(row.first_missed))))
        self.assertEqual(self.uninvoiced(), row)
        late_filter = [("business_id", "=", self.business.id), ("fee_kind", "=", "late_cancellation")]
        self.assertEqual(self.env["bookings.appointment"].search(late_filter), row)
        self.assertEqual(self.business.sudo(self.manager).fee_count, 1)
        wizard = self.invoice_all_wizard(business_id=self.business.id)
        self.assertEqual((wizard.row_count, wizard.fee_count), (1, 1))

        invoices, skipped = row._create_invoices()
        self.assertFalse(skipped)
        line = row.invoice_line_id
        self.assertEqual((line.product_id, line.price_subtotal, line.invoice_line_tax_ids),
                         (self.fee_product, 20.0, self.fee_tax))
        kinds = dict(row._fields["fee_kind"]._description_selection(self.env))
        self.assertTrue(line.name.startswith(kinds["late_cancellation"] + ": Hair cut"), line.name)
        self.assertEqual(invoices.sudo().amount_total, 22.0)
        # never charged twice: the next synchronization changes nothing
        run = self.sync()
        self.assertEqual((run.appointments_cancelled, run.rows_flagged, row.invoice_status), (0, 0, "invoiced"))
        self.assertEqual(len(invoices.invoice_line_ids), 1)

    def test_a_cancellation_in_time_is_not_charged(self):
        early = self.add_appointment(self.cut, [self.ann], hours_ago(-48))
        self.cancel(early)
        row = self.rows(early)
        self.assertEqual((row.cancellation, row.fee_kind, row.invoice_status), ("early", False, "cancelled"))

    def test_where_the_runs_do_not_tell_the_booking_is_not_charged_and_says_why(self):
        start = NOW + datetime.timedelta(hours=20)
        unclear = self.add_appointment(self.cut, [self.ann], start)
        run = self.sync()
        run.appointments_read = hours_ago(10)  # the last run to find it came 30 hours before the start
        self.store.remove(MAILBOX, "appointments", unclear["id"])
        self.sync()
        row = self.rows(unclear)
        self.assertEqual((row.cancellation, row.fee_kind, row.invoice_status), ("unknown", False, "cancelled"))
        self.assertEqual(row.last_seen, run.appointments_read)
        # the user reads between when and when, in their own time zone
        paris = row.sudo(self.user)
        self.assertIn(paris._local_text(run.appointments_read), paris.cancellation_text)
        self.assertIn(paris._local_text(row.first_missed), paris.cancellation_text)
        self.assertNotEqual(paris._local_text(row.first_missed), row.with_context(tz="UTC")._local_text(
            row.first_missed), "Paris is not UTC")

    def test_a_booking_back_in_bookings_is_no_longer_a_fee(self):
        back = self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.cancel(back)
        self.assertEqual(self.rows(back).fee_kind, "late_cancellation")
        self.store.put(MAILBOX, "appointments", back)
        self.sync()
        row = self.rows(back)
        self.assertEqual((row.state, row.first_missed, row.fee_kind, row.invoice_status, row.amount),
                         ("active", False, False, "to_invoice", 40.0))

    def test_a_charged_cancellation_back_in_bookings_is_raised_for_review(self):
        back = self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.cancel(back)
        self.rows(back)._create_invoices()
        self.store.put(MAILBOX, "appointments", back)
        run = self.sync()
        row = self.rows(back)
        self.assertEqual((run.rows_flagged, row.needs_review, row.fee_kind), (1, True, False))

    def test_a_booking_invoiced_before_it_was_cancelled_is_a_review_not_a_fee(self):
        billed = self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.sync()
        self.rows(billed)._create_invoices()
        self.store.remove(MAILBOX, "appointments", billed["id"])
        self.sync()
        row = self.rows(billed)
        self.assertEqual((row.needs_review, row.first_missed, row.fee_kind), (True, False, False))
        self.assertEqual(len(row.invoice_id.invoice_line_ids), 1, "nothing billed beside the booking")

    def test_a_fee_can_be_waived_with_a_reason(self):
        late = self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.cancel(late)
        row = self.rows(late).sudo(self.user)
        row.action_exclude("first time: waived")
        self.assertEqual((row.invoice_status, row.exclusion_reason), ("excluded", "first time: waived"))
        self.assertFalse(self.uninvoiced())

    def test_a_no_show_bills_the_no_show_fee_until_unmarked(self):
        missed = self.add_appointment(self.cut, [self.ann], hours_ago(3))
        self.sync()
        row = self.rows(missed).sudo(self.user)
        row.action_mark_no_show("no answer to the reminder")
        self.assertEqual((row.no_show, row.no_show_note, row.fee_kind, row.status, row.amount),
                         (True, "no answer to the reminder", "no_show", "no_show", 25.0))
        row.action_unmark_no_show()
        self.assertEqual((row.no_show, row.fee_kind, row.amount), (False, False, 40.0))
        row.action_mark_no_show(False)
        invoices, _skipped = row._create_invoices()
        self.assertEqual((row.invoice_line_id.product_id, invoices.sudo().amount_untaxed), (self.fee_product, 25.0))
        with self.assertRaises(UserError):  # on an invoice: settled there, not unmarked
            row.action_unmark_no_show()
        with self.assertRaises(UserError):
            row.write({"no_show_note": "changed afterwards"})
        self.assertEqual((row.no_show, row.no_show_note, row.amount), (True, False, 25.0))

    def test_a_fixed_fee_in_another_currency_is_converted_at_the_invoice_date_by_the_line_and_the_preview(self):
        """A fixed fee is an amount of the company's currency: a business billing in another one bills it at the
        rate of the invoice's date, and Invoice All's preview says what the drafts then hold."""
        last_day = self.today_date().replace(day=1) - datetime.timedelta(days=1)
        other = self.bill_in_another_currency({last_day: 1.5, self.today_date(): 1.25})
        self.business.sync_days_back = 70
        missed = self.add_appointment(self.cut, [self.ann], datetime.datetime.combine(last_day, datetime.time(15)))
        self.sync()
        self.rows(missed).sudo(self.user).action_mark_no_show(False)
        self.assertEqual(self.rows(missed).amount, 31.25, "25.00 at today's rate, until invoiced")
        wizard = self.invoice_all_wizard(business_id=self.business.id, date_until=fields.Date.to_string(last_day),
                                         date_invoice=fields.Date.to_string(last_day))
        previewed = wizard.amount_text
        wizard.action_create_invoices()
        invoice = self.rows(missed).invoice_id.sudo()
        self.assertEqual((invoice.currency_id, invoice.invoice_line_ids.price_unit), (other, 37.5))
        self.assertEqual(previewed, formatLang(self.env, 37.5, currency_obj=other))

    def test_a_no_show_needs_a_completed_booking_and_a_policy(self):
        upcoming = self.add_appointment(self.cut, [self.ann], hours_ago(-5))
        gone = self.add_appointment(self.cut, [self.bob], hours_ago(-50))
        self.cancel(gone)
        for booking in (upcoming, gone):
            with self.assertRaises(UserError):
                self.rows(booking).sudo(self.user).action_mark_no_show("x")
            with self.assertRaises(UserError):  # as an import or RPC would write it
                self.rows(booking).sudo(self.user).write({"no_show": True})
            self.assertFalse(self.rows(booking).no_show)
        self.business.cancellation_policy_id = False
        done = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        with self.assertRaises(UserError):
            self.rows(done).sudo(self.user).action_mark_no_show("x")

    def test_a_services_policy_overrides_the_business(self):
        # gone 30 hours before the start: in time by the business's 24 hours, late by the service's 48
        booked = self.add_appointment(self.cut, [self.ann], NOW + datetime.timedelta(hours=30))
        self.sync()
        strict = self.policy.copy({"name": "48 hours", "late_hours": 48, "late_fee_type": "fixed", "late_fee": 10.0})
        self.env["bookings.service"].search([("bookings_id", "=", self.cut["id"])]).cancellation_policy_id = strict
        self.cancel(booked)
        row = self.rows(booked)
        self.assertEqual((row.cancellation_policy_id, row.cancellation, row.amount), (strict, "late", 10.0))

    def test_a_fee_in_percent_is_at_most_the_bookings_price(self):
        for values in ({"late_fee": 100.5}, {"no_show_fee_type": "percent", "no_show_fee": 150.0}):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.policy.sudo(self.manager).write(values)
        self.policy.sudo(self.manager).write({"late_fee": 100.0, "no_show_fee_type": "fixed", "no_show_fee": 250.0})
        self.assertEqual((self.policy.late_fee, self.policy.no_show_fee), (100.0, 250.0), "a fixed fee: any amount")

    def test_only_managers_set_policies(self):
        with self.assertRaises(AccessError):
            self.env["bookings.cancellation.policy"].sudo(self.user).create(
                {"name": "Mine", "product_id": self.fee_product.id})
        self.assertEqual(self.policy.sudo(self.user).late_hours, 24, "users read them")
