import logging

from odoo.exceptions import AccessError, UserError

from .common import SECRET, BookingsCase, hours_ago

MODELS = ("bookings.business", "bookings.customer", "bookings.service", "bookings.appointment",
          "bookings.sync.run")
OPERATIONS = ("read", "create", "write", "unlink")


class TestAccess(BookingsCase):
    """Who may do what: every (user, model, operation) cell, the actions, the menus and the secret."""

    @classmethod
    def setUpClass(cls):
        super(TestAccess, cls).setUpClass()
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.portal = users.create({"name": "Portal", "login": "bookings-portal", "email": "p@example.com",
                                   "groups_id": [(6, 0, [cls.env.ref("base.group_portal").id])]})
        cls.internal = users.create({"name": "Internal", "login": "bookings-internal", "email": "i@example.com",
                                     "groups_id": [(6, 0, [cls.env.ref("base.group_user").id])]})
        other = cls.env["res.company"].create({"name": "Other company"})
        cls.stranger = users.create({
            "name": "Other company user", "login": "bookings-stranger", "email": "s@example.com",
            "company_id": other.id, "company_ids": [(6, 0, [other.id])],
            "groups_id": [(6, 0, [cls.env.ref("bookings_invoicing.group_bookings_invoicing_manager").id])]})
        cls.admin = cls.env.ref("base.user_root")

    def setUp(self):
        super(TestAccess, self).setUp()
        ann = self.add_customer("Ann Archer", "ann@example.com")
        service = self.add_service("Hair cut")
        self.add_appointment(service, [ann], hours_ago(5))
        self.sync()
        self.records = {model: self.env[model].search([("business_id", "=", self.business.id)], limit=1)
                        if model != "bookings.business" else self.business for model in MODELS}

    def _allowed(self, user, model, operation):
        record = self.records[model].sudo(user)
        try:
            with self.cr.savepoint():
                if operation == "read":
                    record.read(["display_name"])
                elif operation == "create":
                    record.check_access_rights("create")
                    record.check_access_rule("create")
                elif operation == "write":
                    record.check_access_rights("write")
                    record.check_access_rule("write")
                else:
                    record.check_access_rights("unlink")
                    record.check_access_rule("unlink")
            return True
        except AccessError:
            return False

    def test_the_access_matrix(self):
        expected = {
            "portal": {},
            "internal": {},
            "user": {model: {"read"} for model in MODELS},
            "manager": {model: set(OPERATIONS) for model in MODELS},
            "admin": {model: set(OPERATIONS) for model in MODELS},
            "stranger": {},  # a manager, but of another company
        }
        expected["user"]["bookings.appointment"] = {"read", "write"}  # set a partner, exclude, restore
        expected["user"]["bookings.customer"] = {"read", "write"}  # set its partner
        expected["manager"]["bookings.sync.run"] = {"read"}  # written by the synchronization only
        checked = 0
        for name, allowed in expected.items():
            user = getattr(self, name)
            for model in MODELS:
                for operation in OPERATIONS:
                    self.assertEqual(self._allowed(user, model, operation), operation in allowed.get(model, set()),
                                     "%s may%s %s %s" % (name, "" if operation in allowed.get(model, set())
                                                         else " not", operation, model))
                    checked += 1
        self.assertEqual(checked, 6 * 5 * 4)

    def test_the_actions(self):
        row = self.records["bookings.appointment"]
        for user in (self.portal, self.internal, self.stranger):
            with self.assertRaises(AccessError):
                row.sudo(user).action_create_invoices()
            with self.assertRaises(AccessError):
                self.business.sudo(user).action_synchronize()
        with self.assertRaises(AccessError):
            self.business.sudo(self.user).action_synchronize()
        with self.assertRaises(AccessError):
            self.business.sudo(self.user).action_test_connection()
        self.assertEqual(row.sudo(self.user).action_create_invoices()["res_model"], "account.invoice")

    def test_the_menus(self):
        """The Bookings menus each kind of user sees (by their XML ids): users the dashboard and what they invoice
        with, managers also the synchronizations; people outside the Bookings groups nothing. The application opens
        on the dashboard."""
        root = self.env.ref("bookings_invoicing.bookings_menu_root")
        data = self.env["ir.model.data"].search([("model", "=", "ir.ui.menu"), ("module", "=", "bookings_invoicing")])
        names = {item.res_id: item.name for item in data}
        shared = {"bookings_menu_root", "bookings_dashboard_menu", "bookings_appointment_menu_uninvoiced",
                  "bookings_appointment_menu", "bookings_appointment_event_menu", "bookings_invoice_wizard_menu",
                  "bookings_appointment_menu_review",
                  "bookings_invoice_draft_menu", "bookings_invoice_batch_menu", "bookings_menu_configuration",
                  "bookings_business_menu", "bookings_customer_menu", "bookings_service_menu",
                  "bookings_cancellation_policy_menu"}
        managed = shared | {"bookings_sync_run_menu"}
        for user, expected in ((self.portal, set()), (self.internal, set()), (self.user, shared),
                               (self.manager, managed), (self.admin, managed)):
            try:
                menus = self.env["ir.ui.menu"].sudo(user).search([("id", "child_of", root.id)])
            except AccessError:  # a portal user reads no menu at all
                menus = self.env["ir.ui.menu"]
            shown = {names[menu.id] for menu in menus.sudo() if self._under_visible_parents(menu, menus, root)}
            self.assertEqual(shown, expected, user.name)
            if expected:  # the web client opens an application on its first menu with an action
                first = menus.filtered("action").sorted(lambda menu: (menu.sequence, menu.id))[:1]
                self.assertEqual(names[first.id], "bookings_dashboard_menu", user.name)

    @staticmethod
    def _under_visible_parents(menu, visible, root):
        """Whether the web client shows ``menu``: it and each of its parents up to ``root`` are visible."""
        while menu != root:
            if menu not in visible:
                return False
            menu = menu.parent_id
        return root in visible

    def test_the_secret_reaches_administrators_only(self):
        manager_view = self.business.sudo(self.manager)
        self.assertNotIn("client_secret", manager_view.fields_get())
        arch = self.env["bookings.business"].sudo(self.manager).fields_view_get(view_type="form")["arch"]
        self.assertNotIn("client_secret", arch)
        with self.assertRaises(AccessError):
            manager_view.export_data(["client_secret"])
        with self.assertRaises(AccessError):
            manager_view.search_read([], ["client_secret"])
        self.assertNotIn(SECRET, str(manager_view.read()))
        self.assertIn("client_secret", self.env["bookings.business"].sudo(self.admin).fields_get())

    def test_the_secret_is_in_no_error_and_no_log_line(self):
        self.business.client_secret = "a-secret-that-is-wrong"
        messages = []

        class Collect(logging.Handler):
            def emit(self, record):
                messages.append(record.getMessage())

        handler = Collect(level=logging.DEBUG)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            with self.assertRaises(UserError) as raised:
                self.business.sudo(self.manager).action_test_connection()
            run = self.sync()
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        self.assertEqual(run.state, "failed")
        for text in [raised.exception.name, run.message, self.business.last_sync_message] + messages:
            self.assertNotIn("a-secret-that-is-wrong", text or "")
