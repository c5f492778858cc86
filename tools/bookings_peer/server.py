"""An HTTPS server on 127.0.0.1 that speaks the parts of Microsoft Entra ID and Microsoft Graph Bookings the add-on
uses: OpenID discovery and the client-credentials token endpoint of a tenant, and the Bookings collections with
``@odata.nextLink`` paging, and the writes of customers and services with the service's validation. Faults are
injected on demand; ``/_peer/...`` is a small control interface.
"""
import base64
import datetime
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jwt
import trustme
from cryptography.hazmat.primitives import hashes
from dateutil.parser import isoparse

from .data import PRICE_TYPES, Store, graph_offset

GRAPH_PREFIX = "/v1.0/solutions/bookingBusinesses"
#: Graph beta, where a ``bookingAppointment`` has invoice properties (the beta bookingAppointment resource page:
#: invoiceAmount, invoiceDate, invoiceId, invoiceStatus, invoiceUrl); v1.0 has none.
BETA_PREFIX = "/beta/solutions/bookingBusinesses"
INVOICE_PROPERTIES = {"invoiceAmount", "invoiceDate", "invoiceId", "invoiceStatus", "invoiceUrl"}
#: Graph beta's bookingInvoiceStatus enumeration.
INVOICE_STATUSES = ("draft", "reviewing", "open", "canceled", "paid", "corrective", "unknownFutureValue")

#: The application permissions that let a token read a business, and write each collection the peer writes.
READ_PERMISSIONS = {"Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All",
                    "Bookings.Manage.All"}
