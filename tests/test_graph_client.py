"""The Graph client against the local Bookings peer over real HTTPS: paging, retries, faults and errors."""
import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import pytz
import requests
from bookings_testing import wait_for
from conftest import BUSINESS, CLIENT_ID, TENANT, settings_for

from bookings_invoicing.graph import BookingsClient, errors, read_all
from bookings_invoicing.graph.signin import shared_application
from bookings_peer import BookingsPeer

WINDOW = (datetime.datetime(2000, 1, 1, tzinfo=pytz.utc), datetime.datetime(2100, 1, 1, tzinfo=pytz.utc))


def appointments(client, business=BUSINESS, window=WINDOW):
    return read_all(client.appointment_pages(business, *window))


def test_reads_the_business_and_its_currency(client):
    business = client.get_business(BUSINESS)
    assert (business.id, business.display_name, business.currency) == (BUSINESS, "Contoso Salon", "USD")


def test_follows_every_next_link_and_never_sends_top(client, peer, store):
    result = appointments(client)
    assert len(result.records) == 120 and not result.problems
    assert len({r.id for r in result.records}) == 120
    pages = peer.requests_to("calendarView")
    assert len(pages) == 5  # 120 items, 25 a page
    assert not any("top" in path.lower() for _, path in peer.requests)
    assert len(read_all(client.customer_pages(BUSINESS)).records) == 30
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8
    staff = read_all(client.staff_pages(BUSINESS)).records
    assert [member.display_name for member in staff] == ["Alice Staff", "Ben Staff", "Carla Staff", "Dev Staff"]


def test_calendar_view_reads_only_the_window(client, store):
    everything = appointments(client).records
    middle = sorted(a.start for a in everything)[60]
    window = (middle, middle + datetime.timedelta(days=3))
    expected = {a.id for a in everything if a.start < window[1] and a.end > window[0]}
    assert {a.id for a in appointments(client, window=window).records} == expected


def test_the_token_is_reused_until_it_nears_expiry(client, peer):
    client.get_business(BUSINESS)
    appointments(client)
    assert len(peer.requests_to("/oauth2/v2.0/token")) == 1


def test_a_refused_token_is_dropped_and_replaced_once(client, peer):
    client.get_business(BUSINESS)
    peer.revoke_tokens()
    assert client.get_business(BUSINESS).id == BUSINESS
    assert len(peer.requests_to("/oauth2/v2.0/token")) == 2


def test_429_with_retry_after_is_retried_after_the_whole_wait(client, peer):
    fault = peer.inject(path="calendarView", page=2, status=429, retry_after=1, times=3)
    assert len(appointments(client).records) == 120
    assert fault.hits == 3
    assert len(peer.requests_to("skiptoken=25")) == 4
    assert client.throttle.waited == 3  # Microsoft asks not to retry early: each Retry-After waited in full


def test_an_unreadable_retry_after_falls_back_to_back_off(client, peer):
    fault = peer.inject(path="services", status=429, retry_after=0.5, times=2)  # "0.5" is not whole seconds
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8
    assert fault.hits == 2
    assert client.throttle.waited == 0


def test_a_retry_after_beyond_the_budget_stops_the_read_at_once(peer):
    client = BookingsClient(settings_for(peer, throttle_budget=5))
    peer.inject(path="calendarView", page=2, status=503, retry_after=2, times=2)  # 4 s of the 5
    fault = peer.inject(path="calendarView", page=3, status=429, retry_after=30, times=1)
    pages = client.appointment_pages(BUSINESS, *WINDOW)
    assert len(next(pages).records) + len(next(pages).records) == 50
    with pytest.raises(errors.ThrottleBudgetSpent) as raised:
        next(pages)
    assert fault.hits == 1, "no request after a Retry-After that was not waited for"
    assert client.throttle.waited == 4
    assert "wait 30 seconds" in raised.value.message and "(5 seconds in all)" in raised.value.message


def test_throttled_beyond_the_bound(peer):
    client = BookingsClient(settings_for(peer, max_attempts=3))
    fault = peer.inject(path="customers", status=429, retry_after=1, times=None)
    with pytest.raises(errors.Throttled) as raised:
        read_all(client.customer_pages(BUSINESS))
    assert fault.hits == 3
    assert "after 3 attempts" in raised.value.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_transient_server_errors_are_retried(client, peer, status):
    fault = peer.inject(path="calendarView", page=3, status=status, times=2)
    assert len(appointments(client).records) == 120
    assert fault.hits == 2


def test_a_service_that_keeps_failing(peer):
    client = BookingsClient(settings_for(peer, max_attempts=2))
    peer.inject(path="calendarView", page=2, status=500, times=None)
    pages = client.appointment_pages(BUSINESS, *WINDOW)
    assert len(next(pages).records) == 25  # the first page arrives before the failure
    with pytest.raises(errors.ServiceFailure) as raised:
        next(pages)
    assert "HTTP 500" in raised.value.message and "An error has occurred" in raised.value.message


