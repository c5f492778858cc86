import werkzeug.utils
from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import html_escape

from ..models.bookings_business import NOTIFICATION_PATH, SIGN_IN_PATH


class BookingsNotification(http.Controller):

    @http.route(NOTIFICATION_PATH + "/<string:token>", type="http", auth="public", methods=["GET", "POST"],
                csrf=False)
    def notify(self, token, **kwargs):
        """Queue the synchronization of the business whose secret address this is, and answer at once (202); an
        unknown or renewed address gets 404 and changes nothing."""
        if not request.env["bookings.business"]._notified(token):
            raise NotFound()
        return http.Response('{"queued": true}', status=202, content_type="application/json")


class BookingsSignIn(http.Controller):

    @http.route(SIGN_IN_PATH, type="http", auth="user", methods=["GET"])
    def signed_in(self, **params):
        """Where Microsoft sends the browser back after a sign-in begun on a business: the sign-in ends, and the
        business's form opens again; a refusal is shown with the way back."""
        try:
            business = request.env["bookings.business"]._finish_sign_in(params)
        except UserError as error:
            body = "<h1>%s</h1><p>%s</p><p><a href=\"/web\">%s</a></p>" % (
                html_escape(_("Sign-in with Microsoft failed")), html_escape(error.name), html_escape(_("Back")))
            return request.make_response(body, headers=[("Content-Type", "text/html; charset=utf-8")])
        return werkzeug.utils.redirect("/web#id=%d&model=bookings.business&view_type=form" % business.id)
