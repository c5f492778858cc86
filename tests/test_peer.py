"""The local Bookings peer: its seeded data and its control interface over HTTPS."""
import datetime
from urllib.parse import quote

import requests
from conftest import BUSINESS
from test_graph_client import WINDOW

from bookings_invoicing.graph import read_all
from bookings_peer import Generator, Store, seed_business


def test_the_same_seed_gives_the_same_business():
    now = datetime.datetime(2026, 5, 1, 12)
    first, second = Store(), Store()
    for store in (first, second):
        seed_business(store, "t", "b@x.com", "B", seed="same", customers=20, appointments=50, now=now)
    assert first.items("b@x.com", "appointments") == second.items("b@x.com", "appointments")
    assert Generator(seed="other", now=now).customers(5) != Generator(seed="same", now=now).customers(5)


def test_the_seeded_data_is_realistic(store):
    customers = store.items(BUSINESS, "customers")
    appointments = store.items(BUSINESS, "appointments")
    services = store.items(BUSINESS, "services")
    emails = [c["emailAddress"].strip().lower() for c in customers if c["emailAddress"]]
    assert any(not c["emailAddress"] for c in customers), "some customers give no e-mail"
    assert len(emails) > len(set(emails)), "some customers share an e-mail"
    assert any(not c["displayName"].isascii() for c in customers), "unicode names"
    assert {s["defaultPriceType"] for s in services} >= {"fixedPrice", "hourly", "startingAt", "free",
                                                         "priceVaries", "callUs", "notSet", "undefined"}
    assert any(len(a.get("customers", ())) > 1 for a in appointments), "group appointments"
    assert any(a.get("customers") == [] for a in appointments), "appointments without customer"
    assert any(len(a["additionalInformation"]) > 500 for a in appointments), "long notes"
    now = datetime.datetime.utcnow().isoformat()
    starts = [a["startDateTime"]["dateTime"] for a in appointments]
    assert min(starts) < now < max(starts), "past and future appointments"


def test_the_control_interface_changes_what_graph_answers(client, peer):
    base = "%s/_peer/businesses/%s/appointments" % (peer.url, BUSINESS)
    verify = peer.ca_file
    first = read_all(client.appointment_pages(BUSINESS, *WINDOW)).records[0]
    added = dict(peer.store.items(BUSINESS, "appointments")[0], id="AAMk+added/by=control")
    assert requests.post(base, json=added, verify=verify, timeout=5).status_code == 201
    assert requests.patch("%s/%s" % (base, quote(first.id, safe="")), json={"price": 99.5}, verify=verify,
                          timeout=5).status_code == 200
    assert requests.delete("%s/%s" % (base, quote(added["id"], safe="")), verify=verify, timeout=5).status_code == 204
    fault = requests.post("%s/_peer/faults" % peer.url, json={"path": "services", "status": 503, "times": 1},
                          verify=verify, timeout=5)
    assert fault.status_code == 201
    records = {a.id: a for a in read_all(client.appointment_pages(BUSINESS, *WINDOW)).records}
    assert "AAMk-added-by-control" not in records
    assert str(records[first.id].price) == "99.5"
    assert len(read_all(client.service_pages(BUSINESS)).records) == 8  # the injected 503 was retried
    assert peer.faults[0].hits == 1


def test_the_seeded_data_has_the_services_variations():
    store = Store()
    seed_business(store, "t", "b@x.com", "B", seed="variations", customers=60, services=12, appointments=600)
    appointments = store.items("b@x.com", "appointments")
    customers = store.items("b@x.com", "customers")
    assert {c for a in appointments for c in a["id"]} >= set("+/="), "ids holding +, / and ="
    assert any("customers" not in a and a["customerId"] for a in appointments), "legacy customer fields only"
    zones = {c["timeZone"] for a in appointments for c in a.get("customers", ())}
    assert "Central Standard Time" in zones and "America/Chicago" in zones, "Windows and IANA zone names"
    assert any(a["price"] is None and a["priceType"] is None for a in appointments), "null price and price type"
    assert any(a["priceType"] == "unknownFutureValue" for a in appointments)
    countries = {c["addresses"][0]["countryOrRegion"] for c in customers if c["addresses"]}
    assert countries >= {"United States", "US", "USA"} and any(not c["addresses"] for c in customers)


def test_pages_carry_their_odata_context(client, peer):
    page = client.get_json("%s/v1.0/solutions/bookingBusinesses/%s/services" % (peer.url, BUSINESS))
    assert page["@odata.context"].endswith("/$metadata#solutions/bookingBusinesses('%s')/services" % BUSINESS)
