from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..graph.records import Customer


class BookingsCustomerWizard(models.TransientModel):
    """Set the customer of the selected bookings at once (walk-ins, bookings of an unknown address): a partner
    chosen, or a new one, named by default as Bookings names them."""

    _name = "bookings.customer.wizard"
    _description = "Set the Customer of Bookings Appointments"

    appointment_ids = fields.Many2many("bookings.appointment", string="Bookings", readonly=True,
                                       default=lambda self: self._default_appointments())
    partner_id = fields.Many2one("res.partner", string="Customer", domain=[("is_company", "=", False)],
                                 help="The partner billed for these bookings; leave empty to create one.")
    name = fields.Char(string="New customer's name", default=lambda self: self._default_name(),
                       help="The partner created when none is chosen; by default, the name Bookings gives.")

    @api.model
    def _default_appointments(self):
        if self.env.context.get("active_model") != "bookings.appointment":
            return self.env["bookings.appointment"]
        return self.env["bookings.appointment"].browse(self.env.context.get("active_ids", []))

    @api.model
    def _default_name(self):
        names = set(self._default_appointments().mapped("customer_name"))
        return names.pop() if len(names) == 1 else False

    @api.multi
    def action_apply(self):
        self.ensure_one()
        rows = self.appointment_ids
        if not rows:
            raise UserError(_("Select the bookings whose customer to set."))
        customers = rows.mapped("bookings_customer_id")
        if len(customers) > 1 or (customers and rows.filtered(lambda row: not row.bookings_customer_id)):
            # the partner given to a Bookings customer's booking becomes that customer's, for all its bookings
            raise UserError(_("These bookings are of several people (Bookings customers, or walk-ins): one partner "
                              "would become the customer of each of them for good. Select the bookings of one "
                              "Bookings customer, or walk-ins only."))
        partner = self.partner_id or self._create_partner(rows)
        rows.write({"partner_id": partner.id})
        return {"type": "ir.actions.act_window_close"}

    def _create_partner(self, rows):
        """The new partner of ``rows``, named as the wizard says, with their Bookings e-mail when they share one, as
        the synchronization creates a Bookings customer's (``bookings.customer._prepare_partner_values``)."""
        name = (self.name or "").strip()
        if not name:
            raise UserError(_("Choose a customer, or give the name of the one to create."))
        business = rows.mapped("business_id")
        if len(business) != 1:
            raise UserError(_("These bookings are of several Bookings businesses: set their customers business by "
                              "business."))
        emails = set(rows.mapped("customer_email"))
        record = Customer(id="", display_name=name, email=emails.pop() if len(emails) == 1 else None, phone=None)
        return self.env["res.partner"].create(
            self.env["bookings.customer"]._prepare_partner_values(business, record))