WRITE_PERMISSIONS = {
    "customers": {"BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"},
    "services": {"Bookings.ReadWrite.All", "Bookings.Manage.All"},
    "appointments": {"BookingsAppointment.ReadWrite.All", "Bookings.Manage.All"},
}
#: The writable properties of each entity, its OData type and what a create requires.
ENTITIES = {
    "customers": ("microsoft.graph.bookingCustomer", {"displayName", "emailAddress", "addresses", "phones"},
                  ("displayName", "emailAddress")),
    "services": ("microsoft.graph.bookingService", {
        "displayName", "description", "defaultPrice", "defaultPriceType", "defaultDuration", "defaultLocation",
        "defaultReminders", "isHiddenFromCustomers", "notes", "preBuffer", "postBuffer", "staffMemberIds",
        "maximumAttendeesCount", "isLocationOnline", "smsNotificationsEnabled", "languageTag",
        "additionalInformation", "customQuestions", "schedulingPolicy"}, ("displayName",)),
}
ADDRESS_PROPERTIES = {"street", "city", "state", "postalCode", "countryOrRegion"}
DURATION_RE = re.compile(r"^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


@dataclass
class Fault:
    """A misbehaviour served to the requests whose path contains ``path`` (and, if set, on page ``page``)."""

    path: str
    page: Optional[int] = None  # 1-based page of a collection; None: any request
    method: Optional[str] = None  # only requests of this method (GET, POST, PATCH, DELETE); None: any
    status: Optional[int] = None  # answer this HTTP status (with a Graph- or Entra-shaped error body)
    retry_after: Optional[float] = None  # with status 429/503: the Retry-After header, in seconds
    body: Optional[str] = None  # answer 200 with this raw body (malformed JSON, a wrong shape...)
    delay: float = 0.0  # wait this long before answering
    hold: bool = False  # wait for ``BookingsPeer.release()`` before answering
    reset: bool = False  # close the connection without answering
    repeat_next_link: bool = False  # answer the page with a next link pointing at the same page
    # Hostile answers, as a host that is not Microsoft's (or a broken proxy in front of it) could give:
    redirect: Optional[str] = None  # answer 302 with this Location
    huge: Optional[int] = None  # answer 200 with a JSON body of this many bytes (or more), sent piece by piece
    trickle: Optional[float] = None  # send the answer a byte at a time, this many seconds apart
    times: Optional[int] = 1  # how many requests it hits; None: every one
    hits: int = 0

    def matches(self, method, path, page):
        return (self.path in path and (self.page is None or self.page == page)
                and (self.method is None or self.method == method)
                and (self.times is None or self.hits < self.times))


class PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, peer, address):
        self.peer = peer
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        """A client that hangs up (a closed keep-alive connection, a TLS EOF) is normal; anything else is shown."""
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return None
        return super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BookingsPeer/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read ``peer.requests`` instead
        pass

    # --- plumbing ---------------------------------------------------------------------------------------------
    @property
    def peer(self):
        return self.server.peer

    trickle = None  # seconds between two bytes of the answer (a fault)

    def _send(self, status, payload=None, headers=None, raw=None):
        body = raw.encode("utf-8") if raw is not None else (
            b"" if payload is None else json.dumps(payload).encode("utf-8"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not self.trickle:
            self.wfile.write(body)
            return
        for index in range(len(body)):  # until the client hangs up
            self.wfile.write(body[index:index + 1])
            self.wfile.flush()
            time.sleep(self.trickle)

    def _send_huge(self, size):
        """A collection page of at least ``size`` bytes, written piece by piece (the peer holds none of it)."""
        item = json.dumps({"id": "x" * 1000}).encode("utf-8")
        count = size // (len(item) + 1) + 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(b'{"value": [') + count * (len(item) + 1) + len(b"]}") - 1))
        self.end_headers()
        self.wfile.write(b'{"value": [')
        for index in range(count):
            self.wfile.write((b"," if index else b"") + item)
        self.wfile.write(b"]}")

    def _send_html(self, status, page):
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _graph_error(self, status, code, message, headers=None):
        """An error as Graph gives it (its reference page on errors): code, message, and the request's ids."""
        request_id = str(uuid.uuid4())
        self._send(status, {"error": {"code": code, "message": message, "innerError": {
            "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
            "client-request-id": self.headers.get("client-request-id") or request_id}}}, headers)

    def _entra_error(self, status, code, message):
        codes = re.match(r"AADSTS(\d+):", message)
        self._send(status, {"error": code, "error_description": message,
                            "error_codes": [int(codes.group(1))] if codes else []})

    def _body(self):
        return self._request_body

    def _dispatch(self, method):
        # Read the body first, whatever the answer: left unread, it would be taken for the next request.
        length = int(self.headers.get("Content-Length") or 0)
        self._request_body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = unquote(url.path)
        # split before decoding: an id holds "/" (sent as %2F) as often as "+" and "="
        self.segments = [unquote(segment) for segment in url.path.split("/") if segment]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.peer.record(method, self.path)
        page = int(query.get("$skiptoken", 0)) // self.peer.page_size + 1 if "$skiptoken" in query else 1
        slot = self.peer.take_slot(self.headers.get("Authorization", ""), self.segments) \
            if path.startswith((GRAPH_PREFIX, BETA_PREFIX)) else None
        if slot is False:
            return self._graph_error(429, "TooManyRequests", "Too many concurrent requests for this mailbox.",
                                     {"Retry-After": "1"})
        try:
            self._answer(method, path, query, page)
        finally:
            self.peer.release_slot(slot)

    def _answer(self, method, path, query, page):
        self.trickle = None  # a fault of an earlier request on this connection
        fault = self.peer.take_fault(method, path, page) if not path.startswith("/_peer/") else None
        if fault:
            if fault.hold:
                self.peer.released.wait()
            if fault.delay:
                time.sleep(fault.delay)
            if fault.reset:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.status:
                headers = {"Retry-After": "%g" % fault.retry_after} if fault.retry_after is not None else {}
                if "/oauth2/" in path or "openid" in path:
                    return self._entra_error(fault.status, "temporarily_unavailable",
                                             "AADSTS5000000: The service is temporarily unavailable.")
                code = {429: "TooManyRequests", 403: "ErrorAccessDenied"}.get(fault.status, "UnknownError")
                return self._graph_error(fault.status, code, "An error has occurred (injected fault).", headers)
            if fault.body is not None:
                return self._send(200, raw=fault.body)
            if fault.redirect:
                return self._send(302, {}, {"Location": fault.redirect})
            if fault.huge:
                return self._send_huge(fault.huge)
            if fault.trickle:
                self.trickle = fault.trickle
        try:
            if path.startswith("/_peer/"):
                return self._control(method, path, query)
            if path.startswith((GRAPH_PREFIX, BETA_PREFIX)):
                return self._graph(method, path, query, repeat=bool(fault and fault.repeat_next_link),
                                   beta=path.startswith(BETA_PREFIX))
            return self._entra(method, path)
        except (ValueError, KeyError) as error:
            return self._graph_error(400, "BadRequest", "Invalid request: %s" % error)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- Microsoft Entra ID ---------------------------------------------------------------------------------
    def _entra(self, method, path):
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._send(404, {"error": "not_found"})
        tenant, rest = parts[0], "/".join(parts[1:])
        clients = self.peer.store.tenants.get(tenant)
        if clients is None:
            return self._entra_error(400, "invalid_tenant",
                                     "AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct "
                                     "tenant ID and are signing into the correct cloud." % tenant)
        base = "%s/%s" % (self.peer.url, tenant)
        if method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            return self._send(200, {
                "issuer": "%s/v2.0" % base,
                "authorization_endpoint": "%s/oauth2/v2.0/authorize" % base,
                "token_endpoint": "%s/oauth2/v2.0/token" % base,
                "device_authorization_endpoint": "%s/oauth2/v2.0/devicecode" % base,
                "jwks_uri": "%s/discovery/v2.0/keys" % base,
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            })
        if rest == "oauth2/v2.0/authorize":
            return self._authorize(method, tenant, clients)
        if method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(tenant, base, clients)
        return self._send(404, {"error": "not_found"})

    def _token(self, tenant, base, clients):
        """The token endpoint of ``tenant``, whose applications are ``clients``."""
        form = {k: v[0] for k, v in parse_qs(self._body().decode("utf-8")).items()}
        client = clients.get(form.get("client_id", ""))
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "authorization_code", "refresh_token"):
            return self._entra_error(400, "unsupported_grant_type",
                                     "AADSTS70003: The app requested an unsupported grant type.")
        if client is None:
            return self._entra_error(400, "unauthorized_client",
                                     "AADSTS700016: Application with identifier '%s' was not found in the "
                                     "directory '%s'." % (form.get("client_id", ""), tenant))
        refused = _client_refused(form, client, "%s/oauth2/v2.0/token" % base)
        if refused:
            return self._entra_error(401, "invalid_client", refused)
        self.peer.sign_ins.append((form["client_id"], "client_assertion" if "client_assertion" in form
                                   else "client_secret"))
        if grant != "client_credentials":
            return self._user_token(tenant, base, form)
        token = self.peer.issue_token(tenant, form["client_id"])
        return self._send(200, {"token_type": "Bearer",  # nosec B105  # a token type
                                "expires_in": self.peer.token_lifetime,
                                "ext_expires_in": self.peer.token_lifetime, "access_token": token})

    def _authorize(self, method, tenant, clients):
        """The sign-in page of the authorization code flow: a user of the tenant is chosen (GET), then the browser
        is sent back to the application's redirect URI with a code (POST). PKCE (S256) is required."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if method == "POST":
            query.update({k: v[0] for k, v in parse_qs(self._body().decode("utf-8")).items()})
        if query.get("client_id") not in clients or query.get("response_type") != "code" \
                or not query.get("redirect_uri"):
            return self._entra_error(400, "invalid_request", "AADSTS900144: The request body must contain the "
                                     "following parameter: 'client_id', 'response_type' or 'redirect_uri'.")
        if not query.get("code_challenge") or query.get("code_challenge_method") != "S256":
            return self._entra_error(400, "invalid_request",
                                     "AADSTS9002325: Proof Key for Code Exchange is required.")
        users = sorted((user for (user_tenant, _name), user in self.peer.store.users.items() if user_tenant == tenant),
                       key=lambda user: user["username"])
        if method == "GET":
            hidden = "".join('<input type="hidden" name="%s" value="%s"/>' % (html.escape(k), html.escape(v))
                             for k, v in query.items())
            buttons = "".join('<p><button type="submit" name="login" value="%s">Sign in as %s (%s)</button></p>'
                              % (html.escape(user["username"]), html.escape(user["name"]),
                                 html.escape(user["username"])) for user in users)
            return self._send_html(200, "<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
                                        "<body><h1>Pick an account</h1><form method=\"post\">%s%s</form></body>"
                                        "</html>" % (hidden, buttons))
        user = self.peer.store.users.get((tenant, query.get("login", "").lower()))
        if user is None:
            return self._send_html(400, "<p>AADSTS50034: The user account does not exist in the directory.</p>")
        code = self.peer.issue_code(tenant, query, user)
        target = "%s%s%s" % (query["redirect_uri"], "&" if "?" in query["redirect_uri"] else "?",
                             urlencode({"code": code, "state": query.get("state", ""),
                                        "session_state": str(uuid.uuid4())}))
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _user_token(self, tenant, base, form):
        """The tokens of a signed-in user (delegated), for an authorization code with its PKCE verifier or a refresh
        token, as Microsoft Entra ID answers them."""
        if form["grant_type"] == "authorization_code":
            grant, refused = self.peer.redeem_code(form)
        else:
            grant, refused = self.peer.redeem_refresh_token(form)
        if refused:
            return self._entra_error(400, "invalid_grant", refused)
        user = self.peer.store.users[(tenant, grant["username"].lower())]
        now = int(time.time())
        id_token = ".".join(_base64url(part) for part in (
            json.dumps({"typ": "JWT", "alg": "RS256", "kid": "bookings-peer"}).encode(),
            json.dumps(dict({"aud": form["client_id"], "iss": "%s/v2.0" % base, "iat": now, "nbf": now,
                             "exp": now + 3600, "sub": user["oid"], "oid": user["oid"], "tid": tenant,
                             "name": user["name"], "preferred_username": user["username"], "ver": "2.0"},
                            **({"nonce": grant["nonce"]} if grant.get("nonce") else {}))).encode(),
            secrets.token_bytes(64)))
        access_token = self.peer.issue_token(tenant, form["client_id"], user=user, scopes=grant["scopes"])
        return self._send(200, {
            "token_type": "Bearer",  # nosec B105  # a token type
            "scope": " ".join(grant["requested"]), "expires_in": self.peer.token_lifetime,
            "ext_expires_in": self.peer.token_lifetime, "access_token": access_token,
            "refresh_token": self.peer.issue_refresh_token(tenant, form["client_id"], grant),
            "id_token": id_token,
            "client_info": _base64url(json.dumps({"uid": user["oid"], "utid": tenant}).encode())})

    # --- Microsoft Graph Bookings -----------------------------------------------------------------------------
    def _graph(self, method, path, query, repeat=False, beta=False):
        grant = self.peer.check_token(self.headers.get("Authorization", ""))
        if grant is None:
            return self._graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        tenant, client_id, permissions = grant
        client = self.peer.store.tenants[tenant][client_id]
        parts = self.segments[len(GRAPH_PREFIX.strip("/").split("/")):]
        store = self.peer.store
        if not parts:
            if not permissions:
                return self._graph_error(403, "ErrorAccessDenied", "Access is denied to the requested resource.")
            items = [{"id": b["business"]["id"], "displayName": b["business"]["displayName"]}
                     for b in list(store.businesses.values()) if b["tenant"] == tenant]
            return self._page(items, query, repeat, "solutions/bookingBusinesses")
        entry = store.business(parts[0])
        if entry is None or entry["tenant"] != tenant:  # as reported for a business the application cannot reach
            return self._graph_error(404, "ErrorFolderNotFound",
                                     "The specified folder could not be found in the store.")
        if client.get("token_refused_without") and client["token_refused_without"] not in permissions:
            # a June 2025 Q&A: an application with Bookings.ReadWrite.All only got 401 on appointments, services and
            # staff, a token Entra had just issued, until BookingsAppointment.ReadWrite.All was granted
            return self._graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if not READ_PERMISSIONS & permissions:
            return self._graph_error(403, "ErrorAccessDenied",
                                     "Access is denied. Check credentials and try again.")
        if method != "GET":
            if beta:
                return self._write_invoice(method, parts, permissions, client)
            return self._write(method, parts, permissions)
        return self._read(entry, parts, query, repeat, beta, client)

    def _read(self, entry, parts, query, repeat, beta, client):
        """A GET of the business ``entry`` (``parts``: its id, then a collection and an item id), by an application
        whose ``client`` settings the store holds."""
        store = self.peer.store
        if len(parts) == 1:
            return self._send(200, dict(entry["business"], **{
                "@odata.context": "%s/v1.0/$metadata#solutions/bookingBusinesses/$entity" % self.peer.url}))
        collection = parts[1]
        if collection == "calendarView":
            if not client.get("calendar_view", True):
                return self._graph_error(403, "ErrorAccessDenied",
                                         "The api you are trying to access does not support the token type: App.")
            if "start" not in query or "end" not in query:
                return self._graph_error(400, "ErrorInvalidParameter",
                                         "calendarView requires the start and end parameters.")
            items = store.calendar_view(parts[0], isoparse(query["start"]), isoparse(query["end"]))
            return self._page(items, query, repeat, "Collection(microsoft.graph.bookingAppointment)", beta)
        if collection not in Store.COLLECTIONS:
            return self._graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % collection)
        items = store.items(parts[0], collection)
        if len(parts) == 3:
            found = [i for i in items if i.get("id") == parts[2]]
            if not found:
                return self._graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
            return self._send(200, _shaped(found[0], beta))
        return self._page(items, query, repeat, "solutions/bookingBusinesses('%s')/%s" % (parts[0], collection), beta)

    def _write(self, method, parts, permissions):
        """POST a customer or a service (201 with the entity and its new id), PATCH one (204), DELETE one (204), with
        the service's validation: 403 without a write permission, 400 for a missing or unknown property, 404 for an
        unknown id."""
        collection = parts[1] if len(parts) > 1 else None
        if collection not in ENTITIES or len(parts) != (2 if method == "POST" else 3):
            return self._graph_error(405, "MethodNotAllowed", "The requested method is not supported on this resource.")
        if not WRITE_PERMISSIONS[collection] & permissions:
            return self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        store, business_id = self.peer.store, parts[0]
        if method != "POST" and not any(i.get("id") == parts[2] for i in store.items(business_id, collection)):
            return self._graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if method == "DELETE":
            store.remove(business_id, collection, parts[2])
            return self._send(204)
        entity, writable, required = ENTITIES[collection]
        values = self._payload(entity)
        if values is None:
            return None
        unknown = sorted(set(values) - writable)
        if unknown:
            return self._graph_error(400, "BadRequest", "The property '%s' does not exist on type '%s'. Make sure to "
                                     "only use property names that are defined by the type." % (unknown[0], entity))
        problem = self._invalid(collection, values, required if method == "POST" else ())
        if problem:
            return self._graph_error(400, "ErrorInvalidRequest", problem)
        stamp = graph_offset(datetime.datetime.utcnow())
        if method == "PATCH":
            store.update(business_id, collection, parts[2], lastUpdatedDateTime=stamp, **values)
            return self._send(204)
        item = {"id": secrets.token_hex(16) if collection == "services" else _customer_id(), "createdDateTime": stamp,
                "lastUpdatedDateTime": stamp}
        if collection == "customers":
            item.update(addresses=[], phones=[])
        item.update(values)
        store.put(business_id, collection, item)
        context = "%s/v1.0/$metadata#solutions/bookingBusinesses('%s')/%s/$entity" % (self.peer.url, business_id,
                                                                                      collection)
        return self._send(201, dict(item, **{"@odata.context": context}))

    def _payload(self, entity):
        """The request's JSON object of the type ``entity`` (its ``@odata.type`` taken out), or None once a 400 has
        answered why it is not one."""
        try:
            values = json.loads(self._body() or b"null")
        except ValueError:
            return self._graph_error(400, "BadRequest", "Unable to read JSON request payload.")
        if not isinstance(values, dict):
            return self._graph_error(400, "BadRequest", "The request payload is not a JSON object.")
        odata_type = values.pop("@odata.type", "#" + entity)
        if odata_type != "#" + entity:
            return self._graph_error(400, "BadRequest", "A type named '%s' could not be resolved by the model."
                                     % odata_type.lstrip("#"))
        return values

    def _write_invoice(self, method, parts, permissions, client):
        """PATCH an appointment's invoice properties in beta (204), with the service's validation: 403 without
        ``BookingsAppointment.ReadWrite.All``, 404 for an unknown appointment, 400 for another property, a status
        out of the enumeration, or, where ``beta_invoice`` is off, for the invoice properties themselves."""
        if method != "PATCH" or len(parts) != 3 or parts[1] != "appointments":
            return self._graph_error(405, "MethodNotAllowed", "The requested method is not supported on this resource.")
        if not WRITE_PERMISSIONS["appointments"] & permissions:
            return self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        store, business_id = self.peer.store, parts[0]
        if not any(i.get("id") == parts[2] for i in store.items(business_id, "appointments")):
            return self._graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        values = self._payload("microsoft.graph.bookingAppointment")
        if values is None:
            return None
        writable = INVOICE_PROPERTIES if client.get("beta_invoice", True) else set()
        unknown = sorted(set(values) - writable)
        if unknown:
            return self._graph_error(400, "BadRequest", "The property '%s' does not exist on type "
                                     "'microsoft.graph.bookingAppointment'. Make sure to only use property names "
                                     "that are defined by the type." % unknown[0])
        if "invoiceStatus" in values and values["invoiceStatus"] not in INVOICE_STATUSES:
            return self._graph_error(400, "BadRequest", "The value '%s' is not valid for the enum type "
                                     "'microsoft.graph.bookingInvoiceStatus'." % (values["invoiceStatus"],))
        stamp = graph_offset(datetime.datetime.utcnow())
        store.update(business_id, "appointments", parts[2], lastUpdatedDateTime=stamp, **values)
        return self._send(204)

    @staticmethod
    def _invalid(collection, values, required):
        """What Bookings would refuse in ``values`` (a message), or None."""
        for name in required:
            if not values.get(name):
                return "The %s is required." % name
        for name in ("displayName", "emailAddress"):
            if name in values and not (isinstance(values[name], str) and values[name].strip()):
                return "The %s cannot be empty." % name
        if collection == "customers":
            for name in ("addresses", "phones"):
                if not isinstance(values.get(name, []), list):
                    return "The %s must be a collection." % name
            for address in values.get("addresses", []):
                # v1.0's physicalAddress: type and postOfficeBox are read back but "not supported in v1.0" when
                # written (the Update bookingCustomer page)
                unknown = sorted(set(address) - ADDRESS_PROPERTIES) if isinstance(address, dict) else ["?"]
                if unknown:
                    return ("The property '%s' does not exist on type 'microsoft.graph.physicalAddress'. Make sure "
                            "to only use property names that are defined by the type." % unknown[0])
            return None
        if "defaultPrice" in values and (isinstance(values["defaultPrice"], bool)
                                         or not isinstance(values["defaultPrice"], (int, float))):
            return "Cannot convert the literal to the expected type 'Edm.Double'."
        if "defaultPriceType" in values and values["defaultPriceType"] not in PRICE_TYPES + ("unknownFutureValue",):
            return "The value '%s' is not valid for the enum type 'microsoft.graph.bookingPriceType'." % (
                values["defaultPriceType"],)
        if "defaultDuration" in values and not DURATION_RE.match(str(values["defaultDuration"] or "")):
            return "Cannot convert the literal '%s' to the expected type 'Edm.Duration'." % values["defaultDuration"]
        return None

    def _page(self, items, query, repeat, context, beta=True):
        """One page of ``items``, with its ``@odata.context`` as the service gives it, each item as the API version
        asked answers it (``beta``); like the service, an explicit ``$top`` truncates without a next link. Only the
        page's items are shaped: a page costs the same whatever the collection's size."""
        context = {"@odata.context": "%s/v1.0/$metadata#%s" % (self.peer.url, context)}
        if "$top" in query:
            return self._send(200, dict(context, value=[_shaped(i, beta) for i in items[:int(query["$top"])]]))
        offset = int(query.get("$skiptoken", 0))
        size = self.peer.page_size
        body = dict(context, value=[_shaped(i, beta) for i in items[offset:offset + size]])
        if repeat:
            body["@odata.nextLink"] = self._link(query, offset) if offset else self._link(query, 0, first=True)
        elif offset + size < len(items):
            body["@odata.nextLink"] = self._link(query, offset + size)
        self._send(200, body)

    def _link(self, query, offset, first=False):
        params = {k: v for k, v in query.items() if k != "$skiptoken"}
        if not first:
            params["$skiptoken"] = str(offset)
        url = "%s%s" % (self.peer.url, quote(urlsplit(self.path).path.split("?")[0], safe="/%"))
        return "%s?%s" % (url, urlencode(params)) if params else url

    # --- control interface --------------------------------------------------------------------------------------
    def _control(self, method, path, query):
        """``/_peer/faults`` (POST a fault, DELETE all), ``/_peer/requests`` (GET, DELETE),
        ``/_peer/businesses/{id}/{collection}[/{item}]`` (GET the items, POST or PATCH JSON, DELETE: cancel/remove),
        ``/_peer/businesses/{id}/planned-changes`` (GET the appointments they touch, POST: make the changes planned
        when it was seeded)."""
        parts = self.segments[1:]
        peer = self.peer
        if parts == ["faults"]:
            if method == "POST":
                allowed = {f.name for f in fields(Fault)} - {"hits"}
                fault = peer.inject(**{k: v for k, v in json.loads(self._body()).items() if k in allowed})
                return self._send(201, asdict(fault))
            if method == "DELETE":
                peer.clear_faults()
                return self._send(204)
            return self._send(200, {"value": [asdict(f) for f in peer.faults]})
        if parts == ["requests"]:
            if method == "DELETE":
                peer.clear_requests()
                return self._send(204)
            return self._send(200, {"value": [list(r) for r in peer.requests]})
        if parts[:1] == ["businesses"] and parts[2:] == ["planned-changes"]:
            if peer.store.business(parts[1]) is None:
                return self._send(404, {"error": "no such business"})
            if method == "POST":
                return self._send(200, {"applied": peer.store.apply_planned(parts[1])})
            return self._send(200, {"value": peer.store.planned(parts[1])})
        if len(parts) >= 3 and parts[0] == "businesses" and parts[2] in Store.COLLECTIONS:
            return self._control_items(method, parts[1], parts[2], parts[3:])
        return self._send(404, {"error": "unknown control request"})

    def _control_items(self, method, business_id, collection, item):
        """``/_peer/businesses/{business_id}/{collection}`` and, where ``item`` is ``[id]``, one of its items."""
        store = self.peer.store
        if store.business(business_id) is None:
            return self._send(404, {"error": "no such business"})
        if method == "GET" and not item:
            return self._send(200, {"value": store.items(business_id, collection)})
        if method == "POST" and not item:
            return self._send(201, store.put(business_id, collection, json.loads(self._body())))
        if method == "PATCH" and len(item) == 1:
            return self._send(200, store.update(business_id, collection, item[0], **json.loads(self._body())))
        if method == "DELETE" and len(item) == 1:
            return self._send(204 if store.remove(business_id, collection, item[0]) else 404)
        return self._send(404, {"error": "unknown control request"})


class BookingsPeer:
    """The peer: ``start()`` serves it in a thread on 127.0.0.1, ``stop()`` (or leaving a ``with``) ends it.

    ``url`` is both the authority URL and the Graph URL to configure; ``ca_file`` is the certificate authority
    to trust (set ``REQUESTS_CA_BUNDLE`` to it in the process that calls the peer).
    """

    def __init__(self, store=None, port=0, page_size=100, token_lifetime=3599, cert_dir=None):
        self.store = store or Store()
        self.opaque_tokens = False  # True: tokens are no JWT, as Microsoft keeps the right to make them
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.faults = []
        self.requests = []
        self.sign_ins = []  # (client id, "client_secret" or "client_assertion") of each token issued
        #: Bookings serves four requests at once per application and mailbox (Graph's throttling limits page); a
        #: fifth is answered 429 with a whole-second Retry-After. None: no limit.
        self.concurrency = 4
        self.in_flight = Counter()  # (client id, business id) -> requests being served
        self.most_in_flight = Counter()  # the highest each reached
        self.refused_concurrent = 0
        self.released = threading.Event()
        self._tokens = {}  # access token -> (tenant, client id, expiry, permissions, user name or None)
        self._codes = {}  # authorization code -> its grant
        self._refresh_tokens = {}  # refresh token -> its grant
        self._lock = threading.Lock()
        self._port = port
        self._cert_dir = cert_dir
        self._own_cert_dir = cert_dir is None
        self._server = None
        self._thread = None

    # --- life cycle ---------------------------------------------------------------------------------------
    def _certificates(self):
        """Create (or reuse, in a given folder) a CA and a server certificate for 127.0.0.1 and localhost."""
        directory = self._cert_dir or tempfile.mkdtemp(prefix="bookings-peer-")
        self._cert_dir = directory
        ca_file, key_file = os.path.join(directory, "ca.pem"), os.path.join(directory, "server.pem")
        if not (os.path.exists(ca_file) and os.path.exists(key_file)):
            ca = trustme.CA(organization_name="Bookings peer (local)")
            ca.cert_pem.write_to_path(ca_file)
            ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(key_file)
        return ca_file, key_file

    def start(self):
        self.ca_file, key_file = self._certificates()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(key_file)
        self._server = PeerServer(self, ("127.0.0.1", self._port))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="bookings-peer", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._own_cert_dir and self._cert_dir:
            shutil.rmtree(self._cert_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- tokens -------------------------------------------------------------------------------------------
    def issue_token(self, tenant, client_id, user=None, scopes=None):
        """An access token shaped as Microsoft Entra ID's: a JWT whose ``roles`` claim lists the application
        permissions granted, or, for a signed-in ``user``, whose ``scp`` claim lists the delegated ``scopes`` (its
        signature is no real one: the peer knows its tokens by heart)."""
        now = int(time.time())
        claims = {"aud": self.url, "iss": "https://sts.windows.net/%s/" % tenant, "iat": now, "nbf": now,
                  "exp": now + int(self.token_lifetime), "appid": client_id, "tid": tenant}
        if user is None:
            permissions = None  # the application's, as granted when the token is used
            claims.update(idtyp="app", roles=sorted(self.store.tenants[tenant][client_id]["permissions"]))
        else:
            permissions = set(scopes)
            claims.update(idtyp="user", scp=" ".join(sorted(permissions)), oid=user["oid"], name=user["name"],
                          upn=user["username"])
        token = secrets.token_urlsafe(48) if self.opaque_tokens else ".".join(_base64url(part) for part in (
            json.dumps({"typ": "JWT", "alg": "RS256", "kid": "bookings-peer"}).encode(),
            json.dumps(claims).encode(), secrets.token_bytes(64)))
        with self._lock:
            self._tokens[token] = (tenant, client_id, time.time() + self.token_lifetime, permissions,
                                   user and user["username"].lower())
        return token

    def check_token(self, header):
        """``(tenant, client id, permissions)`` of a valid bearer token, else None."""
        if not header.startswith("Bearer "):
            return None
        with self._lock:
            grant = self._tokens.get(header[7:])
        if grant is None or grant[2] < time.time():
            return None
        tenant, client_id, _expiry, permissions, _user = grant
        if permissions is None:
            permissions = self.store.tenants[tenant][client_id]["permissions"]
        return tenant, client_id, permissions

    # --- delegated sign-in ------------------------------------------------------------------------------------
    def issue_code(self, tenant, query, user):
        """An authorization code for ``user``, bound to the client, redirect URI and PKCE challenge of ``query``."""
        requested = query.get("scope", "").split()
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "tenant": tenant, "client_id": query["client_id"], "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"], "nonce": query.get("nonce"), "username": user["username"],
                "requested": requested, "scopes": _granted_scopes(requested, user), "expires": time.time() + 600}
        return code

    def redeem_code(self, form):
        """``(grant, None)`` for a valid code and verifier of ``form`` (used once), else ``(None, why)``."""
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != form.get("client_id"):
            return None, ("AADSTS70008: The provided authorization code or refresh token has expired due to "
                          "inactivity. Send a new interactive authorization request for this user and resource.")
        if grant["redirect_uri"] != form.get("redirect_uri"):
            return None, ("AADSTS50011: The redirect URI specified in the request does not match the redirect URI "
                          "the authorization code was issued for.")
        verifier = form.get("code_verifier", "").encode("ascii")
        if _base64url(hashlib.sha256(verifier).digest()) != grant["challenge"]:
            return None, ("AADSTS50148: The code_verifier does not match the code_challenge supplied in the "
                          "authorization request for PKCE.")
        return grant, None

    def issue_refresh_token(self, tenant, client_id, grant):
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh_tokens[token] = dict(grant, tenant=tenant, client_id=client_id, nonce=None, state="valid")
        return token

    def redeem_refresh_token(self, form):
        """``(grant, None)`` for a valid refresh token of ``form`` (it stays valid, as Entra's do), else
        ``(None, why)``: revoked, or expired."""
        with self._lock:
            grant = self._refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None or grant["client_id"] != form.get("client_id") or grant["state"] == "revoked":
            return None, ("AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token "
                          "is needed. The user might have changed or reset their password.")
        if grant["state"] == "expired":
            return None, "AADSTS700082: The refresh token has expired due to inactivity."
        requested = form.get("scope", "").split() or grant["requested"]
        user = self.store.users[(grant["tenant"], grant["username"].lower())]
        return dict(grant, requested=requested, scopes=_granted_scopes(requested, user) & grant["scopes"]), None

    def end_sign_ins(self, username, state="revoked"):
        """The sign-ins of ``username`` end: their refresh tokens are ``revoked`` (or ``expired``) and their access
        tokens no longer accepted."""
        with self._lock:
            for grant in self._refresh_tokens.values():
                if grant["username"].lower() == username.lower():
                    grant["state"] = state
            self._tokens = {token: grant for token, grant in self._tokens.items()
                            if grant[4] != username.lower()}

    def take_slot(self, header, segments):
        """Count a Graph request of a business in flight: its key, None when it is not counted (no valid token or
        no business), or False when the application already has ``concurrency`` requests at that mailbox."""
        grant = self.check_token(header)
        if grant is None or len(segments) < 4:
            return None
        key = (grant[1], segments[3].lower())
        with self._lock:
            if self.concurrency is not None and self.in_flight[key] >= self.concurrency:
                self.refused_concurrent += 1
                return False
            self.in_flight[key] += 1
            self.most_in_flight[key] = max(self.most_in_flight[key], self.in_flight[key])
        return key

    def release_slot(self, key):
        if key:
            with self._lock:
                self.in_flight[key] -= 1

    def release(self):
        """Let the requests held by a ``hold`` fault be answered (and every later one)."""
        self.released.set()

    def revoke_tokens(self):
        with self._lock:
            self._tokens.clear()

    # --- faults and the request log ---------------------------------------------------------------------------
    def inject(self, **kwargs):
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method, path, page):
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path, page):
                    fault.hits += 1
                    return fault
        return None

    def clear_faults(self):
        with self._lock:
            self.faults = []

    def record(self, method, path):
        with self._lock:
            self.requests.append((method, path))

    def clear_requests(self):
        with self._lock:
            self.requests = []

    def requests_to(self, fragment):
        with self._lock:
            return [r for r in self.requests if fragment in r[1]]


def _shaped(item, beta):
    """An item as the API version asked answers it: v1.0 has no invoice properties."""
    return item if beta else {name: value for name, value in item.items() if name not in INVOICE_PROPERTIES}


def _client_refused(form, client, token_url):
    """Why Microsoft Entra ID would refuse the client's own sign-in in ``form`` (its secret or its signed
    assertion), or None."""
    if "client_assertion" in form:
        return _assertion_refused(form, client, token_url)
    if not client["secret"]:
        return "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or " \
               "'client_secret'."
    if not secrets.compare_digest(client["secret"], form.get("client_secret", "")):
        return ("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                "client secret value, not the client secret ID, for a secret added to app '%s'." % form["client_id"])
    return None


def _granted_scopes(requested, user):
    """The delegated permissions of ``requested`` scopes (``https://graph.../Bookings.Read.All``) that ``user``
    has."""
    return {scope.rsplit("/", 1)[-1] for scope in requested} & user["scopes"]


def _assertion_refused(form, client, token_url):
    """Why Microsoft Entra ID would refuse the signed client assertion of ``form`` (private_key_jwt, RFC 7523), or
    None: its certificate must be one uploaded to the application (found by the ``x5t`` thumbprint) and valid, its
    signature made with that certificate's key, its audience the token endpoint, its issuer and subject the client
    id, and its time range current."""
    if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return "AADSTS50027: Invalid JWT token: the client assertion type is wrong."
    try:
        header = jwt.get_unverified_header(form["client_assertion"])
    except jwt.InvalidTokenError:
        return "AADSTS50027: Invalid JWT token. Token format not valid."
    found = [certificate for certificate in client["certificates"]
             if _base64url(certificate.fingerprint(hashes.SHA1()))  # noqa: S303  # nosec B303  # the x5t thumbprint Entra ID uses
             == str(header.get("x5t")).rstrip("=")]
    if not found:
        return ("AADSTS700027: The certificate with identifier used to sign the client assertion is not registered "
                "on application.")
    now = datetime.datetime.now(datetime.timezone.utc)
    if not found[0].not_valid_before_utc <= now < found[0].not_valid_after_utc:
        return "AADSTS700027: The certificate used to sign the client assertion has expired."
    try:
        claims = jwt.decode(form["client_assertion"], found[0].public_key(), algorithms=["RS256", "PS256"],
                            audience=token_url, issuer=form.get("client_id"), options={"require": ["exp", "sub"]})
    except jwt.InvalidSignatureError:
        return "AADSTS700027: Client assertion contains an invalid signature."
    except jwt.ExpiredSignatureError:
        return "AADSTS700024: Client assertion is not within its valid time range."
    except jwt.InvalidTokenError as error:
        return "AADSTS50027: Invalid JWT token: %s" % error
    if claims["sub"] != form.get("client_id"):
        return "AADSTS50027: Invalid JWT token: the subject is not the client id."
    return None


def _base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _customer_id():
    """A new customer id as Bookings makes them: base64 text holding ``+``, ``/`` and ``=``."""
    return base64.b64encode(b"\x00\x00" + secrets.token_bytes(22)).decode("ascii")
