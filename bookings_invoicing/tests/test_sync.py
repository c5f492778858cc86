import re
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytz
from bookings_testing import wait_for
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests.common import TransactionCase, at_install, post_install
from odoo.tools import mute_logger
from odoo.tools.sql import index_exists

from odoo.addons.queue_job.exception import RetryableJobError

from .. import uninstall_hook
from ..locks import GRAPH_CONCURRENCY, advisory_locks, lock_key
from ..models.res_partner import EMAIL_INDEX
from .common import CLIENT_ID, MAILBOX, TENANT, BookingsCase, database_cursor, hours_ago

WRITES = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(bookings_appointment|bookings_customer|"
                    r"bookings_service|res_partner|product_product|product_template|account_invoice)\"?\b",
                    re.IGNORECASE)


class TestSync(BookingsCase):

    def setUp(self):
        super(TestSync, self).setUp()
        self.cut = self.add_service("Hair cut", price=35.0, minutes=45)
        self.yoga = self.add_service("Group yoga", price=12.0, maximumAttendeesCount=6)
        self.ann = self.add_customer("Ann Archer", "ann@example.com")
        self.bob = self.add_customer("Bob Baker", "bob@example.com")
        self.cid = self.add_customer("Cid Cole", "cid@example.com")

    def test_first_sync_mirrors_bookings(self):
        self.business.partner_template_id = self.env["res.partner"].create({
            "name": "Customer template", "lang": "en_US", "comment": "template",
            "property_payment_term_id": self.env.ref("account.account_payment_term_15days").id,
        })
        one = self.add_appointment(self.cut, [self.ann], hours_ago(3), minutes=45)
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual((run.customers_created, run.services_created, run.appointments_created), (3, 2, 1))
        row = self.rows(one)
        self.assertEqual(row.partner_id.email, "ann@example.com")
        self.assertEqual(row.partner_id.property_payment_term_id,
                         self.env.ref("account.account_payment_term_15days"))
        self.assertFalse(row.partner_id.is_company)
        self.assertEqual(row.partner_id.company_id, self.company)
        self.assertEqual(row.product_id.name, "Hair cut")
        self.assertEqual(row.product_id.type, "service")
        self.assertEqual(row.product_id.list_price, 35.0)
        self.assertEqual(row.product_id.uom_id, self.env.ref("product.product_uom_hour"))  # from the template
        self.assertEqual(row.start, (hours_ago(3)).strftime("%Y-%m-%d %H:%M:%S"))  # UTC in the database
        self.assertAlmostEqual(row.duration, 0.75)
        self.assertEqual((row.price, row.price_type, row.currency_id.name), (35.0, "fixedPrice", "USD"))
        self.assertEqual(row.invoice_status, "to_invoice")
        self.assertEqual((self.business.last_sync_state, run.appointments_created), ("done", 1))
        self.assertIn(run.summary, self.business.last_sync_message, "the business shows what its last run did")
        self.assertEqual(self.business.sync_run_ids, run)

    def test_a_run_is_named_by_its_business_and_when_it_started_where_the_user_is(self):
        run = self.sync()
        self.user.write({"tz": "America/Chicago", "lang": "en_US"})
        started = pytz.utc.localize(fields.Datetime.from_string(run.date_start)).astimezone(
            pytz.timezone("America/Chicago"))
        self.assertEqual(run.sudo(self.user).display_name,
                         "%s, %s" % (self.business.name, started.strftime("%m/%d/%Y %H:%M")))

    def test_the_business_tells_its_last_run_in_the_readers_language(self):
        self.env["res.lang"].load_lang("fr_FR")
        self.env["ir.translation"].load_module_terms(["bookings_invoicing"], ["fr_FR"])
        run = self.sync()  # run in English
        for lang in ("en_US", "fr_FR"):
            self.assertEqual(self.business.with_context(lang=lang).last_sync_message,
                             run.with_context(lang=lang).summary)
        self.assertNotEqual(run.with_context(lang="fr_FR").summary, run.with_context(lang="en_US").summary)

    def test_a_second_sync_without_change_writes_nothing(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(3))
        self.add_appointment(self.yoga, [self.ann, self.bob], hours_ago(30))
        self.add_appointment(self.cut, [], hours_ago(50))
        self.sync()
        statements = []
        execute = type(self.cr).execute

        def spy(cr, query, params=None, log_exceptions=None):
            statements.append(query)
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.cr), "execute", spy):
            run = self.sync()
        self.assertEqual((run.appointments_created, run.appointments_updated, run.appointments_cancelled,
                          run.customers_updated, run.services_updated), (0, 0, 0, 0, 0))
        self.assertEqual([q for q in statements if WRITES.match(q)], [])

    def test_a_first_sync_inserts_each_row_with_what_it_bills(self):
        """A new row is written once, by its INSERT, with the invoicing values its compute methods give."""
        self.business.cancellation_policy_id = self.env["bookings.cancellation.policy"].create({
            "name": "24 hours' notice", "late_hours": 24, "late_fee_type": "percent", "late_fee": 50.0,
            "no_show_fee_type": "fixed", "no_show_fee": 25.0,
            "product_id": self.env["product.product"].create({"name": "Fee", "type": "service"}).id})
        hourly = self.add_service("Massage", price=1.86, price_type="hourly")
        varies = self.add_service("Colour", price=0.0, price_type="priceVaries")  # billed at its product's price
        self.env["product.product"].create({"name": "Colour", "type": "service", "list_price": 50.0})
        unpriced = self.add_service("Advice", price=0.0, price_type="priceVaries")
        free = self.add_service("Consultation", price=0.0, price_type="free")
        self.add_appointment(self.cut, [self.ann], hours_ago(3), minutes=45)
        self.add_appointment(self.yoga, [self.ann, self.bob], hours_ago(30))
        self.add_appointment(self.cut, [], hours_ago(50))
        self.add_appointment(hourly, [self.cid], hours_ago(70), minutes=125)
        self.add_appointment(varies, [self.bob], hours_ago(90))
        self.add_appointment(self.cut, [self.cid], hours_ago(110), price=40.0, price_type="startingAt")
        self.add_appointment(free, [self.ann], hours_ago(130))
        self.add_appointment(unpriced, [self.ann], hours_ago(150))
        updates = []
        execute = type(self.cr).execute

        def spy(cr, query, params=None, log_exceptions=None):
            if re.match(r'^\s*UPDATE\s+"?bookings_appointment\b', query):
                updates.append(query)
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.cr), "execute", spy):
            run = self.sync()
        self.assertEqual((run.state, run.appointments_created), ("done", 9))
        self.assertEqual(updates, [])

        Appointment = self.env["bookings.appointment"]
        computed = sorted(name for name, field in Appointment._fields.items() if field.compute and field.store)
        rows = self.rows()
        inserted = rows.read(computed)
        self.assertEqual(
            sorted((row["invoice_status"], row["amount"], row["price_to_confirm"]) for row in inserted),
            [("no_customer", 35.0, False), ("no_price", 0.0, True), ("nothing", 0.0, False),
             ("to_invoice", 3.88, False), ("to_invoice", 12.0, False), ("to_invoice", 12.0, False),
             ("to_invoice", 35.0, False),
             ("to_invoice", 40.0, True), ("to_invoice", 50.0, True)])
        for name in computed:
            rows._recompute_todo(Appointment._fields[name])
        rows.recompute()
        rows.invalidate_cache()
        self.assertEqual(rows.read(computed), inserted)

    def test_a_bookings_id_is_bound_once_per_business(self):
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(3))
        self.sync()
        duplicates = [
            ("bookings.customer", {"bookings_id": self.ann["id"], "name": "Ann again"}),
            ("bookings.service", {"bookings_id": self.cut["id"], "name": "Cut again"}),
            ("bookings.appointment", {"bookings_id": booked["id"], "attendee_key": self.ann["id"],
                                      "start": hours_ago(3), "end": hours_ago(2)}),
        ]
        for model, values in duplicates:
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
                with self.cr.savepoint():
                    self.env[model]._bookings_as_mirror().create(dict(values, business_id=self.business.id))

    def test_customers_match_existing_partners_by_email(self):
        partner = self.env["res.partner"].create({"name": "Ann A.", "email": "  ANN@Example.com "})
        company = self.env["res.partner"].create({"name": "Bob's shop", "email": "bob@example.com",
                                                  "is_company": True})
        self.add_appointment(self.cut, [self.ann], hours_ago(3))
        self.sync()
        customers = self.env["bookings.customer"].search([("business_id", "=", self.business.id)])
        self.assertEqual(customers.filtered(lambda c: c.name == "Ann Archer").partner_id, partner)
        bob = customers.filtered(lambda c: c.name == "Bob Baker").partner_id
        self.assertTrue(bob and bob != company, "a company is never matched: Bookings customers are people")

    def test_a_link_by_bookings_id_wins_over_the_email(self):
        self.sync()
        customer = self.env["bookings.customer"].search([("bookings_id", "=", self.ann["id"])])
        chosen = self.env["res.partner"].create({"name": "Ann (chosen by hand)"})
        customer.partner_id = chosen
        self.store.update(MAILBOX, "customers", self.ann["id"], emailAddress="ann.new@example.com")
        self.sync()
        self.assertEqual(customer.partner_id, chosen)
        self.assertEqual(customer.email, "ann.new@example.com")

    def test_several_candidates_are_raised_for_review(self):
        first = self.env["res.partner"].create({"name": "Dee One", "email": "dee@example.com"})
        second = self.env["res.partner"].create({"name": "Dee Two", "email": "dee@example.com"})
        self.add_customer("Dee Dee", "dee@example.com")
        run = self.sync()
        customer = self.env["bookings.customer"].search([("name", "=", "Dee Dee")])
        self.assertFalse(customer.partner_id)
        self.assertTrue(customer.needs_review)
        self.assertIn(first.name, customer.review_reason)
        self.assertIn(second.name, customer.review_reason)
        self.assertEqual(run.state, "partial")
        self.assertIn("Dee Dee", run.message)

    def test_a_shared_email_does_not_merge_two_people(self):
        self.add_customer("Eve Family", "family@example.com")
        self.add_customer("Fay Family", "family@example.com")
        self.sync()
        customers = self.env["bookings.customer"].search([("email", "=", "family@example.com")])
        self.assertEqual(len(customers.mapped("partner_id")), 2)
        self.sync()  # and it stays so
        self.assertEqual(len(self.env["res.partner"].search([("email", "=", "family@example.com")])), 2)

    def test_a_customer_without_email_stays_unlinked(self):
        self.add_customer("Gus Nomail", "")
        run = self.sync()
        customer = self.env["bookings.customer"].search([("name", "=", "Gus Nomail")])
        self.assertFalse(customer.partner_id)
        self.assertTrue(customer.needs_review and customer.review_reason)
        self.assertIn("Gus Nomail", run.message)

    def test_a_customer_without_email_is_reported_once_and_linked_by_hand_for_all_its_bookings(self):
        gus = self.add_customer("Gus Nomail", "")
        first = self.add_appointment(self.cut, [gus], hours_ago(30))
        sibling = self.add_appointment(self.cut, [gus], hours_ago(50))
        self.assertEqual(self.sync().state, "partial")
        second_run = self.sync()
        self.assertEqual((second_run.state, second_run.message), ("done", False), "reported by the first run only")
        rows = self.rows(first)
        self.assertEqual(rows.invoice_status, "no_customer")
        # a Bookings user creates the partner from the booking: the Bookings customer takes it, for all its bookings
        partner = self.env["res.partner"].sudo(self.user).create({"name": "Gus Nomail"})
        rows.sudo(self.user).write({"partner_id": partner.id})
        customer = self.env["bookings.customer"].search([("bookings_id", "=", gus["id"])])
        self.assertEqual((customer.partner_id, customer.needs_review), (partner, False))
        self.assertEqual(self.rows(sibling).partner_id, partner, "and so does every booking of that customer")
        later = self.add_appointment(self.cut, [gus], hours_ago(5))
        self.sync()
        self.assertEqual(self.rows(later).partner_id, partner, "the link is kept for the next bookings")
        self.assertEqual(self.rows(first).partner_id, partner)
        # choosing another partner on the Bookings customer gives it to every booking not invoiced
        other = self.env["res.partner"].sudo(self.user).create({"name": "Gus (his company)"})
        customer.sudo(self.user).write({"partner_id": other.id})
        self.assertEqual((self.rows(first) | self.rows(later)).mapped("partner_id"), other)
        self.assertEqual(self.rows(later).invoice_status, "to_invoice")

    def test_no_partner_is_created_when_customers_are_not_synchronized(self):
        self.business.sync_customers = False
        partners = self.env["res.partner"].search_count([])
        self.sync()
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        customer = self.env["bookings.customer"].search([("bookings_id", "=", self.ann["id"])])
        self.assertFalse(customer.partner_id)
        self.assertTrue(customer.needs_review and customer.review_reason)

    def test_services_match_a_service_product_by_name_only(self):
        product = self.env["product.product"].create({"name": "HAIR CUT", "type": "service"})
        self.env["product.product"].create({"name": "Group yoga", "type": "consu"})  # not a service
        self.sync()
        services = self.env["bookings.service"].search([("business_id", "=", self.business.id)])
        self.assertEqual(services.filtered(lambda s: s.name == "Hair cut").product_id, product)
        yoga = services.filtered(lambda s: s.name == "Group yoga").product_id
        self.assertEqual(yoga.type, "service")

    def test_no_product_is_created_when_services_are_not_synchronized(self):
        self.business.sync_services = False
        run = self.sync()
        service = self.env["bookings.service"].search([("bookings_id", "=", self.cut["id"])])
        self.assertFalse(service.product_id)
        self.assertTrue(service.needs_review)
        self.assertIn("Hair cut", run.message)
        self.assertEqual(self.sync().state, "done", "reported by the run that found it waiting, not by every run")
        self.assertTrue(self.env["bookings.service"].browse(service.id).needs_review, "it still waits")

    def test_a_group_appointment_gives_a_row_per_attendee(self):
        group = self.add_appointment(self.yoga, [self.ann, self.bob, self.cid], hours_ago(5))
        self.sync()
        rows = self.rows(group)
        self.assertEqual(sorted(rows.mapped("partner_id.email")),
                         ["ann@example.com", "bob@example.com", "cid@example.com"])
        self.assertEqual(set(rows.mapped("amount")), {12.0})
        # the calendar shows the class once, with its attendees, as a Bookings user reads it
        Event = self.env["bookings.appointment.event"].sudo(self.user)
        event = Event.search([("business_id", "=", self.business.id), ("bookings_id", "=", group["id"])])
        self.assertEqual((len(event), event.attendee_count, event.appointment_ids), (1, 3, rows))
        self.assertEqual((event.start, event.end, event.service_id),
                         (rows[0].start, rows[0].end, rows.mapped("service_id")))
        # one attendee leaves the class: only that row is cancelled, and the event shows those still booked
        self.store.update(MAILBOX, "appointments", group["id"], customers=group["customers"][:2])
        run = self.sync()
        self.assertEqual(run.appointments_cancelled, 1)
        self.assertEqual(rows.filtered(lambda r: r.state == "cancelled").customer_name, "Cid Cole")
        event = Event.browse(event.id)
        self.assertEqual((event.attendee_count, event.attendee_names, event.cancelled),
                         (2, "Ann Archer, Bob Baker", False))
        self.assertEqual(len(event.appointment_ids), 3, "the one who left is listed, cancelled")
        # the class is cancelled: the event is, with the attendees it had
        self.store.remove(MAILBOX, "appointments", group["id"])
        self.sync()
        event = Event.browse(event.id)
        self.assertEqual((event.cancelled, event.attendee_count), (True, 3))

    def test_an_appointment_without_customer(self):
        empty = self.add_appointment(self.cut, [], hours_ago(5))
        self.sync()
        row = self.rows(empty)
        self.assertEqual(len(row), 1)
        self.assertFalse(row.partner_id)
        self.assertEqual(row.invoice_status, "no_customer")
        row.sudo(self.user).partner_id = self.env["res.partner"].create({"name": "Walk-in"})
        self.assertEqual(row.invoice_status, "to_invoice")
        self.sync()
        self.assertEqual(row.partner_id.name, "Walk-in", "a partner set by hand is kept")

    def set_customer(self, rows, **values):
        wizard = self.env["bookings.customer.wizard"].sudo(self.user).with_context(
            active_model="bookings.appointment", active_ids=rows.ids).create(values)
        wizard.action_apply()
        return wizard

    def test_walk_ins_get_their_customer_at_once(self):
        walk_ins = [self.add_appointment(self.cut, [], hours_ago(hours)) for hours in (5, 7)]
        self.sync()
        rows = self.rows(walk_ins[0]) | self.rows(walk_ins[1])
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.set_customer(rows)  # no partner, and no name to create one with
        self.assertEqual(set(rows.mapped("invoice_status")), {"no_customer"}, "nothing changed")
        wizard = self.set_customer(rows, name="Walk-in, Tuesday")
        self.assertEqual((len(rows.mapped("partner_id")), rows[0].partner_id.name, rows[0].partner_id.company_id),
                         (1, "Walk-in, Tuesday", self.company))
        self.assertEqual(set(rows.mapped("invoice_status")), {"to_invoice"})
        self.assertEqual(wizard.appointment_ids, rows)

    def test_bookings_of_a_customer_without_email_take_the_bookings_name_for_their_new_partner(self):
        dan = self.add_customer("Dan Dale", "")
        visits = [self.add_appointment(self.cut, [dan], hours_ago(hours)) for hours in (5, 30)]
        self.sync()
        rows = self.rows(visits[0]) | self.rows(visits[1])
        wizard = self.env["bookings.customer.wizard"].sudo(self.user).with_context(
            active_model="bookings.appointment", active_ids=rows.ids).create({})
        self.assertEqual(wizard.name, "Dan Dale", "the name Bookings gives, offered")
        wizard.action_apply()
        self.assertEqual(rows.mapped("partner_id").name, "Dan Dale")
        self.assertEqual(rows.mapped("bookings_customer_id").partner_id, rows.mapped("partner_id"),
                         "kept for all of that customer's bookings")

    def test_one_partner_is_never_given_to_several_people_at_once(self):
        dan, eve = self.add_customer("Dan Dale", ""), self.add_customer("Eve Ellis", "")
        visits = [self.add_appointment(self.cut, people, hours_ago(hours))
                  for people, hours in (([dan], 5), ([eve], 6), ([], 7))]
        self.sync()
        dans, eves, walk_in = (self.rows(visit) for visit in visits)
        someone = self.env["res.partner"].create({"name": "Someone"})
        for rows in (dans | eves, dans | walk_in):
            with self.assertRaises(UserError), self.env.cr.savepoint():
                self.set_customer(rows, partner_id=someone.id)
        self.assertFalse((dans | eves | walk_in).mapped("partner_id") | (dans | eves).mapped(
            "bookings_customer_id.partner_id"), "nobody was given the partner")

    def test_the_customer_of_an_invoiced_booking_is_not_set_again(self):
        visit = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        row = self.rows(visit)
        row.sudo(self.user)._create_invoices()
        other = self.env["res.partner"].create({"name": "Someone else"})
        billed = row.partner_id
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.set_customer(row, partner_id=other.id)
        self.assertEqual(row.partner_id, billed)

    def test_a_walk_in_whom_bookings_names_later_leaves_the_walk_in_customer(self):
        self.business.walk_in_partner_id = self.env["res.partner"].create({"name": "Walk-in customer"})
        dan = self.add_customer("Dan Dale", "")  # no e-mail: no partner of his own
        booked = self.add_appointment(self.cut, [], hours_ago(5))
        self.sync()
        self.assertEqual(self.rows(booked).partner_id, self.business.walk_in_partner_id)
        self.store.update(MAILBOX, "appointments", booked["id"], customers=[
            {"customerId": dan["id"], "name": dan["displayName"], "emailAddress": ""}])
        self.sync()
        row = self.rows(booked)
        self.assertEqual((row.bookings_customer_id.bookings_id, row.partner_id.id, row.invoice_status),
                         (dan["id"], False, "no_customer"), "Dan's booking waits for Dan's partner")

    def test_a_business_bills_walk_ins_to_its_walk_in_customer(self):
        walk_in = self.env["res.partner"].create({"name": "Walk-in customer"})
        chosen = self.add_appointment(self.cut, [], hours_ago(8))
        self.sync()
        desk = self.env["res.partner"].create({"name": "Paid at the desk"})
        self.rows(chosen).sudo(self.user).partner_id = desk
        self.business.walk_in_partner_id = walk_in
        later = self.add_appointment(self.cut, [], hours_ago(5))
        self.add_appointment(self.cut, [self.ann], hours_ago(6))
        self.sync()
        self.assertEqual((self.rows(later).partner_id, self.rows(later).invoice_status), (walk_in, "to_invoice"))
        self.assertEqual(self.rows(chosen).partner_id, desk, "a customer set by hand is kept")
        self.assertEqual(self.rows(later).sudo(self.user).bookings_customer_id.ids, [])

    def _legacy_shape(self, appointment, customer):
        """The appointment as Graph v1.0 also lists it: ``customers`` empty, the customer in the legacy fields
        (microsoft-graph-docs-contrib#539, microsoft-graph-docs#15647, msgraph-metadata#408)."""
        self.store.update(MAILBOX, "appointments", appointment["id"], customers=[],
                          customerName=customer["displayName"], customerEmailAddress=customer["emailAddress"])

    def test_an_appointment_in_the_legacy_shape_is_billed_to_its_customer(self):
        legacy = self.add_appointment(self.cut, [], hours_ago(5))
        self._legacy_shape(legacy, self.ann)
        stranger = self.add_appointment(self.cut, [], hours_ago(6), customerName="Hal Newcomer",
                                        customerEmailAddress="hal@example.com")
        self.sync()
        row = self.rows(legacy)
        ann = self.env["bookings.customer"].search([("bookings_id", "=", self.ann["id"])])
        self.assertEqual((row.bookings_customer_id, row.partner_id, row.invoice_status, row.amount),
                         (ann, ann.partner_id, "to_invoice", 35.0))
        self.assertEqual((self.rows(stranger).partner_id.email, self.rows(stranger).invoice_status),
                         ("hal@example.com", "to_invoice"), "a customer not in the list is matched by e-mail")
        # Graph lists it again in today's shape: the same row, no cancellation, nothing billed twice
        self.store.update(MAILBOX, "appointments", legacy["id"], customers=self.add_appointment(
            self.cut, [self.ann], hours_ago(900))["customers"])
        run = self.sync()
        self.assertEqual((run.appointments_cancelled, self.rows(legacy)), (0, row))

    def test_a_family_sharing_an_email_is_told_apart_by_name_in_the_legacy_shape(self):
        eve = self.add_customer("Eve Family", "family@example.com")
        fay = self.add_customer("Fay Family", "family@example.com")
        booked = self.add_appointment(self.cut, [], hours_ago(5))
        self._legacy_shape(booked, fay)
        self.sync()
        self.assertEqual(self.rows(booked).bookings_customer_id.bookings_id, fay["id"])
        self.assertNotEqual(self.rows(booked).partner_id,
                            self.env["bookings.customer"].search([("bookings_id", "=", eve["id"])]).partner_id)

    def test_a_booking_read_without_customer_keeps_its_row_once_graph_names_the_customer(self):
        """A database synchronized before the legacy fields were read has the row without customer: it becomes
        the customer's row, invoiced or not, and is never cancelled and billed again."""
        booked = self.add_appointment(self.cut, [], hours_ago(5))
        self.sync()
        row = self.rows(booked)
        walk_in = self.env["res.partner"].create({"name": "Walk-in"})
        row.sudo(self.user).partner_id = walk_in
        invoice, _skipped = row._create_invoices()
        self._legacy_shape(booked, self.ann)
        run = self.sync()
        self.assertEqual((run.appointments_cancelled, self.rows(booked)), (0, row))
        self.assertEqual((row.state, row.invoice_id, row.bookings_customer_id.bookings_id),
                         ("active", invoice, self.ann["id"]))
        self.assertTrue(row.needs_review, "its customer changed after invoicing")

    def test_a_cancelled_appointment_inside_the_window(self):
        gone = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        self.store.remove(MAILBOX, "appointments", gone["id"])
        run = self.sync()
        self.assertEqual(run.appointments_cancelled, 1)
        self.assertEqual(self.rows(gone).state, "cancelled")
        self.assertEqual(self.rows(gone).invoice_status, "cancelled")

    def test_rows_outside_the_window_are_left_alone(self):
        old = self.add_appointment(self.cut, [self.ann], hours_ago(24 * 20))
        self.sync()
        self.business.sync_days_back = 10
        run = self.sync()
        self.assertEqual(run.appointments_cancelled, 0)
        self.assertEqual(self.rows(old).state, "active")

    def test_a_change_after_invoicing_is_applied_and_raised(self):
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoices, _skipped = self.rows(booked)._create_invoices()
        self.store.update(MAILBOX, "appointments", booked["id"], price=40.0)
        run = self.sync()
        row = self.rows(booked)
        self.assertEqual(row.price, 40.0)
        self.assertTrue(row.needs_review)
        self.assertEqual((row.billed_price, row.billed_amount), (35.0, 35.0), "what the invoice billed is kept")
        self.assertEqual(row.invoice_id, invoices)
        self.assertEqual(run.rows_flagged, 1)
        self.assertTrue(any("changed after it was invoiced" in m.body for m in invoices.message_ids))

    def test_a_cancellation_after_invoicing_is_recorded_and_raised(self):
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoices, _skipped = self.rows(booked)._create_invoices()
        self.store.remove(MAILBOX, "appointments", booked["id"])
        run = self.sync()
        row = self.rows(booked)
        self.assertEqual((row.state, row.invoice_status), ("cancelled", "invoiced"))  # the draft still holds it
        event = self.env["bookings.appointment.event"].search([("bookings_id", "=", booked["id"])])
        self.assertTrue(event.cancelled, "the calendar says it was cancelled")
        self.assertEqual((run.appointments_cancelled, run.rows_flagged), (1, 1))
        self.assertTrue(row.needs_review)
        self.assertTrue(any("was cancelled in Bookings" in m.body for m in invoices.message_ids))
        self.sync()  # raised once, not at every run
        self.assertEqual(len([m for m in invoices.message_ids if "was cancelled in Bookings" in m.body]), 1)
        # the draft says so, and its validation asks first
        self.assertEqual(invoices.bookings_cancelled_count, 1)
        self.assertEqual(self.env["bookings.appointment"].search(invoices.action_open_bookings_review()["domain"]),
                         row)
        # the accountant deletes the draft: the row is free, but cancelled, so it never comes back to invoicing
        invoices.unlink()
        self.assertEqual(row.invoice_status, "cancelled")
        self.assertFalse(self.env["bookings.appointment"].search(
            self.env["bookings.appointment"]._uninvoiced_domain() + [("id", "=", row.id)]))

    def test_hostile_names_stay_inert_in_messages(self):
        hostile = self.add_customer('<img src=x onerror="alert(1)">\u202e Eve', "eve@example.com")
        booked = self.add_appointment(self.cut, [hostile], hours_ago(5))
        self.sync()
        invoices, _skipped = self.rows(booked)._create_invoices()
        self.store.remove(MAILBOX, "appointments", booked["id"])
        self.sync()
        body = [m.body for m in invoices.message_ids if "was cancelled in Bookings" in m.body][0]
        self.assertNotIn("<img", body)
        self.assertIn("&lt;img", body)
        self.assertEqual(self.rows(booked).customer_name, '<img src=x onerror="alert(1)">\u202e Eve')  # as received

    def test_a_failed_page_cancels_nothing_and_is_recorded(self):
        for hours in range(1, 26):
            self.add_appointment(self.cut, [self.ann], hours_ago(hours * 3))
        self.sync()
        for item in list(self.store.items(MAILBOX, "appointments"))[:5]:
            self.store.remove(MAILBOX, "appointments", item["id"])
        self.peer.inject(path="calendarView", page=2, status=500, times=None)
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("HTTP 500", run.message)
        self.assertEqual(self.business.last_sync_state, "failed")
        self.assertEqual(run.appointments_cancelled, 0)
        self.assertEqual(set(self.rows().mapped("state")), {"active"})
        self.peer.clear_faults()
        self.assertEqual(self.sync().appointments_cancelled, 5)  # the next complete read converges

    def test_a_malformed_appointment_is_skipped_and_never_cancelled(self):
        kept = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        self.store.update(MAILBOX, "appointments", kept["id"], price="a lot")
        run = self.sync()
        self.assertEqual((run.state, run.items_skipped, run.appointments_cancelled), ("partial", 1, 0))
        self.assertIn(kept["id"], run.message)
        self.assertEqual(self.rows(kept).state, "active")

    def test_an_odd_optional_value_is_a_warning_and_the_row_is_billed(self):
        odd = self.add_appointment(self.cut, [self.ann], hours_ago(5), duration="45 minutes",
                                   lastUpdatedDateTime="last Tuesday", staffMemberIds="Alice")
        self.store.update(MAILBOX, "appointments", odd["id"], customers=[{
            "customerId": self.ann["id"], "name": "Ann Archer", "emailAddress": "ann@example.com", "phone": 5550100,
            "timeZone": {"name": "Europe/Paris"}}])
        run = self.sync()
        self.assertEqual((run.state, run.appointments_created, run.items_skipped, run.items_warned),
                         ("done", 1, 0, 1), run.message)
        for what in (odd["id"], "lastUpdatedDateTime", "staffMemberIds", "phone", "timeZone"):
            self.assertIn(what, run.message)
        row = self.rows(odd)
        self.assertEqual((row.invoice_status, row.amount, row.partner_id.email), ("to_invoice", 35.0,
                                                                                 "ann@example.com"))
        self.assertAlmostEqual(row.duration, 1.0)  # from the start and the end, whatever Graph's duration says
        self.assertIn(run.summary, self.business.last_sync_message, "the warning reaches the business's form")

    def test_a_new_partner_gets_the_customers_address_and_phone(self):
        self.business.sync_customers = True
        self.store.update(MAILBOX, "customers", self.ann["id"], phones=[{"number": "+33 1 23 45 67 89",
                                                                         "type": "home"}],
                          addresses=[{"street": "12 rue de la Paix", "city": "Paris", "state": "",
                                      "postalCode": "75002", "countryOrRegion": "France", "type": "home"}])
        self.store.update(MAILBOX, "customers", self.bob["id"], addresses=[
            {"street": "1 Elm Street", "city": "Springfield", "state": "IL", "postalCode": "62701",
             "countryOrRegion": "US"}])
        self.store.update(MAILBOX, "customers", self.cid["id"], addresses=[
            {"street": "5 High Street", "city": "Atlantis", "postalCode": "1", "countryOrRegion": "Atlantis"}])
        existing = self.env["res.partner"].create({"name": "Cid Cole", "email": "cid@example.com",
                                                   "street": "Kept Street"})
        self.sync()
        partner = self.env["bookings.customer"].search([("bookings_id", "=", self.ann["id"])]).partner_id
        self.assertEqual((partner.street, partner.city, partner.zip, partner.country_id, partner.phone),
                         ("12 rue de la Paix", "Paris", "75002", self.env.ref("base.fr"), "+33 1 23 45 67 89"))
        partner = self.env["bookings.customer"].search([("bookings_id", "=", self.bob["id"])]).partner_id
        self.assertEqual((partner.country_id, partner.state_id), (self.env.ref("base.us"),
                                                                   self.env.ref("base.state_us_14")))
        self.assertEqual((existing.street, existing.country_id.id), ("Kept Street", False))  # never overwritten

    def test_where_calendar_view_is_refused_appointments_are_read_and_the_run_says_so(self):
        inside = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.add_appointment(self.cut, [self.bob], hours_ago(24 * 90))  # outside the window of 30 days back
        self.store.tenants[TENANT][CLIENT_ID]["calendar_view"] = False
        run = self.sync()
        self.assertEqual((run.state, run.appointments_created), ("done", 1), run.message)
        self.assertEqual(self.rows().mapped("bookings_id"), [inside["id"]])
        self.assertIn("does not support the token type: App", run.message)

    def test_the_business_currency_is_used_and_activated(self):
        euro = self.env.ref("base.EUR")
        euro.active = False
        self.store.businesses[MAILBOX]["business"]["defaultCurrencyIso"] = "EUR"
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        self.assertTrue(euro.active)
        self.assertEqual(self.business.currency_id, euro)
        self.assertEqual(self.rows(booked).currency_id, euro)

    def test_a_currency_odoo_does_not_have_leaves_the_companys_and_says_so(self):
        self.store.businesses[MAILBOX]["business"]["defaultCurrencyIso"] = "ZZZ"
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        run = self.sync()
        self.assertEqual((run.state, self.business.currency_id, self.rows(booked).currency_id),
                         ("done", self.company.currency_id, self.company.currency_id))
        self.assertIn("ZZZ", run.message)

    def test_two_businesses_in_two_companies(self):
        other_company = self.env["res.company"].create({"name": "Fabrikam", "currency_id": self.env.ref("base.EUR").id})
        other = self.env["bookings.business"].create(self._business_values(
            self.peer, "spa@fabrikam.onmicrosoft.com", name="Fabrikam Spa", company_id=other_company.id))
        self.add_business("spa@fabrikam.onmicrosoft.com")
        massage = self.add_service("Massage", mailbox="spa@fabrikam.onmicrosoft.com")
        zed = self.add_customer("Zed Zorn", "zed@example.com", mailbox="spa@fabrikam.onmicrosoft.com")
        self.add_appointment(massage, [zed], hours_ago(4), mailbox="spa@fabrikam.onmicrosoft.com")
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.env["bookings.business"]._cron_synchronize()
        self.run_jobs()
        self.assertEqual(self.rows(business=other).partner_id.company_id, other_company)
        self.assertEqual(self.rows(business=other).product_id.company_id, other_company)
        visible = self.env["bookings.appointment"].sudo(self.user).search([])
        self.assertEqual(visible.mapped("company_id"), self.company)
        with self.assertRaises(AccessError):
            self.rows(business=other).sudo(self.user).read(["price"])

    def test_one_failing_business_does_not_stop_the_others(self):
        broken = self.env["bookings.business"].create(self._business_values(
            self.peer, "gone@contoso.onmicrosoft.com", name="Gone"))
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.env["bookings.business"]._cron_synchronize()
        with mute_logger("odoo.addons.bookings_invoicing.sync"):
            self.run_jobs()
        self.assertEqual(broken.last_sync_state, "failed")
        self.assertIn("gone@contoso.onmicrosoft.com", broken.last_sync_message)
        self.assertEqual(self.business.last_sync_state, "done")
        self.assertEqual(len(self.rows()), 1)

    def test_two_synchronizations_of_one_business_never_overlap(self):
        runs = self.business.sync_run_ids
        with database_cursor(self.cr.dbname) as other:
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", lock_key("sync", self.business.id))
            self.assertTrue(other.fetchone()[0])
            try:
                with self.assertRaises(UserError):
                    self.business.sudo(self.manager).action_synchronize()
                self.business.invalidate_cache()
                self.assertEqual(self.business.sync_run_ids, runs, "the second did not start")
            finally:
                other.execute("SELECT pg_advisory_unlock(%s, %s)", lock_key("sync", self.business.id))
        self.assertEqual(self.sync().state, "done")  # free again

    def test_requests_to_one_mailbox_wait_for_one_of_four_slots_held_by_any_process(self):
        client = self.business.sudo()._graph_client()
        name = self.business._graph_gate_name()
        holders = [database_cursor(self.cr.dbname) for _slot in range(GRAPH_CONCURRENCY)]
        try:
            for slot, holder in enumerate(holders):  # four requests of other processes in flight
                holder.execute("SELECT pg_advisory_lock(%s, %s)", lock_key(name, slot))
            self.peer.clear_requests()
            with ThreadPoolExecutor(1) as pool:
                answer = pool.submit(client.get_business, MAILBOX)
                slot = wait_for(lambda: self._waiting_slot(holders[0], name), "the request waiting for a slot")
                self.assertFalse(self.peer.requests_to("/bookingBusinesses/"), "nothing sent while it waits")
                holders[slot].execute("SELECT pg_advisory_unlock(%s, %s)", lock_key(name, slot))
                self.assertEqual(answer.result().id, MAILBOX)
            self.assertEqual(len(self.peer.requests_to("/bookingBusinesses/")), 1)
        finally:
            for holder in holders:
                holder.close()

    @staticmethod
    def _waiting_slot(cr, name):
        cr.execute("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 "
                   "AND NOT granted", (lock_key(name, 0)[0],))
        row = cr.fetchone()
        return row[0] if row else None

    def test_synchronize_now_reports_its_counts(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        action = self.business.sudo(self.manager).action_synchronize()
        run = self.env["bookings.sync.run"].browse(action["res_id"])
        self.assertEqual(action["res_model"], "bookings.sync.run")
        self.assertEqual((run.state, run.appointments_created), ("done", 1))

    def sync_jobs(self):
        return self.env["queue.job"].search([("model_name", "=", "bookings.business"),
                                             ("method_name", "=", "_synchronize_job")])

    def only_this_business_active(self):
        """The database's other businesses (the add-on's demo one, an integrator's) set aside for the test."""
        self.env["bookings.business"].search([("id", "!=", self.business.id)]).write({"active": False})

    def test_the_hourly_synchronization_queues_one_job_per_active_business(self):
        self.only_this_business_active()
        idle = self.env["bookings.business"].create(self._business_values(
            self.peer, "idle@contoso.onmicrosoft.com", name="Idle", active=False))
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.env["bookings.business"]._cron_synchronize()
        self.env["bookings.business"]._cron_synchronize()  # the next hour, before the job ran: no second job
        jobs = self.sync_jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual((jobs.record_ids, jobs.channel, jobs.state), ([self.business.id], "root.bookings_sync",
                                                                       "pending"))
        self.assertEqual(self.business.last_sync_state, "queued")
        self.assertFalse(self.rows(), "nothing is synchronized in the cron's transaction")
        self.run_jobs()
        self.assertEqual((self.business.last_sync_state, len(self.rows())), ("done", 1))
        self.assertEqual(idle.last_sync_state, "never")

    def test_a_business_being_synchronized_keeps_its_state_when_queued_again(self):
        self.only_this_business_active()
        self.business.last_sync_state = "running"  # as the importer marks it while it works
        self.env["bookings.business"]._cron_synchronize()
        self.assertEqual((self.business.last_sync_state, len(self.sync_jobs())), ("running", 1))

    def test_a_large_business_synchronizes_in_the_background(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.sync()
        self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.env["ir.config_parameter"].set_param("bookings_invoicing.sync_foreground_limit", "0")
        self.assertIs(self.business.sudo(self.manager).action_synchronize(), True)
        self.assertEqual((self.business.last_sync_state, len(self.sync_jobs())), ("queued", 1))
        self.assertEqual(len(self.rows()), 1)
        self.run_jobs()
        self.assertEqual((self.business.last_sync_state, len(self.rows())), ("done", 2))

    def test_a_job_meeting_a_running_synchronization_waits_for_it(self):
        self.business._enqueue_synchronization()
        with database_cursor(self.cr.dbname) as other:  # another synchronization of the business is running
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", lock_key("sync", self.business.id))
            try:
                with self.assertRaises(RetryableJobError) as caught:
                    self.run_jobs()
            finally:
                other.execute("SELECT pg_advisory_unlock(%s, %s)", lock_key("sync", self.business.id))
        self.assertTrue(caught.exception.ignore_retry, "waiting is not a failure: it does not count as a retry")

    def test_the_partner_and_product_show_their_bookings(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.add_appointment(self.cut, [self.ann], hours_ago(30))
        self.sync()
        partner = self.rows()[0].partner_id
        self.assertEqual(partner.bookings_appointment_count, 2)
        self.assertEqual(self.env["bookings.appointment"].search(
            partner.action_open_bookings_appointments()["domain"]), self.rows())
        template = self.rows()[0].product_id.product_tmpl_id
        self.assertEqual((template.bookings_service_count, template.bookings_appointment_count), (1, 2))


@at_install(False)
@post_install(True)
class TestAdvisoryLocks(TransactionCase):
    """The turns that synchronizations of one company take on the e-mail addresses of their customers."""

    def held(self, cr, keys):
        """``{key: pid holding it}`` of the granted advisory locks among ``keys``."""
        cr.execute("SELECT classid, objid, pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2")
        return {(classid, objid): pid for classid, objid, pid in cr.fetchall() if (classid, objid) in keys}

    def test_a_turn_waits_for_an_address_another_process_holds_then_holds_them_all(self):
        keys = [lock_key("test turn", "%s@example.com" % name) for name in ("ann", "bob", "cid")]
        inside, leave = threading.Event(), threading.Event()

        def turn():
            with advisory_locks(self.cr.dbname, keys):
                inside.set()
                leave.wait(60)

        with database_cursor(self.cr.dbname) as other, database_cursor(self.cr.dbname) as watcher:
            other.execute("SELECT pg_backend_pid(), pg_advisory_lock(%s, %s)", keys[1])
            other_pid = other.fetchone()[0]
            with ThreadPoolExecutor(1) as pool:
                done = pool.submit(turn)
                wait_for(lambda: self._waiting_on(watcher, keys[1]), "the turn waiting for bob's address")
                self.assertFalse(inside.is_set(), "the turn does not begin while an address is held elsewhere")
                self.assertEqual(self.held(watcher, keys).get(keys[1]), other_pid)
                other.execute("SELECT pg_advisory_unlock(%s, %s)", keys[1])
                self.assertTrue(inside.wait(60), "the turn begins once the address is free")
                holders = self.held(watcher, keys)
                self.assertEqual(set(holders), set(keys))
                self.assertEqual(len(set(holders.values())), 1, "one process holds the three addresses")
                self.assertNotIn(other_pid, holders.values())
                leave.set()
                done.result()
            self.assertEqual(self.held(watcher, keys), {}, "all released when the turn ends")

    @staticmethod
    def _waiting_on(cr, key):
        cr.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = %s "
                   "AND objid = %s AND objsubid = 2", key)
        row = cr.fetchone()
        return row[0] if row else None


@at_install(False)
@post_install(True)
class TestPartnerIndex(TransactionCase):

    def test_the_index_of_partner_addresses_comes_and_goes_with_the_add_on(self):
        self.assertTrue(index_exists(self.env.cr, EMAIL_INDEX), "made at install and at every update")
        uninstall_hook(self.env.cr, self.registry)  # rolled back with the test
        self.assertFalse(index_exists(self.env.cr, EMAIL_INDEX))