def test_a_connection_reset_is_retried(client, peer):
    fault = peer.inject(path="services", reset=True, times=1)
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8
    assert fault.hits == 1


def test_a_slow_answer_times_out_with_a_clear_error(peer):
    client = BookingsClient(settings_for(peer, timeout=(2.0, 0.3), max_attempts=2))
    peer.inject(path="customers", delay=1.0, times=None)
    with pytest.raises(errors.ConnectionFailed) as raised:
        read_all(client.customer_pages(BUSINESS))
    assert peer.url in raised.value.message


def test_a_body_that_is_not_json(client, peer):
    peer.inject(path="customers", body="<html>gateway</html>", times=None)
    with pytest.raises(errors.ProtocolError) as raised:
        read_all(client.customer_pages(BUSINESS))
    assert "not JSON" in raised.value.message


def test_a_collection_without_value(client, peer):
    peer.inject(path="services", body='{"items": []}')
    with pytest.raises(errors.ProtocolError) as raised:
        read_all(client.service_pages(BUSINESS))
    assert "'value'" in raised.value.message


def test_a_malformed_item_is_reported_and_its_page_goes_on(client, peer, store):
    store.put(BUSINESS, "customers", {"id": "odd", "displayName": ["not", "text"], "emailAddress": "odd@example.com"})
    store.put(BUSINESS, "customers", {"id": "", "displayName": "No id"})
    result = read_all(client.customer_pages(BUSINESS))
    assert len(result.records) == 31  # the customer with an odd name is kept, known by its e-mail address
    odd = [record for record in result.records if record.id == "odd"][0]
    assert (odd.display_name, odd.warnings) == ("odd@example.com", ("displayName is not a string",))
    assert [(p.params["item"], p.params["detail"]) for p in result.problems] == [("?", "id is missing")]


def test_a_repeating_next_link_stops_the_read(client, peer):
    peer.inject(path="calendarView", page=2, repeat_next_link=True, times=None)
    with pytest.raises(errors.PagingLoop):
        appointments(client)


def test_a_next_link_to_another_host_is_not_followed(client, peer):
    peer.inject(path="services", body='{"value": [], "@odata.nextLink": "https://evil.example.com/steal"}')
    with pytest.raises(errors.ProtocolError) as raised:
        read_all(client.service_pages(BUSINESS))
    assert "another host" in raised.value.message
    assert not peer.requests_to("steal")


def test_a_result_larger_than_the_bound(peer):
    client = BookingsClient(settings_for(peer, max_items=60))
    with pytest.raises(errors.ResultTooLarge) as raised:
        appointments(client)
    assert "more than 60 items" in raised.value.message


def test_wrong_secret(peer):
    client = BookingsClient(settings_for(peer, client_secret="wrong"))
    with pytest.raises(errors.InvalidCredentials) as raised:
        client.get_business(BUSINESS)
    assert "invalid_client" in raised.value.message and "wrong" not in raised.value.params["description"]


def test_unknown_client_id(peer):
    client = BookingsClient(settings_for(peer, client_id="nobody"))
    with pytest.raises(errors.InvalidCredentials) as raised:
        client.get_business(BUSINESS)
    assert "unauthorized_client" in raised.value.message


def test_unknown_tenant(peer):
    client = BookingsClient(settings_for(peer, tenant_id="no-such-tenant"))
    with pytest.raises(errors.UnknownTenant) as raised:
        client.get_business(BUSINESS)
    assert "no-such-tenant" in raised.value.message


def test_a_token_endpoint_failing_once_is_retried(client, peer):
    fault = peer.inject(path="/oauth2/v2.0/token", status=503, times=1)
    assert client.get_business(BUSINESS).id == BUSINESS
    assert fault.hits == 1


def test_a_token_endpoint_that_keeps_failing(peer):
    client = BookingsClient(settings_for(peer, max_attempts=2))
    peer.inject(path="/oauth2/v2.0/token", status=500, times=None)
    with pytest.raises(errors.SignInFailure) as raised:
        client.get_business(BUSINESS)
    assert raised.value.message.startswith("Microsoft Entra ID failed with HTTP 500")


def test_a_token_endpoint_refusing_the_request(client, peer):
    peer.inject(path="/oauth2/v2.0/token", status=400, times=1)
    with pytest.raises(errors.AuthenticationError) as raised:
        client.get_business(BUSINESS)
    assert "temporarily_unavailable" in raised.value.message


def test_missing_permission_names_the_permission_to_grant(peer, store):
    store.add_client("tenant-a", "reader-without-rights", "pw", permissions=())
    client = BookingsClient(settings_for(peer, client_id="reader-without-rights", client_secret="pw"))
    with pytest.raises(errors.PermissionDenied) as raised:
        read_all(client.customer_pages(BUSINESS))
    assert "Bookings.Read.All" in raised.value.message and "customers" in raised.value.message


