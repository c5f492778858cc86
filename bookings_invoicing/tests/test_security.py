from odoo.exceptions import AccessError, UserError, ValidationError

from .common import SECRET, BookingsCase, hours_ago

USER, MANAGER = "Bookings user", "Bookings manager"


class TestRestrictedFields(BookingsCase):
    """Every field the add-on restricts with ``groups`` (found from the models, not listed here), through every path of
    the ORM, as each user who lacks its groups: each path is refused, or answers without the field."""

    def setUp(self):
        super(TestRestrictedFields, self).setUp()
        self.add_appointment(self.add_service("Hair cut"), [self.add_customer("Ann Archer", "ann@example.com")],
                             hours_ago(5))
        self.sync()
        self.business.action_renew_notification_url()
        self.row = self.rows()[:1]

    def restricted(self):
        """``[(model name, field)]`` of the fields the add-on restricts to some groups."""
        found = [(name, field) for name, model in self.env.registry.items() for field in model._fields.values()
                 if field.groups and field._module == "bookings_invoicing"]
        self.assertTrue(found)
        return found

    def paths(self, Model, record, name):
        """``{path: call}``: each way of the ORM to a value of the field ``name`` of ``Model`` (as some user),
        ``record`` a record of it; and the paths from the add-on's other models to it through their many-to-one
        fields."""
        paths = {
            "read": lambda: record.read([name]),
            "search": lambda: Model.search_count([(name, "!=", False)]),
            "search on a negation": lambda: Model.search_count(["!", (name, "=", False)]),
            "name_search": lambda: Model.name_search("", args=[(name, "=like", "%")]),
            "order": lambda: Model.search([], order="%s desc" % name).ids,
            "read_group by": lambda: Model.read_group([], [name], [name], lazy=False),
            "read_group of": lambda: Model.read_group([], [name, "company_id"], ["company_id"]),
            "read_group ordered": lambda: Model.read_group([], ["company_id"], ["company_id"], orderby=name),
            "export": lambda: record.export_data([name]),
        }
        for other, model in self.env.registry.items():
            for link in model._fields.values():
                if link.type == "many2one" and link.comodel_name == Model._name and link.store \
                        and other.startswith("bookings.") and not model._abstract and model._auto:
                    Other = self.env[other].sudo(Model.env.uid)
                    target = self.env[other].search([(link.name, "=", record.id)], limit=1).sudo(Model.env.uid)
                    paths["search %s.%s" % (other, link.name)] = \
                        lambda Other=Other, link=link: Other.search_count([("%s.%s" % (link.name, name), "!=", False)])
                    if target:
                        paths["export %s.%s" % (other, link.name)] = \
                            lambda target=target, link=link: target.export_data(["%s/%s" % (link.name, name)])
        return paths

    def test_no_restricted_field_reaches_a_user_without_its_groups(self):
        checked = 0
        for model_name, field in self.restricted():
            record = self.env[model_name].search([], limit=1)
            self.assertTrue(record, model_name)
            stored = record[field.name]
            for label, person in ((USER, self.user), (MANAGER, self.manager)):
                Model = self.env[model_name].sudo(person)
                if Model.user_has_groups(field.groups):
                    continue
                for path, call in self.paths(Model, record.sudo(person), field.name).items():
                    try:
                        with self.cr.savepoint():
                            answer = call()
                    except AccessError:
                        checked += 1
                        continue
                    self.fail("%s %s.%s: %s answered %r" % (label, model_name, field.name, path, answer))
                try:  # refused, or without the field
                    copied = record.sudo(person).copy_data()[0]
                except AccessError:
                    copied = {}
                self.assertNotIn(field.name, copied, (label, field.name, "copy"))
                changed = Model.onchange({"name": "x"}, ["name"], {"name": "1", field.name: "1"})
                self.assertNotIn(field.name, changed.get("value", {}), (label, field.name, "onchange"))
                defaults = Model.onchange({}, [], {field.name: "1"})
                self.assertNotIn(field.name, defaults.get("value", {}), (label, field.name, "onchange defaults"))
                self.assertNotIn(field.name, Model.fields_get(), (label, field.name, "fields_get"))
                if stored and isinstance(stored, str):
                    self.assertNotIn(stored, str(record.sudo(person).read()), (label, field.name, "read all"))
                checked += 1
        self.assertGreater(checked, 100)

    def test_no_other_field_tells_a_restricted_one(self):
        """A restricted field is tracked in no chatter, and no field readable by more people is related to it."""
        restricted = {(model_name, field.name): field for model_name, field in self.restricted()}
        for (model_name, name), field in restricted.items():
            self.assertFalse(getattr(field, "track_visibility", None), "%s.%s is tracked" % (model_name, name))
        for model_name, model in self.env.registry.items():
            for field in model._fields.values():
                if not field.related:
                    continue
                Target = self.env[model_name]
                for step in field.related[:-1]:
                    Target = self.env[Target._fields[step].comodel_name]
                origin = restricted.get((Target._name, field.related[-1]))
                for person in (self.user, self.manager) if origin else ():
                    Model = self.env[model_name].sudo(person)
                    if not Model.user_has_groups(origin.groups):
                        self.assertTrue(field.groups and not Model.user_has_groups(field.groups),
                                        "%s.%s tells %s" % (model_name, field.name, ".".join(field.related)))

    def test_the_secrets_reach_administrators_only(self):
        for person in (self.user, self.manager):
            with self.assertRaises(AccessError):
                self.env["bookings.business.secret"].sudo(person).search([])
            business = self.business.sudo(person)
            self.assertNotIn(SECRET, str(business.read()))
            with self.assertRaises(AccessError):
                business.write({"client_secret": "stolen"})
        with self.assertRaises(AccessError):  # Odoo checks no field's groups on create: the add-on does
            self.env["bookings.business"].sudo(self.manager).create(
                self._business_values(self.peer, "other@contoso.onmicrosoft.com", client_secret="planted"))
        self.assertEqual(self.business.client_secret, SECRET)  # administrators read and change it
        secret = self.env["bookings.business.secret"].search([("business_id", "=", self.business.id)])
        self.assertEqual(secret.client_secret, SECRET)
        self.assertEqual(len(secret.notification_hash), 64, "the notification address is kept as a hash")


