from odoo import api, fields, models
from odoo.tools import sql

#: The index through which a synchronization matches its customers to partners by address; dropped on uninstall.
EMAIL_INDEX = "res_partner_bookings_email_idx"


class ResPartner(models.Model):
    _inherit = "res.partner"

    bookings_customer_ids = fields.One2many("bookings.customer", "partner_id", string="Bookings customers",
                                            readonly=True)
    bookings_appointment_count = fields.Integer(compute="_compute_bookings_appointment_count")

    @api.model_cr_context
    def init(self):
        result = super(ResPartner, self).init()
        # A synchronization matches its customers to partners by address (bookings.customer._partner_index): read
        # through an index, a turn of 200 addresses costs the same whatever the number of partners.
        sql.create_index(self.env.cr, EMAIL_INDEX, self._table, ["lower(trim(email))"])
        return result

    def _compute_bookings_appointment_count(self):
        groups = self.env["bookings.appointment"].read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["partner_id"])
        counts = {g["partner_id"][0]: g["partner_id_count"] for g in groups}
        for partner in self:
            partner.bookings_appointment_count = counts.get(partner.id, 0)

    @api.multi
    def _bookings_bill_to(self):
        """``{partner id: id of the party that pays for them}``: the invoice address of their company (Odoo's
        ``address_get`` on the commercial partner), or their own, or themselves."""
        companies = {}
        for company in self.mapped("commercial_partner_id"):
            companies[company.id] = company.address_get(["invoice"])["invoice"]
        return {partner.id: companies[partner.commercial_partner_id.id] for partner in self}

    @api.multi
    def action_open_bookings_appointments(self):
        return self.env["bookings.appointment"]._action_open([("partner_id", "in", self.ids)])
