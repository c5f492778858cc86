"""The client's transport: ``requests`` sessions with urllib3 retries (429 and 503 wait for ``Retry-After`` in full, as
Microsoft asks, out of a time budget per client; 5xx and connection resets back off exponentially) and a timeout on
every call. Every request, msal's included, goes to an allowed host only (Microsoft's, or one an administrator
allowed), follows no redirection, and its answer is read within a bound of bytes and an overall deadline."""
import logging
import os
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from . import errors

_logger = logging.getLogger(__name__)

#: The longest ``Retry-After`` waited for on the token endpoint, whose session all clients of a configuration share.
TOKEN_MAX_RETRY_AFTER = 60.0


class ThrottleBudget:
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
            raise errors.HostNotAllowed(url=origin(url))
        kwargs.update(allow_redirects=False, stream=True)
        kwargs.setdefault("timeout", self.settings.timeout)
        started, waited = time.monotonic(), self.waits.seconds
        response = super().request(method, url, **kwargs)
        if response.is_redirect:
            response.close()
            raise errors.Redirected(url=origin(url), location=origin(response.headers.get("Location") or "") or "?")
        left = self.settings.deadline + (self.waits.seconds - waited) - (time.monotonic() - started)
        try:
            _read_within(response, self.settings.max_answer_bytes, left, origin(url))
        except errors.AnswerTooSlow as error:  # said with the deadline, not what was left of it
            raise errors.AnswerTooSlow(url=error.params["url"], seconds=int(self.settings.deadline))
        return response


class _Deadline(object):
    """Shuts the connection of ``response`` down once ``seconds`` have passed, unless ended before: that ends a read
    blocked on a silent or trickling peer."""

    def __init__(self, response, seconds, origin):
        self.response = response
        self.origin = origin
        self.cut = threading.Event()
        self.guard = threading.Lock()
        self.timer = threading.Timer(max(seconds, 0.0), self._shut_down)
        self.timer.daemon = True
        self.timer.start()

    @property
    def passed(self):
        return self.cut.is_set()

    def _shut_down(self):
        with self.guard:
            if self.cut.is_set():
                return
            self.cut.set()
            try:  # a copy of the connection's descriptor: the shutdown ends the connection, not the descriptor
                with socket.socket(fileno=os.dup(self.response.raw.fileno())) as connection:
                    connection.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError) as error:  # closed meanwhile: nothing left to cut
                _logger.debug("The connection to %s was closed before its deadline: %s", self.origin, error)

    def end(self):
        """Stop the clock; returns whether the deadline had passed."""
        with self.guard:
            self.timer.cancel()
            over = self.cut.is_set()
            self.cut.set()
        return over


def _read_within(response, limit, seconds, origin):
    """Read the body of ``response`` (streamed) as its content, at most ``limit`` bytes within ``seconds``
    (``_Deadline``)."""
    deadline = _Deadline(response, seconds, origin)
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > limit:
                raise errors.AnswerTooLarge(url=origin, limit=limit)
            chunks.append(chunk)
    except (requests.RequestException, OSError) as error:  # urllib3 lets a TLS error through unwrapped
        if not deadline.passed:
            raise error if isinstance(error, requests.RequestException) else requests.ConnectionError(error)
    finally:
        over = deadline.end()
        if over or size > limit:
            response.close()
    if over:
        raise errors.AnswerTooSlow(url=origin, seconds=int(seconds))
    # what requests' own ``content`` keeps once it has read a body
    response._content, response._content_consumed = b"".join(chunks), True


def new_session(settings, budget=None):
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



def connection_error(url, error):
    if isinstance(error, requests.exceptions.SSLError):
        return errors.UntrustedCertificate(url=origin(url), reason=_reason(error))
    if isinstance(error, requests.exceptions.Timeout):
        return errors.ConnectionFailed(url=origin(url), reason="no answer in time")
    return errors.ConnectionFailed(url=origin(url), reason=_reason(error))


def _reason(error):
    """The innermost cause of a requests/urllib3 exception, in one line."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    reason = getattr(error, "reason", None) or error
    return str(reason).splitlines()[0][:300] if str(reason) else type(error).__name__


def first_line(text, limit=500):
    lines = str(text or "").strip().splitlines()
    return lines[0][:limit] if lines else ""


def http_status(error):
    match = re.search(r"\b([45]\d\d)\b", str(error))
    return match.group(1) if match else "?"


def origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)