class TestAllowedHosts(BookingsCase):
    """The business's secret, tokens and requests go to Microsoft's hosts, or to hosts an administrator allowed."""

    def test_a_manager_cannot_point_a_business_at_another_host(self):
        business = self.business.sudo(self.manager)
        for url in ("https://attacker.example.com", "https://login.microsoftonline.com.attacker.example.com",
                    "https://127.0.0.1:1"):
            for field in ("authority_url", "graph_url"):
                with self.assertRaises(ValidationError):
                    with self.cr.savepoint():
                        business.write({field: url})
        self.assertEqual(self.business.graph_url, self.peer.url)
        for url in ("https://login.microsoftonline.us", "https://login.chinacloudapi.cn"):
            business.authority_url = url  # national clouds are Microsoft's
        self.env["ir.config_parameter"].set_param("bookings_invoicing.allowed_hosts", "bookings.example.com:8443")
        business.graph_url = "https://bookings.example.com:8443"
        self.assertEqual(self.business.graph_url, "https://bookings.example.com:8443")

    def test_a_business_whose_host_is_no_longer_allowed_sends_nothing(self):
        self.add_service("Hair cut")
        self.env["ir.config_parameter"].set_param("bookings_invoicing.allowed_hosts", "")
        requests_before = len(self.peer.sign_ins)
        with self.assertRaisesRegexp(UserError, "bookings_invoicing.allowed_hosts"):
            self.business.sudo(self.manager).action_test_connection()
        self.assertEqual(self.sync().state, "failed")
        self.assertEqual(len(self.peer.sign_ins), requests_before, "no sign-in was sent")
        self.assertFalse(self.env["bookings.service"].search([("business_id", "=", self.business.id)]))


