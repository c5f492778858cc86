from odoo.exceptions import ValidationError

from .common import CLIENT_ID, MAILBOX, SECRET, TENANT, BookingsCase, hours_ago


class TestPush(BookingsCase):
    """Partners and service products pushed to Bookings by the synchronization, over the local peer."""

    def setUp(self):
        super(TestPush, self).setUp()
        self.store.tenants[TENANT][CLIENT_ID]["permissions"] = {"Bookings.Read.All", "Bookings.ReadWrite.All"}
        self.peer.clear_requests()
        self.tag = self.env.ref("bookings_invoicing.res_partner_category_bookings")
        self.business.write({"push_customers": True, "push_services": True})
        Partner = self.env["res.partner"]
        self.ada = Partner.create({
            "name": "Ada Lovelace", "email": "Ada@Example.com", "phone": "+1 312 555 0100", "street": "1 Main St",
            "city": "Chicago", "zip": "60601", "country_id": self.env.ref("base.us").id,
            "state_id": self.env.ref("base.state_us_14").id, "category_id": [(6, 0, self.tag.ids)]})
        self.untagged = Partner.create({"name": "Not Tagged", "email": "not.tagged@example.com"})
        self.company_partner = Partner.create({"name": "Tagged Company", "email": "office@example.com",
                                               "is_company": True, "category_id": [(6, 0, self.tag.ids)]})
        self.massage = self.env["product.product"].create({
            "name": "Hot stone massage", "type": "service", "list_price": 95.5, "bookings_duration": 1.25,
            "description_sale": "Warm stones", "uom_id": self.env.ref("product.product_uom_unit").id,
            "uom_po_id": self.env.ref("product.product_uom_unit").id})
        self.coaching = self.env["product.product"].create({
            "name": "Coaching", "type": "service", "list_price": 240.0, "bookings_duration": 2.0,
            "uom_id": self.env.ref("product.product_uom_day").id,
            "uom_po_id": self.env.ref("product.product_uom_day").id})

    def peer_items(self, collection, **match):
        return [item for item in self.store.items(MAILBOX, collection)
                if all(item.get(key) == value for key, value in match.items())]

    def writes(self, method):
        return [path for verb, path in self.peer.requests if verb == method]

    def binding(self, model, record):
        return self.env[model].search([("business_id", "=", self.business.id),
                                       (self.env[model]._bookings_link_field, "=", record.id)])

    def test_selected_partners_and_products_become_bookings_records_bound_once(self):
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual((run.customers_pushed, run.services_pushed), (1, 2))
        [ada] = self.peer_items("customers", emailAddress="Ada@Example.com")
        self.assertEqual(ada["displayName"], "Ada Lovelace")
        self.assertEqual(ada["phones"], [{"number": "+1 312 555 0100", "type": "home"}])
        self.assertEqual((ada["addresses"][0]["city"], ada["addresses"][0]["state"],
                          ada["addresses"][0]["countryOrRegion"]), ("Chicago", "IL", "US"))
        self.assertFalse(self.peer_items("customers", emailAddress="not.tagged@example.com"))
        self.assertFalse(self.peer_items("customers", emailAddress="office@example.com"), "companies are no customers")
        binding = self.binding("bookings.customer", self.ada)
        self.assertEqual((binding.bookings_id, binding.pushed, binding.email), (ada["id"], True, "ada@example.com"))
        [massage] = self.peer_items("services", displayName="Hot stone massage")
        self.assertEqual((massage["defaultPrice"], massage["defaultPriceType"], massage["defaultDuration"],
                          massage["description"]), (95.5, "fixedPrice", "PT1H15M", "Warm stones"))
        [coaching] = self.peer_items("services", displayName="Coaching")
        # sold by the day (8 hours): 240.00 a day is 30.00 an hour
        self.assertEqual((coaching["defaultPrice"], coaching["defaultPriceType"], coaching["defaultDuration"]),
                         (30.0, "hourly", "PT2H"))
        self.assertEqual(self.binding("bookings.service", self.massage).bookings_id, massage["id"])
        self.assertEqual(self.env["product.product"].search_count([("name", "=", "Hot stone massage")]), 1)

        self.peer.clear_requests()
        again = self.sync()
        self.assertEqual((again.state, again.customers_pushed, again.customers_created, again.customers_updated,
                          again.services_pushed, again.services_created), ("done", 0, 0, 0, 0, 0))
        self.assertFalse(self.writes("POST") + self.writes("PATCH"), "nothing changed: nothing written")
        self.assertEqual(len(self.peer_items("customers", emailAddress="Ada@Example.com")), 1)

    def test_a_pushed_customer_books_and_is_invoiced_as_its_partner(self):
        self.sync()
        [ada] = self.peer_items("customers", emailAddress="Ada@Example.com")
        cut = self.add_service("Hair cut", price=35.0)
        self.add_appointment(cut, [ada], hours_ago(3))
        self.sync()
        row = self.rows()
        self.assertEqual((row.partner_id, row.invoice_status), (self.ada, "to_invoice"))

    def test_changes_in_odoo_are_pushed_on_the_next_run_only_then(self):
        self.sync()
        self.ada.write({"phone": False, "mobile": "+1 312 555 0199", "city": "Evanston"})
        self.massage.list_price = 99.0
        self.peer.clear_requests()
        run = self.sync()
        self.assertEqual((run.customers_push_updated, run.services_push_updated, run.customers_updated),
                         (1, 1, 1), run.message)
        [ada] = self.peer_items("customers", emailAddress="Ada@Example.com")
        self.assertEqual((ada["phones"], ada["addresses"][0]["city"]),
                         ([{"number": "+1 312 555 0199", "type": "mobile"}], "Evanston"))
        self.assertEqual(self.binding("bookings.customer", self.ada).phone, "+1 312 555 0199")
        self.assertEqual(self.peer_items("services", displayName="Hot stone massage")[0]["defaultPrice"], 99.0)
        self.assertEqual(len(self.writes("PATCH")), 2)
        self.assertFalse(self.writes("POST"))
        self.peer.clear_requests()
        self.assertEqual(self.sync().customers_push_updated, 0)
        self.assertFalse(self.writes("PATCH"))

    def test_records_born_in_bookings_are_never_written(self):
        born = self.add_customer("Ada L.", "ada@example.com")
        self.add_service("hot stone massage", price=80.0)
        run = self.sync()
        self.assertEqual((run.customers_pushed, run.services_pushed), (0, 1), run.message)  # only Coaching is new
        binding = self.binding("bookings.customer", self.ada)
        self.assertEqual((binding.bookings_id, binding.pushed), (born["id"], False))
        self.assertFalse(self.binding("bookings.service", self.massage).pushed)
        self.ada.name = "Ada King"
        self.massage.list_price = 120.0
        self.peer.clear_requests()
        self.sync()
        self.assertFalse(self.writes("PATCH"))
        self.assertEqual(self.peer_items("customers", id=born["id"])[0]["displayName"], "Ada L.")

    def test_a_record_deleted_in_bookings_is_unbound_and_not_created_again(self):
        self.sync()
        [ada] = self.peer_items("customers", emailAddress="Ada@Example.com")
        self.store.remove(MAILBOX, "customers", ada["id"])
        self.peer.clear_requests()
        run = self.sync()
        self.assertEqual(run.state, "partial")
        binding = self.binding("bookings.customer", self.ada)
        self.assertTrue(binding.removed_in_bookings and binding.needs_review)
        self.assertFalse(self.writes("POST"))
        self.sync()
        self.assertFalse(self.writes("POST"), "not re-created in a loop")
        self.assertFalse(self.peer_items("customers", emailAddress="Ada@Example.com"))

    def test_archiving_a_partner_deletes_nothing_in_bookings(self):
        self.sync()
        self.ada.active = False
        self.peer.clear_requests()
        self.assertEqual(self.sync().state, "done")
        self.assertFalse(self.writes("DELETE") + self.writes("PATCH"))
        self.assertEqual(len(self.peer_items("customers", emailAddress="Ada@Example.com")), 1)

    def test_a_customer_left_in_bookings_by_a_dead_run_is_bound_not_created_again(self):
        # what a run that died after Bookings created the customer, before Odoo committed the binding, left behind
        left = self.store.put(MAILBOX, "customers", {"id": "AAMkLeft+/=", "displayName": "Ada Lovelace",
                                                     "emailAddress": "Ada@Example.com", "phones": []})
        self.sync()
        self.assertFalse([path for path in self.writes("POST") if "/customers" in path])
        self.assertEqual(self.binding("bookings.customer", self.ada).bookings_id, left["id"])
        self.assertEqual(len(self.peer_items("customers", emailAddress="Ada@Example.com")), 1)

    def test_partners_sharing_an_e_mail_give_one_bookings_customer(self):
        twin = self.ada.copy({"name": "Ada Twin", "category_id": [(6, 0, self.tag.ids)]})
        run = self.sync()
        self.assertEqual(len(self.peer_items("customers", emailAddress="Ada@Example.com")), 1)
        self.assertEqual(run.state, "partial")
        for name in ("Ada Twin", "Ada Lovelace"):  # the partner not pushed, and the Bookings customer it would double
            self.assertIn(name, run.message)
        self.assertFalse(self.binding("bookings.customer", twin))

    def test_a_refusal_of_bookings_is_recorded_and_the_run_goes_on(self):
        blank = self.env["res.partner"].create({"name": " ", "email": "blank@example.com",
                                                "category_id": [(6, 0, self.tag.ids)]})
        cut = self.add_service("Hair cut")
        self.add_appointment(cut, [], hours_ago(2))
        run = self.sync()
        self.assertEqual(run.state, "partial")
        self.assertIn("The displayName is required.", run.message, "Bookings' own words")
        self.assertFalse(self.binding("bookings.customer", blank), "nothing half-written in Odoo")
        self.assertEqual((run.customers_pushed, run.appointments_created), (1, 1))

    def test_faults_on_writes_are_recorded_and_nothing_is_bound(self):
        self.peer.inject(path="/customers", method="POST", status=500, times=None)
        run = self.sync()
        self.assertEqual(run.state, "partial")
        self.assertIn("Ada Lovelace", run.message)
        self.assertFalse(self.binding("bookings.customer", self.ada))
        self.assertEqual(len([p for p in self.writes("POST") if "/customers" in p]), 1, "a create is not repeated")
        self.assertEqual(run.services_pushed, 2)

    def test_a_missing_write_permission_stops_the_push_not_the_read(self):
        self.store.tenants[TENANT][CLIENT_ID]["permissions"] = {"BookingsAppointment.ReadWrite.All"}
        cut = self.add_service("Hair cut")
        self.add_appointment(cut, [], hours_ago(2))
        run = self.sync()
        self.assertEqual((run.state, run.customers_pushed, run.services_pushed, run.appointments_created),
                         ("partial", 1, 0, 1))
        self.assertIn("Bookings.ReadWrite.All", run.message, "the permission to grant")
        self.assertEqual(len([p for p in self.writes("POST") if "/services" in p]), 1, "one refusal is enough")

    def test_the_push_is_off_by_default(self):
        business = self.env["bookings.business"].create(self._business_values(self.peer, "other@contoso.com"))
        self.assertFalse(business.push_customers or business.push_services)
        self.assertIn("category_id.name", business.push_customer_domain)

    def test_a_filter_that_is_no_domain_is_refused(self):
        with self.rolled_back(), self.assertRaises(ValidationError):
            self.business.push_customer_domain = "[('no_such_field', '=', 1)]"
        with self.rolled_back(), self.assertRaises(ValidationError):
            self.business.push_service_domain = "[('id', '=',"
        with self.rolled_back(), self.assertRaises(ValidationError):
            self.business.push_service_domain = "42"

    def test_test_connection_says_whether_the_permissions_allow_the_push(self):
        for client_id, permissions in (("reader", {"Bookings.Read.All"}),
                                       ("appointments", {"Bookings.Read.All", "BookingsAppointment.ReadWrite.All"})):
            self.store.add_client(TENANT, client_id, SECRET, permissions=permissions)
        self.business.client_id = "reader"

        def report():
            action = self.business.sudo(self.manager).action_test_connection()
            return self.env["bookings.message"].browse(action["res_id"]).message.splitlines()

        self.assertIn("Pushing customers to Bookings is turned on but needs the permission "
                      "BookingsAppointment.ReadWrite.All.", report())
        self.business.client_id = "appointments"
        lines = report()
        self.assertIn("Pushing customers to Bookings: allowed.", lines)
        self.assertIn("Pushing services to Bookings is turned on but needs the permission Bookings.ReadWrite.All.",
                      lines)
