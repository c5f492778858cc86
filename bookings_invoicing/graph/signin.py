"""The client's sign-in to Microsoft Entra ID, through msal: one ``ConfidentialClientApplication`` per configuration
per process, so that the application's token is reused until it nears expiry; or, for a signed-in user
(delegated), msal's authorization code flow with PKCE (``start_sign_in``, ``finish_sign_in``) and the user's token
cache, whose refresh token the caller keeps. ``Tokens`` gives a client its access tokens either way."""
import datetime
import hashlib
import logging
import threading
from dataclasses import astuple

import msal
import requests

from . import errors
from .settings import SignedIn
from .transport import connection_error, first_line, http_status, new_session

_logger = logging.getLogger(__name__)

_applications = {}
_applications_lock = threading.Lock()


def shared_application(settings):
    """The process-wide msal application of a configuration, which signs in through a session of its own (created
    on first use, and again when any setting changes: the secret, timeouts, retries)."""
    key = (settings.authority, settings.client_id, settings.graph_url)
    fingerprint = hashlib.sha256(repr(astuple(settings)).encode("utf-8")).hexdigest()
    with _applications_lock:
        cached = _applications.get(key)
        if cached and cached[0] == fingerprint:
            return cached[1]
    application = new_application(settings)
    with _applications_lock:
        _applications[key] = (fingerprint, application)
    return application


def new_application(settings, token_cache=None):
    try:
        return msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=(settings.client_certificate.credential() if settings.client_certificate
                               else settings.client_secret),
            authority=settings.authority,
            http_client=new_session(settings),
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
        raise connection_error(settings.authority, error)


def acquire(settings, call):
    """The answer of msal's ``call`` that asks Microsoft Entra ID for tokens, its failures as ``GraphError``s."""
    try:
        return call()
    except requests.RequestException as error:
        raise connection_error(settings.authority, error)
    except msal.exceptions.MsalServiceError as error:  # the token endpoint kept failing (5xx)
        raise errors.SignInFailure(status=http_status(error), url=settings.authority, detail=first_line(error))


def refused(settings, result):
    """The ``GraphError`` of an answer of Microsoft Entra ID without token."""
    code = str(result.get("error") or "unknown_error")
    description = first_line(result.get("error_description"))
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
    return new_application(settings).initiate_auth_code_flow(
        settings.delegated_scopes, redirect_uri=redirect_uri, prompt="select_account")


def finish_sign_in(settings, flow, auth_response):
    """End the sign-in begun by ``flow`` with the parameters the browser brought back: the ``SignedIn`` user."""
    cache = msal.SerializableTokenCache()
    application = new_application(settings, cache)
    try:
        result = acquire(settings, lambda: application.acquire_token_by_auth_code_flow(flow, auth_response))
    except ValueError as error:  # a state that does not match, a flow used twice, a nonce that does not match
        raise errors.AuthenticationError(error="invalid_state", description=first_line(error))
    if "access_token" not in result:
        raise refused(settings, result)
    claims = result.get("id_token_claims") or {}
    username = str(claims.get("preferred_username") or "")
    accounts = application.get_accounts(username=username or None)
    if not accounts:
        raise errors.AuthenticationError(error="no_account", description="the answer names no user")
    return SignedIn(account=accounts[0]["home_account_id"], username=username,
                    name=str(claims.get("name") or username), token_cache=cache.serialize())


class Tokens:
    """The access tokens of one client: the application's, or the signed-in user's (delegated), whose token cache,
    when a refresh changed it, goes to ``on_token_cache`` (serialized)."""

    def __init__(self, settings, on_token_cache=None):
        self.settings = settings
        self.on_token_cache = on_token_cache
        self._user_application = None

    def token(self, force_refresh=False):
        """An access token: the application's, or the signed-in user's (delegated); ``force_refresh`` after Graph
        refused the last one."""
        if self.settings.account:
            return self._user_token(force_refresh)
        certificate = self.settings.client_certificate
        if certificate and certificate.expired(datetime.datetime.utcnow()):
            raise errors.CertificateExpired(thumbprint=certificate.thumbprint,
                                            date=certificate.not_after.strftime("%Y-%m-%d %H:%M UTC"))
        application = shared_application(self.settings)
        if force_refresh:
            application.remove_tokens_for_client()
        try:
            result = acquire(self.settings, lambda: application.acquire_token_for_client(scopes=[self.settings.scope]))
        except ValueError as error:  # no readable answer from the token endpoint
            raise errors.AuthenticationError(error="invalid_response", description=first_line(error))
        if "access_token" in result:
            return result["access_token"]
        raise refused(self.settings, result)

    def _user_token(self, force_refresh):
        """The signed-in user's access token, refreshed with their refresh token when needed; the cache, changed by
        a refresh, goes to ``on_token_cache``. A sign-in revoked or expired raises ``SignInExpired``."""
        if self._user_application is None:
            cache = msal.SerializableTokenCache()
            cache.deserialize(self.settings.token_cache or "{}")
            self._user_application = (new_application(self.settings, cache), cache)
        application, cache = self._user_application
        accounts = [account for account in application.get_accounts()
                    if account.get("home_account_id") == self.settings.account]
        if not accounts:
            raise errors.SignInExpired(user=self.settings.account_name or self.settings.account,
                                       description="no sign-in is kept")
        try:
            result = acquire(self.settings, lambda: application.acquire_token_silent_with_error(
                self.settings.delegated_scopes, account=accounts[0], force_refresh=force_refresh))
        except ValueError as error:
            raise errors.AuthenticationError(error="invalid_response", description=first_line(error))
        if result and "access_token" in result:
            if cache.has_state_changed and self.on_token_cache:
                self.on_token_cache(cache.serialize())
                cache.has_state_changed = False
            return result["access_token"]
        raise refused(self.settings, result or {"error": "invalid_grant", "error_description": "no token is kept"})
