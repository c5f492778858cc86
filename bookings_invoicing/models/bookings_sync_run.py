"""The synchronization of one Bookings business, and its record in the run history.

A run reads the business, its services, customers and staff, then the appointments of its window page by page:
each page is upserted (nothing is written where nothing changed) and committed, so a crash keeps what was done.
Only a window read completely and successfully cancels the rows whose appointment Bookings no longer returns.
"""
import datetime
import logging
import random
import time
from collections import defaultdict

import psycopg2
import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html_escape

from .. import rules
from ..graph import errors, read_all
from ..transaction import advisory_lock, commit, in_test_mode, lock_key
from .bookings_service import price_type_value

_logger = logging.getLogger(__name__)

#: How many problems a run keeps in words (the counts cover them all).
MAX_PROBLEMS = 20
#: PostgreSQL's serialization failure and deadlock: a concurrent transaction (an invoicing) changed the same rows.
CONFLICTS = ("40001", "40P01")
MAX_ATTEMPTS = 5

#: The appointment fields the synchronization owns, as stored in the database.
SYNCED_FIELDS = ("bookings_customer_id", "partner_id", "customer_name", "customer_email", "customer_tz",
                 "service_id", "service_name", "start", "end", "duration", "price", "price_type", "currency_id",
                 "staff", "notes", "bookings_updated", "state")
#: The stored columns each synchronization compares with Bookings.
SERVICE_COLUMNS = ("name", "default_price", "price_type", "default_duration", "product_id")
CUSTOMER_COLUMNS = ("name", "email", "phone", "partner_id", "review_reason")
APPOINTMENT_COLUMNS = ("attendee_key", "invoice_status", "review_reason") + SYNCED_FIELDS
#: Changes to these after invoicing are raised for review and posted on the invoice (labels translated at use).
BILLING_FIELDS = {"partner_id": _("customer"), "service_id": _("service"), "price": _("price"),
                  "price_type": _("price type"), "start": _("start"), "end": _("end"), "duration": _("duration")}


def _utc_naive(moment):
    """An aware datetime as Odoo 11 stores and reads it: a naive UTC string."""
    return fields.Datetime.to_string(moment.astimezone(pytz.utc)) if moment else False


def _same(old, new):
    if isinstance(old, float) or isinstance(new, float):
        return round(old or 0.0, 6) == round(new or 0.0, 6)
    return (old or False) == (new or False)


