import datetime

import pytz

from odoo import fields
from odoo.exceptions import AccessError, UserError

from .. import rules
from .common import MAILBOX, TENANT, BookingsCase

#: The business's zone in Bookings, a Windows name as Graph may give it; ten hours behind UTC, the Bookings user
#: (Europe/Paris) one or two ahead.
BUSINESS_ZONE = "Hawaiian Standard Time"
HONOLULU = pytz.timezone("Pacific/Honolulu")


class TestMonthClose(BookingsCase):
    """*Close last month*: the business's month, step by step, as the Bookings user closes it."""

    def setUp(self):
        super(TestMonthClose, self).setUp()
        self.store.add_business(TENANT, {"id": MAILBOX, "displayName": "Contoso Salon", "email": MAILBOX,
                                         "defaultCurrencyIso": "USD",
                                         "bookingPageSettings": {"businessTimeZone": BUSINESS_ZONE}})
        self.business.sync_days_back = 70  # last month's bookings whatever the day
        self.add_salon(price=50.0, minutes=60)
        self.nora = self.add_customer("Nora Lindqvist", None)  # no e-mail address to be matched by
        self.scalp = self.add_service("Scalp treatment", price=0.0, price_type="notSet", minutes=30)
        self.colour = self.add_service("Full head colour", price=95.0, price_type="startingAt", minutes=120)
        today = datetime.datetime.now(HONOLULU).date()
        self.first, self.last = rules.month_to_close(today)
        day = datetime.datetime.combine(self.first + datetime.timedelta(days=9), datetime.time(20))  # UTC
        self.ann_cut = self.add_appointment(self.cut, [self.ann], day)
        self.nora_cut = self.add_appointment(self.cut, [self.nora], day + datetime.timedelta(hours=2))
        self.scalp_row = self.add_appointment(self.scalp, [self.ann], day + datetime.timedelta(days=1), minutes=30)
        self.colour_row = self.add_appointment(self.colour, [self.bob], day + datetime.timedelta(days=2),
                                               minutes=120)
        # the evening of the month's last day in Honolulu, already the next month where the user is
        evening = datetime.datetime.combine(self.last + datetime.timedelta(days=1), datetime.time(4))
        self.late_evening = self.add_appointment(self.cut, [self.bob], evening)
        self.sync()

    def close(self):
        action = self.business.sudo(self.user).action_close_month()
        self.assertEqual((action["res_model"], action["target"]), ("bookings.month.close", "inline"))
        return self.env["bookings.month.close"].sudo(self.user).browse(action["res_id"])

    def steps(self, close):
        close.invalidate_cache()
        return (close.no_customer_count, close.no_partner_count, close.no_price_count, close.ready_count,
                close.to_confirm_count, close.done)

    def test_the_month_is_closed_step_by_step_in_the_business_time_zone(self):
        self.assertEqual(self.business.time_zone, "Pacific/Honolulu")
        close = self.close()
        self.assertEqual((close.date_from, close.date_to), tuple(map(fields.Date.to_string, (self.first, self.last))))
        # Nora waits for a customer, the scalp treatment for a price; the month's last evening is the month's
        self.assertEqual(self.steps(close), (1, 1, 1, 3, 0, False))
        self.assertEqual(close.ready_amount, 50.0 + 95.0 + 50.0)

        close.action_create_partners()
        nora = self.rows(self.nora_cut)
        self.assertEqual((nora.partner_id.name, nora.partner_id.email, nora.invoice_status),
                         ("Nora Lindqvist", False, "to_invoice"))
        self.assertEqual(nora.bookings_customer_id.partner_id, nora.partner_id, "the customer's, for good")
        self.assertEqual(self.steps(close), (0, 0, 1, 4, 0, False))

        self.assertEqual([(line.service_name, line.count) for line in close.price_ids], [("Scalp treatment", 1)])
        close.price_ids.price = 42.5
        close.action_set_prices()
        scalp = self.rows(self.scalp_row)
        self.assertEqual((scalp.set_price, scalp.amount, scalp.price_to_confirm, scalp.invoice_status),
                         (42.5, 42.5, False, "to_invoice"))
        self.assertFalse(close.price_ids)
        self.assertEqual(self.steps(close), (0, 0, 0, 5, 0, False))

        opened = close.action_invoice_all()
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).with_context(**opened["context"]).create({})
        self.assertEqual((wizard.date_until, wizard.row_count), (close.date_to, 5))
        self.assertEqual(wizard.action_create_invoices(), {"type": "ir.actions.act_window_close"}, "back on the path")
        invoices = self.rows().mapped("invoice_id")
        self.assertEqual(len(invoices), 3, "one per paying party: Ann, Bob, Nora")
        self.assertEqual(set(invoices.mapped("date_invoice")), {close.date_to})
        scalp_line = self.rows(self.scalp_row).invoice_line_id
        self.assertEqual((scalp_line.quantity, scalp_line.price_unit, scalp_line.price_subtotal), (1, 42.5, 42.5))
        self.assertEqual(self.steps(close), (0, 0, 0, 0, 1, False), "the colour's price is a minimum")

        close.action_confirm_prices()
        self.assertTrue(self.rows(self.colour_row).price_confirmed)
        self.assertEqual(self.steps(close), (0, 0, 0, 0, 0, True))
        self.assertEqual(close.draft_invoice_count, 3)

    def test_a_large_month_is_invoiced_in_the_background_and_followed_on_the_path(self):
        self.env["ir.config_parameter"].set_param("bookings_invoicing.invoice_batch_threshold", "2")
        close = self.close()
        opened = close.action_invoice_all()
        wizard = self.env["bookings.invoice.wizard"].sudo(self.user).with_context(**opened["context"]).create({})
        self.assertEqual(wizard.action_create_invoices(), {"type": "ir.actions.act_window_close"})
        self.assertEqual((close.batch_state, close.ready_count), ("running", 3))
        self.run_jobs()
        close.invalidate_cache()
        self.assertEqual((close.batch_state, close.ready_count), ("done", 0))

    def test_a_price_is_set_in_odoo_only_where_bookings_gives_none_and_until_it_is_invoiced(self):
        rows = self.rows().sudo(self.user)
        scalp, cut = rows.filtered(lambda row: row.service_name == "Scalp treatment"), rows[0]
        self.assertEqual((scalp.invoice_status, cut.service_name), ("no_price", "Hair cut"))
        with self.assertRaises(UserError):
            cut.write({"set_price": 30.0})  # Bookings gives its price
        with self.assertRaises(UserError):
            scalp.write({"set_price": -1.0})
        scalp.write({"set_price": 20.0})
        scalp._create_invoices()
        with self.assertRaises(UserError):
            scalp.write({"set_price": 25.0})  # its line bills 20.00
        self.assertEqual((scalp.set_price, scalp.invoice_line_id.price_unit), (20.0, 20.0))

    def test_a_manager_sets_a_service_price_for_the_bookings_to_come(self):
        service = self.env["bookings.service"].search([("business_id", "=", self.business.id),
                                                       ("name", "=", "Scalp treatment")])
        self.assertEqual((service.product_price, self.rows(self.scalp_row).invoice_status), (0.0, "no_price"))
        with self.assertRaises(AccessError), self.cr.savepoint():  # a user sets a booking's price, not a product's
            close = self.close()
            close.price_ids.write({"price": 42.5, "for_later": True})
            close.action_set_prices()
        close = self.business.sudo(self.manager).action_close_month()
        close = self.env["bookings.month.close"].sudo(self.manager).browse(close["res_id"])
        close.price_ids.write({"price": 45.0, "for_later": True})
        close.action_set_prices()
        self.assertEqual((service.product_id.list_price, service.sudo(self.user).product_price), (45.0, 45.0))
        self.assertEqual(self.rows(self.scalp_row).set_price, 45.0)
        later = self.add_appointment(self.scalp, [self.ann], datetime.datetime.utcnow() - datetime.timedelta(hours=2),
                                     minutes=30)
        self.sync()
        self.assertEqual((self.rows(later).amount, self.rows(later).invoice_status), (45.0, "to_invoice"))
