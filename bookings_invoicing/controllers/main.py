import json
import logging
import re

import werkzeug.utils

from odoo import _, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import html_escape

from ..models.bookings_business import NOTIFICATION_PATH
from ..models.bookings_business_connection import SIGN_IN_PATH

#: The largest body a call of a notification address may carry, in bytes (system parameter
#: ``bookings_invoicing.notification_max_body``): a Power Automate flow sends none, or a few hundred bytes.
NOTIFICATION_MAX_BODY = 65536
_SECRET_IN_PATH = re.compile(r"(%s/)[^\s/?\"]+" % re.escape(NOTIFICATION_PATH))


class _HideNotificationSecrets(logging.Filter):
    """A notification address's secret never reaches a log: the request log of Odoo's HTTP server (werkzeug's, which
    prints each request's path) and any other line that would quote the address read ``.../notify/***``."""

    def filter(self, record):
        if isinstance(record.msg, str) and NOTIFICATION_PATH in record.msg:
            record.msg = _SECRET_IN_PATH.sub(r"\1***", record.msg)
        if record.args and any(isinstance(arg, str) and NOTIFICATION_PATH in arg for arg in record.args):
            record.args = tuple(_SECRET_IN_PATH.sub(r"\1***", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


for _name in ("werkzeug", "odoo.http", "odoo.addons.queue_job"):
    logging.getLogger(_name).addFilter(_HideNotificationSecrets())


class NotificationRequest(http.HttpRequest):
    """A call of a notification address, whatever it sends (GET or POST, JSON, a form, text, nothing): an ``http``
    request whose body Odoo neither reads nor parses. Odoo 11 would take a JSON body for JSON-RPC (and answer a JSON-RPC
    error page with 200), and parse a form of any size, before the handler could check the address."""

    def __init__(self, httprequest):
        http.WebRequest.__init__(self, httprequest)  # HttpRequest's own parses the query and the form
        self.params = {}


_get_request = http.Root.get_request


def _get_notification_request(root, httprequest):
    """Odoo's request of ``httprequest``, or a ``NotificationRequest`` for a notification address (Odoo 11 decides a
    request's type from its content type alone; OCA's REST framework takes the same hook for its paths)."""
    if httprequest.path.startswith(NOTIFICATION_PATH + "/"):
        return NotificationRequest(httprequest)
    return _get_request(root, httprequest)


http.Root.get_request = _get_notification_request


def _answer(status, body, **headers):
    return http.Response(json.dumps(body), status=status, content_type="application/json",
                         headers=list(headers.items()))


class BookingsNotification(http.Controller):

    @http.route(NOTIFICATION_PATH + "/<string:token>", type="http", auth="public", methods=None, csrf=False)
    def notify(self, token):
        """Queue the synchronization of the business whose secret address this is and answer at once (202), whatever
        the call sends; an unknown or renewed address gets 404 and a body over the limit 413, decided before the
        body is read."""
        limit = int(request.env["ir.config_parameter"].sudo().get_param(
            "bookings_invoicing.notification_max_body", NOTIFICATION_MAX_BODY))
        too_large = (request.httprequest.content_length or 0) > limit
        business = request.env["bookings.business"]._notified_business(token)
        if not business:
            response = _answer(404, {"error": "unknown address"})
        elif too_large:
            response = _answer(413, {"error": "the body is larger than %d bytes" % limit})
        else:
            business._notified()
            response = _answer(202, {"queued": True})
        if too_large:  # left unread: the connection closes with the answer
            response.headers["Connection"] = "close"
            return response
        # the body, within the limit, read and dropped piece by piece: the caller then reads the answer whole, not a
        # connection reset for data left unread
        stream = request.httprequest.stream
        while stream.read(8192):
            pass
        return response


class BookingsSignIn(http.Controller):

    @http.route(SIGN_IN_PATH, type="http", auth="user", methods=["GET"])
    def signed_in(self, **params):
        """Where Microsoft sends the browser back after a sign-in begun on a business: the sign-in ends, and the
        business's form opens again as the menu opens it; a refusal is shown with the way back."""
        try:
            business = request.env["bookings.business"]._finish_sign_in(params)
        except UserError as error:
            body = "<h1>%s</h1><p>%s</p><p><a href=\"/web\">%s</a></p>" % (
                html_escape(_("Sign-in with Microsoft failed")), html_escape(error.name), html_escape(_("Back")))
            return request.make_response(body, headers=[("Content-Type", "text/html; charset=utf-8")])
        return werkzeug.utils.redirect(business._form_url())
