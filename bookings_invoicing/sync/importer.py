"""The synchronization of one Bookings business: Graph JSON -> typed records -> bindings -> appointment rows.

``BusinessImporter(business).run()`` reads the business, its services, customers and staff, then the
appointments of its window page by page, and mirrors them in Odoo:

* It runs as the system, whoever starts it (the hourly cron, *Synchronize now*): it creates partners and products on
  behalf of the business, which its configuration (managers only) governs. It works on a cursor of its own and
  commits there after each unit of work (the services, each part of the customers, each page of appointments, the
  cancellations), so that a crash keeps what was done; the caller's transaction is never committed behind its back.
* Runs of two businesses of one company take turns only on the services and on the e-mail addresses of the
  partners both may create (``_import_directory``): otherwise they synchronize at once on separate workers.
* Each binding model finds its records by their Bookings keys (``bookings.binding._bookings_bound``) and maps a typed
  Graph record to its values (``_bookings_to_odoo_values``). The importer links the bindings to each other (an
  appointment row to its service, customer and partner) and writes only what changed.
* Where the business pushes customers or services, they are written to Bookings (``sync.exporter``) after the
  directory is read and before it is mirrored.
* Only a window read completely and successfully cancels the rows whose appointment Bookings no longer returns.
* What it did is recorded on a ``bookings.sync.run`` (the log) and summed up on the business.
"""
import logging
from collections import defaultdict

import pytz

from odoo import SUPERUSER_ID, _, api, fields
from odoo.exceptions import UserError
from odoo.tools import split_every
from odoo.tools.misc import format_date

from .. import rules
from ..graph import errors, read_all
from ..locks import lock_key, try_advisory_lock
from ..messages import graph_error_message
from ..mirror import run_context
from .invoice_status import InvoiceStatusWriter
from .matching import CustomerMatching
from .run import Progress
from .window import window_domain

_logger = logging.getLogger(__name__)

#: How many problems a run keeps in words (the counts cover them all).
MAX_PROBLEMS = 20
#: How many customers are matched in one transaction, taking turns on their e-mail addresses.
CUSTOMERS_PER_TURN = 200


class SynchronizationRunning(UserError):
    """Another synchronization of the business holds it: nothing was done."""


