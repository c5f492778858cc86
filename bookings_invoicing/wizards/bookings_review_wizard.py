from odoo import _, api, fields, models

from ..models.bookings_appointment_review import CREDITED_STATES, EDITABLE_STATES


class BookingsReviewWizard(models.TransientModel):
    """Settle the selected bookings raised for review: on their invoices, or by keeping the invoices as they are."""

    _name = "bookings.review.wizard"
    _description = "Settle Bookings Raised for Review"

    def _default_appointments(self):
        ids = self.env.context.get("active_ids") if self.env.context.get("active_model") == "bookings.appointment" \
            else []
        return self.env["bookings.appointment"].search([("id", "in", ids or []), ("needs_review", "=", True)])

    appointment_ids = fields.Many2many("bookings.appointment", string="Bookings to review",
                                       default=lambda self: self._default_appointments())
    summary = fields.Text(string="What settling does", compute="_compute_summary")
    credit_count = fields.Integer(string="Bookings to credit", compute="_compute_summary")
    date_invoice = fields.Date(string="Credit note date", default=fields.Date.context_today,
                               help="The date of the credit notes of validated invoices.")
    reason = fields.Text(string="Why", help="Kept in the chatter of each booking and its invoice; needed to keep "
                                            "an invoice as it is.")

    @api.depends("appointment_ids")
    def _compute_summary(self):
        for wizard in self:
            rows = wizard.appointment_ids.filtered(lambda row: row.invoice_status == "invoiced")
            drafts = len(rows.filtered(lambda row: row.invoice_state in EDITABLE_STATES))
            credited = rows.filtered(lambda row: row.invoice_state in CREDITED_STATES)
            freed = len(wizard.appointment_ids - rows)
            wizard.credit_count = len(credited)
            wizard.summary = "\n".join(filter(None, [
                drafts and _("%(count)s on draft invoices: their lines are rewritten to what Bookings now says, or "
                             "removed.") % {"count": drafts},
                credited and _("%(count)s on validated invoices: credited on a draft credit note per invoice "
                               "(%(invoices)s).") % {"count": len(credited),
                                                     "invoices": len(credited.mapped("invoice_id"))},
                freed and _("%(count)s no longer on an invoice: only the review is cleared.") % {"count": freed},
            ]))

    @api.multi
    def action_settle(self):
        self.ensure_one()
        credit_notes = self.appointment_ids._settle(self.reason, self.date_invoice)
        if not credit_notes:
            return {"type": "ir.actions.act_window_close"}
        action = self.env.ref("account.action_invoice_out_refund").read()[0]
        action["domain"] = [("id", "in", credit_notes.ids)]
        if len(credit_notes) == 1:
            action.update(res_id=credit_notes.id, view_mode="form",
                          views=[(self.env.ref("account.invoice_form").id, "form")])
        return action

    @api.multi
    def action_acknowledge(self):
        self.ensure_one()
        self.appointment_ids._acknowledge(self.reason)
        return {"type": "ir.actions.act_window_close"}
