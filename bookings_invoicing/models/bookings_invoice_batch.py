"""Invoicing batches: a large selection of appointment rows invoiced in the background, on OCA's queue_job.

A batch is split into parts of whole invoice groups (one customer's rows never go to two parts), each invoiced by
one job in a transaction of its own. A part records its outcome in the job's transaction: a job that dies before
its commit leaves nothing and runs again; once committed, its rows are invoiced and a new run of it does nothing.
Each part, as it ends, queues the batch's closing, a short job that closes the batch once all its parts have ended and
tells its followers (its creator) how it ended.
"""
import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import job

from ..rules import INVOICE_GROUPING_SELECTION
from .bookings_appointment_invoicing import RowsLocked
from .queue_job import recoverable_job

_logger = logging.getLogger(__name__)

#: An invoicing of more rows than this runs in the background, as a batch (system parameter
#: ``bookings_invoicing.invoice_batch_threshold``): what is invoiced in the request takes a second or two.
BATCH_THRESHOLD = 20
#: A part of a batch holds whole invoice groups up to about this many rows (a larger group is a part alone).
PART_ROWS = 200
#: A part whose rows another user is invoicing at that moment runs again after this long.
LOCKED_RETRY_SECONDS = 30


class BookingsInvoiceBatch(models.Model):
    _name = "bookings.invoice.batch"
    _inherit = ["mail.thread"]
    _description = "Bookings Invoicing Batch"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    company_id = fields.Many2one("res.company", required=True, readonly=True,
                                 default=lambda self: self.env.user.company_id)
    user_id = fields.Many2one("res.users", string="Started by", readonly=True, index=True,
                              help="Who asked for this invoicing: the batch's closing message is in her inbox.")
    grouping = fields.Selection(INVOICE_GROUPING_SELECTION, readonly=True,
                                help="Empty: as each business invoices (its own grouping).")
    date_invoice = fields.Date(string="Invoice date", readonly=True,
                               help="The date of the drafts; empty: left to their validation.")
    state = fields.Selection(
        [("running", "In progress"), ("done", "Done"), ("partial", "Done with problems"), ("failed", "Failed")],
        default="running", required=True, readonly=True, track_visibility="onchange")
    part_ids = fields.One2many("bookings.invoice.batch.part", "batch_id", string="Parts", readonly=True)
    row_count = fields.Integer(string="Bookings", readonly=True)
    customer_count = fields.Integer(string="Customers", readonly=True)
    progress = fields.Float(compute="_compute_outcome", help="The share of the parts done, in percent.")
    invoice_ids = fields.Many2many("account.invoice", compute="_compute_outcome", string="Draft invoices")
    invoice_count = fields.Integer(compute="_compute_outcome", string="Draft invoices")
    skipped_message = fields.Text(compute="_compute_outcome", string="Bookings not invoiced")
    error_message = fields.Text(compute="_compute_outcome", string="Errors")

    @api.depends("row_count")
    def _compute_name(self):
        """In the reader's language."""
        for batch in self:
            batch.name = _("Invoicing of %(count)s bookings") % {"count": batch.row_count}

    @api.depends("part_ids.state", "part_ids.invoice_ids", "part_ids.skipped_message", "part_ids.error_message")
    def _compute_outcome(self):
        for batch in self:
            parts = batch.part_ids
            ended = parts.filtered(lambda p: p.state != "queued")
            invoices = parts.mapped("invoice_ids")
            batch.update({
                "progress": 100.0 * len(ended) / len(parts) if parts else 0.0,
                "invoice_ids": invoices,
                "invoice_count": len(invoices),
                "skipped_message": "\n".join(filter(None, parts.mapped("skipped_message"))) or False,
                "error_message": "\n".join(filter(None, parts.mapped("error_message"))) or False,
            })

    @api.model
    def _is_large(self, rows):
        """Whether invoicing ``rows`` is a batch's work rather than a request's."""
        threshold = self.env["ir.config_parameter"].sudo().get_param("bookings_invoicing.invoice_batch_threshold",
                                                                     BATCH_THRESHOLD)
        return len(rows) > int(threshold)

    @api.model
    def _invoice_in_background(self, rows, grouping, date_invoice=None):
        """A batch invoicing ``rows`` (grouped by ``grouping``, dated ``date_invoice``) in parts, a job each;
        returns the batch. A locked invoice date is refused before the batch is made.

        Batches and their parts are written by the invoicing only (users read them): the batch is made as the system,
        for the user who asked, whom it names and tells how it ended; its parts' jobs invoice as that user."""
        rows._check_invoice_date(date_invoice)
        parts = []
        for group in rows._invoice_groups(grouping):
            if not parts or len(parts[-1]) >= PART_ROWS:
                parts.append(rows.browse())
            parts[-1] |= group
        batch = self.sudo().with_context(mail_create_nosubscribe=True).create({
            "company_id": self.env.user.company_id.id,
            "user_id": self.env.uid,
            "grouping": grouping,
            "date_invoice": date_invoice or False,
            "row_count": len(rows),
            "customer_count": len(set(rows.mapped("partner_id")._bookings_bill_to().values())),
            "part_ids": [(0, 0, {"sequence": index, "row_ids": [(6, 0, part.ids)]})
                         for index, part in enumerate(parts, 1)],
        }).sudo(self.env.uid)
        batch.sudo().message_subscribe_users([self.env.uid])
        for part in batch.part_ids:
            part.with_delay(description=_("%(batch)s, part %(part)s of %(parts)s") % {
                "batch": batch.name, "part": part.sequence, "parts": len(parts)})._invoice_job()
        return batch

    @api.multi
    def _close_later(self):
        """Queue the closing of these batches (``_close_job``) in the transaction of what may have ended them: it
        runs once that is committed, and sees it. Each ending queues its own: a closing queued earlier may begin
        before this transaction commits, and miss it."""
        for batch in self:
            batch.with_delay()._close_job()

    @job(default_channel="root.bookings_invoicing")
    @recoverable_job
    @api.multi
    def _close_job(self):
        """Close the batch once all its parts have ended, and tell its followers how it ended.

        A short transaction of its own, begun after the part that queued it committed: the last part's closing
        sees every part ended. Two closings at once: the second waits on the batch row, fails to serialize, and run
        again finds the batch closed. (Closing in the parts' own transactions would make a part fail to serialize,
        and invoice again, whenever another part ended while it ran.)"""
        self.ensure_one()
        self.env.cr.execute("SELECT state FROM bookings_invoice_batch WHERE id = %s FOR UPDATE", (self.id,))
        running = self.env.cr.fetchone()[0] == "running"
        parts = self.part_ids
        if not running or any(part.state == "queued" for part in parts):
            return _("Nothing to close.")
        if all(part.state == "failed" for part in parts):
            state = "failed"
        elif any(part.state == "failed" or part.skipped_count for part in parts):
            state = "partial"
        else:
            state = "done"
        # the batch's own state and chatter, which users only read; the message is written by the company, not by
        # who started the batch as whom the job runs: Odoo notifies no author of a message, and she is to find it in
        # her inbox
        self.sudo().state = state
        self.sudo().message_post(
            author_id=self.company_id.partner_id.id, partner_ids=[(4, self.user_id.partner_id.id)],
            body=_("%(name)s ended: %(invoices)s draft invoice(s) made, %(skipped)s booking(s) not invoiced, "
                   "%(failed)s part(s) failed.") % {
                "name": self.name, "invoices": self.invoice_count,
                "skipped": sum(parts.mapped("skipped_count")),
                "failed": len(parts.filtered(lambda p: p.state == "failed"))},
            subtype="mail.mt_comment")
        return _("Closed: %(state)s.") % {"state": state}

    @api.multi
    def _open_action(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "views": [(False, "form")], "name": self.name}

    @api.multi
    def action_open_invoices(self):
        return self.invoice_ids._bookings_open_action()


