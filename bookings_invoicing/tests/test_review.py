import datetime

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger
from odoo.tools.misc import format_date, formatLang

from bookings_peer.data import graph_time

from ..models.bookings_appointment_invoicing import RowsLocked
from .common import MAILBOX, BookingsCase, database_cursor, hours_ago


class TestReview(BookingsCase):
    """Bookings changed or cancelled after they were invoiced: what was billed is kept beside what Bookings says,
    and the accountant settles each on its invoice, or keeps the invoice as it is."""

    def setUp(self):
        super(TestReview, self).setUp()
        self.add_salon(price=40.0, minutes=60)
        self.analytic = self.env["account.analytic.account"].create({"name": "Salon"})

    def invoiced(self, *starts, **values):
        """Ann's bookings at ``starts`` (hours ago), synchronized and invoiced on one draft; returns (items, draft)."""
        items = [self.add_appointment(self.cut, [self.ann], hours_ago(hours), **values) for hours in starts]
        self.sync()
        invoices, skipped = self.rows().sudo(self.user)._create_invoices()
        self.assertFalse(skipped)
        invoices.sudo().invoice_line_ids.write({"account_analytic_id": self.analytic.id})
        return items, invoices.sudo()

    def validate_and_pay(self, invoice, amount):
        invoice.action_invoice_open()
        bank = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", self.company.id)],
                                                  limit=1)
        invoice.pay_and_reconcile(bank, amount)

    def settle(self, rows, reason=None, date_invoice=None, user=None):
        wizard = self.env["bookings.review.wizard"].sudo(user or self.user).with_context(
            active_model="bookings.appointment", active_ids=rows.ids).create(
            {"reason": reason, "date_invoice": date_invoice or fields.Date.context_today(rows)})
        action = wizard.action_settle()
        self.env.cache.invalidate()
        return action

    def review_count(self):
        self.business.invalidate_cache()
        return self.business.sudo(self.manager).review_count

    # --- what changed, kept ---------------------------------------------------------------------------------
    def test_what_was_billed_is_kept_beside_what_bookings_now_says(self):
        (booked,), draft = self.invoiced(30)
        self.store.update(MAILBOX, "appointments", booked["id"], price=50.0)
        self.sync()
        self.store.update(MAILBOX, "appointments", booked["id"], price=55.0,
                          startDateTime=graph_time(hours_ago(29)), endDateTime=graph_time(hours_ago(28)))
        self.sync()  # changed twice before it was settled: what was billed stays the first values
        row = self.rows(booked).sudo(self.user)
        self.assertEqual((row.billed_price, row.billed_amount, row.price, row.amount), (40.0, 40.0, 55.0, 55.0))
        self.assertEqual(row.billed_start, fields.Datetime.to_string(hours_ago(30)))
        before, after = (row._local_text(moment) for moment in (row.billed_start, row.start))
        changes = row.review_changes.split("\n")
        self.assertIn("Start: %s \u2192 %s" % (before, after), changes, "in the user's time zone")
        money = [formatLang(self.env, amount, currency_obj=row.currency_id) for amount in (40.0, 55.0)]
        self.assertIn("Bookings price: %s \u2192 %s" % tuple(money), changes)
        self.assertEqual(self.env["bookings.appointment"].search(draft.action_open_bookings_review()["domain"]), row)
        self.assertEqual(draft.bookings_review_count, 1)
        self.assertTrue(any(money[0] in message.body and money[1] in message.body
                            for message in draft.message_ids), "the invoice's message says before and after")

    def test_a_row_raised_before_what_was_billed_was_kept_is_reviewed_all_the_same(self):
        (booked,), draft = self.invoiced(30)
        row = self.rows(booked)
        row._bookings_as_mirror().write({"needs_review": True, "review_reason": "Changed in Bookings: price."})
        self.assertEqual(row.review_changes, "Changed in Bookings: price.")
        self.assertIn(row, self.env["bookings.appointment"].search(
            self.business.action_open_review()["domain"]))
        self.settle(row, reason="checked")
        self.assertFalse(row.needs_review)
        self.assertEqual(draft.amount_total, 48.0, "the line already bills Bookings' terms")

    # --- on a draft -----------------------------------------------------------------------------------------
    def test_a_change_on_a_draft_rewrites_its_line(self):
        (booked, other), draft = self.invoiced(30, 50)
        self.store.update(MAILBOX, "appointments", booked["id"], price=50.0)
        self.sync()
        self.assertEqual(self.review_count(), 1)
        self.assertFalse(self.settle(self.rows(booked), reason="Bookings is right").get("res_model"))
        row = self.rows(booked)
        self.assertEqual((row.needs_review, row.billed_price, row.invoice_id), (False, 0.0, draft))
        self.assertEqual(row.invoice_line_id.price_unit, 50.0)
        self.assertEqual((draft.amount_untaxed, draft.amount_tax, draft.amount_total), (90.0, 18.0, 108.0))
        self.assertEqual(self.review_count(), 0)
        self.assertTrue(any("Bookings is right" in message.body and message.author_id == self.user.partner_id
                            for message in row.message_ids), "who and why, on the booking")
        self.assertTrue(any("Bookings is right" in message.body for message in draft.message_ids))
        # Bookings changes it again: raised from the settled values
        self.store.update(MAILBOX, "appointments", booked["id"], price=45.0)
        self.sync()
        self.assertEqual((row.needs_review, row.billed_price, row.billed_amount), (True, 50.0, 50.0))

    def test_a_cancellation_on_a_draft_removes_its_line(self):
        (booked, other), draft = self.invoiced(30, 50)
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        self.assertEqual(draft.bookings_cancelled_count, 1)
        cancelled = self.rows(booked)
        self.assertEqual((cancelled.billed_amount, cancelled.review_amount), (cancelled.amount, 0.0),
                         "To Review: what was billed, and nothing now")
        self.assertEqual(self.rows(other).review_amount, self.rows(other).amount)
        self.settle(self.rows(booked))
        row = self.rows(booked)
        self.assertEqual((row.needs_review, row.invoice_status, row.state), (False, "cancelled", "cancelled"))
        self.assertEqual(draft.invoice_line_ids.mapped("bookings_appointment_ids"), self.rows(other))
        self.assertEqual((draft.amount_untaxed, draft.amount_tax, draft.bookings_cancelled_count), (40.0, 8.0, 0))

    def test_a_booking_that_lost_its_price_leaves_the_draft_and_waits_for_one(self):
        (booked,), draft = self.invoiced(30)
        self.rows(booked).product_id.list_price = 0.0
        self.store.update(MAILBOX, "appointments", booked["id"], price=0.0, priceType="notSet")
        self.sync()
        row = self.rows(booked)
        self.assertIn("Price type: Fixed price \u2192 Not set", row.sudo(self.user).review_changes.split("\n"))
        self.settle(row)
        self.assertEqual((row.invoice_status, row.needs_review), ("no_price", False))
        self.assertFalse(draft.invoice_line_ids)

    def test_a_booking_made_free_on_a_draft_stays_there_at_nothing(self):
        (booked, other), draft = self.invoiced(30, 50)
        self.store.update(MAILBOX, "appointments", booked["id"], price=0.0, priceType="free")
        self.sync()
        self.settle(self.rows(booked))
        row = self.rows(booked)
        self.assertEqual((row.needs_review, row.invoice_id, row.invoice_line_id.price_subtotal), (False, draft, 0.0))
        self.assertEqual((row.invoice_line_id.account_analytic_id, draft.amount_untaxed, draft.amount_tax),
                         (self.analytic, 40.0, 8.0), "the line's analytic account is kept")

    # --- on a validated invoice -------------------------------------------------------------------------------
    def test_a_cancellation_on_a_validated_invoice_is_credited(self):
        (booked, other), invoice = self.invoiced(30, 50)
        invoice.action_invoice_open()
        line = self.rows(booked).invoice_line_id
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        self.assertEqual(invoice.bookings_review_count, 1)
        action = self.settle(self.rows(booked), reason="did not come")
        row = self.rows(booked)
        credit_note = row.credit_note_id
        self.assertEqual((action["res_model"], action["res_id"]), ("account.invoice", credit_note.id))
        self.assertEqual((credit_note.type, credit_note.state, credit_note.refund_invoice_id),
                         ("out_refund", "draft", invoice))
        credit_line = credit_note.invoice_line_ids
        self.assertEqual(credit_line, row.credit_line_id)
        self.assertEqual(
            (credit_line.account_id, credit_line.invoice_line_tax_ids, credit_line.account_analytic_id,
             credit_line.quantity, credit_line.price_unit),
            (line.account_id, line.invoice_line_tax_ids, self.analytic, 1.0, 40.0))
        self.assertEqual(credit_note.amount_total, 48.0)
        self.assertEqual((row.invoice_status, row.needs_review, invoice.bookings_review_count),
                         ("cancelled", False, 0))
        self.assertEqual(invoice.amount_total, 96.0, "the validated invoice is left as it is")
        # nothing is credited twice
        with self.assertRaises(UserError):
            self.settle(row)
        self.assertEqual(len(self.env["account.invoice"].search([("refund_invoice_id", "=", invoice.id)])), 1)
        # nor lost: the draft credit note and its line are kept while they settle the booking
        for deletion in (credit_line.sudo(self.user).unlink, credit_note.sudo(self.user).unlink):
            with self.assertRaises(UserError), self.cr.savepoint():
                deletion()
        self.assertEqual(self.rows(booked).credit_line_id, credit_line)

    def test_a_change_on_a_paid_invoice_is_credited_and_invoiced_again_at_its_new_terms(self):
        (booked,), invoice = self.invoiced(30)
        self.validate_and_pay(invoice, 48.0)
        self.assertEqual(invoice.state, "paid")
        self.store.update(MAILBOX, "appointments", booked["id"], price=30.0)
        self.sync()
        self.settle(self.rows(booked))
        row = self.rows(booked)
        self.assertEqual((row.credit_note_id.amount_total, row.invoice_status, row.amount), (48.0, "to_invoice", 30.0))
        invoices, _skipped = row.sudo(self.user)._create_invoices()
        self.assertEqual(invoices.amount_total, 36.0, "billed again at Bookings' new price")

    def test_several_bookings_of_a_partly_paid_invoice_give_one_credit_note(self):
        (first, second, kept), invoice = self.invoiced(30, 40, 50)
        self.validate_and_pay(invoice, 50.0)
        self.assertEqual((invoice.state, invoice.residual), ("open", 94.0))
        self.store.remove(MAILBOX, "appointments", first["id"])
        self.store.update(MAILBOX, "appointments", second["id"], price=20.0)
        self.sync()
        credit_date = fields.Date.to_string(self.today_date() - datetime.timedelta(days=1))
        self.settle(self.rows(first) | self.rows(second), date_invoice=credit_date)
        credit_note = self.rows(first).credit_note_id
        self.assertEqual(self.rows(second).credit_note_id, credit_note)
        self.assertEqual((len(credit_note.invoice_line_ids), credit_note.amount_total, credit_note.date_invoice),
                         (2, 96.0, credit_date))
        self.assertEqual(self.rows(kept).invoice_id, invoice)

    def test_a_credit_note_date_in_a_locked_period_is_refused(self):
        (booked,), invoice = self.invoiced(30)
        invoice.action_invoice_open()
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        locked = fields.Date.to_string(self.today_date() - datetime.timedelta(days=1))
        self.company.period_lock_date = locked  # locked for all but advisers
        with self.assertRaisesRegexp(UserError, format_date(self.env, locked)):
            self.settle(self.rows(booked), date_invoice=locked)
        self.assertEqual((self.rows(booked).needs_review, self.rows(booked).credit_line_id.id), (True, False))

    # --- kept as it is ----------------------------------------------------------------------------------------
    def test_an_invoice_kept_as_it_is_says_why(self):
        (booked,), draft = self.invoiced(30)
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        row = self.rows(booked)
        wizard = self.env["bookings.review.wizard"].sudo(self.user).with_context(
            active_model="bookings.appointment", active_ids=row.ids).create({})
        with self.assertRaises(UserError):
            wizard.action_acknowledge()  # without a reason
        wizard.reason = "late cancellation: charged"
        wizard.action_acknowledge()
        self.env.cache.invalidate()
        self.assertEqual((row.needs_review, row.invoice_id, draft.amount_total), (False, draft, 48.0))
        self.assertEqual(draft.bookings_cancelled_count, 0, "no banner asks to remove it any more")
        self.assertTrue(any("late cancellation: charged" in message.body for message in draft.message_ids))

    # --- who may, and at once ---------------------------------------------------------------------------------
    def test_an_employee_without_the_bookings_group_cannot_settle(self):
        (booked,), draft = self.invoiced(30)
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        employee = self.env["res.users"].with_context(no_reset_password=True).create({
            "name": "Employee", "login": "bookings-employee-test",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id,
                                  self.env.ref("account.group_account_invoice").id])]})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.rows(booked).sudo(employee)._settle()
        self.assertTrue(self.rows(booked).needs_review)

    def test_two_users_settling_one_booking_at_once_settle_it_once(self):
        dbname = self.cr.dbname
        with self.committed_rows("Review", 1) as (ids, product_id):
            with database_cursor(dbname) as cr:
                row = api.Environment(cr, SUPERUSER_ID, {})["bookings.appointment"].browse(ids)._bookings_as_mirror()
                row._create_invoices()
                row._bookings_cancel()
            with database_cursor(dbname) as cr1, database_cursor(dbname) as cr2:
                first = api.Environment(cr1, SUPERUSER_ID, {})["bookings.appointment"].browse(ids)
                second = api.Environment(cr2, SUPERUSER_ID, {})["bookings.appointment"].browse(ids)
                first._settle()
                with mute_logger("odoo.sql_db"), self.assertRaises(RowsLocked):
                    second._settle()  # the other user's transaction is still open
                cr2.rollback()
                cr1.commit()
                with self.assertRaises(UserError):
                    second._settle()  # once it is committed, there is nothing left to settle
            with database_cursor(dbname) as cr:
                cr.execute("SELECT count(*) FROM account_invoice_line WHERE product_id = %s", (product_id,))
                self.assertEqual(cr.fetchone()[0], 0, "the line was removed once")
                cr.execute("SELECT needs_review, state FROM bookings_appointment WHERE id = %s", (ids[0],))
                self.assertEqual(cr.fetchone(), (False, "cancelled"))
