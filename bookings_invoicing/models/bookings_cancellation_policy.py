from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import rules


class BookingsCancellationPolicy(models.Model):
    """What a late cancellation and a no-show cost: the hours before the start within which a cancellation is late,
    each fee (an amount, or a percentage of the booking's price) and the product that bills them. A business has one,
    a Bookings service may have its own instead."""

    _name = "bookings.cancellation.policy"
    _description = "Bookings Cancellation Policy"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.user.company_id)
    currency_id = fields.Many2one(related="company_id.currency_id", readonly=True)
    late_hours = fields.Integer(
        string="Late within (hours)", required=True, default=24,
        help="A cancellation less than this many hours before the start is late.")
    late_fee_type = fields.Selection(rules.FEE_TYPE_SELECTION, string="Late cancellation fee", required=True,
                                     default="percent")
    late_fee = fields.Float(
        string="Late cancellation amount", required=True, default=50.0,
        help="A percentage of the booking's price, or an amount in the company's currency.")
    no_show_fee_type = fields.Selection(rules.FEE_TYPE_SELECTION, string="No-show fee", required=True,
                                        default="percent")
    no_show_fee = fields.Float(
        string="No-show amount", required=True, default=100.0,
        help="A percentage of the booking's price, or an amount in the company's currency.")
    product_id = fields.Many2one(
        "product.product", string="Fee product", required=True, domain=[("sale_ok", "=", True)],
        help="The fees' invoice lines bill this product: its income account and taxes.")

    @api.constrains("late_hours", "late_fee_type", "late_fee", "no_show_fee_type", "no_show_fee")
    def _check_values(self):
        for policy in self:
            if policy.late_hours < 0 or policy.late_fee < 0 or policy.no_show_fee < 0:
                raise ValidationError(_("The hours and the fees of a cancellation policy cannot be negative."))
            fees = ((policy.late_fee_type, policy.late_fee), (policy.no_show_fee_type, policy.no_show_fee))
            if any(fee_type == "percent" and fee > 100 for fee_type, fee in fees):
                raise ValidationError(_("A fee in percent is a part of the booking's price: at most 100%. A fixed "
                                        "fee may be any amount."))

    def _fee(self, kind):
        """``(fee type, fee)`` of ``kind``: ``"late_cancellation"`` or ``"no_show"``."""
        self.ensure_one()
        if kind == "no_show":
            return self.no_show_fee_type, self.no_show_fee
        return self.late_fee_type, self.late_fee