class BookingsInvoiceBatchPart(models.Model):
    _name = "bookings.invoice.batch.part"
    _description = "Bookings Invoicing Batch Part"
    _order = "batch_id, sequence"

    batch_id = fields.Many2one("bookings.invoice.batch", required=True, readonly=True, ondelete="cascade",
                               index=True)
    sequence = fields.Integer(readonly=True)
    row_ids = fields.Many2many("bookings.appointment", string="Bookings", readonly=True)
    state = fields.Selection([("queued", "Queued"), ("done", "Done"), ("failed", "Failed")], default="queued",
                             required=True, readonly=True)
    invoice_ids = fields.Many2many("account.invoice", string="Draft invoices", readonly=True)
    skipped_count = fields.Integer(string="Bookings not invoiced", readonly=True)
    skipped_message = fields.Text(string="Why not invoiced", readonly=True)
    error_message = fields.Text(string="Error", readonly=True)

    @job(default_channel="root.bookings_invoicing")
    @recoverable_job
    @api.multi
    def _invoice_job(self):
        """Invoice this part's rows; safe to run again (a part that has ended does nothing)."""
        self.ensure_one()
        if self.state != "queued":
            return _("Already ended: %(state)s.") % {"state": self.state}
        rows = self.row_ids
        try:
            with self.env.cr.savepoint():
                invoices, skipped = rows._create_invoices(grouping=self.batch_id.grouping,
                                                          date_invoice=self.batch_id.date_invoice)
        except RowsLocked as error:  # another user is invoicing some of them: run again once they are done
            raise RetryableJobError(error.name, seconds=LOCKED_RETRY_SECONDS, ignore_retry=True)
        except psycopg2.OperationalError:
            raise  # a concurrent transaction: queue_job runs the job again
        except Exception as error:  # recorded on the part, so that the batch still ends
            if not isinstance(error, UserError):
                _logger.exception("Part %s of the Bookings invoicing batch %s failed", self.sequence, self.batch_id.id)
            self.sudo().write({"state": "failed", "error_message": _("Part %(part)s: %(error)s") % {
                "part": self.sequence, "error": error.name if isinstance(error, UserError) else error}})
        else:
            self.sudo().write({
                "state": "done",
                "invoice_ids": [(6, 0, invoices.ids)],
                "skipped_count": len(skipped),
                "skipped_message": rows.browse(list(skipped))._describe(skipped) if skipped else False,
            })
        self.batch_id._close_later()
        return _("%(invoices)s draft invoice(s), %(skipped)s booking(s) not invoiced.") % {
            "invoices": len(self.invoice_ids), "skipped": self.skipped_count}

    @api.model
    def _end_parts_of_failed_jobs(self):
        """Record as failed the waiting parts whose job queue_job failed, and queue the closing of their batches."""
        self.env.cr.execute("""
            SELECT p.id, j.exc_info FROM bookings_invoice_batch_part p
            JOIN queue_job j ON j.model_name = %s AND j.method_name = %s
                            AND j.record_ids::jsonb = jsonb_build_array(p.id)
            WHERE p.state = 'queued' AND j.state = 'failed'
        """, (self._name, self._invoice_job.__name__))
        parts = self.browse()
        for part_id, exc_info in self.env.cr.fetchall():
            part = self.browse(part_id)
            reason = (exc_info or "").strip().splitlines()[-1:] or [_("no reason given")]
            part.sudo().write({"state": "failed", "error_message": _("Part %(part)s: its job failed: %(error)s") % {
                "part": part.sequence, "error": reason[0]}})
            parts |= part
        parts.mapped("batch_id")._close_later()
