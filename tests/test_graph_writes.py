"""The push's side of the Graph client against the local Bookings peer: customers and services created and updated,
the service's refusals in words, creates never repeated after an answer that may hide one made."""
import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
import requests
from conftest import BUSINESS, TENANT, settings_for

from bookings_invoicing.graph import BookingsClient, errors, read_all
from bookings_invoicing.graph.payloads import (
    as_record,
    customer_is_current,
    customer_payload,
    invoice_payload,
    service_is_current,
    service_payload,
)
from bookings_invoicing.graph.records import Address, parse_customer
from bookings_invoicing.graph.signin import shared_application

ADA = customer_payload("Ada Lovelace", "Ada@Example.com", "+1 312 555 0100", "home",
                       Address("1 Main St", "Chicago", "IL", "60601", "US"))
MASSAGE = service_payload("Hot stone massage", Decimal("95.50"), "fixedPrice", datetime.timedelta(minutes=75),
                          "Ninety minutes of warmth")


def posts(peer, collection):
    return [r for r in peer.requests_to("/" + collection) if r[0] == "POST"]


def client_with(peer, store, *permissions):
    client_id = "writer-%d" % len(store.tenants[TENANT])
    store.add_client(TENANT, client_id, "pw", permissions=permissions)
    return BookingsClient(settings_for(peer, client_id=client_id, client_secret="pw"))


@pytest.fixture
def writer(peer, store):
    """A client of an application granted Bookings.ReadWrite.All."""
    return client_with(peer, store, "Bookings.ReadWrite.All")


def test_a_created_customer_comes_back_with_its_new_id_and_is_read_as_written(writer, store):
    created = writer.create_customer(BUSINESS, ADA)
    assert created.id and (created.display_name, created.email) == ("Ada Lovelace", "ada@example.com")
    read = {c.id: c for c in read_all(writer.customer_pages(BUSINESS)).records}[created.id]
    assert read == created and customer_is_current(ADA, read)
    assert read.address == Address("1 Main St", "Chicago", "IL", "60601", "US")


def test_an_update_changes_only_the_customer_named(writer, store):
    created = writer.create_customer(BUSINESS, ADA)
    others = [c for c in store.items(BUSINESS, "customers") if c["id"] != created.id]
    moved = customer_payload("Ada King", "ada@example.com", None, "home", Address(None, "London", None, None, "GB"))
    assert not customer_is_current(moved, created)
    writer.update_customer(BUSINESS, created.id, moved)
    read = {c.id: c for c in read_all(writer.customer_pages(BUSINESS)).records}
    assert read[created.id] == as_record(parse_customer, moved, created.id)
    assert [c for c in store.items(BUSINESS, "customers") if c["id"] != created.id] == others


def test_a_service_is_created_with_its_price_type_and_duration(writer):
    created = writer.create_service(BUSINESS, MASSAGE)
    assert (created.default_price, created.default_price_type, created.default_duration) == (
        Decimal("95.5"), "fixedPrice", datetime.timedelta(minutes=75))
    assert service_is_current(MASSAGE, created)
    cheaper = service_payload("Hot stone massage", Decimal("90"), "hourly", datetime.timedelta(hours=2))
    writer.update_service(BUSINESS, created.id, cheaper)
    read = {s.id: s for s in read_all(writer.service_pages(BUSINESS)).records}[created.id]
    assert service_is_current(cheaper, read) and not service_is_current(MASSAGE, read)


def test_bookings_refusals_are_told_in_its_words(writer):
    with pytest.raises(errors.WriteRefused) as refused:
        writer.create_customer(BUSINESS, customer_payload("No Mail", ""))
    assert "emailAddress" in refused.value.message
    with pytest.raises(errors.ItemNotFound):
        writer.update_customer(BUSINESS, "AAMkAGone/+=", ADA)


def test_the_peer_refuses_what_the_service_refuses(peer, writer):
    headers = {"Authorization": "Bearer " + writer._token(shared_application(writer.settings))}
    url = "%s/v1.0/solutions/bookingBusinesses/%s/services" % (peer.url, BUSINESS)
    answer = requests.post(url, json={"displayName": "X", "colour": "red"}, headers=headers, timeout=10)
    assert answer.status_code == 400 and "'colour' does not exist" in answer.json()["error"]["message"]
    answer = requests.post(url, json={"displayName": "X", "defaultDuration": "90 minutes"}, headers=headers, timeout=10)
    assert answer.status_code == 400 and "Edm.Duration" in answer.json()["error"]["message"]
    # an address type is read back but refused when written in v1.0: the add-on's payload has none
    typed = dict(ADA, addresses=[dict(ADA["addresses"][0], type="home")])
    answer = requests.post(url.replace("/services", "/customers"), json=typed, headers=headers, timeout=10)
    assert answer.status_code == 400 and "'type' does not exist" in answer.json()["error"]["message"]
    assert "type" not in ADA["addresses"][0]


