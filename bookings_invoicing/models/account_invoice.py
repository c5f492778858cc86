from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AccountInvoiceLine(models.Model):
    _inherit = "account.invoice.line"

    bookings_appointment_ids = fields.One2many("bookings.appointment", "invoice_line_id", readonly=True)

    @api.multi
    def write(self, values):
        result = super(AccountInvoiceLine, self).write(values)
        by_hand = not self.env["bookings.appointment"]._bookings_mirroring()  # not a settlement's rewrite
        if by_hand and ("price_unit" in values or "quantity" in values):
            # the accountant set the price of a line whose Bookings price was to be confirmed
            # whoever may edit the invoice confirms its prices, Bookings user or not
            self.sudo().mapped("bookings_appointment_ids").filtered("price_to_confirm")._confirm_price()
        return result

    @api.multi
    def unlink(self):
        self._check_no_bookings_credit()
        self.mapped("bookings_appointment_ids")._free_from_invoice()
        return super(AccountInvoiceLine, self).unlink()

    def _check_no_bookings_credit(self):
        """A credit note line that settles a Bookings review is kept: without it, the validated invoice would bill
        a booking cancelled or changed in Bookings, and nothing would say so."""
        credited = self.env["bookings.appointment"].sudo().search([("credit_line_id", "in", self.ids)])
        if credited:
            raise UserError(_("These credit note lines settle bookings that Bookings cancelled or changed after they "
                              "were invoiced (%(bookings)s): deleting them would leave their invoice billing them. "
                              "Change their amounts, or validate the credit note.")
                            % {"bookings": ", ".join(credited.mapped("display_label"))})


class AccountInvoice(models.Model):
    _inherit = "account.invoice"

    bookings_appointment_ids = fields.One2many("bookings.appointment", "invoice_id", readonly=True,
                                               string="Bookings appointments")
    bookings_appointment_count = fields.Integer(compute="_compute_bookings_appointment_count")
    bookings_to_confirm_count = fields.Integer(
        string="Bookings prices to confirm", compute="_compute_bookings_appointment_count",
        help="Lines that bill a Bookings appointment whose price is not firm (a minimum, or no price).")
    bookings_to_confirm_message = fields.Char(string="Bookings prices to confirm (message)",
                                              compute="_compute_bookings_appointment_count")
    bookings_cancelled_count = fields.Integer(
        string="Bookings cancelled", compute="_compute_bookings_appointment_count",
        help="Lines that bill a Bookings appointment cancelled in Bookings after it was invoiced.")
    bookings_cancelled_message = fields.Char(string="Bookings cancelled (message)",
                                             compute="_compute_bookings_appointment_count")
    bookings_review_count = fields.Integer(
        string="Bookings to review", compute="_compute_bookings_appointment_count",
        help="Bookings of this invoice that Bookings changed or cancelled after they were invoiced, not settled yet.")
    bookings_review_message = fields.Char(string="Bookings to review (message)",
                                          compute="_compute_bookings_appointment_count")

    def _bookings_date(self):
        """The day the invoice bills: its invoice date, or the day a draft without one was made."""
        self.ensure_one()
        return fields.Date.from_string(self.date_invoice or self.create_date[:10])

    @api.multi
    def unlink(self):
        # the database deletes the lines with their invoice, without the lines' unlink
        self.mapped("invoice_line_ids")._check_no_bookings_credit()
        self.mapped("bookings_appointment_ids")._free_from_invoice()
        return super(AccountInvoice, self).unlink()

    @api.depends("bookings_appointment_ids.price_to_confirm", "bookings_appointment_ids.state",
                 "bookings_appointment_ids.needs_review")
    def _compute_bookings_appointment_count(self):
        for invoice in self:
            rows = invoice.sudo().bookings_appointment_ids  # an accountant without the Bookings group reads them too
            to_confirm = len(rows.filtered("price_to_confirm"))
            review = len(rows.filtered("needs_review"))
            cancelled = len(rows.filtered(lambda row: row.state == "cancelled" and row.needs_review))
            invoice.bookings_appointment_count = len(rows)
            invoice.bookings_to_confirm_count = to_confirm
            invoice.bookings_cancelled_count = cancelled
            invoice.bookings_review_count = review
            invoice.bookings_review_message = review and (
                _("1 booking of this invoice was changed or cancelled in Bookings after it was invoiced: settle "
                  "it.") if review == 1 else
                _("%(count)s bookings of this invoice were changed or cancelled in Bookings after they were "
                  "invoiced: settle them.") % {"count": review})
            invoice.bookings_to_confirm_message = to_confirm and (
                _("1 line of this draft bills a booking whose price is to be confirmed (a minimum, or no firm "
                  "price in Bookings): check it, then confirm the prices.") if to_confirm == 1 else
                _("%(count)s lines of this draft bill bookings whose price is to be confirmed (a minimum, or no "
                  "firm price in Bookings): check them, then confirm the prices.") % {"count": to_confirm})
            invoice.bookings_cancelled_message = cancelled and (
                _("1 booking on this invoice was cancelled in Bookings after it was invoiced: settle it before "
                  "validating.") if cancelled == 1 else
                _("%(count)s bookings on this invoice were cancelled in Bookings after they were invoiced: settle "
                  "them before validating.") % {"count": cancelled})

    @api.multi
    def action_confirm_bookings_prices(self):
        """The accountant checked the lines of these drafts whose Bookings price was to be confirmed: they are no
        longer flagged (``bookings.appointment.action_confirm_prices``)."""
        if not self.env.user.has_group("bookings_invoicing.group_bookings_invoicing_user"):
            raise UserError(_("Only Bookings users confirm the prices of Bookings appointments."))
        return self.filtered(lambda invoice: invoice.type == "out_invoice").mapped(
            "bookings_appointment_ids").action_confirm_prices()

    @api.multi
    def invoice_validate(self):
        """A validated invoice bills the prices it holds: none of its bookings' prices is still to confirm."""
        result = super(AccountInvoice, self).invoice_validate()
        self.sudo().mapped("bookings_appointment_ids").filtered("price_to_confirm")._confirm_price()
        return result

    @api.multi
    def _bookings_open_action(self):
        """These invoices on screen, as customer invoices open: one in its form, several in the list."""
        action = self.env.ref("account.action_invoice_tree1").read()[0]
        if len(self) == 1:
            action.update({"views": [(self.env.ref("account.invoice_form").id, "form")], "res_id": self.id})
        else:
            action.update({"domain": [("id", "in", self.ids)], "res_id": False})
        return action

    @api.multi
    def action_open_bookings_review(self):
        return self.env["bookings.appointment"]._action_open_review([("invoice_id", "in", self.ids)])

    @api.multi
    def action_open_bookings_appointments(self):
        return self.env["bookings.appointment"]._action_open([("invoice_id", "in", self.ids)])

    @api.multi
    def action_open_bookings_to_confirm(self):
        return self.env["bookings.appointment"]._action_open(
            [("invoice_id", "in", self.ids)] + self.env["bookings.appointment"]._to_confirm_domain())
