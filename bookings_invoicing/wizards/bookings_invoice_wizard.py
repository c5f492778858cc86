import datetime

import pytz

from odoo import _, api, fields, models

from ..rules import INVOICE_GROUPING_SELECTION


class BookingsInvoiceWizard(models.TransientModel):
    """Invoice all: every completed, uninvoiced appointment up to a date. Shows what it will invoice first,
    and afterwards what it created and what it left out."""

    _name = "bookings.invoice.wizard"
    _description = "Invoice Bookings Appointments"

    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    business_id = fields.Many2one("bookings.business", help="Only this business; all businesses when empty.")
    date_until = fields.Date(string="Up to", required=True, default=fields.Date.context_today,
                             help="Invoice the appointments that ended on or before this day.")
    grouping = fields.Selection(INVOICE_GROUPING_SELECTION, required=True, default="customer")
    row_count = fields.Integer(string="Appointments to invoice", compute="_compute_preview")
    customer_count = fields.Integer(string="Customers", compute="_compute_preview")
    to_confirm_count = fields.Integer(
        string="Prices to confirm", compute="_compute_preview",
        help="Appointments whose price is not firm in Bookings (a minimum, or no price): check their lines on the "
             "drafts before validating them.")
    invoice_ids = fields.Many2many("account.invoice", readonly=True)
    skipped_message = fields.Text(readonly=True)

    @api.model
    def default_get(self, field_names):
        values = super(BookingsInvoiceWizard, self).default_get(field_names)
        if self.env.context.get("active_model") == "bookings.business" and self.env.context.get("active_id"):
            business = self.env["bookings.business"].browse(self.env.context["active_id"])
            values.update(business_id=business.id, grouping=business.invoice_grouping)
        return values

    def _rows(self):
        # the end of the chosen day where the user is, in UTC as the database keeps times
        zone = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        local_end = datetime.datetime.combine(fields.Date.from_string(self.date_until), datetime.time.max)
        end_of_day = fields.Datetime.to_string(zone.localize(local_end).astimezone(pytz.utc))
        domain = [("invoice_status", "=", "to_invoice"), ("is_completed", "=", True), ("end", "<=", end_of_day)]
        if self.business_id:
            domain.append(("business_id", "=", self.business_id.id))
        return self.env["bookings.appointment"].search(domain)

    @api.depends("business_id", "date_until")
    def _compute_preview(self):
        for wizard in self:
            rows = wizard._rows() if wizard.date_until else self.env["bookings.appointment"]
            wizard.row_count = len(rows)
            wizard.customer_count = len(rows.mapped("partner_id"))
            wizard.to_confirm_count = len(rows.filtered("price_to_confirm"))

    @api.multi
    def action_create_invoices(self):
        self.ensure_one()
        invoices, skipped = self._rows()._create_invoices(grouping=self.grouping)
        rows = self.env["bookings.appointment"].browse(list(skipped))
        return self._result_action(invoices, rows, skipped, wizard=self)

    @api.model
    def _result_action(self, invoices, skipped_rows, reasons, wizard=None):
        """Open the invoices; when rows were left out, first show which and why."""
        if not skipped_rows:
            return self._invoices_action(invoices)
        wizard = wizard or self.create({"date_until": fields.Date.context_today(self)})
        wizard.write({
            "state": "done",
            "invoice_ids": [(6, 0, invoices.ids)],
            "skipped_message": _("%(count)s booking(s) were not invoiced:\n%(rows)s") % {
                "count": len(skipped_rows), "rows": skipped_rows._describe(reasons)},
        })
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": wizard.id, "view_mode": "form",
                "target": "new", "name": _("Draft invoices created")}

    @api.multi
    def action_open_invoices(self):
        return self._invoices_action(self.invoice_ids)

    @api.model
    def _invoices_action(self, invoices):
        action = self.env.ref("account.action_invoice_tree1").read()[0]
        if len(invoices) == 1:
            action.update({"views": [(self.env.ref("account.invoice_form").id, "form")], "res_id": invoices.id})
        else:
            action.update({"domain": [("id", "in", invoices.ids)], "res_id": False})
        return action
