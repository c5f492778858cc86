import hashlib

from odoo import api, fields, models


def notification_hash(token):
    """What is kept of a notification address's secret: its SHA-256, which finds the business a call names."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class BookingsBusinessSecret(models.Model):
    """The secrets of a business: the application's client secret, its certificate's private key, and the hash of its
    notification address's secret. A model of its own with access for administrators only, so that no other user
    reaches them by any path of the ORM (a read, a search, a group-by, an order, an export); the business's code
    reads them as the system, to sign in and to recognize a call of its notification address."""

    _name = "bookings.business.secret"
    _description = "Bookings Business Secrets"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True)
    client_secret = fields.Char()
    certificate_key = fields.Text()  # PEM
    notification_hash = fields.Char(index=True)

    _sql_constraints = [
        ("business_uniq", "unique(business_id)", "A business keeps one set of secrets."),
        ("notification_hash_uniq", "unique(notification_hash)", "Each business has its own notification address."),
    ]

    @api.model
    def _of(self, businesses):
        """``{business id: secrets}`` of ``businesses`` that have some, read as the system."""
        return {secret.business_id.id: secret
                for secret in self.sudo().search([("business_id", "in", businesses.ids)])}

    @api.model
    def _keep(self, business, values):
        """Keep ``values`` (of this model's fields) among the secrets of ``business``, as the system."""
        secret = self._of(business).get(business.id)
        if secret:
            secret.write(values)
        else:
            self.sudo().create(dict(values, business_id=business.id))

    @api.model
    def _business_notified(self, token):
        """The active business whose notification address has the secret ``token``; empty when none has."""
        secret = self.sudo().search([("notification_hash", "=", notification_hash(token))], limit=1) \
            if token else self.sudo()
        return secret.business_id.filtered("active")
