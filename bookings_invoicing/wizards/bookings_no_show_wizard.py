from odoo import api, fields, models


class BookingsNoShowWizard(models.TransientModel):
    """Mark the selected completed bookings as no-shows, with a note: they bill their policy's no-show fee."""

    _name = "bookings.no.show.wizard"
    _description = "Mark Bookings Appointments as No-shows"

    note = fields.Char()

    @api.multi
    def action_mark_no_show(self):
        rows = self.env["bookings.appointment"].browse(self.env.context.get("active_ids", []))
        rows.action_mark_no_show(self.note)
        return {"type": "ir.actions.act_window_close"}
