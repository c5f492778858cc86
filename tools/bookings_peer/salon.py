"""The demo business: a salon and spa that could exist, as its Bookings page would give it.

Its own services (cuts, colouring, massages, a weekly group yoga class, a free consultation, a treatment priced on
request), five staff members, about sixty customers living around Chicago (three of them employees of a corporate
client, who give its purchase order), and appointments in the opening hours
of its time zone, booked with the staff member who gives the service, never two at once for one staff member.
Most appointments have a firm price, as in a real business; every Bookings price type still appears. After the
first read the salon's week goes on: ``planned_changes`` are the cancellations and changes its staff make.
"""
import datetime

from dateutil import tz

from .data import Generator, _minutes, _variation, graph_offset, graph_time, iso_duration

TIME_ZONE = "America/Chicago"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# weekday (Monday 0) -> (opening hour, closing hour), local time; closed on Sundays and Mondays
OPENING_HOURS = {1: (9, 19), 2: (9, 19), 3: (9, 20), 4: (9, 20), 5: (9, 17)}
YOGA_CLASS = (5, 10)  # the group yoga class: Saturdays at 10:00

STAFF = (  # name, what they give
    ("Jasmine Reyes", "hair"), ("Tom Becker", "hair"), ("Sofia Marino", "colour"),
    ("Amara Okafor", "massage"), ("Lena Fischer", "wellness"),
)
# name, minutes, price type, price, skill, weight (how often it is booked)
SERVICES = (
    ("Women's cut & finish", 60, "fixedPrice", 68.0, "hair", 14),
    ("Men's cut", 30, "fixedPrice", 38.0, "hair", 12),
    ("Blow-dry & style", 45, "fixedPrice", 42.5, "hair", 7),
    ("Full head colour", 120, "startingAt", 95.0, "colour", 8),
    ("Balayage", 180, "startingAt", 165.0, "colour", 4),
    ("Corrective colour", 150, "callUs", 0.0, "colour", 1),
    ("Swedish massage", 60, "fixedPrice", 85.0, "massage", 10),
    ("Deep tissue massage", 90, "fixedPrice", 119.0, "massage", 7),
    ("Hot stone massage", 75, "fixedPrice", 105.0, "massage", 4),
    ("Signature facial", 60, "priceVaries", 80.0, "wellness", 4),
    ("Bridal hair & make-up", 150, "hourly", 75.0, "hair", 1),
    ("Scalp treatment", 30, "notSet", 0.0, "wellness", 2),
    ("Free consultation", 15, "free", 0.0, "colour", 4),
    ("Group yoga class", 60, "fixedPrice", 18.0, "wellness", 0),
)
SKILLS = dict(STAFF)
WEIGHTS = {service[0]: service[-1] for service in SERVICES}
CUSTOMERS = (
    "Emma Johnson", "Olivia Martinez", "Ava Thompson", "Sophia Nguyen", "Isabella Garcia", "Mia Robinson",
    "Charlotte Walker", "Amelia Patel", "Harper Kim", "Evelyn O'Connor", "Abigail Lewis", "Emily Kowalski",
    "Madison Brooks", "Elizabeth Chen", "Sofía Hernández", "Avery Scott", "Ella Washington", "Scarlett Rossi",
    "Grace Mitchell", "Chloé Dubois", "Victoria Adams", "Riley Campbell", "Aria Shah", "Lily Anderson",
    "Zoey Turner", "Nora Lindqvist", "Hannah Müller", "Layla Haddad", "Zoë Parker", "Penelope Wright",
    "Noah Williams", "Liam Brown", "James Davis", "Benjamin Wilson", "Lucas Moore", "Henry Taylor",
    "Alexander Clark", "Daniel Lee", "Matthew Young", "Ethan Hall", "Michael Allen", "Sebastián Ramírez",
    "Jack Green", "Owen Baker", "Samuel Nelson", "David Cohen", "Joseph Carter", "Wei Zhang", "Mohammed Ali",
    "Ryan Murphy", "Nathan Rivera", "Kenji Tanaka", "Andrzej Nowak", "Marcus Bell", "Tomás Silva",
    "Priya Raman", "Fatima Yusuf", "Grace Mitchell", "Léa Martin", "Siobhán Byrne",
)
STREETS = ("N Clark St", "W Armitage Ave", "N Damen Ave", "W Belmont Ave", "N Halsted St", "W Division St",
           "Chicago Ave", "Lake St", "Oak Park Ave", "Dempster St", "Sheridan Rd", "W Fullerton Ave")
