"""The peer's data: an in-memory, thread-safe store of Bookings businesses as Graph JSON, and a seeded generator.

The generator is deterministic for a seed and a reference time: the same seed gives the same customers, services
and appointments, placed relative to ``now``, so that a demo always has past (completed) and future bookings.
It gives what the service gives, variations included, each with where it was seen: ids holding ``+``, ``/`` and ``=``,
customers' addresses typed as people type them (with the ``type`` and ``postOfficeBox`` of the reads), null and
empty e-mail addresses, customer time zones by IANA or Windows name, appointments whose ``customers`` is empty and
whose customer is in the legacy fields only, legacy fields that disagree with ``customers[0]``, integer prices,
TABs, null prices and price types, ``unknownFutureValue``.
"""
import base64
import datetime
import random
import threading
import uuid
from collections import OrderedDict

from dateutil.parser import isoparse

PRICE_TYPES = ("fixedPrice", "hourly", "startingAt", "free", "priceVaries", "callUs", "notSet", "undefined")

FIRST_NAMES = (
    "Alex", "Bob", "Chloé", "Dmitri", "Élodie", "Fatima", "Grace", "Hiroshi", "Ingrid", "José", "Kai", "Léa",
    "Mohammed", "Nadia", "Ørjan", "Priya", "Quentin", "Ramón", "Siobhán", "Tomás", "Ulrike", "Vikram", "Wei",
    "Ximena", "Yusuf", "Zoë",
)
LAST_NAMES = (
    "Kelly", "Müller", "Ångström", "Nguyễn", "O'Brien", "Dubois", "Kowalski", "Rossi", "Tanaka", "Haddad",
    "Svensson", "García", "Ødegård", "Papadopoulos", "Smith", "Van der Berg", "李", "Cohen", "Novák", "Silva",
)
SERVICES = (
    ("Initial consultation", 60), ("Follow-up session", 30), ("Deep tissue massage", 90), ("Tax advice", 60),
    ("Group yoga class", 60), ("Bike repair estimate", 30), ("Hair cut", 45), ("Language lesson", 60),
    ("Photo shoot", 120), ("Piano lesson", 45), ("Strategy workshop", 180), ("Eye test", 20),
)
STAFF = ("Alice Staff", "Ben Staff", "Carla Staff", "Dev Staff")


