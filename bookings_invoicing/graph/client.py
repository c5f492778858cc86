"""A small Microsoft Graph client for the Bookings endpoints this add-on reads and writes.

Three layers, none of which knows the ORM:

* transport: ``requests`` sessions with urllib3 retries (429 and 503 wait for ``Retry-After`` in full, as Microsoft
  asks, out of a time budget per client; 5xx and connection resets back off exponentially) and a timeout on every
  call; every request, msal's included, goes to an allowed host only (Microsoft's, or one an administrator
  allowed), follows no redirection, and its answer is read within a bound of bytes and an overall deadline;
* authentication: one msal ``ConfidentialClientApplication`` per configuration per process, so the token is
  reused until it nears expiry; or, for a signed-in user (delegated), msal's authorization code flow with PKCE
  (``start_sign_in``, ``finish_sign_in``) and the user's token cache, whose refresh token the caller keeps;
* the Bookings endpoints, paging with ``@odata.nextLink`` (never ``$top``) and guarding against paging loops,
  foreign hosts in a next link and results larger than a bound; items are parsed into typed records, and an item
  that cannot be read is reported beside its page instead of sinking it. Customers and services are created and
  updated from payloads (``graph.payloads``); a create is never repeated after an answer that may hide a success.
"""
import base64
import datetime
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from contextlib import nullcontext
from dataclasses import astuple, dataclass, field
from typing import Callable, ContextManager, FrozenSet, Iterator, List, Optional, Tuple
from urllib.parse import quote, urlsplit

import msal
import pytz
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from . import errors
from .credentials import Certificate
from .records import parse_appointment, parse_business, parse_customer, parse_service, parse_staff_member

_logger = logging.getLogger(__name__)

GLOBAL_AUTHORITY_URL = "https://login.microsoftonline.com"
GLOBAL_GRAPH_URL = "https://graph.microsoft.com"
#: Microsoft's sign-in and Graph hosts: the global cloud, US Government and China. No request goes elsewhere unless
#: the settings allow another host.
MICROSOFT_HOSTS = frozenset([
    "login.microsoftonline.com", "graph.microsoft.com",
    "login.microsoftonline.us", "graph.microsoft.us",
    "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn",
])
READ_PERMISSION = "Bookings.Read.All"
#: What a tenant whose Graph answers 401 to a token with the read permission had to grant (a June 2025 Q&A: an
#: application with Bookings.ReadWrite.All only got 401 on appointments, services and staff until it was added).
APPOINTMENT_PERMISSION = "BookingsAppointment.ReadWrite.All"
#: The application permissions that allow writing customers (the first one is the least) and services.
CUSTOMER_WRITE_PERMISSIONS = ("BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All")
SERVICE_WRITE_PERMISSIONS = ("Bookings.ReadWrite.All", "Bookings.Manage.All")
#: Writing an appointment (its invoice properties, in beta).
APPOINTMENT_WRITE_PERMISSIONS = ("BookingsAppointment.ReadWrite.All", "Bookings.Manage.All")
#: The delegated permissions a signed-in user is asked for: reading, and the pushes of customers and services.
DELEGATED_PERMISSIONS = ("Bookings.ReadWrite.All", "BookingsAppointment.ReadWrite.All")


@dataclass(frozen=True)
class GraphSettings:
    """Where and how to reach one Bookings business; the secret never appears in ``repr``."""

    tenant_id: str
    client_id: str
    client_secret: Optional[str] = field(default=None, repr=False)
    client_certificate: Optional[Certificate] = None  # signs the sign-in instead of the secret
    account: Optional[str] = None  # the msal account (home account id) of a signed-in user: delegated access
    account_name: Optional[str] = None  # who that user is, for messages
    token_cache: Optional[str] = field(default=None, repr=False)  # that user's msal token cache, serialized
    authority_url: str = GLOBAL_AUTHORITY_URL
    graph_url: str = GLOBAL_GRAPH_URL
    timeout: Tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
    max_attempts: int = 6  # per request, the first one included
    backoff_factor: float = 0.5  # seconds: 0, 2x, 4x, 8x ... between attempts without Retry-After
    throttle_budget: float = 600.0  # seconds a client waits in all for Graph's Retry-After before it gives up
    max_items: int = 500000  # per collection read
    allowed_hosts: FrozenSet[str] = MICROSOFT_HOSTS  # host names, or host:port, that requests may go to
    max_answer_bytes: int = 32 * 1024 * 1024  # the largest answer read (a page of Graph is a few hundred KB)
    deadline: float = 120.0  # seconds for one request and its whole answer, waits for Retry-After not counted

    @property
    def authority(self):
        return "%s/%s" % (self.authority_url.rstrip("/"), self.tenant_id)

    @property
    def scope(self):
        return "%s/.default" % self.graph_url.rstrip("/")

    @property
    def delegated_scopes(self):
        return ["%s/%s" % (self.graph_url.rstrip("/"), permission) for permission in DELEGATED_PERMISSIONS]


