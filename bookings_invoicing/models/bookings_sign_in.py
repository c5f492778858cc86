import json
import logging

import psycopg2

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class BookingsSignIn(models.Model):
    """The user signed in with Microsoft for a business whose synchronization acts as a user (delegated access):
    their msal account and token cache (which holds their refresh token), and the sign-in under way. Administrators
    only: the business reads it for everyone who may synchronize.

    A table of its own, so that the token cache renewed during a synchronization is kept at once, in a transaction
    of its own, which no lock of the synchronization's transaction (on the business) can hold up."""

    _name = "bookings.sign.in"
    _description = "Bookings Delegated Sign-in"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True)
    account = fields.Char(help="The msal account (home account id) of the signed-in user.")
    user_name = fields.Char(string="Signed in as")
    signed_in = fields.Datetime(string="Signed in on")
    token_cache = fields.Text()  # the msal token cache: the user's refresh token
    flow = fields.Text()  # the authorization code flow under way (JSON), with the Odoo user who started it
    flow_state = fields.Char(index=True)  # its state, which the browser brings back

    _sql_constraints = [("business_uniq", "unique(business_id)", "A business keeps one signed-in user.")]

    def _flow(self):
        return json.loads(self.flow) if self.flow else None

    @api.multi
    def _keep_token_cache(self, serialized):
        """A refresh renewed the user's tokens: kept at once, in a transaction of its own. When another process
        keeps its own renewal at the same moment, one of the two is kept: either holds a valid refresh token."""
        try:
            with self.pool.cursor() as cr:
                self.with_env(self.env(cr=cr)).write({"token_cache": serialized})
        except psycopg2.Error as error:
            _logger.warning("The renewed sign-in of business %s was not kept: %s", self.business_id.id, error)
