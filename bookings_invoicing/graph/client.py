"""A small Microsoft Graph client for the Bookings endpoints this add-on reads and writes, none of it knowing the ORM.

It stands on two layers below it: the transport (``transport``: retries, the throttling budget, allowed hosts,
bounded answers) and the sign-in (``signin``: msal applications and tokens, the delegated flow), both configured by
``settings.GraphSettings``. Here are the Bookings endpoints: paging with ``@odata.nextLink`` (never ``$top``) and
guarding against paging loops, foreign hosts in a next link and results larger than a bound; items are parsed into
typed records (``records``), and an item that cannot be read is reported beside its page instead of sinking it.
Customers and services are created and updated from payloads (``payloads``); a create is never repeated after an
answer that may hide a success.
"""
import base64
import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Iterator, List, Optional
from urllib.parse import quote, urlsplit

import pytz
import requests

from . import errors
from .records import parse_appointment, parse_business, parse_customer, parse_service, parse_staff_member
from .settings import (
    APPOINTMENT_PERMISSION,
    APPOINTMENT_WRITE_PERMISSIONS,
    CUSTOMER_WRITE_PERMISSIONS,
    READ_PERMISSION,
    SERVICE_WRITE_PERMISSIONS,
    GraphSettings,
)
from .signin import Tokens
from .transport import ThrottleBudget, connection_error, host_allowed, new_session, origin

_logger = logging.getLogger(__name__)


@dataclass
class Page:
    """One page of a collection: the records read and the items skipped (``MalformedItem``)."""

    records: List = field(default_factory=list)
    problems: List[errors.MalformedItem] = field(default_factory=list)


def _graph_error(response):
    """``(code, message)`` of a Graph error body (``{"error": {"code", "message", "innerError"}}``), else
    ``(None, the start of the body)``."""
    try:
        error = response.json()["error"]
        return (str(error.get("code") or "") or None), str(error["message"])[:500]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, (response.text or response.reason or "")[:200]