@dataclass(frozen=True)
class SignedIn:
    """A user signed in through the authorization code flow: their msal account, and the token cache to keep."""

    account: str
    username: str
    name: str
    token_cache: str = field(repr=False)


@dataclass
class Page:
    """One page of a collection: the records read and the items skipped (``MalformedItem``)."""

    records: List = field(default_factory=list)
    problems: List[errors.MalformedItem] = field(default_factory=list)


#: The longest ``Retry-After`` waited for on the token endpoint, whose session all clients of a configuration share.
TOKEN_MAX_RETRY_AFTER = 60.0


class _ThrottleBudget:
    """The time one client may spend waiting for Graph's ``Retry-After``, in all."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.waited = 0.0

    def take(self, seconds):
        if self.waited + seconds > self.seconds:
            raise errors.ThrottleBudgetSpent(wait=int(seconds), budget=int(self.seconds))
        self.waited += seconds


class _GraphRetry(Retry):
    """urllib3 retries that wait for a ``Retry-After`` in full, out of ``budget`` (raising ``ThrottleBudgetSpent``
    when it would be overspent); without a budget (the token endpoint), for at most ``TOKEN_MAX_RETRY_AFTER``. An
    unreadable ``Retry-After`` falls back to exponential back-off."""

    def __init__(self, *args, budget=None, waits=None, **kwargs):
        self.budget, self.waits = budget, waits
        super().__init__(*args, **kwargs)

    def new(self, **kwargs):
        kwargs.setdefault("budget", self.budget)
        kwargs.setdefault("waits", self.waits)
        return super().new(**kwargs)

    def parse_retry_after(self, retry_after):
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:  # not whole seconds nor an HTTP date
            _logger.info("Ignored an unreadable Retry-After header: %r", retry_after)
            return None

    def is_retry(self, method, status_code, has_retry_after=False):
        """A create (POST) answered 429 was refused, not made, and waits for ``Retry-After`` like a read; any other
        failure of a create may hide one made, and is not repeated. Token requests (no budget) are always safe."""
        if method == "POST" and self.budget is not None:
            return status_code == 429 and super().is_retry("GET", status_code, has_retry_after)
        return super().is_retry(method, status_code, has_retry_after)

    def sleep_for_retry(self, response=None):
        seconds = self.get_retry_after(response)
        if not seconds:
            return False
        if self.budget is None:
            seconds = min(seconds, TOKEN_MAX_RETRY_AFTER)
        else:
            self.budget.take(seconds)
        _logger.info("Microsoft Graph asked to wait %s s before retrying", seconds)
        if self.waits is not None:
            self.waits.seconds += seconds
        time.sleep(seconds)
        return True


def host_allowed(url, allowed_hosts):
    """Whether ``url`` is an https address of one of ``allowed_hosts`` (names, or name:port for another port)."""
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.hostname:
        return False
    host = parts.hostname.lower().rstrip(".")
    port = parts.port or 443
    return any(host == name if port == 443 else "%s:%s" % (host, port) == name
               for name in (allowed.strip().lower() for allowed in allowed_hosts))


class _Waits(object):
    """The seconds a session has slept for ``Retry-After``, which no request's deadline counts."""

    def __init__(self):
        self.seconds = 0.0


