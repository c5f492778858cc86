"""Fake models of the tests, loaded by ``odoo_test_helper.FakeModelLoader``: a binding of nothing in particular, and
an integrator's extension of its mapping."""
from odoo import api, fields, models


class BookingsFakeBinding(models.Model):
    _name = "bookings.fake.binding"
    _inherit = "bookings.binding"
    _description = "Bookings Fake Binding"
    _bookings_mirrored_fields = ("business_id", "company_id", "bookings_id", "label")
    _sql_constraints = [("bookings_key_uniq", "unique(business_id, bookings_id)", "Bound once per business.")]

    label = fields.Char()
    note = fields.Char()  # the user's

    @api.model
    def _bookings_to_odoo_values(self, record):
        return {"label": record["label"]}


class BookingsFakeBindingExtended(models.Model):
    """What an integrator writes to synchronize one more value: a field, and the mapping extended."""

    _inherit = "bookings.fake.binding"
    _bookings_mirrored_fields = BookingsFakeBinding._bookings_mirrored_fields + ("size",)

    size = fields.Integer()

    @api.model
    def _bookings_to_odoo_values(self, record):
        values = super(BookingsFakeBindingExtended, self)._bookings_to_odoo_values(record)
        values["size"] = record["size"]
        return values
