"""The local Bookings peer: its seeded data and its control interface over HTTPS."""
import datetime
from collections import Counter
from urllib.parse import quote

import requests
from conftest import BUSINESS
from dateutil import tz
from dateutil.parser import isoparse
from test_graph_client import WINDOW

from bookings_invoicing.graph import read_all
from bookings_invoicing.graph.records import parse_appointment
from bookings_peer import Generator, Store, seed_business
from bookings_peer.salon import OPENING_HOURS, TIME_ZONE


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
    legacy = [a for a in appointments if a["customers"] == [] and a.get("customerName")]
    assert legacy, "customers empty, the customer in the legacy fields only"
    assert not any("customerId" in a for a in appointments), "v1.0 has no top-level customerId"
    disagreeing = [a for a in appointments if a["customers"] and a.get("customerName") == "Jordan Miller"]
    assert disagreeing, "legacy fields that disagree with customers[0]"
    assert any(type(a["price"]) is int for a in appointments), "integer prices"
    assert any("\t" in (a.get("serviceNotes") or "") for a in appointments), "TABs"
    assert any(c["emailAddress"] is None for c in customers) and any(c["emailAddress"] == "" for c in customers)
    assert any("postOfficeBox" in address for c in customers for address in c["addresses"])
    # read as the add-on reads them, nothing a customer booked under is lost and customers[] wins
    parsed = {item["id"]: parse_appointment(item) for item in appointments}
    assert all(parsed[a["id"]].attendees[0].name == a["customerName"] for a in legacy)
    assert all(parsed[a["id"]].attendees[0].customer_id == a["customers"][0]["customerId"] for a in disagreeing)
    zones = {c["timeZone"] for a in appointments for c in a.get("customers", ())}
    assert "Central Standard Time" in zones and "America/Chicago" in zones, "Windows and IANA zone names"
    assert any(a["price"] is None and a["priceType"] is None for a in appointments), "null price and price type"
    assert any(a["priceType"] == "unknownFutureValue" for a in appointments)
    countries = {c["addresses"][0]["countryOrRegion"] for c in customers if c["addresses"]}
    assert countries >= {"United States", "US", "USA"} and any(not c["addresses"] for c in customers)


def test_pages_carry_their_odata_context(client, peer):
    page = client.get_json("%s/v1.0/solutions/bookingBusinesses/%s/services" % (peer.url, BUSINESS))
    assert page["@odata.context"].endswith("/$metadata#solutions/bookingBusinesses('%s')/services" % BUSINESS)


def test_the_demo_salon_looks_like_a_real_business():
    store = Store()
    seed_business(store, "t", "salon@x.com", "Contoso Salon & Spa", seed="demo", appointments=400, kind="salon")
    appointments = store.items("salon@x.com", "appointments")
    customers = store.items("salon@x.com", "customers")
    services = {s["id"]: s for s in store.items("salon@x.com", "services")}
    assert len(appointments) == 400 and 50 <= len(customers) <= 70
    assert sum(bool(c["addresses"]) for c in customers) > 0.8 * len(customers), "most customers give an address"
    zone = tz.gettz(TIME_ZONE)
    booked = {}
    for appointment in appointments:
        start, end = (isoparse(appointment[key]["dateTime"]).astimezone(zone)
                      for key in ("startDateTime", "endDateTime"))
        opening, closing = OPENING_HOURS[start.weekday()]
        assert start.date() == end.date() and opening <= start.hour and end.hour * 60 + end.minute <= closing * 60, \
            "every appointment in the opening hours, in the salon's time zone"
        assert set(appointment["staffMemberIds"]) <= set(services[appointment["serviceId"]]["staffMemberIds"])
        for member in appointment["staffMemberIds"]:
            booked.setdefault(member, []).append((start, end))
    for slots in booked.values():
        slots.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in zip(slots, slots[1:])), \
            "no staff member gives two appointments at once"
    price_types = Counter(a["priceType"] for a in appointments)
    assert set(price_types) >= {"fixedPrice", "hourly", "startingAt", "free", "priceVaries", "callUs", "notSet",
                                "undefined"}, "every Bookings price type"
    assert price_types["fixedPrice"] > 0.6 * len(appointments), "mostly firm prices"
    assert any(len(a.get("customers", ())) > 3 for a in appointments), "the group yoga class"
    now = datetime.datetime.utcnow().isoformat()
    starts = [a["startDateTime"]["dateTime"] for a in appointments]
    assert min(starts) < now < max(starts), "past and coming appointments"


def test_the_salons_staff_make_the_planned_changes_on_request(peer):
    store = peer.store
    seed_business(store, "t", "salon@x.com", "Salon", seed="demo", appointments=300, kind="salon")
    before = {a["id"]: dict(a) for a in store.items("salon@x.com", "appointments")}
    url = "%s/_peer/businesses/%s/planned-changes" % (peer.url, quote("salon@x.com"))
    answer = requests.post(url, verify=peer.ca_file, timeout=5)
    assert answer.status_code == 200 and answer.json()["applied"] == 8
    after = {a["id"]: a for a in store.items("salon@x.com", "appointments")}
    assert len(before) - len(after) == 6, "six appointments cancelled"
    changed = [item_id for item_id, item in after.items() if item != before[item_id]]
    assert len(changed) == 2 and all(after[i]["lastUpdatedDateTime"] > before[i]["lastUpdatedDateTime"]
                                     for i in changed)
    assert requests.post(url, verify=peer.ca_file, timeout=5).json()["applied"] == 0, "made once"
