"""Delegated sign-in against the local Bookings peer: the authorization code flow with PKCE through the peer's
sign-in page, the client acting as the signed-in user with their scopes, the refresh token kept by the caller, and a
revoked or expired sign-in told with who must sign in again."""
import dataclasses
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from conftest import BUSINESS, TENANT, settings_for

from bookings_invoicing.graph import BookingsClient, errors
from bookings_invoicing.graph.settings import DELEGATED_PERMISSIONS
from bookings_invoicing.graph.signin import finish_sign_in, start_sign_in

USER, NAME = "max@contoso.onmicrosoft.com", "Max Manager"
REDIRECT = "https://odoo.example.com/bookings_invoicing/signed_in"


def browse_sign_in(flow, login=USER):
    """What a browser does with the flow's address: the peer's page, the account picked, and the parameters it
    brings back to the redirect URI."""
    page = requests.get(flow["auth_uri"], timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"/>', page.text))
    answer = requests.post(page.url, data=dict({k: unescape(v) for k, v in fields.items()}, login=login),
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return dict(parse_qsl(urlsplit(location).query))


@pytest.fixture
def signed_in(peer, store):
    store.add_user(TENANT, USER, NAME)
    settings = settings_for(peer)
    flow = start_sign_in(settings, REDIRECT)
    return settings, finish_sign_in(settings, flow, browse_sign_in(flow))


def delegated(settings, user, saved=None):
    return BookingsClient(dataclasses.replace(settings, account=user.account, account_name=user.name,
                                              token_cache=user.token_cache),
                          on_token_cache=saved.append if saved is not None else None)


def test_a_user_signs_in_with_pkce_and_the_client_acts_as_them(signed_in, peer):
    settings, user = signed_in
    assert (user.username, user.name) == (USER, NAME)
    authorize = peer.requests_to("/oauth2/v2.0/authorize")[0][1]
    assert "code_challenge_method=S256" in authorize and "code_challenge=" in authorize
    client = delegated(settings, user)
    assert client.get_business(BUSINESS).id == BUSINESS
    assert client.granted_permissions() == frozenset(DELEGATED_PERMISSIONS)


def test_a_code_without_its_verifier_is_refused(peer, store):
    store.add_user(TENANT, USER, NAME)
    settings = settings_for(peer)
    flow = start_sign_in(settings, REDIRECT)
    answer = browse_sign_in(flow)
    with pytest.raises(errors.AuthenticationError) as raised:
        finish_sign_in(settings, dict(flow, code_verifier="another-verifier-" + "x" * 40), answer)
    assert "AADSTS50148" in raised.value.message
    other = start_sign_in(settings, REDIRECT)  # an answer brought back to another flow: its state does not match
    with pytest.raises(errors.AuthenticationError):
        finish_sign_in(settings, other, browse_sign_in(flow))


def test_the_refresh_token_renews_the_access_and_the_caller_keeps_the_new_cache(signed_in, peer):
    settings, user = signed_in
    saved = []
    client = delegated(settings, user, saved)
    client.get_business(BUSINESS)
    assert saved == [], "the access token of the sign-in is used as long as it is valid"
    peer.revoke_tokens()  # access tokens refused: the refresh token signs in again
    assert client.get_business(BUSINESS).id == BUSINESS
    assert len(saved) == 1 and saved[0] != user.token_cache
    # a client made later from the kept cache acts as the user without a new sign-in
    later = delegated(settings, dataclasses.replace(user, token_cache=saved[0]))
    assert later.get_business(BUSINESS).id == BUSINESS


@pytest.mark.parametrize("state, code", [("revoked", "AADSTS50173"), ("expired", "AADSTS700082")])
def test_a_revoked_or_expired_sign_in_says_who_must_sign_in_again(signed_in, peer, state, code):
    settings, user = signed_in
    client = delegated(settings, user)
    peer.end_sign_ins(USER, state)
    with pytest.raises(errors.SignInExpired) as raised:
        client.get_business(BUSINESS)
    assert raised.value.params["user"] == NAME and code in raised.value.params["description"]


def test_a_user_gets_only_the_scopes_consented_for_them(peer, store):
    store.add_user(TENANT, USER, NAME, scopes=("Bookings.Read.All", "Bookings.ReadWrite.All"))
    settings = settings_for(peer)
    flow = start_sign_in(settings, REDIRECT)
    user = finish_sign_in(settings, flow, browse_sign_in(flow))
    assert delegated(settings, user).granted_permissions() == {"Bookings.ReadWrite.All"}
