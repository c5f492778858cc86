from odoo import api, fields, models


class BookingsExcludeWizard(models.TransientModel):
    """Exclude the selected appointments from invoicing, with the reason (e.g. paid at the desk)."""

    _name = "bookings.exclude.wizard"
    _description = "Exclude Bookings Appointments from Invoicing"

    reason = fields.Char(required=True)

    @api.multi
    def action_exclude(self):
        rows = self.env["bookings.appointment"].browse(self.env.context.get("active_ids", []))
        rows.action_exclude(self.reason)
        return {"type": "ir.actions.act_window_close"}
