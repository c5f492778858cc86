from odoo import api, fields, models


class AccountInvoiceLine(models.Model):
    _inherit = "account.invoice.line"

    bookings_appointment_ids = fields.One2many("bookings.appointment", "invoice_line_id", readonly=True)

    @api.multi
    def unlink(self):
        self.mapped("bookings_appointment_ids")._free_from_invoice()
        return super(AccountInvoiceLine, self).unlink()


class AccountInvoice(models.Model):
    _inherit = "account.invoice"

    bookings_appointment_ids = fields.One2many("bookings.appointment", "invoice_id", readonly=True,
                                               string="Bookings appointments")
    bookings_appointment_count = fields.Integer(compute="_compute_bookings_appointment_count")
    bookings_to_confirm_count = fields.Integer(
        string="Bookings prices to confirm", compute="_compute_bookings_appointment_count",
        help="Lines that bill a Bookings appointment whose price is not firm (a minimum, or no price).")

    @api.multi
    def unlink(self):
        # the database deletes the lines with their invoice, without the lines' unlink
        self.mapped("bookings_appointment_ids")._free_from_invoice()
        return super(AccountInvoice, self).unlink()

    @api.depends("bookings_appointment_ids.price_to_confirm")
    def _compute_bookings_appointment_count(self):
        for invoice in self:
            invoice.bookings_appointment_count = len(invoice.bookings_appointment_ids)
            invoice.bookings_to_confirm_count = len(invoice.bookings_appointment_ids.filtered("price_to_confirm"))

    @api.multi
    def action_open_bookings_appointments(self):
        return self.env["bookings.appointment"]._action_open([("invoice_id", "in", self.ids)])

    @api.multi
    def action_open_bookings_to_confirm(self):
        return self.env["bookings.appointment"]._action_open(
            [("invoice_id", "in", self.ids), ("price_to_confirm", "=", True)])