CITIES = (("Chicago", "606%02d", 40), ("Chicago", "606%02d", 14), ("Evanston", "602%02d", 1),
          ("Oak Park", "603%02d", 2), ("Skokie", "600%02d", 76))
DOMAINS = ("example.com", "example.net", "example.org")
#: The salon's corporate client: three of its regulars work there, and book on its account with the purchase order
#: of the month, the answer to the business's custom question (v1.0 bookingQuestionAnswer).
CORPORATE_CLIENT = "Fabrikam, Inc."
CORPORATE_EMPLOYEES = ("Emma Johnson", "Olivia Martinez", "Ava Thompson")
PURCHASE_ORDER_QUESTION = "Purchase order"
#: The staff cancel two appointments of the last days after they were due: late cancellations, not invoiced yet.
LATE_DAYS = 3
#: The accountant's last month-end invoiced what ended before the month began and at least this many days ago: on a
#: month's first days the demo's month still holds a fortnight of bookings to invoice.
CLOSED_DAYS = 15


def invoiced_before(month_start, now):
    """The end of what the accountant's last month-end invoiced: ``month_start``, or ``CLOSED_DAYS`` before ``now``
    when that is earlier; always before the late cancellations' ``LATE_DAYS``."""
    return min(month_start, now - datetime.timedelta(days=CLOSED_DAYS))


def _purchase_order(local_start):
    """The answers of a corporate employee: the company's purchase order of the month."""
    return [{"questionId": "q-po", "question": PURCHASE_ORDER_QUESTION, "answerInputType": "text", "answerOptions": [],
             "isRequired": False, "answer": "FAB-%s" % local_start.strftime("%Y-%m"), "selectedOptions": []}]