class BookingsClient:
    """Reads one tenant's Bookings businesses through Microsoft Graph v1.0, writes their customers and services, and
    the invoice properties of their appointments through Graph beta."""

    def __init__(self, settings: GraphSettings, gate: Callable[[], ContextManager] = nullcontext,
                 on_token_cache: Optional[Callable[[str], None]] = None):
        """``gate``: what each request to Graph is sent within (its retries included), e.g. one of the four
        requests Bookings serves at once per application and mailbox, shared with other processes.
        ``on_token_cache``: called with a signed-in user's token cache, serialized, when a refresh changed it."""
        for name in ("authority_url", "graph_url"):
            if urlsplit(getattr(settings, name)).scheme != "https":
                raise ValueError("%s must be an https URL" % name)
            if not host_allowed(getattr(settings, name), settings.allowed_hosts):
                raise errors.HostNotAllowed(url=origin(getattr(settings, name)))
        self.settings = settings
        self.base_url = "%s/v1.0/solutions/bookingBusinesses" % settings.graph_url.rstrip("/")
        self.beta_url = "%s/beta/solutions/bookingBusinesses" % settings.graph_url.rstrip("/")
        self._origin = origin(settings.graph_url)
        self.throttle = ThrottleBudget(settings.throttle_budget)
        self.notices = []  # GraphNotices: reads that went another way than asked, which the reader is told
        self._session = new_session(settings, self.throttle)  # the client's own: its retries spend its budget
        self._gate = gate
        self._tokens = Tokens(settings, on_token_cache)

    # --- transport ------------------------------------------------------------------------------------------
    def _token(self, force_refresh=False):
        """An access token (``signin.Tokens``); ``force_refresh`` after Graph refused the last one."""
        return self._tokens.token(force_refresh)

    def _request(self, method, url, params=None, payload=None):
        """Send one request signed in (again once, when the token is refused) and return its response."""
        if origin(url) != self._origin:
            raise errors.ProtocolError(url=self._origin, detail="a link points to another host: %s" % origin(url))
        for attempt in (1, 2):
            headers = {"Authorization": "Bearer %s" % self._token(force_refresh=attempt == 2),
                       "Accept": "application/json"}
            try:
                with self._gate():
                    response = self._session.request(method, url, params=params, json=payload, headers=headers,
                                                     timeout=self.settings.timeout)
            except requests.RequestException as error:
                raise connection_error(url, error)
            if response.status_code == 401 and attempt == 1:
                continue  # The token was refused (revoked, or expired early): sign in again once.
            return response

    def _error(self, response, url, permission, what, mailbox=None):
        """The ``GraphError`` of a failed answer."""
        status, (code, detail) = response.status_code, _graph_error(response)
        if status == 401:  # after a sign-in again: Entra ID issued the token, Graph refuses what it grants
            return errors.TokenRefused(what=what, permission=self._missing_permission(permission), detail=detail)
        if status == 403:
            return errors.PermissionDenied(what=what, permission=permission, detail=detail)
        if mailbox and (status == 404 or code == "ErrorFolderNotFound"):
            return errors.BusinessNotFound(business=mailbox, code=" ".join(filter(None, (str(status), code))))
        if status == 429:
            return errors.Throttled(attempts=self.settings.max_attempts)
        if status >= 500:
            return errors.ServiceFailure(status=status, url=url, detail=detail)
        return errors.RequestRefused(url=url, status=status, detail=detail)

    @staticmethod
    def _json_object(response, url):
        try:
            body = response.json()
        except ValueError:
            raise errors.ProtocolError(url=url, detail="the body is not JSON")
        if not isinstance(body, dict):
            raise errors.ProtocolError(url=url, detail="the body is not a JSON object")
        return body

    def get_json(self, url, params=None, mailbox=None, what="Bookings"):
        """GET ``url`` and return its decoded JSON object, or raise the ``GraphError`` that explains why not."""
        response = self._request("GET", url, params=params)
        if response.status_code != 200:
            raise self._error(response, url, READ_PERMISSION, what, mailbox)
        return self._json_object(response, url)

    def _missing_permission(self, permission):
        """The permission to name for a 401: the one that cured it where reported, unless the token carries it."""
        return permission if APPOINTMENT_PERMISSION in (self.granted_permissions() or ()) else APPOINTMENT_PERMISSION

    def granted_permissions(self):
        """The permissions granted to the client: the ``roles`` claim of an application's access token, the ``scp``
        claim of a signed-in user's, or None when the token cannot be read (Microsoft does not promise that its
        tokens stay readable JWTs)."""
        token = self._token()
        try:
            claims = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)).decode("utf-8"))
            granted = claims["scp"].split() if self.settings.account else claims["roles"]
        except (IndexError, KeyError, TypeError, ValueError, AttributeError):  # binascii.Error is a ValueError
            return None
        return frozenset(item for item in granted if isinstance(item, str)) if isinstance(granted, list) else None

    # --- collections ----------------------------------------------------------------------------------------
    def pages(self, url, parse: Callable, params=None, mailbox=None, what="Bookings") -> Iterator[Page]:
        """Yield the pages of a collection, following ``@odata.nextLink`` to the end.

        Only one page is held at a time. Raises ``PagingLoop`` when a next link repeats and ``ResultTooLarge``
        past ``settings.max_items``.
        """
        seen = set()
        count = 0
        while url:
            body = self.get_json(url, params=params, mailbox=mailbox, what=what)
            items = body.get("value")
            if not isinstance(items, list):
                raise errors.ProtocolError(url=url, detail="the collection has no 'value' list")
            count += len(items)
            if count > self.settings.max_items:
                raise errors.ResultTooLarge(url=url, limit=self.settings.max_items)
            page = Page()
            for item in items:
                try:
                    page.records.append(parse(item))
                except errors.MalformedItem as problem:
                    _logger.warning("Skipped an item of %s: %s", url, problem)
                    page.problems.append(problem)
            yield page
            seen.add(url)
            url, params = body.get("@odata.nextLink"), None
            if url is not None and not isinstance(url, str):
                raise errors.ProtocolError(url=self.base_url, detail="@odata.nextLink is not a string")
            if url in seen:
                raise errors.PagingLoop(url=url)

    def _business_url(self, mailbox, *path, base=None):
        return "/".join((base or self.base_url, quote(mailbox, safe="")) + path)

    # --- the Bookings endpoints -----------------------------------------------------------------------------
    def get_business(self, mailbox):
        body = self.get_json(self._business_url(mailbox), mailbox=mailbox, what="the business")
        return parse_business(body)

    def _collection_pages(self, mailbox, collection, parse, what):
        return self.pages(self._business_url(mailbox, collection), parse, mailbox=mailbox, what=what)

    def service_pages(self, mailbox):
        return self._collection_pages(mailbox, "services", parse_service, "services")

    def customer_pages(self, mailbox):
        return self._collection_pages(mailbox, "customers", parse_customer, "customers")

    def staff_pages(self, mailbox):
        return self._collection_pages(mailbox, "staffMembers", parse_staff_member, "staff members")

    def create_customer(self, mailbox, payload):
        """Create a customer from ``payload`` (``graph.payloads.customer_payload``); returns it as Bookings made it
        (a ``records.Customer`` with its new id)."""
        return self._create(mailbox, "customers", payload, parse_customer, CUSTOMER_WRITE_PERMISSIONS)

    def update_customer(self, mailbox, customer_id, payload):
        self._update(mailbox, "customers", customer_id, payload, CUSTOMER_WRITE_PERMISSIONS)

    def create_service(self, mailbox, payload):
        """Create a service from ``payload`` (``graph.payloads.service_payload``); returns its ``records.Service``."""
        return self._create(mailbox, "services", payload, parse_service, SERVICE_WRITE_PERMISSIONS)

    def update_service(self, mailbox, service_id, payload):
        self._update(mailbox, "services", service_id, payload, SERVICE_WRITE_PERMISSIONS)

    def update_appointment_invoice(self, mailbox, appointment_id, payload):
        """Write the invoice properties ``payload`` (``graph.payloads.invoice_payload``) of an appointment, through
        Graph **beta**: Microsoft does not support beta in production, and may refuse or change it at any time."""
        self._update(mailbox, "appointments", appointment_id, payload, APPOINTMENT_WRITE_PERMISSIONS,
                     base=self.beta_url)

    def _create(self, mailbox, collection, payload, parse, permissions):
        url = self._business_url(mailbox, collection)
        response = self._request("POST", url, payload=payload)
        if response.status_code not in (200, 201):
            raise self._write_error(response, url, collection, permissions, mailbox)
        body = self._json_object(response, url)
        return parse(body)

    def _update(self, mailbox, collection, item_id, payload, permissions, base=None):
        url = self._business_url(mailbox, collection, quote(item_id, safe=""), base=base)
        response = self._request("PATCH", url, payload=payload)
        if response.status_code not in (200, 204):
            raise self._write_error(response, url, collection, permissions, mailbox, item_id)

    def _write_error(self, response, url, collection, permissions, mailbox, item_id=None):
        status, detail = response.status_code, _graph_error(response)[1]
        if status == 400:
            return errors.WriteRefused(what=collection, detail=detail)
        if status == 403:
            return errors.WriteDenied(what=collection, permission=permissions[0], detail=detail)
        if status == 404 and item_id:
            return errors.ItemNotFound(what=collection, item=item_id)
        return self._error(response, url, permissions[0] if status == 401 else READ_PERMISSION, collection,
                           mailbox)

    def appointment_pages(self, mailbox, start, end):
        """The appointments that overlap ``[start, end)`` (aware datetimes), read through ``calendarView``. Where
        Graph refuses ``calendarView`` to the application (403, as some tenants do for app-only tokens), they are
        read from the ``appointments`` collection and filtered here, and a ``CalendarViewNotice`` notice is added."""
        pages = self.pages(
            self._business_url(mailbox, "calendarView"),
            parse_appointment,
            params={"start": _graph_time(start), "end": _graph_time(end)},
            mailbox=mailbox,
            what="appointments",
        )
        try:
            first = next(pages)
        except StopIteration:
            return
        except errors.PermissionDenied as refused:
            _logger.warning("calendarView refused for %s, reading appointments instead: %s", mailbox, refused)
            self.notices.append(errors.CalendarViewNotice(detail=refused.params["detail"]))
            for page in self._collection_pages(mailbox, "appointments", parse_appointment, "appointments"):
                yield Page([r for r in page.records if r.start < end and r.end > start], page.problems)
            return
        yield first
        yield from pages


def _graph_time(moment):
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in a Graph query: %r" % moment)
    return moment.astimezone(pytz.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_all(pages: Iterator[Page]) -> Page:
    """Gather every page of a (small) collection into one."""
    result = Page()
    for page in pages:
        result.records.extend(page.records)
        result.problems.extend(page.problems)
    return result
