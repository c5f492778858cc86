import datetime
from unittest.mock import patch

from lxml import etree

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tools import mute_logger
from odoo.tools.misc import format_date, formatLang
from odoo.tools.safe_eval import safe_eval

from ..models.bookings_appointment_invoicing import RowsLocked
from .common import MAILBOX, NOW, BookingsCase, database_cursor, hours_ago


class TestInvoicing(BookingsCase):

    def setUp(self):
        super(TestInvoicing, self).setUp()
        self.add_salon(price=35.0, minutes=45)

    def invoice(self, rows, user=None, grouping=None):
        invoices, skipped = rows.sudo(user or self.user)._create_invoices(grouping=grouping)
        return invoices.sudo(), skipped

    # --- lines per price type ---------------------------------------------------------------------------------
    def test_each_price_type_gives_its_line(self):
        cases = [  # price type, Bookings price, minutes -> quantity, unit price, price to confirm
            ("fixedPrice", 35.0, 30, 1.0, 35.0, False),
            ("startingAt", 60.0, 45, 1.0, 60.0, True),  # a minimum: to confirm
            ("hourly", 80.0, 90, 1.5, 80.0, False),
            ("priceVaries", 45.0, 60, 1.0, 45.0, True),
            ("callUs", 0.0, 60, 1.0, 30.0, True),  # no Bookings price: the product's sales price
            ("notSet", 0.0, 60, 1.0, 30.0, True),
            ("undefined", 0.0, 60, 1.0, 30.0, True),
            ("somethingNew", 25.0, 60, 1.0, 25.0, True),
        ]
        for index, (price_type, price, minutes, _quantity, _unit_price, _to_confirm) in enumerate(cases):
            service = self.add_service("Service %s" % price_type, price=price, price_type=price_type)
            self.add_appointment(service, [self.ann], hours_ago(10 + index * 3), minutes=minutes)
        self.sync()
        self.env["product.product"].search([("name", "like", "Service ")]).write({"list_price": 30.0})
        invoices, skipped = self.invoice(self.rows())
        self.assertFalse(skipped)
        lines = invoices.invoice_line_ids
        self.assertEqual(len(invoices), 1)
        self.assertEqual(len(lines), len(cases))
        for price_type, _price, _minutes, quantity, unit_price, to_confirm in cases:
            row = self.rows().filtered(lambda r, name="Service %s" % price_type: r.service_name == name)
            self.assertEqual((row.invoice_line_id.quantity, row.invoice_line_id.price_unit), (quantity, unit_price),
                             price_type)
            self.assertEqual(row.price_to_confirm, to_confirm, price_type)
            self.assertEqual(row.invoice_status, "invoiced")

    def test_extensions_of_invoice_lines_apply_to_the_bookings_lines(self):
        """The lines are made as Odoo's own invoicing makes them: their taxes by ``_set_taxes``, then completed by
        ``_set_additional_fields``, which extensions of invoice lines (localizations, analytic defaults) extend."""
        analytic = self.env["account.analytic.account"].create({"name": "Salon"})
        reduced = self.env["account.tax"].create({
            "name": "Reduced 5%", "amount": 5.0, "amount_type": "percent", "type_tax_use": "sale"})
        Line = type(self.env["account.invoice.line"])
        set_taxes, set_additional_fields = Line._set_taxes, Line._set_additional_fields

        def services_taxes(line):  # a localization's rate for services
            set_taxes(line)
            line.invoice_line_tax_ids = reduced

        def analytic_default(line, invoice):  # account_analytic_default's, with a rule for every line
            if not line.account_analytic_id:
                line.account_analytic_id = analytic
            set_additional_fields(line, invoice)

        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        with patch.object(Line, "_set_taxes", services_taxes), \
                patch.object(Line, "_set_additional_fields", analytic_default):
            invoices, _skipped = self.invoice(self.rows())
        line = invoices.invoice_line_ids
        self.assertEqual((line.invoice_line_tax_ids, line.account_analytic_id), (reduced, analytic))
        self.assertEqual((invoices.amount_untaxed, invoices.amount_tax), (35.0, 1.75))

    def test_an_hourly_service_bills_the_exact_duration(self):
        colour = self.add_service("Colour", price=60.0, price_type="hourly")
        for index, minutes in enumerate((20, 25, 35, 40, 50, 55, 70, 90)):
            self.add_appointment(colour, [self.ann], hours_ago(10 + index * 3), minutes=minutes)
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        lines = {round(row.duration * 60): row.invoice_line_id for row in self.rows()}
        self.assertEqual({minutes: line.price_subtotal for minutes, line in lines.items()},
                         {20: 20.0, 25: 25.0, 35: 35.0, 40: 40.0, 50: 50.0, 55: 55.0, 70: 70.0, 90: 90.0})
        self.assertEqual(invoices.amount_untaxed, 385.0)
        # a duration the line's quantity holds is billed in hours; another one as one unit, saying its rate
        self.assertEqual((lines[90].quantity, lines[90].price_unit, lines[90].uom_id.name), (1.5, 60.0, "Hour(s)"))
        self.assertEqual((lines[20].quantity, lines[20].price_unit, lines[20].uom_id.id), (1.0, 20.0, False))
        self.assertIn("(20 min \u00d7 60.00 USD/h)", lines[20].name)

    def test_a_draft_says_which_lines_have_a_price_to_confirm(self):
        minimum = self.add_service("Colour from", price=40.0, price_type="startingAt")
        self.add_appointment(minimum, [self.ann], hours_ago(5))
        self.add_appointment(self.cut, [self.ann], hours_ago(8))
        self.sync()
        wizard = self.invoice_all_wizard(business_id=self.business.id)
        self.assertEqual((wizard.row_count, wizard.to_confirm_count), (2, 1))
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual((invoices.bookings_appointment_count, invoices.bookings_to_confirm_count), (2, 1))
        shown = self.env["bookings.appointment"].search(invoices.action_open_bookings_to_confirm()["domain"])
        self.assertEqual(shown.mapped("service_name"), ["Colour from"])
        # the accountant confirms the prices of the draft: no longer flagged, on the draft or the booking
        invoices.sudo(self.user).action_confirm_bookings_prices()
        self.assertEqual((invoices.bookings_to_confirm_count, shown.price_to_confirm), (0, False))
        # a draft deleted frees its bookings, whose price is to be confirmed again on the next draft
        invoices.unlink()
        self.assertTrue(shown.price_to_confirm)

    def test_a_party_has_one_draft_per_period_that_later_bookings_join(self):
        first = self.add_appointment(self.cut, [self.ann], hours_ago(30))
        self.add_appointment(self.cut, [self.bob], hours_ago(28))
        self.sync()
        drafts, _skipped = self.invoice(self.rows())
        ann_draft = self.rows(first).invoice_id
        later = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        joined, _skipped = self.invoice(self.rows(later))
        self.assertEqual(joined, ann_draft, "the booking joins Ann's draft of the month")
        self.assertIn(self.rows(later)._display_label_for_message(), ann_draft.message_ids[0].body,
                      "the draft's chatter names the booking added")
        self.assertEqual((len(ann_draft.invoice_line_ids), ann_draft.amount_untaxed, ann_draft.amount_tax),
                         (2, 70.0, 14.0), "a line added, totals and taxes recomputed")
        self.assertEqual(len(drafts), 2)
        # a validated invoice is not joined, nor a draft of another period, nor one under another reference
        ann_draft.action_invoice_open()
        again = self.add_appointment(self.cut, [self.ann], hours_ago(4))
        self.sync()
        new_draft, _skipped = self.invoice(self.rows(again))
        self.assertNotIn(new_draft, drafts)
        next_month = fields.Date.to_string(self.today_date().replace(day=1) + datetime.timedelta(days=40))
        new_draft.date_invoice = next_month
        other = self.add_appointment(self.cut, [self.ann], hours_ago(3))
        self.sync()
        this_month, _skipped = self.invoice(self.rows(other))
        self.assertNotIn(this_month, new_draft | drafts)
        # each booking its invoice: nothing is joined
        per_booking = self.add_appointment(self.cut, [self.ann], hours_ago(2))
        self.sync()
        separate, _skipped = self.invoice(self.rows(per_booking), grouping="appointment")
        self.assertNotIn(separate, this_month | new_draft | drafts)

    def test_the_months_prices_are_confirmed_in_one_action_across_drafts(self):
        minimum = self.add_service("Colour from", price=40.0, price_type="startingAt")
        for customer, hours in ((self.ann, 5), (self.bob, 6), (self.ann, 30)):
            self.add_appointment(minimum, [customer], hours_ago(hours))
        self.add_appointment(self.cut, [self.bob], hours_ago(8))
        self.sync()
        drafts, _skipped = self.invoice(self.rows())
        self.assertEqual(len(drafts), 2)
        business = self.business.sudo(self.user)
        action = business.action_open_to_confirm()
        to_confirm = self.env["bookings.appointment"].sudo(self.user).search(action["domain"])
        self.assertEqual((business.to_confirm_count, len(to_confirm)), (3, 3), "the dashboard's figure, its list")
        self.assertEqual(to_confirm, self.rows().filtered("price_to_confirm"))
        Invoice = self.env["account.invoice"].sudo(self.user)
        to_confirm_filter = [("id", "in", drafts.ids), ("state", "=", "draft"),
                             ("bookings_appointment_ids.price_to_confirm", "=", True)]
        self.assertEqual(Invoice.search(to_confirm_filter), drafts)
        to_confirm.action_confirm_prices()
        self.assertFalse(self.rows().filtered("price_to_confirm"))
        self.assertEqual((business.to_confirm_count, Invoice.search(to_confirm_filter)), (0, Invoice))
        for draft in drafts:
            note = draft.message_ids[0]
            self.assertEqual(note.author_id, self.user.partner_id)
            self.assertEqual(note.body.count("Colour from"), len(draft.bookings_appointment_ids.filtered(
                lambda row: row.service_name == "Colour from")), "the note names the bookings confirmed")
        # nothing left to confirm: said, and nothing changes
        with self.assertRaises(UserError):
            to_confirm.action_confirm_prices()

    def test_a_validated_invoice_has_no_price_left_to_confirm(self):
        minimum = self.add_service("Colour from", price=40.0, price_type="startingAt")
        self.add_appointment(minimum, [self.ann], hours_ago(5))
        self.sync()
        invoice, _skipped = self.invoice(self.rows())
        self.assertTrue(self.rows().price_to_confirm)
        invoice.action_invoice_open()
        self.assertEqual((invoice.state, self.rows().price_to_confirm, invoice.bookings_to_confirm_count),
                         ("open", False, 0))
        self.assertEqual(self.rows().amount, 40.0, "what the invoice billed")

    def test_changing_the_price_of_a_line_confirms_it(self):
        minimum = self.add_service("Colour from", price=40.0, price_type="startingAt")
        self.add_appointment(minimum, [self.ann], hours_ago(5))
        self.add_appointment(minimum, [self.ann], hours_ago(9))
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(invoices.bookings_to_confirm_count, 2)
        line = invoices.invoice_line_ids[0]
        invoices.sudo(self.user).write({"invoice_line_ids": [(1, line.id, {"price_unit": 55.0})]})
        self.assertEqual(invoices.bookings_to_confirm_count, 1)
        self.assertFalse(line.bookings_appointment_ids.price_to_confirm)

    def test_a_booking_without_a_price_waits_for_one(self):
        on_request = self.add_service("Colour correction", price=0.0, price_type="callUs")
        booked = self.add_appointment(on_request, [self.ann], hours_ago(5))
        self.add_appointment(self.cut, [self.ann], hours_ago(7))
        self.sync()
        row = self.rows(booked)
        row.product_id.list_price = 0.0
        self.assertEqual((row.invoice_status, row.amount), ("no_price", 0.0), "never invoiced at 0.00")
        business = self.business.sudo(self.manager)
        self.assertEqual((business.uninvoiced_count, business.ready_count, business.no_price_count), (2, 1, 1))
        wizard = self.invoice_all_wizard(business_id=self.business.id)
        self.assertEqual((wizard.row_count, wizard.waiting_count), (1, 1))
        self.assertEqual(self.env["bookings.appointment"].search(wizard.action_open_waiting()["domain"]), row)
        _invoices, skipped = self.invoice(row)
        self.assertIn(row.id, skipped)
        self.assertEqual(row.invoice_status, "no_price")
        row.product_id.list_price = 80.0  # the accountant prices the service's product
        self.assertEqual((row.invoice_status, row.amount), ("to_invoice", 80.0))

    def test_the_fallback_price_is_converted_to_the_invoice_currency(self):
        other = self.bill_in_another_currency({self.today_date(): 1.25})
        on_request = self.add_service("On request", price=0.0, price_type="callUs")
        self.add_appointment(on_request, [self.ann], hours_ago(5))
        self.sync()
        self.rows().product_id.list_price = 30.0  # in the company's currency
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(invoices.currency_id, other)
        self.assertEqual((invoices.invoice_line_ids.price_unit, invoices.amount_untaxed), (37.5, 37.5))
        self.assertTrue(self.rows().price_to_confirm)

    def test_invoice_alls_preview_holds_what_the_drafts_hold_for_prices_converted_at_the_invoice_date(self):
        """A product price standing in for a missing Bookings price, in another currency than the company's, is
        converted at the invoice date by the lines and by the preview alike, whatever the rate of the day."""
        last_day = self.today_date().replace(day=1) - datetime.timedelta(days=1)
        other = self.bill_in_another_currency({last_day: 1.5, self.today_date(): 1.25})
        on_request = self.add_service("On request", price=0.0, price_type="callUs")
        self.business.sync_days_back = 70
        start = datetime.datetime.combine(last_day, datetime.time(15))
        for customer in (self.ann, self.ann, self.bob):
            self.add_appointment(on_request, [customer], start)
        self.add_appointment(self.cut, [self.bob], start, price=40.0)  # a firm price: as Bookings gives it
        self.sync()
        self.rows().mapped("product_id").filtered(lambda p: p.name == "On request").list_price = 30.25
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({
            "business_id": self.business.id, "date_until": fields.Date.to_string(last_day),
            "date_invoice": fields.Date.to_string(last_day)})
        previewed = wizard.amount_text
        wizard.action_create_invoices()
        invoices = self.rows().mapped("invoice_id")
        self.assertEqual(sorted(invoices.mapped("invoice_line_ids.price_unit")), [40.0, 45.38, 45.38, 45.38])
        self.assertEqual(previewed, formatLang(self.env, sum(invoices.mapped("amount_untaxed")), currency_obj=other))

    def test_the_uninvoiced_list_holds_what_the_model_counts_as_uninvoiced(self):
        """The menu's list, the dashboard's counts and Invoice All share one definition of what waits."""
        action = self.env.ref("bookings_invoicing.bookings_appointment_action_uninvoiced")
        Appointment = self.env["bookings.appointment"]
        self.assertEqual(safe_eval(action.domain), Appointment._uninvoiced_domain())
        to_confirm = self.env.ref("bookings_invoicing.bookings_appointment_action_to_confirm")
        self.assertEqual(sorted(safe_eval(to_confirm.domain)), sorted(Appointment._to_confirm_domain()))

    def test_a_free_appointment_has_nothing_to_invoice(self):
        free = self.add_service("Free check", price=0.0, price_type="free")
        self.add_appointment(free, [self.ann], hours_ago(5))
        self.sync()
        self.assertEqual(self.rows().invoice_status, "nothing")
        self.assertFalse(self.env["bookings.appointment"].search(
            self.env["bookings.appointment"]._uninvoiced_domain() + [("business_id", "=", self.business.id)]))
        with self.assertRaises(UserError):
            self.rows().sudo(self.user).action_create_invoices()
        self.assertFalse(self.rows().invoice_line_id)

    def test_the_line_describes_the_appointment_in_local_time(self):
        start = datetime.datetime(NOW.year - 1, 7, 1, 13, 0)  # 13:00 UTC = 15:00 in Paris (summer)
        self.add_appointment(self.cut, [self.ann], start, minutes=45)
        self.business.sync_days_back = 800
        self.sync()
        self.rows().partner_id.tz = "Europe/Paris"
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(invoices.invoice_line_ids.name, "Hair cut - %s-07-01 15:00 (45 min)" % (NOW.year - 1))
        self.assertIn("Microsoft Bookings", invoices.origin)
        # the booking's name gives its start where the user is, in the format of the user's language
        self.assertEqual(self.rows().with_context(tz="America/Chicago", lang="en_US").display_label,
                         "Hair cut - Ann Archer - 07/01/%s 08:00" % (NOW.year - 1))

    def test_the_line_gives_the_time_in_the_zone_the_customer_booked_in(self):
        start = datetime.datetime(NOW.year - 1, 1, 15, 14, 15)  # 14:15 UTC = 08:15 in Chicago (winter)
        booked = self.add_appointment(self.cut, [self.ann], start, minutes=45)
        booked["customers"][0]["timeZone"] = "Central Standard Time"  # Windows name, as Graph may send it
        self.business.sync_days_back = 800
        self.sync()
        row = self.rows()
        row.partner_id.tz = "Europe/Paris"  # the partner's own zone yields to the one of the booking
        self.assertEqual(row.customer_tz, "America/Chicago")
        invoices, _skipped = self.invoice(row)
        self.assertEqual(invoices.invoice_line_ids.name, "Hair cut - %s-01-15 08:15 (45 min)" % (NOW.year - 1))

    # --- grouping ----------------------------------------------------------------------------------------------
    def test_one_invoice_per_customer(self):
        for hours in (5, 30, 55):
            self.add_appointment(self.cut, [self.ann], hours_ago(hours))
        self.add_appointment(self.cut, [self.bob], hours_ago(6))
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(len(invoices), 2)
        by_partner = {inv.partner_id.email: inv for inv in invoices}
        self.assertEqual(len(by_partner["ann@example.com"].invoice_line_ids), 3)
        self.assertEqual(by_partner["ann@example.com"].state, "draft")
        self.assertEqual(by_partner["ann@example.com"].bookings_appointment_count, 3)

    def test_one_invoice_per_appointment(self):
        for hours in (5, 30):
            self.add_appointment(self.cut, [self.ann], hours_ago(hours))
        self.sync()
        self.business.invoice_grouping = "appointment"
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(len(invoices), 2)
        self.assertEqual(invoices.mapped(lambda i: len(i.invoice_line_ids)), [1, 1])

    def test_a_company_pays_for_its_people_at_its_invoice_address(self):
        Partner = self.env["res.partner"]
        fabrikam = Partner.create({"name": "Fabrikam", "is_company": True})
        accounts = Partner.create({"name": "Fabrikam Accounts", "parent_id": fabrikam.id, "type": "invoice"})
        tailspin = Partner.create({"name": "Tailspin", "is_company": True})  # no invoice address: the company
        people = {}
        for name, company in (("Eve Evans", fabrikam), ("Finn Ford", fabrikam), ("Gus Gray", tailspin)):
            email = "%s@example.com" % name.split()[0].lower()
            people[name] = Partner.create({"name": name, "email": email, "parent_id": company.id})
            self.add_appointment(self.cut, [self.add_customer(name, email)], hours_ago(5 + len(people)))
        self.add_appointment(self.cut, [self.ann], hours_ago(30))
        self.sync()
        self.assertEqual(self.rows().mapped("partner_id") - Partner.search([("email", "=", "ann@example.com")]),
                         Partner.browse([person.id for person in people.values()]), "each booking is its person's")
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({
            "business_id": self.business.id, "date_until": self.today()})
        self.assertEqual(wizard.invoice_count, 3, "the preview counts the drafts the invoicing makes")
        self.assertEqual(wizard.customer_count, 3, "and the parties that pay")
        money = formatLang(self.env, 70.0, currency_obj=self.company.currency_id)
        self.assertEqual(wizard.largest_customers.splitlines()[0], "%s: %s" % (accounts.display_name, money),
                         "a company's people add up on it")
        invoices, _skipped = self.invoice(self.rows())
        by_partner = {invoice.partner_id: invoice for invoice in invoices}
        self.assertEqual(set(by_partner), {accounts, tailspin, Partner.search([("email", "=", "ann@example.com")])})
        lines = by_partner[accounts].invoice_line_ids
        self.assertEqual(sorted(line.name.rsplit(" - ", 1)[1] for line in lines), ["Eve Evans", "Finn Ford"])
        self.assertTrue(by_partner[tailspin].invoice_line_ids.name.endswith(" - Gus Gray"))
        self.assertNotIn("Ann Archer", by_partner[Partner.search([("email", "=", "ann@example.com")])]
                         .invoice_line_ids.name, "a person who pays for themselves is not named twice")

    def test_purchase_orders_from_a_custom_question_never_share_an_invoice(self):
        self.business.write({"reference_question": "purchase ORDER", "note_question": "Room"})
        for hours, answers in ((5, [("Purchase order", "PO-1"), ("Room", "Blue room")]),
                               (30, [("Purchase order", "PO-2")]), (55, [("Allergies", "none")])):
            booked = self.add_appointment(self.cut, [self.ann], hours_ago(hours))
            self.store.update(MAILBOX, "appointments", booked["id"], customers=[dict(
                booked["customers"][0], customQuestionAnswers=[
                    {"questionId": question, "question": question, "answer": answer, "selectedOptions": []}
                    for question, answer in answers])])
        self.sync()
        rows = self.rows()
        self.assertEqual(sorted(filter(None, rows.mapped("customer_reference"))), ["PO-1", "PO-2"])
        self.assertIn("Allergies: none", rows.mapped("custom_answers"), "every answer is shown on its booking")
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({
            "business_id": self.business.id, "date_until": self.today()})
        self.assertEqual(wizard.invoice_count, 3)
        invoices, _skipped = self.invoice(rows)
        self.assertEqual(sorted(invoice.name or "" for invoice in invoices), ["", "PO-1", "PO-2"])
        first = invoices.filtered(lambda invoice: invoice.name == "PO-1").invoice_line_ids
        self.assertTrue(first.name.endswith("\nBlue room"), "the noted answer is on the line")

    def test_a_group_booking_is_billed_per_attendee(self):
        yoga = self.add_service("Group yoga", price=12.0, maximumAttendeesCount=6)
        self.add_appointment(yoga, [self.ann, self.bob], hours_ago(5))
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(sorted(invoices.mapped("partner_id.email")), ["ann@example.com", "bob@example.com"])
        self.assertEqual(invoices.mapped("amount_untaxed"), [12.0, 12.0])

    def test_two_businesses_never_share_an_invoice(self):
        spa_mailbox = "spa@contoso.onmicrosoft.com"
        journal = self.env["account.journal"].create({"name": "Spa sales", "code": "SPA", "type": "sale"})
        spa = self.env["bookings.business"].create(self._business_values(
            self.peer, spa_mailbox, name="Contoso Spa", journal_id=journal.id))
        self.add_business(spa_mailbox)
        massage = self.add_service("Massage", price=70.0, mailbox=spa_mailbox)
        ann_at_spa = self.add_customer("Ann Archer", "ann@example.com", mailbox=spa_mailbox)
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.add_appointment(massage, [ann_at_spa], hours_ago(4), mailbox=spa_mailbox)
        self.sync()
        self.sync(spa)
        rows = self.rows() | self.rows(business=spa)
        self.assertEqual(len(rows.mapped("partner_id")), 1)  # one customer of both businesses
        invoices, _skipped = self.invoice(rows)
        self.assertEqual(len(invoices), 2)
        at_spa = invoices.filtered(lambda i: i.journal_id == journal)
        self.assertEqual(at_spa.invoice_line_ids.product_id.name, "Massage")
        self.assertEqual((at_spa.amount_untaxed, at_spa.origin), (70.0, "Microsoft Bookings: Contoso Spa"))
        self.assertEqual((invoices - at_spa).amount_untaxed, 35.0)

    def test_a_month_reads_at_a_glance_in_a_calendar_a_pivot_and_a_graph(self):
        yoga = self.add_service("Group yoga", price=12.0, maximumAttendeesCount=6)
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.add_appointment(yoga, [self.ann, self.bob], hours_ago(6))
        self.sync()
        Appointment = self.env["bookings.appointment"].sudo(self.user)
        action = self.env.ref("bookings_invoicing.bookings_appointment_action").sudo(self.user).read()[0]
        self.assertEqual(action["view_mode"], "tree,pivot,graph,form")
        # the calendar: an event per appointment, the class with its two attendees; nothing to move or create
        Event = self.env["bookings.appointment.event"].sudo(self.user)
        calendar = self.env.ref("bookings_invoicing.bookings_appointment_event_action").sudo(self.user).read()[0]
        self.assertEqual(calendar["view_mode"], "calendar,tree,form")
        self.assertEqual(etree.fromstring(Event.fields_view_get(view_type="calendar")["arch"]).get("date_start"),
                         "start")
        self.assertTrue(Event.fields_get(["start"])["start"]["readonly"], "the calendar cannot move an event")
        self.assertFalse(Event.check_access_rights("create", raise_exception=False))
        events = Event.search([("business_id", "=", self.business.id)])
        self.assertEqual(sorted(events.mapped("attendee_count")), [1, 2])
        self.assertEqual(events.mapped("appointment_ids"), Appointment.search([("business_id", "=", self.business.id)]))
        pivot = etree.fromstring(Appointment.fields_view_get(view_type="pivot")["arch"])
        self.assertEqual(pivot.xpath("//field[@type='measure']/@name"), ["amount"])
        by_service = {group["service_id"][1]: (group["amount"], group["service_id_count"])
                      for group in Appointment.read_group([("business_id", "=", self.business.id)],
                                                          ["amount", "service_id"], ["service_id"])}
        self.assertEqual(by_service, {"Hair cut": (35.0, 1), "Group yoga": (24.0, 2)})

    def test_the_dashboard_shows_what_waits_in_each_business(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.add_appointment(self.cut, [self.bob], hours_ago(6))
        nobody = self.add_appointment(self.cut, [], hours_ago(7))
        changed = self.add_appointment(self.cut, [self.ann], hours_ago(8))
        future = self.add_appointment(self.cut, [self.bob], hours_ago(-8))  # not completed: not waiting yet
        self.sync()
        self.assertEqual((self.rows(future).invoice_status, self.rows(future).status), ("to_invoice", "upcoming"))
        self.invoice(self.rows(changed))
        self.store.update(MAILBOX, "appointments", changed["id"], price=50.0)  # changed after invoicing
        self.sync()
        business = self.business.sudo(self.manager)
        self.assertEqual((business.uninvoiced_count, business.uninvoiced_amount, business.review_count,
                          business.no_customer_count), (3, 70.0, 1, 1))
        # the bookings without customer are counted with their amount, beside those ready; the drafts too
        self.assertEqual((business.ready_count, business.no_customer_amount, business.draft_invoice_count),
                         (2, 35.0, 1))
        self.assertEqual(self.env["account.invoice"].search(business.action_open_draft_invoices()["domain"]),
                         self.rows(changed).invoice_id)
        # the card's Invoice All opens the wizard of this business
        invoice_all = business.action_invoice_all()
        wizard = self.invoice_all_wizard(invoice_all["context"])
        self.assertEqual((invoice_all["res_model"], wizard.business_id), ("bookings.invoice.wizard", self.business))
        self.assertEqual((wizard.row_count, wizard.waiting_count), (2, 1))
        Appointment = self.env["bookings.appointment"]
        self.assertEqual(Appointment.search(business.action_open_review()["domain"]), self.rows(changed))
        no_customer = business.action_open_no_customer()
        self.assertEqual(no_customer["context"]["search_default_no_customer"], 1)
        with_filter = safe_eval(no_customer["domain"]) + [("invoice_status", "=", "no_customer")]
        self.assertEqual(Appointment.search(with_filter), self.rows(nobody))
        dashboard = self.env.ref("bookings_invoicing.bookings_business_action_dashboard")
        self.assertEqual((dashboard.view_mode, dashboard.res_model), ("kanban,form", "bookings.business"))

    # --- accounts, taxes, currencies --------------------------------------------------------------------------
    def test_accounts_taxes_and_fiscal_position_as_odoo_sets_them(self):
        exempt = self.env["account.tax"].create({
            "name": "Export 0%", "amount": 0.0, "amount_type": "percent", "type_tax_use": "sale"})
        income = self.env["account.account"].create({
            "name": "Export sales", "code": "BK400",
            "user_type_id": self.env.ref("account.data_account_type_revenue").id})
        position = self.env["account.fiscal.position"].create({
            "name": "Export", "tax_ids": [(0, 0, {"tax_src_id": self.tax.id, "tax_dest_id": exempt.id})],
            "account_ids": [(0, 0, {"account_src_id": self._income_account().id, "account_dest_id": income.id})],
        })
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.add_appointment(self.cut, [self.bob], hours_ago(6))
        self.sync()
        ann = self.rows().filtered(lambda r: r.customer_name == "Ann Archer")
        ann.partner_id.property_account_position_id = position
        invoices, _skipped = self.invoice(self.rows())
        ann_invoice = invoices.filtered(lambda i: i.partner_id == ann.partner_id)
        bob_invoice = invoices - ann_invoice
        self.assertEqual(ann_invoice.fiscal_position_id, position)
        self.assertEqual(ann_invoice.invoice_line_ids.invoice_line_tax_ids, exempt)
        self.assertEqual(ann_invoice.invoice_line_ids.account_id, income)
        self.assertEqual(ann_invoice.amount_total, 35.0)
        self.assertEqual(bob_invoice.invoice_line_ids.invoice_line_tax_ids, self.tax)
        self.assertEqual(bob_invoice.invoice_line_ids.account_id, self._income_account())
        self.assertEqual(bob_invoice.account_id, bob_invoice.partner_id.property_account_receivable_id)
        self.assertEqual((bob_invoice.amount_untaxed, bob_invoice.amount_tax, bob_invoice.amount_total),
                         (35.0, 7.0, 42.0))

    def test_a_product_without_taxes_takes_its_income_account_default_taxes(self):
        income = self.env["account.account"].create({
            "name": "Salon sales", "code": "BK401", "tax_ids": [(6, 0, self.tax.ids)],
            "user_type_id": self.env.ref("account.data_account_type_revenue").id})
        self.product_template.taxes_id = False
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        self.rows().product_id.property_account_income_id = income
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(invoices.invoice_line_ids.invoice_line_tax_ids, self.tax)
        self.assertEqual((invoices.amount_untaxed, invoices.amount_tax), (35.0, 7.0))

    def _income_account(self):
        product = self.env["product.product"].search([("name", "=", "Hair cut")], limit=1) or self.product_template
        return product.property_account_income_id or product.categ_id.property_account_income_categ_id

    def test_prices_that_include_taxes_are_kept_to_the_cent(self):
        included = self.env["account.tax"].create({
            "name": "VAT 20% included", "amount": 20.0, "amount_type": "percent", "type_tax_use": "sale",
            "price_include": True})
        self.business.price_include_tax = True
        for index, price in enumerate((10.0, 35.0, 49.99, 0.05, 123.45)):
            service = self.add_service("Priced %s" % index, price=price)
            self.add_appointment(service, [self.ann], hours_ago(5 + index))
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        for line in invoices.invoice_line_ids:
            row = line.bookings_appointment_ids
            self.assertEqual(line.invoice_line_tax_ids, included)
            self.assertEqual(line.price_total, row.price, line.name)
        self.assertEqual(invoices.amount_total, round(10.0 + 35.0 + 49.99 + 0.05 + 123.45, 2))
        self.assertEqual(invoices.amount_total, invoices.amount_untaxed + invoices.amount_tax)

    def test_included_prices_need_an_included_tax(self):
        self.business.price_include_tax = True
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        with self.assertRaisesRegexp(UserError, "VAT 20% has no price-included variant"):
            self.invoice(self.rows())
        self.assertEqual(self.rows().invoice_status, "to_invoice", "nothing is half-done")

    def test_the_invoice_is_in_the_business_currency(self):
        euro = self.env.ref("base.EUR")
        euro.active = True
        self.store.businesses[MAILBOX]["business"]["defaultCurrencyIso"] = "EUR"
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoices, _skipped = self.invoice(self.rows())
        self.assertEqual(invoices.currency_id, euro)
        self.assertEqual(invoices.invoice_line_ids.price_unit, 35.0)
        self.assertEqual(invoices.amount_untaxed, 35.0)

    # --- the life of an invoice ------------------------------------------------------------------------------
    def test_a_cancelled_or_deleted_invoice_frees_its_rows(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        row = self.rows()
        invoices, _skipped = self.invoice(row)
        self.assertEqual(row.invoice_status, "invoiced")
        invoices.action_invoice_cancel()
        self.assertEqual(row.invoice_status, "to_invoice")
        again, _skipped = self.invoice(row)
        self.assertEqual(row.invoice_id, again)
        again.unlink()
        self.assertFalse(row.invoice_line_id)
        self.assertEqual(row.invoice_status, "to_invoice")
        Appointment = self.env["bookings.appointment"]
        self.assertIn(row, Appointment.search(Appointment._uninvoiced_domain()))

    def test_rows_that_cannot_be_invoiced_are_skipped_with_the_reason(self):
        done = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        future = self.add_appointment(self.cut, [self.ann], hours_ago(-24))
        nobody = self.add_appointment(self.cut, [], hours_ago(6))
        gone = self.add_appointment(self.cut, [self.bob], hours_ago(7))
        billed = self.add_appointment(self.cut, [self.bob], hours_ago(8))
        self.sync()
        first, _skipped = self.invoice(self.rows(billed))
        self.store.remove(MAILBOX, "appointments", gone["id"])
        self.sync()
        action = self.rows().sudo(self.user).action_create_invoices()
        wizard = self.env["bookings.invoice.wizard"].browse(action["res_id"])
        self.assertEqual(self.rows(done).invoice_status, "invoiced")
        message = wizard.skipped_message
        for data in (future, nobody, gone, billed):  # each booking not invoiced is named, in the user's time zone
            self.assertIn(self.rows(data).sudo(self.user).display_label, message)
        self.assertEqual((self.rows(future).is_completed, self.rows(nobody).invoice_status,
                          self.rows(gone).invoice_status), (False, "no_customer", "cancelled"))
        # the draft as an accountant finds it in the invoices list: customer, date and total
        for detail in (first.partner_id.display_name, format_date(self.env, first.create_date[:10]),
                       formatLang(self.env, first.amount_total, currency_obj=first.currency_id)):
            self.assertIn(detail, message)
        self.assertEqual(wizard.invoice_ids, self.rows(done).invoice_id)
        for data in (future, nobody, gone):
            self.assertFalse(self.rows(data).invoice_line_id)
        self.assertEqual(self.rows(billed).invoice_id, first)
        first.action_invoice_open()  # once validated, the invoice is known by its number
        self.assertEqual(self.rows(billed)._invoicing_problem(), "already on invoice %s" % first.number)

    def test_the_result_opens_the_invoice_or_the_list(self):
        cid = self.add_customer("Cid Cole", "cid@example.com")
        for hours, customer in ((5, self.ann), (6, self.bob), (7, cid)):
            self.add_appointment(self.cut, [customer], hours_ago(hours))
        self.sync()
        ann = self.rows().filtered(lambda r: r.customer_name == "Ann Archer")
        action = ann.sudo(self.user).action_create_invoices()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.invoice", ann.invoice_id.id))
        others = self.rows() - ann
        action = others.sudo(self.user).action_create_invoices()
        self.assertEqual(action["res_model"], "account.invoice")
        self.assertEqual(action["domain"], [("id", "in", others.mapped("invoice_id").ids)])
        self.assertEqual(len(others.mapped("invoice_id")), 2)

    def test_exclude_and_restore(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        row = self.rows()
        wizard = self.env["bookings.exclude.wizard"].sudo(self.user).with_context(active_ids=row.ids).create(
            {"reason": "Paid at the desk"})
        wizard.action_exclude()
        self.assertEqual((row.invoice_status, row.exclusion_reason), ("excluded", "Paid at the desk"))
        with self.assertRaises(UserError):
            row.sudo(self.user).action_create_invoices()
        self.assertFalse(row.invoice_line_id)
        row.sudo(self.user).action_restore()
        self.assertEqual(row.invoice_status, "to_invoice")
        self.invoice(row)
        with self.assertRaises(UserError):
            row.sudo(self.user).action_exclude("too late")
        self.assertEqual((row.invoice_status, row.exclusion_reason), ("invoiced", False))

    def test_invoice_all_opens_up_to_the_end_of_last_month_during_its_first_days(self):
        today = fields.Date.from_string(self.today())
        last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
        expected = fields.Date.to_string(last_month_end if today.day <= 10 else today)
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({})
        self.assertEqual((wizard.date_until, wizard.date_invoice), (expected, expected), "the drafts dated that day")
        # once last month is locked, its drafts could not be dated in it: up to today
        self.company.period_lock_date = fields.Date.to_string(last_month_end)
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({})
        self.assertEqual(wizard.date_until, self.today())

    def test_invoice_all_shows_what_it_will_do(self):
        for hours in (5, 24 * 3):
            self.add_appointment(self.cut, [self.ann], hours_ago(hours))
        self.add_appointment(self.cut, [self.bob], hours_ago(6))
        self.add_appointment(self.cut, [self.bob], hours_ago(-5))  # not completed
        self.sync()
        wizard = self.invoice_all_wizard(
            {"active_model": "bookings.business", "active_id": self.business.id})
        self.assertEqual((wizard.row_count, wizard.customer_count, wizard.invoice_count), (3, 2, 2))
        def money(amount):
            return formatLang(self.env, amount, currency_obj=self.company.currency_id)

        self.assertEqual(wizard.amount_text, money(105.0))
        self.assertEqual(wizard.largest_customers.splitlines(), ["Ann Archer: %s" % money(70.0),
                                                                 "Bob Baker: %s" % money(35.0)])
        wizard.grouping = "appointment"
        self.assertEqual(wizard.invoice_count, 3)
        pivot = wizard.action_open_pivot()
        self.assertEqual(pivot["views"][0][1], "pivot")
        self.assertEqual(self.env["bookings.appointment"].search(pivot["domain"]), self.rows().filtered(
            lambda r: r.invoice_status == "to_invoice" and r.is_completed))
        wizard.date_until = (NOW - datetime.timedelta(days=2)).strftime("%Y-%m-%d")
        self.assertEqual((wizard.row_count, wizard.customer_count), (1, 1))
        action = wizard.action_create_invoices()
        self.assertEqual(action["res_model"], "account.invoice")
        self.assertEqual(len(self.rows().filtered(lambda r: r.invoice_status == "invoiced")), 1)
        # nothing left up to that day: nothing to create, and saying so
        self.assertEqual(wizard.row_count, 0)
        with self.assertRaises(UserError):
            wizard.action_create_invoices()
        self.assertEqual(self.env["account.invoice"].search_count([("bookings_appointment_ids", "!=", False)]), 1)

    def test_the_drafts_of_a_month_end_are_dated_in_their_period(self):
        """Invoicing October on November 2: the drafts are dated October 31, their due date follows their payment
        terms, and a product price standing in for a missing one is converted at that date."""
        last_day = self.today_date().replace(day=1) - datetime.timedelta(days=1)
        self.business.sync_days_back = 70
        for days in (0, 3):
            self.add_appointment(self.cut, [self.ann], datetime.datetime.combine(last_day, datetime.time(15))
                                 - datetime.timedelta(days=days))
        self.sync()
        terms = self.env.ref("account.account_payment_term_15days")
        self.env["res.partner"].search([("email", "=", "ann@example.com")]).property_payment_term_id = terms
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).with_context(
            active_model="bookings.business", active_id=self.business.id).new({})
        wizard.date_until = fields.Date.to_string(last_day)
        wizard._onchange_date_until()
        self.assertEqual(wizard.date_invoice, fields.Date.to_string(last_day), "the Up to day by default")
        wizard = wizard.create(wizard._convert_to_write(wizard._cache))
        wizard.action_create_invoices()
        invoice = self.rows().mapped("invoice_id")
        self.assertEqual((len(invoice), invoice.date_invoice, invoice.date_due),
                         (1, fields.Date.to_string(last_day),
                          fields.Date.to_string(last_day + datetime.timedelta(days=15))))
        invoice.sudo().action_invoice_open()
        self.assertEqual(invoice.move_id.date, fields.Date.to_string(last_day), "booked in its period")

    def test_an_invoice_date_in_a_locked_period_is_refused_before_anything_is_made(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(30))
        self.sync()
        locked = self.today_date() - datetime.timedelta(days=1)
        self.company.period_lock_date = fields.Date.to_string(locked)  # locked for all but advisers
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create({
            "business_id": self.business.id, "date_until": self.today(),
            "date_invoice": fields.Date.to_string(locked)})
        with self.assertRaisesRegexp(UserError, format_date(self.env, fields.Date.to_string(locked))):
            wizard.action_create_invoices()
        self.assertFalse(self.rows().mapped("invoice_line_id"))
        wizard.date_invoice = self.today()
        wizard.action_create_invoices()
        self.assertEqual(self.rows().invoice_id.date_invoice, self.today())

    def test_a_selection_is_invoiced_today(self):
        self.add_appointment(self.cut, [self.ann], hours_ago(30))
        self.sync()
        self.rows().sudo(self.user).action_create_invoices()
        self.assertEqual(self.rows().invoice_id.date_invoice, self.today(), "today where the user is")

    def test_up_to_means_the_end_of_the_day_where_the_user_is(self):
        self.user.tz = "Pacific/Auckland"  # UTC+12 or +13: its day ends while it is still midday in UTC
        local_noon = datetime.datetime.combine(NOW.date() - datetime.timedelta(days=3), datetime.time(12, 0))
        self.add_appointment(self.cut, [self.ann], local_noon, minutes=30)  # 12:00 UTC: next morning in Auckland
        self.business.sync_days_back = 10
        self.sync()
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).create(
            {"date_until": local_noon.strftime("%Y-%m-%d")})
        self.assertEqual(wizard.row_count, 0, "in Auckland this booking is on the next day")
        wizard.date_until = (local_noon + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        self.assertEqual(wizard.row_count, 1)

    def test_a_bookings_user_without_accounting_rights_does_it_all(self):
        self.assertFalse(self.user.has_group("account.group_account_manager"))
        self.add_appointment(self.cut, [], hours_ago(6))
        self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        rows = self.env["bookings.appointment"].sudo(self.user).search(
            self.env["bookings.appointment"]._uninvoiced_domain())
        self.assertEqual(len(rows), 2)
        walk_in = self.env["res.partner"].create({"name": "Walk-in customer"})
        rows.filtered(lambda r: not r.partner_id).partner_id = walk_in
        action = rows.action_create_invoices()
        self.assertEqual(action["res_model"], "account.invoice")
        self.assertEqual(set(rows.mapped("invoice_status")), {"invoiced"})


class TestConcurrentInvoicing(BookingsCase):
    """Two users invoice overlapping selections at the same moment, each in a transaction of their own."""

    def test_each_appointment_ends_on_exactly_one_invoice(self):
        dbname = self.cr.dbname
        with self.committed_rows("Concurrent", 4) as (ids, product_id):
            with database_cursor(dbname) as cr1, database_cursor(dbname) as cr2:
                first = api.Environment(cr1, SUPERUSER_ID, {})["bookings.appointment"].browse(ids[:3])
                second = api.Environment(cr2, SUPERUSER_ID, {})["bookings.appointment"].browse(ids[1:])
                first._create_invoices()
                # the other user's transaction is still open: the second is told, and nothing of it is done
                with mute_logger("odoo.sql_db"), \
                        self.assertRaises(RowsLocked):
                    second._create_invoices()
                cr2.rollback()
                cr1.commit()
                # once it is committed, the second invoices what is left and is told which rows were taken
                invoices, skipped = second._create_invoices()
                self.assertEqual(sorted(skipped), ids[1:3])
                self.assertTrue(all("already on the draft invoice of Concurrent customer" in reason
                                    for reason in skipped.values()))
                self.assertEqual((len(invoices), len(invoices.invoice_line_ids)), (1, 4),
                                 "the last booking joins the customer's draft of the month")
            with database_cursor(dbname) as cr:
                cr.execute("""SELECT a.bookings_id, count(l.id) FROM bookings_appointment a
                                JOIN account_invoice_line l ON l.id = a.invoice_line_id
                               WHERE a.id IN %s GROUP BY a.bookings_id ORDER BY a.bookings_id""", (tuple(ids),))
                self.assertEqual(cr.fetchall(), [("appt-%d" % i, 1) for i in range(4)])
                cr.execute("SELECT count(*) FROM account_invoice_line WHERE product_id = %s", (product_id,))
                self.assertEqual(cr.fetchone()[0], 4, "each appointment is on exactly one invoice line")