class SalonGenerator(Generator):
    """Seeded generation of the salon; the same seed and reference time give the same salon."""

    def __init__(self, seed="demo", now=None):
        super(SalonGenerator, self).__init__(seed=seed, now=now)
        self.zone = tz.gettz(TIME_ZONE)

    def business(self, business_id, name, currency="USD"):
        hours = [{"day": DAYS[weekday], "timeSlots": [{"startTime": "%02d:00:00.0000000" % opening,
                                                       "endTime": "%02d:00:00.0000000" % closing}]}
                 for weekday, (opening, closing) in sorted(OPENING_HOURS.items())]
        return dict(super(SalonGenerator, self).business(business_id, name, currency),
                    businessType="Salon and spa", phone="+1 312 555 0100", webSiteUrl="https://salon.example.com",
                    address={"street": "1420 N Milwaukee Ave", "city": "Chicago", "state": "IL",
                             "postalCode": "60622", "countryOrRegion": "United States"},
                    businessHours=hours,
                    # the published page's settings (v1.0 since July 2024); a Windows zone name, as Outlook names it
                    bookingPageSettings={"businessTimeZone": "Central Standard Time"})

    def staff(self):
        return [{"id": self._uuid(), "displayName": name, "role": "externalGuest",
                 "emailAddress": "%s@salon.example.com" % name.split()[0].lower(), "timeZone": TIME_ZONE,
                 "useBusinessHours": True} for name, _skill in STAFF]

    def services(self, count=None, staff=()):
        """Every service of the salon (it has its own: ``count`` is ignored), with the staff who give it."""
        return [{
            "id": self._uuid(),
            "displayName": name,
            "description": "%s at Contoso Salon & Spa." % name,
            "defaultDuration": iso_duration(minutes),
            "defaultPrice": price,
            "defaultPriceType": price_type,
            "isHiddenFromCustomers": price_type == "callUs",
            "maximumAttendeesCount": 12 if name == "Group yoga class" else 1,
            "staffMemberIds": [member["id"] for member in staff if SKILLS[member["displayName"]] == skill],
            "notes": "",
        } for name, minutes, price_type, price, skill, _weight in SERVICES]

    def customers(self, count=None, domain=None):
        """The salon's customers (it has its own: ``count`` and ``domain`` are ignored)."""
        customers = []
        for index, name in enumerate(CUSTOMERS):
            first, last = name.split(" ", 1)
            email = "%s.%s@%s" % (first.lower(), last.lower().replace("'", "").replace(" ", ""),
                                  DOMAINS[index % len(DOMAINS)])
            if index % 19 == 6 and index > len(CUSTOMERS) // 3:
                email = ""  # an occasional customer who gave no e-mail address
            elif index % 29 == 11 and customers:
                email = customers[-1]["emailAddress"]  # a couple sharing one address
            elif index % 13 == 4:
                email = " %s" % email.capitalize()  # as typed on a phone
            city, postal, first_zip = CITIES[index % len(CITIES)]
            customers.append({
                "id": self._uuid(),
                "displayName": name,
                "emailAddress": email,
                "addresses": [] if index % 10 == 7 else [{
                    "street": "%d %s" % (self.rng.randrange(100, 3999), STREETS[index % len(STREETS)]),
                    "city": city, "state": "IL" if index % 8 else "Illinois",
                    "postalCode": postal % (first_zip + index % 12 if city == "Chicago" else first_zip),
                    "countryOrRegion": ("United States", "United States", "US", "USA")[index % 4], "type": "home"}],
                "phones": [{"number": "+1 312 555 %04d" % (101 + index), "type": "mobile"}],
            })
        return customers

    def appointments(self, count, services, customers, staff=(), days_back=60, days_ahead=30):
        """About ``count`` appointments from ``days_back`` days ago to ``days_ahead`` days ahead: the Saturday
        yoga classes, and single appointments with the staff members who give them, in free slots of the day."""
        first_day = (self.now - datetime.timedelta(days=days_back)).date()
        days = [first_day + datetime.timedelta(days=n) for n in range(days_back + days_ahead)]
        open_days = [day for day in days if day.weekday() in OPENING_HOURS]
        yoga = next(s for s in services if s["maximumAttendeesCount"] > 1)
        regulars = customers[: len(customers) // 3]  # a third of the customers come back more often
        schedules = {}  # (staff id, day) -> [(start, end)], local times
        appointments = self._yoga_classes(open_days, yoga, customers, staff, schedules)
        self._add_singles(appointments, count, [s for s in services if s is not yoga], open_days, regulars,
                          customers, staff, schedules)
        appointments.sort(key=lambda a: a["startDateTime"]["dateTime"])
        return appointments

    def _yoga_classes(self, open_days, yoga, customers, staff, schedules):
        """The Saturday classes of ``yoga``, each in its teacher's ``schedules``."""
        appointments = []
        for day in open_days:
            if day.weekday() == YOGA_CLASS[0]:
                start = datetime.datetime.combine(day, datetime.time(YOGA_CLASS[1]))
                members = [m for m in staff if m["id"] in yoga["staffMemberIds"]]
                attendees = self.rng.sample(customers, self.rng.randint(4, 9))
                appointments.append(self._appointment(len(appointments), yoga, start, attendees, members[0]))
                schedules[members[0]["id"], day] = [(start, start + datetime.timedelta(hours=1))]
        return appointments

    def _add_singles(self, appointments, count, singles, open_days, regulars, customers, staff, schedules):
        """Single appointments of the services ``singles`` in free slots of the staff's ``schedules``, until
        ``appointments`` holds ``count``; a customer comes once a day."""
        visits = set()  # (customer id, day)
        weights = [WEIGHTS[s["displayName"]] for s in singles]
        attempts = 0
        while len(appointments) < count and attempts < count * 20:
            attempts += 1
            service = self.rng.choices(singles, weights)[0]
            member = self.rng.choice([m for m in staff if m["id"] in service["staffMemberIds"]])
            day = self.rng.choice(open_days)
            opening, closing = OPENING_HOURS[day.weekday()]
            minutes = _minutes(service["defaultDuration"])
            slots = (closing - opening) * 4 - (minutes + 14) // 15
            if slots < 0:
                continue
            start = datetime.datetime.combine(day, datetime.time(opening)) + datetime.timedelta(
                minutes=15 * self.rng.randint(0, slots))
            end = start + datetime.timedelta(minutes=minutes)
            schedule = schedules.setdefault((member["id"], day), [])
            customer = self.rng.choice(regulars if self.rng.random() < 0.5 else customers)
            if (any(start < other_end and other_start < end for other_start, other_end in schedule)
                    or (customer["id"], day) in visits):
                continue
            schedule.append((start, end))
            visits.add((customer["id"], day))
            attendees = [customer] if len(appointments) % 31 != 17 else []  # a walk-in, no customer
            appointments.append(self._appointment(len(appointments), service, start, attendees, member))

    def _billed(self, index, service):
        """``(price type, price, minutes billed)`` of the ``index``-th appointment of ``service``."""
        minutes = _minutes(service["defaultDuration"])
        price_type, price = service["defaultPriceType"], service["defaultPrice"]
        if price_type == "startingAt" and index % 3 == 0:
            price += self.rng.choice((15, 25, 40))  # the colour took longer: the final price, set by the staff
        elif price_type == "priceVaries":
            price = self.rng.choice((70.0, 80.0, 92.5))
        elif price_type == "hourly":
            minutes = self.rng.choice((120, 135, 150))  # hours billed as given, within the booked slot
        elif price_type == "notSet" and index % 4 == 1:
            price_type = "undefined"  # as older bookings of a service without a price carry it
        return price_type, price, minutes

    def _appointment(self, index, service, local_start, attendees, member):
        start = local_start.replace(tzinfo=self.zone).astimezone(tz.UTC).replace(tzinfo=None)
        price_type, price, minutes = self._billed(index, service)
        end = start + datetime.timedelta(minutes=minutes)
        booked = min(start, self.now) - datetime.timedelta(days=self.rng.randint(2, 21), hours=self.rng.randint(0, 9))
        appointment = {
            "id": self._appointment_id(),
            "selfServiceAppointmentId": self._uuid(),
            "serviceId": service["id"],
            "serviceName": service["displayName"],
            "staffMemberIds": [member["id"]],
            "customers": [{
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "customerId": c["id"], "name": c["displayName"], "emailAddress": c["emailAddress"],
                "phone": c["phones"][0]["number"], "notes": None,
                "timeZone": "Central Standard Time" if index % 7 == 3 else TIME_ZONE,
            } for c in attendees],
            "startDateTime": graph_time(start),
            "endDateTime": graph_time(end),
            "duration": iso_duration(minutes),
            "preBuffer": "PT0S",
            "postBuffer": "PT15M" if service["maximumAttendeesCount"] == 1 else "PT0S",
            "priceType": price_type,
            "price": price,
            "isLocationOnline": False,
            "additionalInformation": "Sensitive scalp, use the gentle shampoo." if index % 23 == 5 else "",
            "serviceLocation": {"displayName": "Contoso Salon & Spa, 1420 N Milwaukee Ave, Chicago"},
            "optOutOfCustomerEmail": False,
            "maximumAttendeesCount": service["maximumAttendeesCount"],
            "filledAttendeesCount": len(attendees),
            "createdDateTime": graph_offset(booked),
            "lastUpdatedDateTime": graph_offset(max(booked, min(start - datetime.timedelta(days=1),
                                                                        self.now - datetime.timedelta(hours=1)))),
        }
        for customer in appointment["customers"]:
            if customer["name"] in CORPORATE_EMPLOYEES:
                customer["customQuestionAnswers"] = _purchase_order(local_start)
        return _variation(index, appointment)

    def planned_changes(self, appointments):
        """The staff's edits between two reads: two completed appointments of last month cancelled (the customers
        did not come), one of last month given a discount, two appointments of the last ``LATE_DAYS`` days cancelled
        after they were due (late cancellations, by a 24-hour policy), two coming ones cancelled and one coming one
        moved to the same time a week later."""
        now = graph_offset(self.now)
        recent = graph_offset(self.now - datetime.timedelta(days=LATE_DAYS))
        closed = graph_offset(invoiced_before(self.now.replace(day=1, hour=0), self.now))

        def single(appointment):
            return (len(appointment.get("customers", ())) == 1 and appointment["price"]
                    and appointment["priceType"] == "fixedPrice")

        last_month = [a for a in appointments if a["endDateTime"]["dateTime"] < closed and single(a)]
        late = [a for a in appointments if recent <= a["endDateTime"]["dateTime"] < now and single(a)]
        coming = [a for a in appointments if a["startDateTime"]["dateTime"] > now]
        week = datetime.timedelta(days=7)
        return [(a["id"], None) for a in last_month[-2:] + late[-2:] + coming[1:3]] + [
            (last_month[-3]["id"], {"price": last_month[-3]["price"] - 10}),
            (coming[4]["id"], {"startDateTime": _moved(coming[4]["startDateTime"], week),
                               "endDateTime": _moved(coming[4]["endDateTime"], week)}),
        ]


def _moved(moment, delta):
    return graph_time(datetime.datetime.strptime(moment["dateTime"][:19], "%Y-%m-%dT%H:%M:%S") + delta)