class _Transport(requests.Session):
    """The session of every request to Microsoft, msal's included: to an allowed host only, never following a
    redirection (with the bearer token or the secret), its answer read within ``max_answer_bytes`` and ``deadline``
    seconds in all, not only within a timeout between two reads: an answer trickled a byte at a time, or endless,
    is cut off."""

    def __init__(self, settings, waits):
        super().__init__()
        self.settings, self.waits = settings, waits

    def request(self, method, url, **kwargs):
        if not host_allowed(url, self.settings.allowed_hosts):
            raise errors.HostNotAllowed(url=_origin(url))
        kwargs.update(allow_redirects=False, stream=True)
        kwargs.setdefault("timeout", self.settings.timeout)
        started, waited = time.monotonic(), self.waits.seconds
        response = super().request(method, url, **kwargs)
        if response.is_redirect:
            response.close()
            raise errors.Redirected(url=_origin(url), location=_origin(response.headers.get("Location") or "") or "?")
        left = self.settings.deadline + (self.waits.seconds - waited) - (time.monotonic() - started)
        try:
            _read_within(response, self.settings.max_answer_bytes, left, _origin(url))
        except errors.AnswerTooSlow as error:  # said with the deadline, not what was left of it
            raise errors.AnswerTooSlow(url=error.params["url"], seconds=int(self.settings.deadline))
        return response


def _read_within(response, limit, seconds, origin):
    """Read the body of ``response`` (streamed) as its content, at most ``limit`` bytes within ``seconds``: past the
    deadline its connection is shut down, which ends a read blocked on a silent or trickling peer."""
    cut = threading.Event()
    guard = threading.Lock()

    def shut_down():
        with guard:
            if cut.is_set():
                return
            cut.set()
            try:  # a copy of the connection's descriptor: the shutdown ends the connection, not the descriptor
                with socket.socket(fileno=os.dup(response.raw.fileno())) as connection:
                    connection.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError) as error:  # closed meanwhile: nothing left to cut
                _logger.debug("The connection to %s was closed before its deadline: %s", origin, error)

    timer = threading.Timer(max(seconds, 0.0), shut_down)
    timer.daemon = True
    timer.start()
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > limit:
                raise errors.AnswerTooLarge(url=origin, limit=limit)
            chunks.append(chunk)
    except (requests.RequestException, OSError) as error:  # urllib3 lets a TLS error through unwrapped
        if not cut.is_set():
            raise error if isinstance(error, requests.RequestException) else requests.ConnectionError(error)
    finally:
        with guard:
            timer.cancel()
            over = cut.is_set()
            cut.set()
        if over or size > limit:
            response.close()
    if over:
        raise errors.AnswerTooSlow(url=origin, seconds=int(seconds))
    # what requests' own ``content`` keeps once it has read a body
    response._content, response._content_consumed = b"".join(chunks), True


def _session(settings, budget=None):
    """A session retrying what is safe to repeat: token requests (no ``budget``); reads, updates and deletes, and a
    throttled create (a client's, spending its ``budget``)."""
    waits = _Waits()
    retry = _GraphRetry(
        total=settings.max_attempts - 1,
        backoff_factor=settings.backoff_factor,
        status_forcelist=(429, 500, 502, 503, 504),
        # read errors are retried for these methods only: a create that may have been made is not among them
        method_whitelist=frozenset(["GET", "POST"] if budget is None else ["GET", "PATCH", "DELETE"]),
        respect_retry_after_header=True,
        raise_on_status=False,
        budget=budget,
        waits=waits,
    )
    session = _Transport(settings, waits)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


_applications = {}
_applications_lock = threading.Lock()


def _application(settings):
    """The process-wide msal application of a configuration, which signs in through a session of its own (created
    on first use, and again when any setting changes: the secret, timeouts, retries)."""
    key = (settings.authority, settings.client_id, settings.graph_url)
    fingerprint = hashlib.sha256(repr(astuple(settings)).encode("utf-8")).hexdigest()
    with _applications_lock:
        cached = _applications.get(key)
        if cached and cached[0] == fingerprint:
            return cached[1]
    application = _new_application(settings)
    with _applications_lock:
        _applications[key] = (fingerprint, application)
    return application


def _new_application(settings, token_cache=None):
    try:
        return msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=(settings.client_certificate.credential() if settings.client_certificate
                               else settings.client_secret),
            authority=settings.authority,
            http_client=_session(settings),
            timeout=settings.timeout,
            token_cache=token_cache,
            # The authority is the configured one (global or national cloud); do not ask a Microsoft host to
            # vouch for it first.
            instance_discovery=False,
        )
    except ValueError as error:  # msal could not read the tenant's OpenID configuration
        _logger.info("Tenant discovery failed for %s: %s", settings.authority, error)
        raise errors.UnknownTenant(tenant=settings.tenant_id, authority=settings.authority_url)
    except requests.RequestException as error:
        raise _connection_error(settings.authority, error)


