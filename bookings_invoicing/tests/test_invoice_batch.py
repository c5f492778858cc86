import datetime
from unittest.mock import patch

from odoo import fields, sql_db

from odoo.addons.queue_job.exception import RetryableJobError

from ..models import bookings_invoice_batch, queue_job
from .common import BookingsCase, hours_ago


class TestInvoiceBatch(BookingsCase):
    """Large invoicings run as batches of background jobs: whole customers per part, each part safe to re-run."""

    def setUp(self):
        super(TestInvoiceBatch, self).setUp()
        self.cut = self.add_service("Hair cut", price=35.0, minutes=45)
        self.customers = [self.add_customer("Customer %d" % n, "customer%d@example.com" % n) for n in range(5)]
        for n, customer in enumerate(self.customers):
            for visit in range(n + 1):  # 1 to 5 bookings each: 15 rows
                self.add_appointment(self.cut, [customer], hours_ago(4 + 3 * visit + n))
        self.sync()
        self.env["ir.config_parameter"].set_param("bookings_invoicing.invoice_batch_threshold", "10")
        parts_of_four = patch.object(bookings_invoice_batch, "PART_ROWS", 4)
        parts_of_four.start()
        self.addCleanup(parts_of_four.stop)

    def invoice_all(self):
        wizard = self.invoice_all_wizard(business_id=self.business.id)
        action = wizard.action_create_invoices()
        self.assertEqual(action["res_model"], "bookings.invoice.batch", "more rows than the threshold: a batch")
        return self.env["bookings.invoice.batch"].browse(action["res_id"])

    def test_invoice_all_above_the_threshold_runs_as_a_batch_of_jobs(self):
        batch = self.invoice_all()
        self.assertEqual((batch.state, batch.row_count, batch.customer_count, batch.progress), ("running", 15, 5, 0))
        self.assertFalse(self.rows().mapped("invoice_line_id"), "nothing is invoiced in the user's request")
        parts = batch.part_ids
        by_customer = {customer: parts.filtered(lambda p, c=customer: c in p.row_ids.mapped("partner_id"))
                       for customer in self.rows().mapped("partner_id")}
        self.assertTrue(all(len(found) == 1 for found in by_customer.values()), "a customer's rows in one part")
        self.assertGreater(len(parts), 1)
        jobs = self.env["queue.job"].search([("method_name", "=", "_invoice_job")])
        self.assertEqual((len(jobs), set(jobs.mapped("channel"))), (len(parts), {"root.bookings_invoicing"}))

        self.run_jobs()
        rows = self.rows()
        self.assertEqual((batch.state, batch.progress, batch.invoice_count), ("done", 100.0, 5))
        self.assertEqual(len(rows.mapped("invoice_line_id")), 15, "every row on exactly one line")
        self.assertEqual(batch.invoice_ids, rows.mapped("invoice_id"))
        for invoice in batch.invoice_ids:
            self.assertEqual(invoice.amount_untaxed, 35.0 * len(invoice.invoice_line_ids))
        today = self.today()
        self.assertEqual((batch.date_invoice, set(batch.invoice_ids.mapped("date_invoice"))), (today, {today}),
                         "the drafts carry Invoice All's date, as the parts make them")
        self.assertEqual(sum(batch.part_ids.mapped("skipped_count")), 0)
        message = batch.message_ids[0]
        self.assertIn(self.user.partner_id, batch.message_follower_ids.mapped("partner_id"))
        # its creator is notified (in her inbox, or by e-mail as she prefers), though the job ran as her
        self.assertIn(self.user.partner_id, message.needaction_partner_ids)

    def test_a_batch_counts_the_parties_that_pay_as_its_preview_does(self):
        company = self.env["res.partner"].create({"name": "Fabrikam", "is_company": True})
        self.rows().mapped("partner_id")[:2].write({"parent_id": company.id})  # 2 of the 5 work for it
        wizard = self.invoice_all_wizard(business_id=self.business.id)
        self.assertEqual(wizard.customer_count, 4)
        self.assertEqual(self.invoice_all().customer_count, wizard.customer_count)

    def test_a_batch_reads_in_the_readers_language_and_its_jobs_write_in_its_starters(self):
        self.env["res.lang"].load_lang("fr_FR")
        self.env["ir.translation"].load_module_terms(["bookings_invoicing"], ["fr_FR"])
        self.user.lang = "fr_FR"  # the accountant works in French; the batch is made in an English request
        batch = self.invoice_all()
        names = {lang: batch.with_context(lang=lang).name for lang in ("en_US", "fr_FR")}
        self.assertNotEqual(names["fr_FR"], names["en_US"])
        self.run_jobs()
        closing = batch.message_ids[0]
        self.assertIn(names["fr_FR"], closing.body, "the closing message is written in its starter's language")
        self.assertNotIn(names["en_US"], closing.body)

    def test_a_part_run_again_makes_nothing_twice(self):
        batch = self.invoice_all()
        self.run_jobs()
        invoices = self.env["account.invoice"].search([])
        for part in batch.part_ids:  # as after a worker died once the part had committed
            part._invoice_job()
        self.assertEqual(set(batch.part_ids.mapped("state")), {"done"})
        self.assertEqual(self.env["account.invoice"].search([]), invoices)
        self.assertEqual(len(self.rows().mapped("invoice_line_id")), 15)

    def test_rows_invoiced_meanwhile_are_reported_and_the_rest_invoiced(self):
        batch = self.invoice_all()
        first = batch.part_ids[0].row_ids[0]
        first.sudo(self.user)._create_invoices()  # by hand, before the batch's job ran
        self.run_jobs()
        self.assertEqual(batch.state, "partial")
        self.assertEqual(batch.part_ids.mapped("skipped_count"), [1] + [0] * (len(batch.part_ids) - 1))
        self.assertEqual(len(self.rows().mapped("invoice_line_id")), 15, "still one line per row")
        self.assertNotIn(first.invoice_id, batch.invoice_ids, "the row skipped stays on the draft made by hand")

    def test_a_part_that_fails_is_recorded_and_the_batch_still_ends(self):
        batch = self.invoice_all()
        self.business.journal_id = False  # no sales journal of the company to fall back on
        self.env["account.journal"].search([("type", "=", "sale")]).write({"active": False})
        self.run_jobs()
        self.assertEqual(batch.state, "failed")
        self.assertTrue(all(part.state == "failed" for part in batch.part_ids))
        self.assertTrue(all(batch.part_ids.mapped("error_message")), "each part says why it failed")
        self.assertFalse(self.rows().mapped("invoice_line_id"), "a failed part leaves nothing half-made")

    def test_a_part_whose_rows_another_user_invoices_runs_again_later(self):
        batch = self.invoice_all()
        part = batch.part_ids[0]
        with patch.object(type(self.env["bookings.appointment"]), "_lock_rows", _held), \
                self.assertRaises(RetryableJobError) as caught:
            part._invoice_job()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertEqual(part.state, "queued")

    def test_a_part_whose_worker_died_is_queued_again_and_a_running_one_is_not(self):
        self.assertEqual(self.env["queue.job"]._bookings_recoverable_jobs(), (
            ("bookings.business", "_synchronize_job"), ("bookings.business", "_write_invoice_status_job"),
            ("bookings.invoice.batch", "_close_job"), ("bookings.invoice.batch.part", "_invoice_job")),
            "every job of the add-on is recovered")
        batch = self.invoice_all()
        jobs = self.env["queue.job"].search([("method_name", "=", "_invoice_job")], order="id")
        long_ago = fields.Datetime.to_string(datetime.datetime.utcnow() - datetime.timedelta(minutes=5))
        jobs.write({"state": "started", "date_started": long_ago})  # as the runner left them
        running, dead = jobs[0], jobs[1:]
        worker = sql_db.db_connect(self.env.cr.dbname).cursor()  # the transaction of a worker running a job
        self.addCleanup(worker.close)
        worker.execute("SELECT pg_advisory_xact_lock(%s, %s)", (queue_job.JOB_LOCK, running.id))
        requeued = self.env["queue.job"]._bookings_requeue_interrupted()
        self.assertEqual(requeued, dead)
        self.assertEqual(set(dead.mapped("state")), {"pending"})
        self.assertEqual(running.state, "started", "a job whose worker holds its lock runs on")
        worker.rollback()  # its worker dies in turn
        self.assertEqual(self.env["queue.job"]._bookings_requeue_interrupted(), running)
        self.run_jobs()
        self.assertEqual((batch.state, len(self.rows().mapped("invoice_line_id"))), ("done", 15))

    def test_a_part_whose_job_queue_job_failed_still_ends_its_batch(self):
        batch = self.invoice_all()
        job = self.env["queue.job"].search([("method_name", "=", "_invoice_job")], order="id", limit=1)
        part = self.env["bookings.invoice.batch.part"].browse(job.record_ids)
        job.write({"state": "failed", "exc_info": "Traceback (most recent call last):\n  ...\n"
                                                  "psycopg2.OperationalError: could not serialize access\n"})
        self.run_jobs()  # the other parts
        self.assertEqual(batch.state, "running", "queue_job alone leaves the batch waiting for the failed part")
        self.env["queue.job"]._bookings_recover()
        self.run_jobs()  # the closing it queued
        self.assertEqual((part.state, batch.state), ("failed", "partial"))
        self.assertIn("psycopg2.OperationalError: could not serialize access", part.error_message,
                      "the part shows the error its job ended with")
        self.assertFalse(part.row_ids.mapped("invoice_line_id"), "its rows stay to invoice")

    def test_a_small_selection_is_invoiced_at_once(self):
        self.env["ir.config_parameter"].set_param("bookings_invoicing.invoice_batch_threshold", "500")
        action = self.rows().sudo(self.user).action_create_invoices()
        self.assertEqual(action["res_model"], "account.invoice")
        self.assertFalse(self.env["bookings.invoice.batch"].search([]))


def _held(rows, busy):
    raise bookings_invoice_batch.RowsLocked(busy)
