from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..models.bookings_business import NOTIFICATION_PATH


class BookingsNotification(http.Controller):

    @http.route(NOTIFICATION_PATH + "/<string:token>", type="http", auth="public", methods=["GET", "POST"],
                csrf=False)
    def notify(self, token, **kwargs):
        """Queue the synchronization of the business whose secret address this is, and answer at once (202); an
        unknown or renewed address gets 404 and changes nothing."""
        if not request.env["bookings.business"]._notified(token):
            raise NotFound()
        return http.Response('{"queued": true}', status=202, content_type="application/json")