class BusinessImporter(CustomerMatching):
    """Synchronizes one Bookings business; see the module's documentation. Its bases: the matching of customers
    (``sync.matching``), the run's units of work and report (``sync.run``)."""

    def __init__(self, business):
        business.ensure_one()
        self.registry = business.pool
        self.business_id = business.id
        # the caller's environment until the run has its own: messages follow the caller's language
        self.env = business.env
        self.business = business
        self.log = None  # the bookings.sync.run
        self.summary = None  # the run's summary, once it has ended: for callers whose transaction cannot read it
        self.window = None  # (start, end), naive UTC
        self.currency = None
        self.services = {}  # Bookings service id -> bookings.service id
        self.progress = Progress()

    # --- the run ------------------------------------------------------------------------------------------------
    def run(self):
        """Synchronize the business; returns the id of the ``bookings.sync.run`` that records it. Raises
        ``SynchronizationRunning`` when a synchronization of the business is already running.

        Everything, the Graph client included, is read and written through the run's own cursor: a caller that had
        queried its own before the run committed would not see the run afterwards (Odoo's transactions are
        repeatable read)."""
        with try_advisory_lock(self.registry.db_name, lock_key("sync", self.business_id)) as obtained:
            if not obtained:
                raise SynchronizationRunning(
                    _("A synchronization of %(name)s is already running. Wait for it to finish, then look at its "
                      "result on the business.") % {"name": self.business.name})
            with api.Environment.manage(), self.registry.cursor() as cr:
                self.env = api.Environment(cr, SUPERUSER_ID, run_context(self.business.env.context, mirroring=True))
                self.business = self.env["bookings.business"].browse(self.business_id)
                self._start()
                try:
                    state = self._synchronize()
                except Exception as error:
                    # recorded on the run and the business, then raised to the caller (the cron logs it)
                    cr.rollback()
                    self.env.clear()
                    self.progress.problems.insert(0, str(error))
                    self._finish("failed")
                    raise
                self._finish(state)
                return self.log.id

    def _start(self):
        business = self.business
        # read here, in the run's environment: read by the caller, it would begin the caller's transaction before
        # the run commits, and the caller would not see the run (see run())
        self.window = business._sync_window()
        self.log = self.env["bookings.sync.run"].create({
            "business_id": business.id, "window_start": self.window[0], "window_end": self.window[1]})
        business.write({"last_sync_state": "running"})
        if business.certificate_state == "expiring":
            self.progress.warnings.append(
                _("The certificate this business signs in with expires on %(date)s: upload a new one.")
                % {"date": format_date(self.env, business.certificate_expiry)})
        self._commit()

    def _synchronize(self):
        """Read and mirror everything; returns the run's state. A Graph error ends the run as failed."""
        business = self.business
        try:
            client = business._graph_client()  # made in the run's own environment, see run()
            info = client.get_business(business.mailbox)
            service_list = read_all(client.service_pages(business.mailbox))
            customer_list = read_all(client.customer_pages(business.mailbox))
            self._in_transaction(lambda: self._import_business(info))
            business._bookings_exporter(self._run_context(), client).push(service_list, customer_list)
            self._import_directory(service_list, customer_list)
            staff = self._read_staff(client)
            self._import_appointments(client, staff)
            if business.write_invoice_status:
                self._in_transaction(lambda: self._write_invoice_status(client))
        except errors.GraphError as error:
            _logger.warning("Synchronization of %s stopped: %s", business.mailbox, error)
            self.progress.problems.insert(0, graph_error_message(self.env, error))
            return "failed"
        except UserError as error:
            self.progress.problems.insert(0, error.name)
            return "failed"
        return "partial" if self.progress.problems else "done"

    def _finish(self, state):
        message = "\n".join((self.progress.problems + self.progress.warnings)[:MAX_PROBLEMS]) or False
        self.log.write(dict(self.progress.counts, state=state, date_end=fields.Datetime.now(), message=message))
        self.summary = self.log.summary
        self.business.write({"last_sync_date": self.log.date_end, "last_sync_state": state})
        self._commit()

    # --- the directory: currency, services, customers ----------------------------------------------------------
    def _import_business(self, info):
        """The business's currency and time zone, as Bookings gives them."""
        self._warn(_("Business"), info)
        if self.business.time_zone != info.time_zone:
            self.business.time_zone = info.time_zone
        self.currency = self.business._bookings_currency(info.currency)
        if info.currency and self.currency.name != info.currency:
            self.progress.warnings.append(
                _("Bookings bills in %(code)s, a currency Odoo does not have: the company's currency, "
                  "%(currency)s, is used.") % {"code": info.currency, "currency": self.currency.name})
        if self.business.currency_id != self.currency:
            self.business.currency_id = self.currency

    def _import_directory(self, service_list, customer_list):
        """Mirror the services, then the customers. Matching them creates products and partners: runs of two
        businesses of one company take turns on what both could create (the services, a product per name; a part
        of the customers, a partner per e-mail address), each turn's transaction beginning once the turn is taken,
        so that it sees all the other run committed and neither creates a duplicate. Businesses that share no
        customer's address match their customers at once."""
        self.services = self._in_turn([lock_key("services", self.business.company_id.id)],
                                      lambda: self._import_services(service_list))
        self._skip(customer_list.problems)
        progress = self.progress
        progress.customers = {}
        progress.listed = defaultdict(list)
        for record in customer_list.records:
            progress.listed[record.email].append((record.id, record.display_name.lower()))
        self._in_transaction(self._index_taken_partners)
        for part in split_every(CUSTOMERS_PER_TURN, customer_list.records):
            emails = {record.email for record in part if record.email}
            self._in_turn(self._email_keys(emails),
                          lambda part=part, emails=emails: self._import_customers(part, emails))

    def _import_services(self, listing):
        """Upsert the services and link them to products; returns ``{Bookings service id: bookings.service id}``."""
        self._skip(listing.problems)
        Service = self.env["bookings.service"]
        bound = Service._bookings_bound(self.business)
        result = {}
        for record in listing.records:
            self._warn(_("Service"), record)
            values = Service._bookings_to_odoo_values(record)
            old = bound.get(record.id)
            if old is None:
                old = Service._bookings_create(self.business, record.id, values)
                self.progress.counts["services_created"] += 1
            elif Service._bookings_write_changes(old, values):
                self.progress.counts["services_updated"] += 1
            if not old.get("product_id"):
                product_id, reason = Service._find_or_create_product(self.business, record)
                self._link(Service, old, "product_id", product_id, reason, _("Service"), record.display_name)
            result[record.id] = old["id"]
        return result

    def _read_staff(self, client):
        """Staff names by id, for the invoice lines; their absence does not stop a synchronization."""
        try:
            listing = read_all(client.staff_pages(self.business.mailbox))
        except errors.GraphError as error:
            self._problem(graph_error_message(self.env, error))
            return {}
        return {staff.id: staff.display_name for staff in listing.records if staff.display_name}

    # --- appointments -------------------------------------------------------------------------------------------
    def _import_appointments(self, client, staff):
        seen = set()  # ids of the rows Bookings still returns
        unreadable = set()  # ids of appointments that came back malformed: never cancelled
        read_start = fields.Datetime.now()  # what the read finds was there then; what it misses, gone by then
        window_utc = tuple(pytz.utc.localize(moment) for moment in self.window)
        for page in client.appointment_pages(self.business.mailbox, *window_utc):
            self._skip(page.problems)
            unreadable.update(problem.params.get("item") for problem in page.problems)
            records = [self._with_listed_customers(record) for record in page.records]
            emails = self._unlisted_emails(records)
            seen.update(self._in_turn(self._email_keys(emails), lambda records=records, emails=emails:
                                      self._import_page(records, staff, emails)))
            self.env.cache.invalidate()  # what a page read stays out of memory: the run's footprint is one page
        self.progress.warnings.extend(graph_error_message(self.env, notice) for notice in client.notices)
        if "?" in unreadable:
            self._problem(_("An appointment without id came back: no appointment was cancelled this time."))
            return
        self._in_transaction(lambda: self._cancel_missing(seen, unreadable, read_start))

    def _appointment_values(self, record, attendee, staff):
        """The values of the row of ``attendee`` (or None) of the appointment ``record``: the model's mapping, and
        the links to the other bindings."""
        customer_id, partner_id = self._attendee_links(attendee)
        values = self.env["bookings.appointment"]._bookings_to_odoo_values(record, attendee)
        values.update({
            "bookings_customer_id": customer_id,
            "partner_id": partner_id,
            "service_id": self.services.get(record.service_id, False),
            "currency_id": self.currency.id,
            "staff": ", ".join(staff[i] for i in record.staff_member_ids if staff.get(i)) or False,
        })
        values.update(self.business._invoice_answers(attendee.answers if attendee else ()))
        return values

    def _import_page(self, records, staff, emails):
        """Upsert the rows of a page of appointments ``records`` (``_with_listed_customers``), whose attendees of
        ``emails`` are no listed customer; returns the ids of its rows."""
        self._read_partners_of(emails)
        # the run is the record of what it created: no chatter message or follower per new row; changes to an
        # existing row are tracked in its chatter. A new row is inserted with its invoicing values
        # (``_bookings_create``); what the changes to existing rows change is recomputed once, after the page.
        Appointment = self.env["bookings.appointment"]
        Untracked = Appointment.with_context(tracking_disable=True)
        bound = Appointment._bookings_bound(self.business, [record.id for record in records])
        # what a new row's invoicing values read of its service (``_bookings_computed_values``): in one query
        self.env["bookings.service"].browse(set(self.services.values())).read(
            ["cancellation_policy_id", "product_id"], load="_classic_write")
        seen = []
        walk_in = self.business.walk_in_partner_id.id
        kind = _("Appointment")  # once a page: a translation looks the language up
        with self.env.norecompute():
            for record in records:
                self._warn(kind, record)
                rows = rules.attendee_rows(record)
                for key, attendee in rows:
                    values = self._appointment_values(record, attendee, staff)
                    old = bound.get((record.id, key)) or self._same_person(bound, record, rows, key, attendee)
                    if old is None:
                        old = Untracked._bookings_create(self.business, (record.id, key), values)
                        self.progress.counts["appointments_created"] += 1
                    else:
                        self._update_row(old, key, attendee, values, walk_in)
                    seen.append(old["id"])
        Appointment.recompute()
        return seen

    def _update_row(self, old, key, attendee, values, walk_in):
        """Write to the stored row ``old`` what changed of its ``values``, now under ``key``, its attendee's;
        ``walk_in``: the business's walk-in partner id, or False."""
        if old["attendee_key"] != key:
            values["attendee_key"] = key
        # keep a partner set by hand, and a walk-in's once it has one; a walk-in whom Bookings now names is billed
        # to that customer, or waits for one
        named_now = attendee is not None and walk_in and old["partner_id"] == walk_in
        if not named_now and (not values["partner_id"] or (attendee is None and old["partner_id"])):
            values.pop("partner_id")
        Appointment = self.env["bookings.appointment"]
        changes = Appointment._bookings_changes(old, values)
        if changes:
            self.progress.counts["appointments_updated"] += 1
            self.progress.counts["rows_flagged"] += Appointment._bookings_update(old, changes)

    def _write_invoice_status(self, client):
        written = InvoiceStatusWriter(self.env, self.business, client, self.window,
                                      self.progress.warnings.append).run()
        self.progress.counts["invoice_status_written"] += written

    def _cancel_missing(self, seen, unreadable, read_start):
        """Rows starting inside the window that Bookings no longer returns were cancelled there, after the earlier
        runs that read their window completely found them, and before this run's read began (``read_start``)."""
        self.log.appointments_read = read_start
        missing = self.env["bookings.appointment"].search(window_domain(self.business_id, self.window) + [
            ("id", "not in", list(seen)), ("bookings_id", "not in", list(unreadable))])
        earlier = self.env["bookings.sync.run"].search([
            ("business_id", "=", self.business_id), ("id", "!=", self.log.id), ("appointments_read", "!=", False),
            ("window_end", ">", min(missing.mapped("start") or [read_start]))], order="appointments_read desc")
        cancelled, raised = missing._bookings_cancel(read_start, earlier)
        self.progress.counts["appointments_cancelled"] += cancelled
        self.progress.counts["rows_flagged"] += raised
