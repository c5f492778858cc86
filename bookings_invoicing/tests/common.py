"""Shared set-up of the add-on's tests: a local Bookings peer over HTTPS (tools/bookings_peer), a business
configured against it, users with the lowest rights that do the job, and builders of Graph items."""
import datetime
import os
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

import odoo
from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.tests.common import SavepointCase, at_install, get_db_name, post_install

from odoo.addons.queue_job.job import Job

from bookings_peer import BookingsPeer, Store
from bookings_peer.data import graph_offset, graph_time, iso_duration

TENANT, CLIENT_ID, SECRET = "tests-tenant", "tests-client", "tests-secret"
MAILBOX = "salon@contoso.onmicrosoft.com"
NOW = datetime.datetime.utcnow().replace(microsecond=0)
#: the zone of every user the tests act as (the superuser included: a database with demo data gives it another), so
#: that the day the synchronization prices at and the day a user invoices at are one, whatever the hour in UTC
ZONE = "Europe/Paris"


def hours_ago(hours):
    return NOW - datetime.timedelta(hours=hours)


def today_of(record):
    """Today (a date) where the user of ``record``'s environment is, as Odoo's ``context_today``."""
    return fields.Date.from_string(fields.Date.context_today(record))


def set_rate(env, company, currency, rate, day):
    """``rate`` units of ``currency`` for one of ``company``'s currency on ``day``. Odoo converts by the ratio of the
    two currencies' rates: the company's currency is given the rate 1 that day, whatever rates the database holds
    (Odoo's demo data gives it others)."""
    for rated, value in ((company.currency_id, 1.0), (currency, rate)):
        env["res.currency.rate"].create({"currency_id": rated.id, "rate": value, "company_id": company.id,
                                         "name": fields.Date.to_string(day)})


def allow_host(env, url):
    """Let businesses reach the host of ``url`` (a local peer is no Microsoft host), beside those already allowed."""
    Parameter = env["ir.config_parameter"].sudo()
    hosts = set(filter(None, (Parameter.get_param("bookings_invoicing.allowed_hosts") or "").split(",")))
    Parameter.set_param("bookings_invoicing.allowed_hosts", ",".join(sorted(hosts | {urlsplit(url).netloc})))


def database_cursor(dbname):
    """A cursor on a connection of its own, outside the test's transaction: what another Odoo process has."""
    return sql_db.db_connect(dbname).cursor()


