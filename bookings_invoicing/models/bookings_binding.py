from odoo import fields, models


class BookingsBinding(models.AbstractModel):
    """A Bookings record of one business, bound to its Odoo counterpart by its Bookings id: unique per business, so
    a synchronization that runs twice, or crashes and runs again, never duplicates it."""

    _name = "bookings.binding"
    _description = "Bookings Binding"
    _order = "name"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="business_id.company_id", store=True, readonly=True)
    bookings_id = fields.Char(string="Bookings Id", required=True, readonly=True)
    name = fields.Char(readonly=True)
    needs_review = fields.Boolean(readonly=True)
    review_reason = fields.Char(readonly=True)

    _sql_constraints = [
        ("bookings_id_uniq", "unique(business_id, bookings_id)", "A Bookings record is linked once per business."),
    ]