class TestMoneyRecords(BookingsCase):
    """What decides money (synchronization runs, invoicing batches, the review and the exclusion of a booking) is
    written by the add-on's own code only, whoever calls over RPC and with whatever context."""

    def setUp(self):
        super(TestMoneyRecords, self).setUp()
        service = self.add_service("Hair cut")
        self.add_appointment(service, [self.add_customer("Ann Archer", "ann@example.com")], hours_ago(5))
        self.add_appointment(service, [self.add_customer("Bob Baker", "bob@example.com")], hours_ago(7))
        self.run_ = self.sync()

    def test_the_review_and_the_exclusion_are_the_add_ons(self):
        invoiced, other = self.rows()
        invoiced.sudo(self.user).action_create_invoices()
        for person in (self.user, self.manager):
            for values in ({"needs_review": True}, {"review_reason": "forged"}, {"excluded": True},
                           {"exclusion_reason": "forged"}, {"billed_amount": 1.0}):
                for row in (invoiced, other):
                    with self.assertRaises(UserError):
                        with self.cr.savepoint():
                            row.sudo(person).write(values)
        self.assertEqual((invoiced.needs_review, invoiced.excluded, other.excluded), (False, False, False))
        with self.assertRaises(UserError):  # an invoiced booking cannot be excluded, by the action either
            invoiced.sudo(self.user).action_exclude("paid at the desk")
        other.sudo(self.user).action_exclude("paid at the desk")
        self.assertEqual((other.excluded, other.exclusion_reason), (True, "paid at the desk"))
        other.sudo(self.user).action_restore()
        self.assertEqual((other.excluded, other.exclusion_reason), (False, False))

    def test_runs_batches_and_parts_are_read_only(self):
        Run = self.env["bookings.sync.run"]
        for person in (self.user, self.manager):
            with self.assertRaises(AccessError):
                Run.sudo(person).create({"business_id": self.business.id})
            with self.assertRaises(AccessError):
                self.run_.sudo(person).write({"appointments_read": False})
            with self.assertRaises(AccessError):
                self.run_.sudo(person).unlink()
        self.env["ir.config_parameter"].set_param("bookings_invoicing.invoice_batch_threshold", "1")
        self.rows().sudo(self.user).action_create_invoices()
        batch = self.env["bookings.invoice.batch"].search([], limit=1)
        self.assertEqual(batch.user_id, self.user, "the batch names who started it")
        for person in (self.user, self.manager):
            for record, values in ((batch, {"state": "done"}), (batch.part_ids[:1], {"state": "done"})):
                with self.assertRaises(AccessError):
                    record.sudo(person).write(values)
                with self.assertRaises(AccessError):
                    record.sudo(person).unlink()
            with self.assertRaises(AccessError):
                self.env["bookings.invoice.batch"].sudo(person).create({"name": "forged"})
        self.run_jobs()
        self.assertEqual(batch.state, "done")
        self.assertIn(self.user.partner_id, batch.message_ids[:1].partner_ids, "the closing message is hers")
        other = self.env["res.company"].create({"name": "Other company"})
        stranger = self.env["res.users"].with_context(no_reset_password=True).create({
            "name": "Other company user", "login": "bookings-stranger", "company_id": other.id,
            "company_ids": [(6, 0, [other.id])],
            "groups_id": [(6, 0, [self.env.ref("bookings_invoicing.group_bookings_invoicing_manager").id])]})
        self.assertFalse(self.env["bookings.invoice.batch.part"].sudo(stranger).search([]))

    def test_nothing_of_the_callers_context_reaches_what_a_synchronization_creates(self):
        line = self.env["account.invoice.line"].search([], limit=1)
        self.add_appointment(self.add_service("Colour"), [self.add_customer("Cat Cole", "cat@example.com")],
                             hours_ago(9))
        self.business.sudo(self.manager).with_context(
            default_excluded=True, default_exclusion_reason="forged", default_needs_review=True,
            default_invoice_line_id=line.id, default_price_confirmed=True, default_no_show=True,
        ).action_synchronize()
        self.env.cache.invalidate()
        new = self.rows().filtered(lambda row: row.service_name == "Colour")
        self.assertEqual(len(new), 1)
        self.assertEqual((new.excluded, new.exclusion_reason, new.needs_review, new.invoice_line_id.id,
                          new.price_confirmed, new.no_show, new.invoice_status),
                         (False, False, False, False, False, False, "to_invoice"))
