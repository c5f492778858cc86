import datetime
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_repr
from odoo.tools.sql import escape_psql

from odoo.addons import decimal_precision as dp

from ..graph.payloads import DEFAULT_DURATION, service_payload
from ..rules import PRICE_TYPE_SELECTION, price_type_value
from .bookings_binding import BookingsDirectoryBinding


class BookingsService(models.Model):
    """A Bookings service of one business, linked to the service product it is invoiced as."""

    _name = "bookings.service"
    _inherit = "bookings.directory.binding"
    _sql_constraints = [
        ("bookings_key_uniq", "unique(business_id, bookings_id)", "A Bookings service is bound once per business."),
    ]
    _description = "Bookings Service"
    _bookings_mirrored_fields = BookingsDirectoryBinding._bookings_mirrored_fields + (
        "default_price", "price_type", "default_duration")
    _bookings_odoo_model = "product.product"
    _bookings_link_field = "product_id"

    default_price = fields.Float(readonly=True, digits=(16, 4))
    currency_id = fields.Many2one(related="business_id.currency_id", readonly=True)  # of the price, as money
    price_type = fields.Selection(PRICE_TYPE_SELECTION, readonly=True)
    default_duration = fields.Float(string="Default duration (hours)", readonly=True)
    product_id = fields.Many2one("product.product", domain=[("type", "=", "service")], ondelete="restrict",
                                 index=True)
    product_price = fields.Float(
        string="Sales price", compute="_compute_product_price", inverse="_inverse_product_price",
        digits=dp.get_precision("Product Price"),
        help="The sales price of the service's product, in the company's currency: what its bookings bill when "
             "Bookings gives them no price (price varies, call us, not set). A Bookings manager sets it here for the "
             "bookings to come, without the right to edit products.")
    cancellation_policy_id = fields.Many2one(
        "bookings.cancellation.policy", ondelete="restrict",
        help="What a late cancellation and a no-show of this service cost, instead of the business's policy.")

    @api.depends("product_id.list_price")
    def _compute_product_price(self):
        for service in self:
            service.product_price = service.product_id.sudo().list_price

    def _inverse_product_price(self):
        """The product's sales price, written for who may change this service (a Bookings manager): the one field
        of the product the add-on writes for her."""
        self.check_access_rights("write")
        self.check_access_rule("write")
        for service in self.filtered("product_id"):
            service.product_id.sudo().list_price = service.product_price

    @api.constrains("product_id")
    def _check_product_is_service(self):
        for service in self:
            if service.product_id and service.product_id.type != "service":
                raise ValidationError(_("%(product)s is not a service: a Bookings service links to a service "
                                        "product only.") % {"product": service.product_id.display_name})

    @api.model
    def _bookings_to_odoo_values(self, record):
        """``record``: a ``graph.records.Service``."""
        duration = record.default_duration
        return {
            "name": record.display_name,
            "default_price": float(record.default_price),
            "price_type": price_type_value(record.default_price_type),
            "default_duration": duration.total_seconds() / 3600.0 if duration else 0.0,
        }

    @api.model
    def _prepare_bookings_payload(self, business, product):
        """The ``bookingService`` pushed for a service ``product``: its name, sales description and sales price in
        the business's currency, per hour when its unit of measure is one of time (else a fixed price), and its
        Bookings duration (one hour when it has none)."""
        hour = self.env.ref("product.product_uom_hour")
        hourly = product.uom_id.category_id == hour.category_id
        price = product.uom_id._compute_price(product.list_price, hour) if hourly else product.list_price
        company_currency = business.company_id.currency_id
        currency = business._billing_currency()
        if company_currency != currency:
            price = company_currency.with_context(date=fields.Date.context_today(self)).compute(price, currency)
        duration = (datetime.timedelta(minutes=round(product.bookings_duration * 60)) if product.bookings_duration
                    else DEFAULT_DURATION)
        return service_payload(product.name, Decimal(float_repr(currency.round(price), currency.decimal_places)),
                               "hourly" if hourly else "fixedPrice", duration, product.description_sale)

    # --- products -----------------------------------------------------------------------------------------------
    @api.model
    def _match_product(self, business, name):
        """``(product, review reason or False)``: the service product named ``name`` (case-insensitive)."""
        products = self.env["product.product"].search([
            ("type", "=", "service"),
            ("name", "=ilike", escape_psql(name)),
            ("company_id", "in", [business.company_id.id, False]),
        ])
        if len(products) > 1:
            return products.browse(), _("Several service products are named %(name)s: choose one by hand.") % {
                "name": name}
        return products, False

    @api.model
    def _find_or_create_product(self, business, record):
        """``(product id or False, review reason or False)`` of a Bookings service ``record`` not linked yet: the
        service product of its name, created when the business synchronizes services and none matches."""
        product, reason = self._match_product(business, record.display_name)
        if not product and not reason and business.sync_services:
            product = self.env["product.product"].with_context(tracking_disable=True).create(
                self._prepare_product_values(business, record))
        if not product and not reason:
            reason = _("No service product is named %(name)s: link one by hand.") % {"name": record.display_name}
        return product.id, reason

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
