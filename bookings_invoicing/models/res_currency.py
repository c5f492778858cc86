from odoo import api, models


class ResCurrency(models.Model):
    _inherit = "res.currency"

    @api.model
    def _bookings_from_iso(self, iso_code):
        """The currency of a Bookings business's ``defaultCurrencyIso``, activated if it was not; empty when Odoo
        has none of that code."""
        if not iso_code:
            return self.browse()
        currency = self.with_context(active_test=False).search([("name", "=", iso_code)], limit=1)
        if currency and not currency.active:
            currency.sudo().active = True
        return currency
