"""Certificate credentials: the files an administrator uploads, read into what msal signs with, and the sign-in of
a tenant that allows no secret, its assertion checked by the peer against the certificate uploaded there."""
import datetime

import pytest
from conftest import BUSINESS, TENANT, settings_for
from cryptography.hazmat.primitives import hashes

from bookings_invoicing.graph import BookingsClient, errors, read_all
from bookings_invoicing.graph.credentials import load_certificate
from bookings_peer.certificates import make_certificate

NOW = datetime.datetime.utcnow()


@pytest.fixture(scope="module")
def made():
    return make_certificate("CN-less name, with a comma")


def test_a_pem_file_and_a_pfx_file_give_the_same_certificate(made):
    certificate, pem, pfx = made
    from_pem, from_pfx = load_certificate(pem), load_certificate(pfx, "pfx-pw")
    assert from_pem == from_pfx
    assert from_pem.thumbprint == certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
    assert from_pem.subject == "CN=CN-less name\\, with a comma"
    assert from_pem.not_after == certificate.not_valid_after_utc.replace(tzinfo=None)
    assert "private_key" not in repr(from_pem) and "PRIVATE KEY" not in repr(from_pem)


@pytest.mark.parametrize("tamper", ["wrong password", "no key", "another key", "not a certificate"])
def test_what_cannot_sign_in_is_refused_with_the_reason(made, tamper):
    certificate, pem, pfx = made
    other_pem = make_certificate()[1]
    data, password = {
        "wrong password": (pfx, "guess"),
        "no key": (pem[pem.index(b"-----BEGIN CERTIFICATE"):], None),
        "another key": (other_pem[:other_pem.index(b"-----BEGIN CERTIFICATE")]
                        + pem[pem.index(b"-----BEGIN CERTIFICATE"):], None),
        "not a certificate": (b"\x00\x01 not a file anyone made", None),
    }[tamper]
    with pytest.raises(errors.CertificateUnreadable):
        load_certificate(data, password)


def test_expiry_is_told_thirty_days_ahead():
    soon = load_certificate(make_certificate(days=20)[1])
    later = load_certificate(make_certificate(days=90)[1])
    assert (soon.expires_soon(NOW), soon.expired(NOW)) == (True, False)
    assert (later.expires_soon(NOW), later.expired(NOW)) == (False, False)
    assert soon.expired(NOW + datetime.timedelta(days=21))


def certificate_client(peer, store, uploaded, signing):
    """A client of an application of a tenant that allows no secret, ``uploaded`` its certificates in Entra ID."""
    client_id = "cert-%d" % len(store.tenants[TENANT])
    store.add_client(TENANT, client_id, None, certificates=uploaded)
    return BookingsClient(settings_for(peer, client_id=client_id, client_secret=None,
                                       client_certificate=load_certificate(signing)))


def test_a_tenant_without_secrets_signs_in_with_the_certificate(peer, store, made):
    certificate, pem, _pfx = made
    client = certificate_client(peer, store, [certificate], pem)
    assert len(read_all(client.customer_pages(BUSINESS)).records) == 30
    assert peer.sign_ins[-1] == (client.settings.client_id, "client_assertion")


def test_a_certificate_not_uploaded_to_the_application_is_refused(peer, store, made):
    client = certificate_client(peer, store, [made[0]], make_certificate()[1])
    with pytest.raises(errors.InvalidCredentials) as raised:
        client.get_business(BUSINESS)
    assert "AADSTS700027" in raised.value.params["description"]


def test_an_expired_certificate_stops_before_signing_in(peer, store):
    expired = make_certificate(days=1, starts=datetime.datetime.now(datetime.timezone.utc)
                               - datetime.timedelta(days=3))
    client = certificate_client(peer, store, [expired[0]], expired[1])
    with pytest.raises(errors.CertificateExpired):
        client.get_business(BUSINESS)
    assert not peer.requests_to("/oauth2/v2.0/token")


def test_a_secret_is_refused_where_the_tenant_allows_none(peer, store, made):
    store.add_client(TENANT, "no-secrets", None, certificates=[made[0]])
    client = BookingsClient(settings_for(peer, client_id="no-secrets", client_secret="anything"))
    with pytest.raises(errors.InvalidCredentials):
        client.get_business(BUSINESS)