class BookingsSyncRun(models.Model):
    _name = "bookings.sync.run"
    _description = "Bookings Synchronization"
    _order = "id desc"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True,
                                  readonly=True)
    company_id = fields.Many2one(related="business_id.company_id", store=True, readonly=True)
    date_start = fields.Datetime(string="Started", default=fields.Datetime.now, readonly=True)
    date_end = fields.Datetime(string="Ended", readonly=True)
    window_start = fields.Datetime(readonly=True)
    window_end = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Done with problems"), ("failed", "Failed")],
        default="running", readonly=True)
    customers_created = fields.Integer(readonly=True)
    customers_updated = fields.Integer(readonly=True)
    services_created = fields.Integer(readonly=True)
    services_updated = fields.Integer(readonly=True)
    appointments_created = fields.Integer(readonly=True)
    appointments_updated = fields.Integer(readonly=True)
    appointments_cancelled = fields.Integer(readonly=True)
    items_skipped = fields.Integer(string="Skipped", readonly=True)
    rows_flagged = fields.Integer(string="Raised for review", readonly=True)
    message = fields.Text(readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.depends("appointments_created", "appointments_updated", "appointments_cancelled", "items_skipped")
    def _compute_summary(self):
        for run in self:
            run.summary = _(
                "Customers: %(cc)s new, %(cu)s updated. Services: %(sc)s new, %(su)s updated. Appointments: "
                "%(ac)s new, %(au)s updated, %(ax)s cancelled. Skipped: %(sk)s. Raised for review: %(rv)s."
            ) % {"cc": run.customers_created, "cu": run.customers_updated, "sc": run.services_created,
                 "su": run.services_updated, "ac": run.appointments_created, "au": run.appointments_updated,
                 "ax": run.appointments_cancelled, "sk": run.items_skipped, "rv": run.rows_flagged}

    # --- the run ------------------------------------------------------------------------------------------------
    def _execute(self):
        self.ensure_one()
        business = self.business_id
        now = datetime.datetime.utcnow().replace(microsecond=0)
        window = (now - datetime.timedelta(days=business.sync_days_back),
                  now + datetime.timedelta(days=business.sync_days_ahead))
        self.write({"window_start": window[0], "window_end": window[1]})
        business.write({"last_sync_state": "running"})
        commit(self.env.cr)
        self._problems = []
        self._counts = dict.fromkeys(("customers_created", "customers_updated", "services_created",
                                      "services_updated", "appointments_created", "appointments_updated",
                                      "appointments_cancelled", "items_skipped", "rows_flagged"), 0)
        try:
            # Matching customers and services creates partners and products: runs of two businesses of one
            # company take turns, each seeing what the other committed, so that neither creates a duplicate.
            # The lock comes before this transaction's first query, whose snapshot must follow the other's commit.
            with advisory_lock(self.pool, lock_key("directory", business.company_id.id)):
                client = business._graph_client()
                info = client.get_business(business.mailbox)
                service_list = read_all(client.service_pages(business.mailbox))
                customer_list = read_all(client.customer_pages(business.mailbox))
                services, customers, currency = self._in_transaction(
                    lambda: self._sync_directory(info, service_list, customer_list))
            staff = self._read_staff(client)
            self._sync_appointments(client, window, services, customers, staff, currency)
            state = "partial" if self._problems else "done"
        except errors.GraphError as error:
            _logger.warning("Synchronization of %s stopped: %s", business.mailbox, error)
            self._problems.insert(0, self.business_id._graph_error_message(error))
            state = "failed"
        except UserError as error:
            self._problems.insert(0, error.name)
            state = "failed"
        values = dict(self._counts, state=state, date_end=fields.Datetime.now(),
                      message="\n".join(self._problems[:MAX_PROBLEMS]) or False)
        self.write(values)
        business.write({
            "last_sync_date": self.date_end,
            "last_sync_state": state,
            "last_sync_message": "\n".join(filter(None, [self.summary, values["message"]])),
        })
        commit(self.env.cr)

    def _sync_directory(self, info, service_list, customer_list):
        business = self.business_id
        currency = business._currency_from_iso(info.currency)
        if business.currency_id != currency:
            business.currency_id = currency
        return self._sync_services(service_list), self._sync_customers(customer_list), currency

    def _in_transaction(self, work):
        """Run ``work()`` and commit it. When a concurrent transaction (an invoicing) changed the same rows, roll
        back and run it again on fresh data, with the run's counters and indexes as they were before it."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            saved = self._memory()
            try:
                result = work()
                commit(self.env.cr)
                return result
            except psycopg2.OperationalError as error:
                if error.pgcode not in CONFLICTS or in_test_mode():
                    raise
                self.env.cr.rollback()
                self.env.clear()  # nothing of the rolled back work may stay in the cache or be recomputed
                self._restore(saved)
                _logger.info("Bookings synchronization of %s met a concurrent change (%s), attempt %d of %d",
                             self.business_id.mailbox, error.pgcode, attempt, MAX_ATTEMPTS)
                time.sleep(random.uniform(0.1, 0.5) * attempt)
        raise UserError(_("Other users kept changing these bookings during the synchronization; run it again."))

    def _memory(self):
        """What the run keeps in memory besides the database, as a copy to go back to."""
        partners = getattr(self, "_partner_index", {})
        return {
            "_counts": dict(self._counts), "_problems": list(self._problems),
            "_customer_index": dict(getattr(self, "_customer_index", {})),
            "_taken": dict(getattr(self, "_taken", {})),
            "_partner_index": defaultdict(list, {email: list(found) for email, found in partners.items()}),
        }

    def _restore(self, saved):
        for name, value in saved.items():
            setattr(self, name, value)

    def _problem(self, message):
        _logger.info("Bookings synchronization of %s: %s", self.business_id.mailbox, message)
        self._problems.append(message)

    def _skip(self, problems):
        for problem in problems:
            self._counts["items_skipped"] += 1
            self._problem(self.business_id._graph_error_message(problem))

    def _read_staff(self, client):
        """Staff names by id, for the invoice lines; their absence does not stop a synchronization."""
        try:
            return {staff.id: staff.display_name for staff in read_all(client.staff_pages(self.business_id.mailbox))
                    .records if staff.display_name}
        except errors.GraphError as error:
            self._problem(self.business_id._graph_error_message(error))
            return {}

    # --- stored rows ------------------------------------------------------------------------------------------
    def _stored(self, model, columns, bookings_ids=None):
        """This business's rows of ``model`` as dicts (``id``, ``bookings_id`` and ``columns``, as stored), read in
        one query: comparing them with Bookings costs no ORM read. ``bookings_ids`` restricts them."""
        if bookings_ids is not None and not bookings_ids:
            return []
        query = 'SELECT id, bookings_id, %s FROM "%s" WHERE business_id = %%s' % (
            ", ".join('"%s"' % column for column in columns), self.env[model]._table)
        params = [self.business_id.id]
        if bookings_ids is not None:
            query += " AND bookings_id IN %s"
            params.append(tuple(bookings_ids))
        self.env.cr.execute(query, params)
        names = [description[0] for description in self.env.cr.description]
        return [dict(zip(names, row)) for row in self.env.cr.fetchall()]

    def _write_changes(self, model, old, values, counter):
        """Write the values that differ from the stored row ``old``, if any, and count the row as updated."""
        changes = {k: v for k, v in values.items() if not _same(old[k], v)}
        if changes:
            self.env[model].browse(old["id"]).write(changes)
            old.update(changes)
            self._counts[counter] += 1

    # --- services -----------------------------------------------------------------------------------------------
    def _sync_services(self, listing):
        """Upsert the services; returns ``{bookings service id: (bookings.service id, product id)}``."""
        self._skip(listing.problems)
        Service = self.env["bookings.service"]
        existing = {row["bookings_id"]: row for row in self._stored("bookings.service", SERVICE_COLUMNS)}
        result = {}
        for service in listing.records:
            values = {
                "name": service.display_name,
                "default_price": float(service.default_price),
                "price_type": price_type_value(service.default_price_type),
                "default_duration": service.default_duration.total_seconds() / 3600.0
                if service.default_duration else 0.0,
            }
            old = existing.get(service.id)
            if old is None:
                record = Service.create(dict(values, business_id=self.business_id.id, bookings_id=service.id))
                old = dict(values, id=record.id, product_id=False)
                self._counts["services_created"] += 1
            else:
                self._write_changes("bookings.service", old, values, "services_updated")
            if not old["product_id"]:
                old["product_id"] = self._link_product(Service.browse(old["id"]), service)
            result[service.id] = (old["id"], old["product_id"])
        return result

    def _link_product(self, record, service):
        """Link a service to its product (found by name, or created); returns the product id or False."""
        business = self.business_id
        product, reason = record._match_product(business, service.display_name)
        if not product and not reason and business.sync_services:
            product = self.env["product.product"].with_context(tracking_disable=True).create(
                record._prepare_product_values(business, service))
        if not product and not reason:
            reason = _("No service product is named %(name)s: link one by hand.") % {"name": service.display_name}
        record.write({"product_id": product.id, "needs_review": bool(reason), "review_reason": reason or False})
        if reason:
            self._problem(reason)
        return product.id

    # --- customers ----------------------------------------------------------------------------------------------
    def _sync_customers(self, listing):
        """Upsert the customers and link them to partners; returns ``{bookings customer id: (id, partner id)}``."""
        self._skip(listing.problems)
        self._customer_index = {}
        self._partner_index = self.env["bookings.customer"]._partner_index(self.business_id)
        existing = {row["bookings_id"]: row for row in self._stored("bookings.customer", CUSTOMER_COLUMNS)}
        self._taken = {row["partner_id"]: (row["name"] or "").strip().lower()
                       for row in existing.values() if row["partner_id"]}
        for customer in listing.records:
            self._upsert_customer(customer.id, customer.display_name, customer.email, customer.phone, existing)
        return self._customer_index

    def _upsert_customer(self, bookings_id, name, email, phone, existing):
        Customer = self.env["bookings.customer"]
        values = {"name": name, "email": email or False, "phone": phone or False}
        old = existing.get(bookings_id)
        if old is None:
            record = Customer.create(dict(values, business_id=self.business_id.id, bookings_id=bookings_id))
            old = existing[bookings_id] = dict(values, id=record.id, partner_id=False, review_reason=False)
            self._counts["customers_created"] += 1
        else:
            self._write_changes("bookings.customer", old, values, "customers_updated")
        if not old["partner_id"]:
            partner_id, reason = self._find_or_create_partner(name, values["email"], phone)
            if partner_id or reason != old["review_reason"]:
                link = {"partner_id": partner_id, "needs_review": bool(reason), "review_reason": reason}
                Customer.browse(old["id"]).write(link)
                old.update(link)
            if reason:
                self._problem(_("Customer %(name)s: %(reason)s") % {"name": name, "reason": reason})
        self._customer_index[bookings_id] = (old["id"], old["partner_id"])
        return self._customer_index[bookings_id]

    def _find_or_create_partner(self, name, email, phone):
        """``(partner id or False, review reason or False)`` by the matching rules, creating a partner when the
        business synchronizes customers and nothing matches."""
        business = self.business_id
        Customer = self.env["bookings.customer"]
        partner_id, reason = Customer._match_partner(business, name, email, self._partner_index, self._taken)
        if not partner_id and not reason:
            if not business.sync_customers:
                return False, _("No partner has the e-mail %(email)s: link one by hand.") % {"email": email}
            partner = self.env["res.partner"].with_context(tracking_disable=True).create(
                Customer._prepare_partner_values(business, name, email, phone))
            partner_id = partner.id
            self._partner_index[email].append((partner_id, (name or "").strip().lower()))
        if partner_id:
            self._taken.setdefault(partner_id, (name or "").strip().lower())
        return partner_id, reason

    def _attendee_customer(self, attendee):
        """``(bookings.customer id or False, partner id or False)`` of an appointment's attendee."""
        if attendee.customer_id in self._customer_index:
            return self._customer_index[attendee.customer_id]
        if attendee.customer_id:  # not in the customer list (removed since): record it from the appointment
            existing = {row["bookings_id"]: row for row in self._stored(
                "bookings.customer", CUSTOMER_COLUMNS, [attendee.customer_id])}
            return self._upsert_customer(attendee.customer_id, attendee.name, attendee.email, attendee.phone,
                                         existing)
        if attendee.email:
            return False, self._find_or_create_partner(attendee.name, attendee.email, attendee.phone)[0]
        return False, False

    # --- appointments ---------------------------------------------------------------------------------------------
    def _sync_appointments(self, client, window, services, customers, staff, currency):
        business = self.business_id
        seen = set()  # ids of the rows Bookings still returns
        unreadable = set()  # ids of appointments that came back malformed: never cancelled
        window_utc = tuple(pytz.utc.localize(moment) for moment in window)
        for page in client.appointment_pages(business.mailbox, *window_utc):
            self._skip(page.problems)
            unreadable.update(problem.params.get("item") for problem in page.problems)
            seen.update(self._in_transaction(lambda: self._upsert_page(page.records, services, staff, currency)))
            self.invalidate_cache()  # what a page read stays out of memory: the run's footprint is one page
        if "?" in unreadable:
            self._problem(_("An appointment without id came back: no appointment was cancelled this time."))
            return
        self._in_transaction(lambda: self._cancel_missing(window, seen, unreadable))

    def _prepare_appointment_values(self, appointment, key, attendee, services, staff, currency):
        """The synchronized values of one appointment row, as the database stores them."""
        service_id = services.get(appointment.service_id, (False, False))[0]
        customer_id, partner_id = self._attendee_customer(attendee) if attendee else (False, False)
        return {
            "bookings_customer_id": customer_id,
            "partner_id": partner_id,
            "customer_name": attendee.name if attendee else False,
            "customer_email": attendee.email if attendee else False,
            "customer_tz": attendee.time_zone if attendee and attendee.time_zone else False,
            "service_id": service_id,
            "service_name": appointment.service_name or False,
            "start": _utc_naive(appointment.start),
            "end": _utc_naive(appointment.end),
            "duration": (appointment.end - appointment.start).total_seconds() / 3600.0,
            "price": float(appointment.price),
            "price_type": price_type_value(appointment.price_type),
            "currency_id": currency.id,
            "staff": ", ".join(staff.get(i, "") for i in appointment.staff_member_ids if staff.get(i)) or False,
            "notes": appointment.notes or False,
            "bookings_updated": _utc_naive(appointment.last_updated),
            "state": "active",
        }

    def _upsert_page(self, appointments, services, staff, currency):
        # the run is the record of what it created: no chatter message or follower per row
        Appointment = self.env["bookings.appointment"].with_context(tracking_disable=True)
        existing = {(row["bookings_id"], row["attendee_key"]): row for row in self._stored(
            "bookings.appointment", APPOINTMENT_COLUMNS, [a.id for a in appointments])}
        seen = []
        for appointment in appointments:
            for key, attendee in rules.attendee_rows(appointment):
                values = self._prepare_appointment_values(appointment, key, attendee, services, staff, currency)
                old = existing.get((appointment.id, key))
                if old is None:
                    row = Appointment.create(dict(values, business_id=self.business_id.id,
                                                  bookings_id=appointment.id, attendee_key=key))
                    self._counts["appointments_created"] += 1
                    seen.append(row.id)
                    continue
                seen.append(old["id"])
                if not values["partner_id"]:
                    values.pop("partner_id")  # keep a partner set by hand
                changes = {f: v for f, v in values.items() if not _same(old[f], v)}
                if changes:  # changes to an existing row are tracked in its chatter
                    self._update_row(self.env["bookings.appointment"].browse(old["id"]), old, changes)
        return seen

    def _update_row(self, row, old, changes):
        self._counts["appointments_updated"] += 1
        billing = [_(label) for field, label in BILLING_FIELDS.items() if field in changes]
        if old["invoice_status"] == "invoiced" and billing:
            reason = _("Changed in Bookings after invoicing: %(what)s.") % {"what": ", ".join(billing)}
            changes.update(needs_review=True, review_reason=reason)
            self._counts["rows_flagged"] += 1
            row.write(changes)
            row.invoice_id.message_post(body=_("Bookings appointment %(row)s changed after it was invoiced "
                                               "(%(what)s): check this invoice.")
                                        % {"row": html_escape(row.display_label), "what": ", ".join(billing)})
            return
        row.write(changes)

    def _cancel_missing(self, window, seen, unreadable):
        """Rows starting inside the window that Bookings no longer returns were cancelled there."""
        Appointment = self.env["bookings.appointment"]
        missing = Appointment.search([
            ("business_id", "=", self.business_id.id), ("state", "=", "active"),
            ("start", ">=", fields.Datetime.to_string(window[0])),
            ("start", "<", fields.Datetime.to_string(window[1])),
            ("id", "not in", list(seen)), ("bookings_id", "not in", list(unreadable)),
        ])
        invoiced = missing.filtered(lambda r: r.invoice_status == "invoiced")
        reason = _("Cancelled in Bookings after invoicing.")
        for row in invoiced.filtered(lambda r: r.review_reason != reason):
            row.write({"needs_review": True, "review_reason": reason})
            row.invoice_id.message_post(body=_("Bookings appointment %(row)s was cancelled in Bookings after it "
                                               "was invoiced: check this invoice.")
                                        % {"row": html_escape(row.display_label)})
            self._counts["rows_flagged"] += 1
        cancelled = missing - invoiced
        if cancelled:
            cancelled.write({"state": "cancelled"})
            self._counts["appointments_cancelled"] += len(cancelled)
