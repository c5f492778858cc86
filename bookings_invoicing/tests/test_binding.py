from odoo_test_helper import FakeModelLoader
from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests.common import SavepointCase, at_install, post_install
from odoo.tools import mute_logger


@at_install(False)
@post_install(True)
class TestBinding(SavepointCase):
    """What every model inheriting ``bookings.binding`` gets, shown on a fake one: its Bookings key is unique per
    business, the binder finds it by that key, and its values come from its mapping hook, extended by inheritance."""

    @classmethod
    def setUpClass(cls):
        super(TestBinding, cls).setUpClass()
        cls.loader = FakeModelLoader(cls.env, cls.__module__)
        cls.loader.backup_registry()
        from .fake_models import BookingsFakeBinding, BookingsFakeBindingExtended

        cls.loader.update_registry((BookingsFakeBinding, BookingsFakeBindingExtended))
        cls.Binding = cls.env["bookings.fake.binding"]._bookings_as_mirror()  # as the synchronization
        business = {"tenant_id": "t", "client_id": "c"}
        cls.one = cls.env["bookings.business"].create(dict(business, name="One", mailbox="one@example.com"))
        cls.two = cls.env["bookings.business"].create(dict(business, name="Two", mailbox="two@example.com"))

    @classmethod
    def tearDownClass(cls):
        cls.loader.restore_registry()
        super(TestBinding, cls).tearDownClass()

    def bind(self, business, bookings_id, label="A", size=1):
        values = self.Binding._bookings_to_odoo_values({"label": label, "size": size})
        return self.Binding._bookings_create(business, bookings_id, values)

    def test_a_bookings_id_is_bound_once_per_business(self):
        self.bind(self.one, "AAMk+/=")
        self.bind(self.two, "AAMk+/=")  # another business: another record
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.bind(self.one, "AAMk+/=")

    def test_the_binder_finds_the_bindings_of_a_business_by_their_bookings_ids(self):
        first, second = self.bind(self.one, "a", "First"), self.bind(self.one, "b", "Second")
        self.bind(self.two, "a", "Elsewhere")
        bound = self.Binding._bookings_bound(self.one)
        self.assertEqual(sorted(bound), ["a", "b"])
        self.assertEqual((bound["a"]["id"], bound["a"]["label"], bound["b"]["id"]), (first["id"], "First",
                                                                                     second["id"]))
        self.assertEqual(list(self.Binding._bookings_bound(self.one, ["b", "c"])), ["b"])
        self.assertEqual(self.Binding._bookings_bound(self.one, []), {})

    def test_the_mapping_hook_gives_the_values_and_only_changes_are_written(self):
        self.bind(self.one, "a", "First", size=3)
        old = self.Binding._bookings_bound(self.one)["a"]
        record = self.Binding.browse(old["id"])
        self.assertEqual((record.label, record.size), ("First", 3), "the extension's value is mapped too")
        unchanged = self.Binding._bookings_to_odoo_values({"label": "First", "size": 3})
        self.assertEqual(self.Binding._bookings_write_changes(old, unchanged), {})
        changed = self.Binding._bookings_to_odoo_values({"label": "First", "size": 4})
        self.assertEqual(self.Binding._bookings_write_changes(old, changed), {"size": 4})
        record.invalidate_cache()
        self.assertEqual((record.size, old["size"]), (4, 4))

    def test_only_the_synchronization_changes_what_it_mirrors(self):
        record = self.Binding.browse(self.bind(self.one, "a", "First", size=3)["id"])
        claimed = {"bookings_mirror": True}  # what a remote call could put in its context
        for by_hand in (record.with_context(bookings_mirror=False), record.with_context(**claimed)):
            for write in ({"label": "Changed"}, {"size": 4}, {"bookings_id": "b"}, {"business_id": self.two.id}):
                with self.assertRaises(UserError), self.cr.savepoint():
                    by_hand.write(write)
            with self.assertRaises(UserError), self.cr.savepoint():
                by_hand.create({"business_id": self.one.id, "bookings_id": "c", "label": "Forged"})
            with self.assertRaises(UserError), self.cr.savepoint():
                by_hand.unlink()
            by_hand.write({"note": "mine"})  # what is not mirrored is the user's
        record.invalidate_cache()
        self.assertEqual((record.label, record.size, record.bookings_id, record.note), ("First", 3, "a", "mine"))