def _acquire(settings, call):
    """The answer of msal's ``call`` that asks Microsoft Entra ID for tokens, its failures as ``GraphError``s."""
    try:
        return call()
    except requests.RequestException as error:
        raise _connection_error(settings.authority, error)
    except msal.exceptions.MsalServiceError as error:  # the token endpoint kept failing (5xx)
        raise errors.SignInFailure(status=_http_status(error), url=settings.authority, detail=_first_line(error))


def _refused(settings, result):
    """The ``GraphError`` of an answer of Microsoft Entra ID without token."""
    code = str(result.get("error") or "unknown_error")
    description = _first_line(result.get("error_description"))
    if code in ("invalid_client", "unauthorized_client"):
        return errors.InvalidCredentials(error=code, description=description)
    if code in ("invalid_tenant",) or "AADSTS90002" in description:
        return errors.UnknownTenant(tenant=settings.tenant_id, authority=settings.authority_url)
    if code == "invalid_grant" and settings.account:
        return errors.SignInExpired(user=settings.account_name or settings.account, description=description)
    return errors.AuthenticationError(error=code, description=description)


def start_sign_in(settings, redirect_uri):
    """Begin a user's sign-in (authorization code flow with PKCE): msal's flow, to keep until the browser comes back
    to ``redirect_uri``; the browser goes to its ``auth_uri``."""
    return _new_application(settings).initiate_auth_code_flow(
        settings.delegated_scopes, redirect_uri=redirect_uri, prompt="select_account")


def finish_sign_in(settings, flow, auth_response):
    """End the sign-in begun by ``flow`` with the parameters the browser brought back: the ``SignedIn`` user."""
    cache = msal.SerializableTokenCache()
    application = _new_application(settings, cache)
    try:
        result = _acquire(settings, lambda: application.acquire_token_by_auth_code_flow(flow, auth_response))
    except ValueError as error:  # a state that does not match, a flow used twice, a nonce that does not match
        raise errors.AuthenticationError(error="invalid_state", description=_first_line(error))
    if "access_token" not in result:
        raise _refused(settings, result)
    claims = result.get("id_token_claims") or {}
    username = str(claims.get("preferred_username") or "")
    accounts = application.get_accounts(username=username or None)
    if not accounts:
        raise errors.AuthenticationError(error="no_account", description="the answer names no user")
    return SignedIn(account=accounts[0]["home_account_id"], username=username,
                    name=str(claims.get("name") or username), token_cache=cache.serialize())


def _connection_error(url, error):
    if isinstance(error, requests.exceptions.SSLError):
        return errors.UntrustedCertificate(url=_origin(url), reason=_reason(error))
    if isinstance(error, requests.exceptions.Timeout):
        return errors.ConnectionFailed(url=_origin(url), reason="no answer in time")
    return errors.ConnectionFailed(url=_origin(url), reason=_reason(error))