def test_a_token_without_the_write_permission_is_refused_with_the_permission_to_grant(peer, store):
    reader = client_with(peer, store, "Bookings.Read.All")
    with pytest.raises(errors.WriteDenied) as denied:
        reader.create_customer(BUSINESS, ADA)
    assert "BookingsAppointment.ReadWrite.All" in denied.value.message
    appointments_only = client_with(peer, store, "BookingsAppointment.ReadWrite.All")
    assert appointments_only.create_customer(BUSINESS, ADA).id
    with pytest.raises(errors.WriteDenied) as denied:
        appointments_only.create_service(BUSINESS, MASSAGE)
    assert "Bookings.ReadWrite.All" in denied.value.message


def test_the_granted_permissions_are_read_from_the_token(peer, store, client):
    assert client.granted_permissions() == {"Bookings.Read.All"}
    assert client_with(peer, store, "Bookings.ReadWrite.All").granted_permissions() == {"Bookings.ReadWrite.All"}
    peer.opaque_tokens = True
    assert client_with(peer, store, "Bookings.ReadWrite.All").granted_permissions() is None


def test_a_throttled_create_waits_and_is_made_once(writer, peer, store):
    fault = peer.inject(path="/customers", method="POST", status=429, retry_after=1, times=2)
    created = writer.create_customer(BUSINESS, ADA)
    assert fault.hits == 2 and len(posts(peer, "customers")) == 3
    assert [c["id"] for c in store.items(BUSINESS, "customers") if c["emailAddress"] == "Ada@Example.com"] == [
        created.id]


def test_a_create_whose_answer_failed_is_not_repeated(writer, peer):
    peer.inject(path="/customers", method="POST", status=502, times=None)
    with pytest.raises(errors.ServiceFailure):
        writer.create_customer(BUSINESS, ADA)
    assert len(posts(peer, "customers")) == 1


def test_an_update_is_retried_through_a_fault(writer, peer):
    created = writer.create_customer(BUSINESS, ADA)
    fault = peer.inject(path="/customers", method="PATCH", status=503, times=2)
    writer.update_customer(BUSINESS, created.id, customer_payload("Ada King", "ada@example.com"))
    assert fault.hits == 2


# --- the invoice of an appointment, in Graph beta ---------------------------------------------------------------
PAID = invoice_payload("INV/2026/0042", "paid", Decimal("42.00"), datetime.date(2026, 11, 30),
                       "https://odoo.example.com/web#id=42&model=account.invoice&view_type=form")


def test_an_appointments_invoice_is_written_in_beta_and_read_in_beta_only(peer, store):
    client = client_with(peer, store, "BookingsAppointment.ReadWrite.All")
    appointment = store.items(BUSINESS, "appointments")[0]
    client.update_appointment_invoice(BUSINESS, appointment["id"], PAID)
    patched = [r for r in peer.requests_to("/appointments/") if r[0] == "PATCH"]
    assert [path.split("/")[1] for _method, path in patched] == ["beta"]
    path = "%s/appointments/%s" % (quote(BUSINESS, safe=""), quote(appointment["id"], safe=""))
    beta = client.get_json("%s/%s" % (client.beta_url, path))
    assert (beta["invoiceId"], beta["invoiceStatus"], beta["invoiceAmount"], beta["invoiceDate"]) == (
        "INV/2026/0042", "paid", 42.0, {"dateTime": "2026-11-30T00:00:00.0000000", "timeZone": "UTC"})
    v1 = client.get_json("%s/%s" % (client.base_url, path))
    assert not {name for name in v1 if name.startswith("invoice")}, "v1.0 has no invoice properties"


def test_the_invoices_refusals_name_their_cause(peer, store):
    appointment_id = store.items(BUSINESS, "appointments")[0]["id"]
    with pytest.raises(errors.WriteDenied) as denied:  # Bookings.ReadWrite.All does not write appointments
        client_with(peer, store, "Bookings.ReadWrite.All").update_appointment_invoice(BUSINESS, appointment_id, PAID)
    assert denied.value.params["permission"] == "BookingsAppointment.ReadWrite.All"
    client = client_with(peer, store, "BookingsAppointment.ReadWrite.All")
    with pytest.raises(errors.ItemNotFound):
        client.update_appointment_invoice(BUSINESS, "AAMkgone=", PAID)
    store.tenants[TENANT][client.settings.client_id]["beta_invoice"] = False  # beta changed under us
    with pytest.raises(errors.WriteRefused) as refused:
        client.update_appointment_invoice(BUSINESS, appointment_id, PAID)
    assert any(name in refused.value.params["detail"] for name in PAID if name.startswith("invoice")), \
        "Graph's reason names the property it no longer has"
    assert not {name for name in store.items(BUSINESS, "appointments")[0] if name.startswith("invoice")}


def test_an_invoice_status_outside_bookings_list_is_never_sent():
    with pytest.raises(ValueError):
        invoice_payload("INV/1", "validated", Decimal("1"), datetime.date(2026, 1, 1))
