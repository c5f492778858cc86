"""The Graph client against answers no Microsoft host gives, served by the local peer: a redirection, an endless
answer, an answer trickled a byte at a time, a host that is not allowed. Each is refused with an error that names the
host, and nothing of the secret or the token goes anywhere else."""
import tracemalloc

import pytest
from conftest import BUSINESS, settings_for

from bookings_invoicing.graph import BookingsClient, errors, read_all
from bookings_invoicing.graph.settings import MICROSOFT_HOSTS
from bookings_invoicing.graph.transport import host_allowed


@pytest.mark.parametrize("location", ["https://elsewhere.example.com/steal", "http://127.0.0.1:9/plain"])
def test_a_redirection_is_not_followed(client, peer, location):
    peer.inject(path="services", redirect=location)
    with pytest.raises(errors.Redirected) as raised:
        read_all(client.service_pages(BUSINESS))
    assert peer.url in raised.value.message and location.rsplit("/", 1)[0] in raised.value.message
    assert len(peer.requests_to("services")) == 1, "asked once, the redirection not followed"


def test_a_redirection_of_the_sign_in_is_not_followed(peer):
    client = BookingsClient(settings_for(peer))
    peer.inject(path="oauth2", redirect="https://elsewhere.example.com/token")
    with pytest.raises(errors.Redirected):
        client.get_business(BUSINESS)


def test_an_answer_larger_than_the_bound_is_cut_off_unread(peer):
    client = BookingsClient(settings_for(peer, max_answer_bytes=1024 * 1024))
    client.get_business(BUSINESS)  # signed in: what follows measures the read alone
    peer.inject(path="services", huge=50 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(errors.AnswerTooLarge) as raised:
            read_all(client.service_pages(BUSINESS))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peer.url in raised.value.message and "1048576 bytes" in raised.value.message
    assert peak < 8 * 1024 * 1024, "the answer is read up to the bound only, not held whole"
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8, "the client reads on afterwards"


def test_an_answer_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline(peer):
    # each byte comes well within the timeout between two reads: only an overall deadline ends such an answer
    client = BookingsClient(settings_for(peer, timeout=(5.0, 5.0), deadline=2.0, max_attempts=1))
    client.get_business(BUSINESS)
    peer.inject(path="services", trickle=0.2)
    with pytest.raises(errors.AnswerTooSlow) as raised:
        read_all(client.service_pages(BUSINESS))
    assert peer.url in raised.value.message and "2 seconds" in raised.value.message
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8, "the client reads on afterwards"


def test_a_host_that_is_not_allowed_is_sent_nothing(peer):
    with pytest.raises(errors.HostNotAllowed) as raised:
        BookingsClient(settings_for(peer, allowed_hosts=MICROSOFT_HOSTS))
    assert peer.url in raised.value.message
    assert not peer.requests


@pytest.mark.parametrize("url, allowed", [
    ("https://login.microsoftonline.com", True),
    ("https://LOGIN.microsoftonline.com./tenant", True),
    ("https://graph.microsoft.com:443/v1.0", True),
    ("https://graph.microsoft.com:8443", False),
    ("http://graph.microsoft.com", False),
    ("https://graph.microsoft.com.attacker.example.com", False),
    ("https://attacker.example.com/graph.microsoft.com", False),
    ("https://user@attacker.example.com", False),
    ("https://peer.example.com:8443", True),
    ("https://peer.example.com", False),
])
def test_the_hosts_allowed(url, allowed):
    assert host_allowed(url, MICROSOFT_HOSTS | {"peer.example.com:8443"}) is allowed