def _reason(error):
    """The innermost cause of a requests/urllib3 exception, in one line."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    reason = getattr(error, "reason", None) or error
    return str(reason).splitlines()[0][:300] if str(reason) else type(error).__name__


def _first_line(text, limit=500):
    lines = str(text or "").strip().splitlines()
    return lines[0][:limit] if lines else ""


def _http_status(error):
    match = re.search(r"\b([45]\d\d)\b", str(error))
    return match.group(1) if match else "?"


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


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
                raise errors.HostNotAllowed(url=_origin(getattr(settings, name)))
        self.settings = settings
        self.base_url = "%s/v1.0/solutions/bookingBusinesses" % settings.graph_url.rstrip("/")
        self.beta_url = "%s/beta/solutions/bookingBusinesses" % settings.graph_url.rstrip("/")
        self._origin = _origin(settings.graph_url)
        self.throttle = _ThrottleBudget(settings.throttle_budget)
        self.notices = []  # GraphErrors that did not stop a read, but that the reader should be told
        self._session = _session(settings, self.throttle)  # the client's own: its retries spend its budget
        self._gate = gate
        self._on_token_cache = on_token_cache
        self._user_application = None

    # --- authentication and transport ---------------------------------------------------------------------
    def _token(self, force_refresh=False):
        """An access token: the application's, or the signed-in user's (delegated); ``force_refresh`` after Graph
        refused the last one."""
        if self.settings.account:
            return self._user_token(force_refresh)
        certificate = self.settings.client_certificate
        if certificate and certificate.expired(datetime.datetime.utcnow()):
            raise errors.CertificateExpired(thumbprint=certificate.thumbprint,
                                            date=certificate.not_after.strftime("%Y-%m-%d %H:%M UTC"))
        application = _application(self.settings)
        if force_refresh:
            application.remove_tokens_for_client()
        try:
            result = _acquire(self.settings,
                              lambda: application.acquire_token_for_client(scopes=[self.settings.scope]))
        except ValueError as error:  # no readable answer from the token endpoint
            raise errors.AuthenticationError(error="invalid_response", description=_first_line(error))
        if "access_token" in result:
            return result["access_token"]
        raise _refused(self.settings, result)

    def _user_token(self, force_refresh):
        """The signed-in user's access token, refreshed with their refresh token when needed; the cache, changed by
        a refresh, goes to ``on_token_cache``. A sign-in revoked or expired raises ``SignInExpired``."""
        if self._user_application is None:
            cache = msal.SerializableTokenCache()
            cache.deserialize(self.settings.token_cache or "{}")
            self._user_application = (_new_application(self.settings, cache), cache)
        application, cache = self._user_application
        accounts = [account for account in application.get_accounts()
                    if account.get("home_account_id") == self.settings.account]
        if not accounts:
            raise errors.SignInExpired(user=self.settings.account_name or self.settings.account,
                                       description="no sign-in is kept")
        try:
            result = _acquire(self.settings, lambda: application.acquire_token_silent_with_error(
                self.settings.delegated_scopes, account=accounts[0], force_refresh=force_refresh))
        except ValueError as error:
            raise errors.AuthenticationError(error="invalid_response", description=_first_line(error))
        if result and "access_token" in result:
            if cache.has_state_changed and self._on_token_cache:
                self._on_token_cache(cache.serialize())
                cache.has_state_changed = False
            return result["access_token"]
        raise _refused(self.settings, result or {"error": "invalid_grant", "error_description": "no token is kept"})

    def _request(self, method, url, params=None, payload=None):
        """Send one request signed in (again once, when the token is refused) and return its response."""
        if _origin(url) != self._origin:
            raise errors.ProtocolError(url=self._origin, detail="a link points to another host: %s" % _origin(url))
        for attempt in (1, 2):
            headers = {"Authorization": "Bearer %s" % self._token(force_refresh=attempt == 2),
                       "Accept": "application/json"}
            try:
                with self._gate():
                    response = self._session.request(method, url, params=params, json=payload, headers=headers,
                                                     timeout=self.settings.timeout)
            except requests.RequestException as error:
                raise _connection_error(url, error)
            if response.status_code == 401 and attempt == 1:
                continue  # The token was refused (revoked, or expired early): sign in again once.
            return response

    def _error(self, response, url, permission, what, business_id=None):
        """The ``GraphError`` of a failed answer."""
        status, (code, detail) = response.status_code, _graph_error(response)
        if status == 401:  # after a sign-in again: Entra ID issued the token, Graph refuses what it grants
            return errors.TokenRefused(what=what, permission=self._missing_permission(permission), detail=detail)
        if status == 403:
            return errors.PermissionDenied(what=what, permission=permission, detail=detail)
        if business_id and (status == 404 or code == "ErrorFolderNotFound"):
            return errors.BusinessNotFound(business=business_id, code=" ".join(filter(None, (str(status), code))))
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

    def get_json(self, url, params=None, business_id=None, what="Bookings"):
        """GET ``url`` and return its decoded JSON object, or raise the ``GraphError`` that explains why not."""
        response = self._request("GET", url, params=params)
        if response.status_code != 200:
            raise self._error(response, url, READ_PERMISSION, what, business_id)
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
    def pages(self, url, parse: Callable, params=None, business_id=None, what="Bookings") -> Iterator[Page]:
        """Yield the pages of a collection, following ``@odata.nextLink`` to the end.

        Only one page is held at a time. Raises ``PagingLoop`` when a next link repeats and ``ResultTooLarge``
        past ``settings.max_items``.
        """
        seen = set()
        count = 0
        while url:
            body = self.get_json(url, params=params, business_id=business_id, what=what)
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

    def _business_url(self, business_id, *path, base=None):
        return "/".join((base or self.base_url, quote(business_id, safe="")) + path)

    # --- the Bookings endpoints -----------------------------------------------------------------------------
    def get_business(self, business_id):
        body = self.get_json(self._business_url(business_id), business_id=business_id, what="the business")
        return parse_business(body)

    def _collection_pages(self, business_id, collection, parse, what):
        return self.pages(self._business_url(business_id, collection), parse, business_id=business_id, what=what)

    def service_pages(self, business_id):
        return self._collection_pages(business_id, "services", parse_service, "services")

    def customer_pages(self, business_id):
        return self._collection_pages(business_id, "customers", parse_customer, "customers")

    def staff_pages(self, business_id):
        return self._collection_pages(business_id, "staffMembers", parse_staff_member, "staff members")

    def create_customer(self, business_id, payload):
        """Create a customer from ``payload`` (``graph.payloads.customer_payload``); returns it as Bookings made it
        (a ``records.Customer`` with its new id)."""
        return self._create(business_id, "customers", payload, parse_customer, CUSTOMER_WRITE_PERMISSIONS)

    def update_customer(self, business_id, customer_id, payload):
        self._update(business_id, "customers", customer_id, payload, CUSTOMER_WRITE_PERMISSIONS)

    def create_service(self, business_id, payload):
        """Create a service from ``payload`` (``graph.payloads.service_payload``); returns its ``records.Service``."""
        return self._create(business_id, "services", payload, parse_service, SERVICE_WRITE_PERMISSIONS)

    def update_service(self, business_id, service_id, payload):
        self._update(business_id, "services", service_id, payload, SERVICE_WRITE_PERMISSIONS)

    def update_appointment_invoice(self, business_id, appointment_id, payload):
        """Write the invoice properties ``payload`` (``graph.payloads.invoice_payload``) of an appointment, through
        Graph **beta**: Microsoft does not support beta in production, and may refuse or change it at any time."""
        self._update(business_id, "appointments", appointment_id, payload, APPOINTMENT_WRITE_PERMISSIONS,
                     base=self.beta_url)

    def _create(self, business_id, collection, payload, parse, permissions):
        url = self._business_url(business_id, collection)
        response = self._request("POST", url, payload=payload)
        if response.status_code not in (200, 201):
            raise self._write_error(response, url, collection, permissions, business_id)
        body = self._json_object(response, url)
        return parse(body)

    def _update(self, business_id, collection, item_id, payload, permissions, base=None):
        url = self._business_url(business_id, collection, quote(item_id, safe=""), base=base)
        response = self._request("PATCH", url, payload=payload)
        if response.status_code not in (200, 204):
            raise self._write_error(response, url, collection, permissions, business_id, item_id)

    def _write_error(self, response, url, collection, permissions, business_id, item_id=None):
        status, detail = response.status_code, _graph_error(response)[1]
        if status == 400:
            return errors.WriteRefused(what=collection, detail=detail)
        if status == 403:
            return errors.WriteDenied(what=collection, permission=permissions[0], detail=detail)
        if status == 404 and item_id:
            return errors.ItemNotFound(what=collection, item=item_id)
        return self._error(response, url, permissions[0] if status == 401 else READ_PERMISSION, collection,
                           business_id)

    def appointment_pages(self, business_id, start, end):
        """The appointments that overlap ``[start, end)`` (aware datetimes), read through ``calendarView``. Where
        Graph refuses ``calendarView`` to the application (403, as some tenants do for app-only tokens), they are
        read from the ``appointments`` collection and filtered here, and a ``CalendarViewRefused`` notice is added."""
        pages = self.pages(
            self._business_url(business_id, "calendarView"),
            parse_appointment,
            params={"start": _graph_time(start), "end": _graph_time(end)},
            business_id=business_id,
            what="appointments",
        )
        try:
            first = next(pages)
        except StopIteration:
            return
        except errors.PermissionDenied as refused:
            _logger.warning("calendarView refused for %s, reading appointments instead: %s", business_id, refused)
            self.notices.append(errors.CalendarViewRefused(detail=refused.params["detail"]))
            for page in self._collection_pages(business_id, "appointments", parse_appointment, "appointments"):
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
