from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..graph import PRICE_TYPES

PRICE_TYPE_SELECTION = [
    ("fixedPrice", "Fixed price"),
    ("startingAt", "Starting at"),
    ("hourly", "Hourly"),
    ("free", "Free"),
    ("priceVaries", "Price varies"),
    ("callUs", "Call us"),
    ("notSet", "Not set"),
    ("undefined", "Undefined"),
    ("unknownFutureValue", "Other (new in Bookings)"),
]


def price_type_value(price_type):
    """The selection value of a Bookings price type; a type Bookings adds later is kept as 'other'."""
    return price_type if price_type in PRICE_TYPES else "unknownFutureValue"


class BookingsService(models.Model):
    """A Bookings service of one business, linked to the service product it is invoiced as."""

    _name = "bookings.service"
    _inherit = "bookings.binding"
    _description = "Bookings Service"

    default_price = fields.Float(readonly=True, digits=(16, 4))
    price_type = fields.Selection(PRICE_TYPE_SELECTION, readonly=True)
    default_duration = fields.Float(string="Default duration (hours)", readonly=True)
    product_id = fields.Many2one("product.product", domain=[("type", "=", "service")], ondelete="restrict",
                                 index=True)

    @api.constrains("product_id")
    def _check_product_is_service(self):
        for service in self:
            if service.product_id and service.product_id.type != "service":
                raise ValidationError(_("%(product)s is not a service: a Bookings service links to a service "
                                        "product only.") % {"product": service.product_id.display_name})

    @api.model
    def _match_product(self, business, name):
        """``(product, review reason or False)``: the service product named ``name`` (case-insensitive)."""
        products = self.env["product.product"].search([
            ("type", "=", "service"),
            ("name", "=ilike", name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")),
            ("company_id", "in", [business.company_id.id, False]),
        ])
        if len(products) > 1:
            return products.browse(), _("Several service products are named %(name)s: choose one by hand.") % {
                "name": name}
        return products, False

    @api.model
    def _prepare_product_values(self, business, service):
        """Values of the service product created for a new Bookings service, from the business's template."""
        values = {
            "name": service.display_name,
            "type": "service",
            "sale_ok": True,
            "list_price": float(service.default_price),
            "description_sale": service.description or False,
            "company_id": business.company_id.id,
        }
        template = business.product_template_id.with_context(force_company=business.company_id.id)
        if template:
            values.update({
                "categ_id": template.categ_id.id,
                "uom_id": template.uom_id.id,
                "uom_po_id": template.uom_po_id.id,
                "taxes_id": [(6, 0, template.taxes_id.ids)],
                "property_account_income_id": template.property_account_income_id.id,
            })
        return values
