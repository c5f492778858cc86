from odoo import api, fields, models


class BookingsMessage(models.TransientModel):
    """A plain dialog with a message: what a check that succeeded (*Test connection*) reports. Odoo shows a raised
    error as a server error, and rolls back what the check stored."""

    _name = "bookings.message"
    _description = "Bookings Message"

    message = fields.Text(readonly=True)

    @api.model
    def _open(self, title, message):
        """The action of a dialog titled ``title`` that shows ``message``."""
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.create({"message": message}).id,
            "view_mode": "form",
            "views": [(self.env.ref("bookings_invoicing.bookings_message_view_form").id, "form")],
            "target": "new",
            "name": title,
        }
