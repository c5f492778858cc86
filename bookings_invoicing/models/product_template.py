from odoo import api, fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    bookings_duration = fields.Float(
        string="Bookings duration",
        help="How long an appointment for this service lasts, in hours, when the service is pushed to Microsoft "
             "Bookings (one hour when empty). The default filter of the services to push selects the service "
             "products that have one.",
    )
    bookings_service_count = fields.Integer(compute="_compute_bookings_counts")
    bookings_appointment_count = fields.Integer(compute="_compute_bookings_counts")

    def _compute_bookings_counts(self):
        products = self.mapped("product_variant_ids")
        services = self.env["bookings.service"].read_group(
            [("product_id", "in", products.ids)], ["product_id"], ["product_id"])
        appointments = self.env["bookings.appointment"].read_group(
            [("product_id", "in", products.ids)], ["product_id"], ["product_id"])
        service_counts = {g["product_id"][0]: g["product_id_count"] for g in services}
        appointment_counts = {g["product_id"][0]: g["product_id_count"] for g in appointments}
        for template in self:
            variants = template.product_variant_ids.ids
            template.bookings_service_count = sum(service_counts.get(v, 0) for v in variants)
            template.bookings_appointment_count = sum(appointment_counts.get(v, 0) for v in variants)

    @api.multi
    def action_open_bookings_appointments(self):
        products = self.mapped("product_variant_ids")
        return self.env["bookings.appointment"]._action_open([("product_id", "in", products.ids)])