@at_install(False)
@post_install(True)
class BookingsCase(SavepointCase):
    """A business ``cls.business`` of ``cls.company`` served by ``cls.peer``; ``self.store`` is fresh per test.

    The synchronization works on a cursor of its own (``registry.cursor()``). The registry is in test mode, as in
    Odoo's ``HttpCase``: that cursor is the test's own, whose commits are savepoints. Each test opens one more such
    savepoint inside its own, so that what the synchronization commits is rolled back with the test. (Odoo opens that
    cursor too, e.g. to read a decimal precision, and a commit there ends every savepoint made since the last one.)
    """

    @classmethod
    def setUpClass(cls):
        odoo.registry(get_db_name()).enter_test_mode()
        super(BookingsCase, cls).setUpClass()
        cls.peer = BookingsPeer(Store(), page_size=10).start()
        cls._ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = cls.peer.ca_file
        allow_host(cls.env, cls.peer.url)
        cls.company = cls.env.ref("base.main_company")
        cls.product_template = cls.env["product.product"].create({
            "name": "Bookings template", "type": "service", "list_price": 30.0,
            "uom_id": cls.env.ref("product.product_uom_hour").id,
            "uom_po_id": cls.env.ref("product.product_uom_hour").id,
        })
        cls.business = cls.env["bookings.business"].create(cls._business_values(cls.peer, MAILBOX))
        cls.env.user.tz = ZONE
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.manager = users.create({
            "name": "Bookings Manager", "login": "bookings-manager-test", "email": "manager@example.com", "tz": ZONE,
            "groups_id": [(6, 0, [cls.env.ref("bookings_invoicing.group_bookings_invoicing_manager").id])],
        })
        cls.user = users.create({
            "name": "Bookings User", "login": "bookings-user-test", "email": "user@example.com", "tz": ZONE,
            "groups_id": [(6, 0, [cls.env.ref("bookings_invoicing.group_bookings_invoicing_user").id])],
        })

    @classmethod
    def tearDownClass(cls):
        cls.peer.stop()
        if cls._ca_bundle is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = cls._ca_bundle
        super(BookingsCase, cls).tearDownClass()
        odoo.registry(get_db_name()).leave_test_mode()

    @classmethod
    def _business_values(cls, peer, mailbox, **values):
        result = {
            "name": "Contoso Salon", "mailbox": mailbox, "tenant_id": TENANT, "client_id": CLIENT_ID,
            "client_secret": SECRET, "authority_url": peer.url, "graph_url": peer.url,
            "product_template_id": cls.product_template.id, "sync_days_back": 30, "sync_days_ahead": 30,
        }
        result.update(values)
        return result


    @contextmanager
    def committed_rows(self, name, count):
        """``count`` completed rows of one customer, ``name`` customer, at 10.00 each, in a business of their own:
        made in a transaction of their own and committed, so that the concurrent transactions of a test see them.
        Yields their ids and their product's id; everything made for them (invoices to the customer included) is
        deleted afterwards."""
        dbname = self.cr.dbname
        with database_cursor(dbname) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            business = env["bookings.business"].create(self._business_values(
                self.peer, "%s@contoso.onmicrosoft.com" % name.lower(), product_template_id=False,
                # no request is sent: committed without the test's allowed hosts, at Microsoft's
                authority_url="https://login.microsoftonline.com", graph_url="https://graph.microsoft.com"))
            partner = env["res.partner"].create({"name": "%s customer" % name})
            product = env["product.product"].create({"name": "%s service" % name, "type": "service"})
            service = env["bookings.service"]._bookings_as_mirror().create({
                "business_id": business.id, "bookings_id": "svc", "name": name, "product_id": product.id})
            ids = [env["bookings.appointment"]._bookings_as_mirror().create({
                "business_id": business.id, "bookings_id": "appt-%d" % index, "attendee_key": "c",
                "partner_id": partner.id, "service_id": service.id, "customer_name": partner.name,
                "start": hours_ago(10 + index), "end": hours_ago(9 + index), "duration": 1.0, "price": 10.0,
                "price_type": "fixedPrice", "currency_id": env.user.company_id.currency_id.id}).id
                for index in range(count)]
        try:
            yield ids, product.id
        finally:
            with database_cursor(dbname) as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["account.invoice"].search([("partner_id", "=", partner.id)]).unlink()
                env["bookings.business"].browse(business.id).unlink()
                env["product.product"].browse(product.id).unlink()
                env["res.partner"].browse(partner.id).unlink()
    def setUp(self):
        super(BookingsCase, self).setUp()
        self.cr.execute("SAVEPOINT test_cursor")  # see the class's documentation
        self.store = self.peer.store = Store()
        self.store.add_client(TENANT, CLIENT_ID, SECRET)
        self.add_business(MAILBOX)
        self.peer.clear_faults()

    @contextmanager
    def rolled_back(self):
        """A block whose database work is undone at its end: each example of a property-based test."""
        self.cr.execute("SAVEPOINT bookings_block")
        self.cr.execute("SAVEPOINT test_cursor")  # see the class's documentation
        try:
            yield
        finally:
            self.cr.execute("ROLLBACK TO SAVEPOINT bookings_block")
            self.env.clear()

    def bill_in_another_currency(self, rates):
        """Bookings bills in another currency than the company's (the euro, or the dollar for a company in euros),
        at ``rates``: ``{day: rate}``; returns that currency."""
        company_currency = self.company.currency_id
        other = self.env.ref("base.EUR") if company_currency != self.env.ref("base.EUR") else self.env.ref("base.USD")
        other.active = True
        for day, rate in rates.items():
            set_rate(self.env, self.company, other, rate, day)
        self.store.businesses[MAILBOX]["business"]["defaultCurrencyIso"] = other.name
        return other

    def add_salon(self, price, minutes):
        """Ann and Bob, a hair cut at ``price`` for ``minutes``, and a 20% sales tax on the services' product."""
        self.ann = self.add_customer("Ann Archer", "ann@example.com")
        self.bob = self.add_customer("Bob Baker", "bob@example.com")
        self.cut = self.add_service("Hair cut", price=price, minutes=minutes)
        self.tax = self.env["account.tax"].create({
            "name": "VAT 20%", "amount": 20.0, "amount_type": "percent", "type_tax_use": "sale"})
        self.product_template.taxes_id = self.tax

    # --- Graph items --------------------------------------------------------------------------------------------
    def add_business(self, mailbox, currency="USD"):
        self.store.add_business(TENANT, {"id": mailbox, "displayName": "Contoso Salon", "email": mailbox,
                                         "defaultCurrencyIso": currency})

    def add_service(self, name, price=50.0, price_type="fixedPrice", minutes=60, mailbox=MAILBOX, **extra):
        item = {"id": str(uuid.uuid4()), "displayName": name, "defaultPrice": price, "defaultPriceType": price_type,
                "defaultDuration": iso_duration(minutes), "maximumAttendeesCount": 1}
        item.update(extra)
        return self.store.put(mailbox, "services", item)

    def add_customer(self, name, email, mailbox=MAILBOX):
        return self.store.put(mailbox, "customers", {"id": str(uuid.uuid4()), "displayName": name,
                                                     "emailAddress": email, "phones": []})

    def add_appointment(self, service, customers, start, minutes=60, price=None, price_type=None, mailbox=MAILBOX,
                        **extra):
        end = start + datetime.timedelta(minutes=minutes)
        item = {
            "id": "AAMk%s" % uuid.uuid4().hex, "serviceId": service["id"], "serviceName": service["displayName"],
            "customers": [{"customerId": c["id"], "name": c["displayName"], "emailAddress": c["emailAddress"]}
                          for c in customers],
            "startDateTime": graph_time(start), "endDateTime": graph_time(end), "duration": iso_duration(minutes),
            "price": service["defaultPrice"] if price is None else price,
            "priceType": price_type or service["defaultPriceType"], "staffMemberIds": [],
            "lastUpdatedDateTime": graph_offset(start - datetime.timedelta(days=1)),
        }
        item.update(extra)
        return self.store.put(mailbox, "appointments", item)

    # --- Odoo side ----------------------------------------------------------------------------------------------
    def today(self):
        """Today where the Bookings user is."""
        return fields.Date.context_today(self.env["bookings.invoice.wizard"].sudo(self.user))

    def today_date(self):
        return fields.Date.from_string(self.today())

    def invoice_all_wizard(self, context=None, **values):
        """Invoice All opened by the Bookings user, up to today unless told: it then takes in every completed
        booking (by default it stops at the end of last month during a month's first days)."""
        values.setdefault("date_until", self.today())
        return self.env["bookings.invoice.wizard"].sudo(self.user).with_context(**(context or {})).create(values)

    def sync(self, business=None):
        run = (business or self.business).sudo(self.manager)._synchronize()
        self.env.cache.invalidate()  # the synchronization wrote through an environment of its own
        return run.sudo()

    def run_jobs(self):
        """Perform the waiting background jobs in order, as queue_job's runner would, and the jobs they queue, until
        none waits; returns their results.

        A job may work in a savepoint of its own, which a commit of the test cursor would end (see the class): the
        decimal precisions, which Odoo reads through that cursor when they are not cached, are read first."""
        Precision = self.env["decimal.precision"]
        for name in Precision.search([]).mapped("name"):
            Precision.precision_get(name)
        results = []
        waiting = self.env["queue.job"].search([("state", "=", "pending")], order="id")
        while waiting:
            for record in waiting:
                job = Job.load(self.env, record.uuid)
                results.append(job.perform())
                job.set_done()
                job.store()
            waiting = self.env["queue.job"].search([("state", "=", "pending")], order="id")
        self.env.cache.invalidate()
        return results

    def rows(self, appointment=None, business=None):
        domain = [("business_id", "=", (business or self.business).id)]
        if appointment:
            domain.append(("bookings_id", "=", appointment["id"]))
        return self.env["bookings.appointment"].search(domain, order="id")