def test_unknown_business(client):
    with pytest.raises(errors.BusinessNotFound) as raised:
        client.get_business("nobody@contoso.onmicrosoft.com")
    assert raised.value.params == {"business": "nobody@contoso.onmicrosoft.com", "code": "404 ErrorFolderNotFound"}


def test_a_401_on_a_token_entra_issued_names_the_permission_to_grant(peer, store):
    store.add_client(TENANT, "read-write-only", "pw", permissions=("Bookings.ReadWrite.All",),
                     token_refused_without="BookingsAppointment.ReadWrite.All")
    client = BookingsClient(settings_for(peer, client_id="read-write-only", client_secret="pw"))
    peer.clear_requests()
    with pytest.raises(errors.TokenRefused) as raised:
        read_all(client.customer_pages(BUSINESS))
    assert raised.value.params["permission"] == "BookingsAppointment.ReadWrite.All"
    assert len(peer.requests_to("/oauth2/v2.0/token")) == 2, "signed in again once before concluding"
    store.tenants[TENANT]["read-write-only"]["permissions"].add("BookingsAppointment.ReadWrite.All")
    client = BookingsClient(settings_for(peer, client_id="read-write-only", client_secret="pw"))
    assert read_all(client.customer_pages(BUSINESS)).records


def test_errors_come_in_graphs_shape(client, peer):
    answer = requests.get("%s/v1.0/solutions/bookingBusinesses/nobody@x.com" % peer.url, timeout=10,
                          headers={"Authorization": "Bearer " + client._token(shared_application(client.settings))})
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (404, "ErrorFolderNotFound")
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_an_untrusted_certificate(store, monkeypatch, peer):
    with BookingsPeer(store) as stranger:  # its own CA, which this process does not trust
        client = BookingsClient(settings_for(stranger))
        with pytest.raises(errors.UntrustedCertificate) as raised:
            client.get_business(BUSINESS)
    assert "not trusted" in raised.value.message


def test_an_unreachable_host(peer):
    client = BookingsClient(settings_for(peer, authority_url="https://127.0.0.1:9", graph_url="https://127.0.0.1:9",
                                         max_attempts=1, allowed_hosts=frozenset(["127.0.0.1:9"])))
    with pytest.raises(errors.ConnectionFailed):
        client.get_business(BUSINESS)


def test_only_https_urls_are_accepted(peer):
    with pytest.raises(ValueError):
        BookingsClient(settings_for(peer, graph_url="http://127.0.0.1:8080"))


def test_the_secret_stays_out_of_repr(peer):
    assert "s3cret-value" not in repr(settings_for(peer))


def test_where_calendar_view_is_refused_to_the_application_appointments_are_read(client, store):
    everything = appointments(client).records
    store.tenants[TENANT][CLIENT_ID]["calendar_view"] = False
    middle = sorted(a.start for a in everything)[60]
    window = (middle, middle + datetime.timedelta(days=3))
    read = appointments(client, window=window).records
    assert {a.id for a in read} == {a.id for a in everything if a.start < window[1] and a.end > window[0]}
    assert [type(notice) for notice in client.notices] == [errors.CalendarViewNotice]
    assert "does not support the token type: App" in client.notices[0].message


def test_bookings_serves_four_requests_at_once_per_application_and_mailbox(client, peer):
    peer.inject(path="/services", hold=True, times=4)
    url = "%s/v1.0/solutions/bookingBusinesses/%s/services" % (peer.url, BUSINESS)
    headers = {"Authorization": "Bearer " + client._token(shared_application(client.settings))}
    with ThreadPoolExecutor(4) as pool:
        held = [pool.submit(requests.get, url, headers=headers, timeout=60) for _ in range(4)]
        wait_for(lambda: peer.in_flight[(CLIENT_ID, BUSINESS.lower())] == 4, "four requests in flight")
        fifth = requests.get(url, headers=headers, timeout=60)
        assert (fifth.status_code, fifth.headers["Retry-After"]) == (429, "1")
        assert fifth.json()["error"]["code"] == "TooManyRequests"
        peer.release()
        assert [answer.result().status_code for answer in held] == [200] * 4


def test_a_gate_keeps_the_clients_within_the_limit(peer, store):
    """Six clients of one application and mailbox, each sending within a shared gate of four: none is refused."""
    gate = threading.BoundedSemaphore(4)
    clients = [BookingsClient(settings_for(peer), gate=lambda: gate) for _ in range(6)]
    peer.inject(path="/customers", hold=True, times=None)
    with ThreadPoolExecutor(6) as pool:
        reads = [pool.submit(lambda c=c: len(read_all(c.customer_pages(BUSINESS)).records)) for c in clients]
        wait_for(lambda: peer.in_flight[(CLIENT_ID, BUSINESS.lower())] == 4, "four requests in flight")
        peer.release()
        assert [read.result() for read in reads] == [30] * 6
    assert (peer.refused_concurrent, peer.most_in_flight[(CLIENT_ID, BUSINESS.lower())]) == (0, 4)