def graph_offset(moment):
    """A UTC datetime as Graph writes a DateTimeOffset: seven fractional digits and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%07dZ" % (moment.microsecond * 10)


def graph_time(moment):
    """A UTC datetime as Graph writes a dateTimeTimeZone."""
    return {"dateTime": graph_offset(moment), "timeZone": "UTC"}


def iso_duration(minutes):
    hours, minutes = divmod(int(minutes), 60)
    return "PT" + ("%dH" % hours if hours else "") + ("%dM" % minutes if minutes or not hours else "")


class Store:
    """Businesses as Graph JSON, keyed by id, in insertion order. Every access takes the lock."""

    COLLECTIONS = ("services", "customers", "appointments", "staffMembers")

    def __init__(self):
        self.lock = threading.RLock()
        self.tenants = {}  # tenant id -> {client id: {"secret": ..., "permissions": set()}}
        self.users = {}  # (tenant id, user name) -> {"oid": ..., "name": ..., "scopes": set()}
        self.businesses = OrderedDict()  # business id -> {"tenant": ..., "business": {...}, collection: OrderedDict}
        self.version = 0  # grows with every change: a key for what is derived from the data
        self._windows = {}  # (business id, start, end, version) -> the appointments of that calendar view

    def add_client(self, tenant_id, client_id, secret, permissions=("Bookings.Read.All",), calendar_view=True,
                   token_refused_without=None, certificates=(), beta_invoice=True):
        """A client application of a tenant. ``secret`` None: the tenant allows no secret (``certificates``, the
        ``cryptography`` certificates uploaded to the application, sign it in). ``calendar_view=False``: the tenant
        refuses ``calendarView`` to application tokens, as some tenants did (403), while the ``appointments``
        collection stays readable. ``token_refused_without``: a permission without which Graph answers 401 to the
        business's collections. ``beta_invoice=False``: Graph beta no longer has an appointment's invoice properties
        (Microsoft changes beta without notice), and refuses them."""
        with self.lock:
            self.tenants.setdefault(tenant_id, {})[client_id] = {
                "secret": secret, "permissions": set(permissions), "calendar_view": calendar_view,
                "token_refused_without": token_refused_without, "certificates": list(certificates),
                "beta_invoice": beta_invoice}

    def add_user(self, tenant_id, username, name,
                 scopes=("Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All")):
        """A user of a tenant who can sign in (delegated sign-in), with the delegated permissions consented for
        them: a token on their behalf carries those of the scopes asked for."""
        with self.lock:
            self.users[(tenant_id, username.lower())] = {
                "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s" % (tenant_id, username.lower()))),
                "username": username, "name": name, "scopes": set(scopes)}

    def add_business(self, tenant_id, business):
        with self.lock:
            entry = {"tenant": tenant_id, "business": dict(business), "planned": []}
            entry.update((name, OrderedDict()) for name in self.COLLECTIONS)
            self.businesses[business["id"]] = entry
            self.version += 1
            return entry

    def business(self, business_id):
        with self.lock:
            return self.businesses.get(business_id)

    def items(self, business_id, collection):
        """A snapshot list of one collection of a business (None for an unknown business)."""
        with self.lock:
            entry = self.businesses.get(business_id)
            return None if entry is None else list(entry[collection].values())

    def put(self, business_id, collection, item):
        """Add or replace one item (by its id); returns it."""
        with self.lock:
            self.businesses[business_id][collection][item["id"]] = dict(item)
            self.version += 1
            return item

    def update(self, business_id, collection, item_id, **changes):
        with self.lock:
            item = self.businesses[business_id][collection][item_id]
            item.update(changes)
            self.version += 1
            return dict(item)

    def remove(self, business_id, collection, item_id):
        """Remove one item, as Bookings does when an appointment is cancelled; True when it existed."""
        with self.lock:
            self.version += 1
            return self.businesses[business_id][collection].pop(item_id, None) is not None

    def plan(self, business_id, changes):
        with self.lock:
            self.businesses[business_id]["planned"] = list(changes)

    def planned(self, business_id):
        """The changes planned for a business: ``[{"id": appointment id, "cancelled": bool}]``."""
        with self.lock:
            return [{"id": item_id, "cancelled": changes is None}
                    for item_id, changes in self.businesses[business_id]["planned"]]

    def apply_planned(self, business_id):
        """Make the appointment changes planned for a business, as its staff would in Bookings, now; returns how
        many were made. Applied once: the plan is emptied."""
        stamp = {"lastUpdatedDateTime": graph_offset(datetime.datetime.utcnow())}
        with self.lock:
            planned, self.businesses[business_id]["planned"] = self.businesses[business_id]["planned"], []
            for item_id, changes in planned:
                if changes is None:
                    self.remove(business_id, "appointments", item_id)
                else:
                    self.update(business_id, "appointments", item_id, **dict(changes, **stamp))
            return len(planned)

    def calendar_view(self, business_id, start, end):
        """The appointments that overlap ``[start, end)``, computed once per window and version of the data."""
        with self.lock:
            key = (business_id, start, end, self.version)
            if key not in self._windows:
                self._windows = {k: v for k, v in self._windows.items() if k[3] == self.version}
                self._windows[key] = [
                    item for item in self.businesses[business_id]["appointments"].values()
                    if isoparse(item["startDateTime"]["dateTime"]) < end
                    and isoparse(item["endDateTime"]["dateTime"]) > start]
            return self._windows[key]


class Generator:
    """Seeded generation of realistic Bookings data."""

    def __init__(self, seed="demo", now=None):
        self.rng = random.Random(str(seed))  # nosec B311  # seeded demo data, reproducible on purpose
        self.now = (now or datetime.datetime.utcnow()).replace(minute=0, second=0, microsecond=0)

    def _uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _appointment_id(self):
        raw = bytes(self.rng.getrandbits(8) for _ in range(24))
        return "AAMkA" + base64.b64encode(raw).decode("ascii") + "AAA="  # as Exchange writes them: "+", "/", "="

    def populate(self, customers, services, appointments, days_back, days_ahead):
        """The business's collections, ``{collection: [items]}``, in the order they relate."""
        staff = self.staff()
        service_items = self.services(services, staff)
        customer_items = self.customers(customers)
        return {"staffMembers": staff, "services": service_items, "customers": customer_items,
                "appointments": self.appointments(appointments, service_items, customer_items, staff,
                                                  days_back, days_ahead)}

    def planned_changes(self, appointments):  # pylint: disable=unused-argument
        """The edits the business's staff make after the first read: ``[(item id, None to remove it, or its
        changed fields)]``, applied by ``Store.apply_planned``. None here."""
        return []

    def business(self, business_id, name, currency="USD"):
        """A business as v1.0 gave it before July 2024: no ``bookingPageSettings``, so no time zone."""
        return {
            "id": business_id,
            "displayName": name,
            "email": business_id,
            "defaultCurrencyIso": currency,
            "businessType": "Professional services",
            "phone": "+1 206 555 0100",
            "webSiteUrl": "https://www.example.com",
            "languageTag": "en-US",
            "isPublished": True,
            "address": {"street": "1 Main Street", "city": "Seattle", "state": "WA", "postalCode": "98101",
                        "countryOrRegion": "USA"},
        }

    def staff(self):
        return [{"id": self._uuid(), "displayName": name, "emailAddress": "%s@example.com" % name.split()[0].lower(),
                 "role": "guest"} for name in STAFF]

    def services(self, count, staff=()):
        services = []
        for index in range(count):
            name, minutes = SERVICES[index % len(SERVICES)]
            if index >= len(SERVICES):
                name = "%s %d" % (name, index // len(SERVICES) + 1)
            price_type = PRICE_TYPES[index % len(PRICE_TYPES)]
            price = 0.0 if price_type == "free" else round(self.rng.choice((25, 40, 49.9, 60, 75.5, 90, 120)), 2)
            services.append({
                "id": self._uuid(),
                "displayName": name,
                "description": "%s with one of our specialists." % name,
                "defaultDuration": iso_duration(minutes),
                "defaultPrice": price,
                "defaultPriceType": price_type,
                "isHiddenFromCustomers": False,
                "maximumAttendeesCount": 6 if "Group" in name or "workshop" in name else 1,
                "staffMemberIds": [member["id"] for member in staff],
                "notes": "",
            })
        return services

    def customers(self, count, domain="example.net"):
        customers = []
        for index in range(count):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            name = "%s %s" % (first, last)
            local = "%s.%s%d" % (first.lower(), last.lower().replace(" ", "").replace("'", ""), index)
            email = "%s@%s" % (local, domain)
            if index % 17 == 5:
                email = None if index % 2 else ""  # no e-mail address: emailAddress is nullable in the v1.0 schema
            elif index % 23 == 7 and customers:
                email = customers[-1]["emailAddress"]  # a family sharing one address
            elif index % 11 == 3:
                email = "  %s " % email.upper()  # as typed: spaces and capitals
            customers.append({
                "id": self._uuid(),
                "displayName": name,
                "emailAddress": email,
                "addresses": [{"street": "%d Elm Street" % (index + 1), "city": "Springfield",
                               "state": ("IL", "Illinois", "")[index % 3], "postalCode": "%05d" % (62000 + index),
                               "countryOrRegion": ("United States", "US", "USA", "")[index % 4],
                               # read back with type and postOfficeBox (v1.0 Get bookingCustomer example)
                               "type": "home", "postOfficeBox": ""}] if index % 9 != 4 else [],
                "phones": [{"number": "+1 555 %07d" % index, "type": "mobile"}],
            })
        return customers

    def appointments(self, count, services, customers, staff=(), days_back=60, days_ahead=30):
        """Appointments spread over the window around ``now``, about two thirds of them in the past."""
        appointments = []
        span_hours = (days_back + days_ahead) * 24
        for index in range(count):
            service = services[index % len(services)]
            minutes = _minutes(service["defaultDuration"])
            start = self.now - datetime.timedelta(days=days_back) + datetime.timedelta(
                hours=self.rng.randrange(span_hours))
            start = start.replace(hour=8 + start.hour % 10, minute=self.rng.choice((0, 15, 30, 45)))
            attendees = self._attendees(index, service, customers)
            price = service["defaultPrice"]
            if service["defaultPriceType"] in ("priceVaries", "startingAt") and index % 3 == 0:
                price = round(price + self.rng.choice((5, 10, 12.5)), 2)
            appointment = self._appointment_item(index, service, start, minutes, attendees, price, staff)
            appointments.append(_variation(index, appointment))
        appointments.sort(key=lambda a: a["startDateTime"]["dateTime"])
        return appointments

    def _attendees(self, index, service, customers):
        if service["maximumAttendeesCount"] > 1:
            return self.rng.sample(customers, min(len(customers), self.rng.randint(2, 4)))
        if index % 29 == 13 or not customers:
            return []  # reported in the wild: appointments with an empty customers array
        return [self.rng.choice(customers)]

    def _appointment_item(self, index, service, start, minutes, attendees, price, staff):
        """The Graph item of the ``index``-th appointment of ``service``."""
        notes = "" if index % 13 else ("Please bring the forms. " * 40).strip()
        return {
            "id": self._appointment_id(),
            "selfServiceAppointmentId": self._uuid(),
            "serviceId": service["id"],
            "serviceName": service["displayName"],
            "staffMemberIds": [self.rng.choice(staff)["id"]] if staff else [],
            "customers": [{
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "customerId": c["id"], "name": c["displayName"], "emailAddress": c["emailAddress"],
                "phone": c["phones"][0]["number"], "notes": None,
                "timeZone": ("America/Chicago", "Central Standard Time", "W. Europe Standard Time")[index % 3],
            } for c in attendees],
            "startDateTime": graph_time(start),
            "endDateTime": graph_time(start + datetime.timedelta(minutes=minutes)),
            "duration": iso_duration(minutes),
            "preBuffer": "PT0S",
            "postBuffer": "PT10M",
            "priceType": service["defaultPriceType"],
            "price": price,
            "isLocationOnline": index % 4 == 0,
            "additionalInformation": notes,
            "serviceLocation": {"displayName": "Main office"},
            "optOutOfCustomerEmail": False,
            "maximumAttendeesCount": service["maximumAttendeesCount"],
            "filledAttendeesCount": len(attendees),
            "createdDateTime": graph_offset(start - datetime.timedelta(days=7)),
            "lastUpdatedDateTime": graph_offset(start - datetime.timedelta(days=2)),
        }


def _variation(index, appointment):
    """Some appointments as the service sometimes gives them, each with where it was seen."""
    if index % 41 == 7 and appointment["priceType"] in ("priceVaries", "callUs", "notSet", "undefined"):
        appointment.update(price=None, priceType=None)
    elif index % 43 == 9 and appointment["priceType"] == "priceVaries":
        appointment["priceType"] = "unknownFutureValue"  # a value added to the enumeration since
    customers = appointment["customers"]
    if customers:  # the v1.0 List appointments example: the first customer's zone repeated at the top level
        appointment["customerTimeZone"] = customers[0]["timeZone"]
    if index % 37 == 3 and len(customers) == 1:
        # "customers": [] with the customer in the legacy fields only, as v1.0 lists some appointments
        # (microsoft-graph-docs-contrib#539, microsoft-graph-docs#15647 and #21898, msgraph-metadata#408); v1.0 has
        # no top-level customerId (a beta property)
        customer = customers.pop()
        appointment.update(customerName=customer["name"], customerEmailAddress=customer["emailAddress"],
                           customerPhone=customer["phone"], customerTimeZone=customer["timeZone"])
    elif index % 31 == 5 and len(customers) == 1:
        # legacy fields that disagree with customers[0], as in Microsoft's Create bookingAppointment examples
        # (v1.0 and beta pages): customers[] is the answer
        appointment.update(customerName="Jordan Miller", customerEmailAddress="jordanm@contoso.com",
                           customerPhone="213-555-0199")
    if index % 13 == 6 and customers:
        # the answers to the business's custom questions (v1.0 bookingQuestionAnswer): a purchase-order number, and
        # a question with options answered by its selectedOptions
        customers[0]["customQuestionAnswers"] = [
            {"questionId": "q-po", "question": "Purchase order", "answerInputType": "text", "answerOptions": [],
             "isRequired": False, "answer": "PO-%04d" % (index % 3 + 1), "selectedOptions": []},
            {"questionId": "q-how", "question": "How did you hear of us?", "answerInputType": "radioButton",
             "answerOptions": ["Friend", "Web"], "isRequired": False, "answer": "", "selectedOptions": ["Web"]}]
    if index % 19 == 2 and isinstance(appointment["price"], float) and appointment["price"].is_integer():
        appointment["price"] = int(appointment["price"])  # "price": 10 in the beta List appointments example
    if index % 23 == 4:  # TABs and odd whitespace, as in the published examples' JSON
        appointment["serviceNotes"] = "\tCustomer asked for\tthe window seat.\r\n"
        for customer in customers:
            customer["name"] = " %s\t" % customer["name"]
    return appointment


def _minutes(iso):
    hours = minutes = 0
    body = iso[2:]
    if "H" in body:
        hours, body = body.split("H")
    if "M" in body:
        minutes = body.rstrip("M")
    return int(hours) * 60 + int(minutes or 0)
