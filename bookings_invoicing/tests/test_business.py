import base64
import datetime
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import requests
from cryptography.hazmat.primitives import hashes
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import mute_logger
from odoo.tools.misc import format_date

from bookings_peer.certificates import make_certificate

from ..graph import errors
from .common import CLIENT_ID, MAILBOX, TENANT, BookingsCase


class TestBusiness(BookingsCase):

    def test_the_secret_is_readable_by_administrators_only(self):
        business = self.business.sudo(self.manager)
        with self.assertRaises(AccessError):
            business.read(["client_secret"])
        self.assertNotIn("client_secret", business.read()[0])
        self.assertNotIn("client_secret", business.search_read([("id", "=", business.id)])[0])
        with self.assertRaises(AccessError):
            business.write({"client_secret": "stolen"})
        self.assertEqual(self.business.client_secret, "tests-secret")  # administrators (sudo) read it

    def test_a_user_cannot_configure_businesses(self):
        with self.assertRaises(AccessError):
            self.business.sudo(self.user).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["bookings.business"].sudo(self.user).create(
                self._business_values(self.peer, "other@contoso.onmicrosoft.com"))
        # ...but sees them, without their connection settings
        self.assertEqual(self.business.sudo(self.user).name, "Contoso Salon")
        with self.assertRaises(AccessError):
            self.business.sudo(self.user).read(["tenant_id"])

    def test_the_business_id_must_be_a_mailbox_address(self):
        with self.assertRaises(ValidationError):
            self.business.write({"mailbox": "Contoso Salon"})

    def test_urls_must_be_https(self):
        with self.assertRaises(ValidationError):
            self.business.write({"graph_url": "http://graph.microsoft.com"})
        with self.assertRaises(ValidationError):
            self.business.write({"authority_url": "login.microsoftonline.com"})
        self.business.write({"authority_url": "https://login.microsoftonline.us",
                             "graph_url": "https://graph.microsoft.us"})  # a national cloud is fine

    def test_the_product_template_must_be_a_service(self):
        goods = self.env["product.product"].create({"name": "Shampoo", "type": "consu"})
        with self.assertRaises(ValidationError):
            self.business.write({"product_template_id": goods.id})

    def test_one_business_is_connected_once(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self.env["bookings.business"].create(self._business_values(self.peer, MAILBOX))

    def test_a_duplicate_keeps_the_settings_and_says_what_to_enter(self):
        self.business.write({"reference_question": "Purchase order", "sync_days_back": 45})
        copy = self.business.sudo(self.manager).copy()
        self.assertEqual((copy.name, copy.mailbox, copy.sudo().tenant_id, copy.sudo().client_id,
                          copy.reference_question, copy.sync_days_back),
                         ("Contoso Salon (copy)", False, TENANT, CLIENT_ID, "Purchase order", 45))
        self.assertEqual(copy.sign_in_missing, "mailbox")
        with self.assertRaises(UserError):  # nothing to reach yet, and the hourly run leaves it alone
            copy.action_test_connection()
        self.env["bookings.business"]._cron_synchronize()
        self.assertEqual(copy.last_sync_state, "never")
        copy.mailbox = "other@contoso.onmicrosoft.com"
        self.assertEqual(copy.sign_in_missing, "secret", "the secrets are the original's alone")
        self.assertEqual(self.business.sign_in_missing, False)
        with self.assertRaises(ValidationError):  # the business id entered is an address all the same
            copy.mailbox = "Other salon"

    def test_a_business_signs_in_with_a_certificate_only_once_one_is_uploaded(self):
        with self.assertRaises(ValidationError), self.cr.savepoint():  # a manager cannot upload one: nothing
            self.business.sudo(self.manager).auth_method = "certificate"  # could sign in
        self.business.invalidate_cache()
        self.assertEqual(self.business.auth_method, "secret")
        _certificate, _pem, pfx = make_certificate()
        self._upload(pfx, "pfx-pw")  # an administrator's upload switches the business to it
        self.assertEqual((self.business.auth_method, self.business.sign_in_missing), ("certificate", False))
        self.assertEqual(self.business.sudo(self.manager).copy().auth_method, "secret",
                         "a duplicate has no certificate of its own")

    def test_the_window_cannot_be_negative(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self.business.write({"sync_days_back": -1})

    def test_test_connection_shows_the_business_and_stores_its_currency(self):
        self.business.currency_id = self.env.ref("base.EUR")
        action = self.business.sudo(self.manager).action_test_connection()
        # a plain dialog, not an error: what the check stored is kept
        self.assertEqual((action["type"], action["res_model"], action["target"]),
                         ("ir.actions.act_window", "bookings.message", "new"))
        report = self.env["bookings.message"].browse(action["res_id"]).message
        self.assertIn("Bookings business: Contoso Salon, currency: USD", report)
        self.assertEqual(self.business.currency_id, self.env.ref("base.USD"))

    def test_test_connection_explains_a_wrong_secret(self):
        self.business.client_secret = "wrong"
        with self.assertRaisesRegexp(UserError, "invalid_client"):
            self.business.sudo(self.manager).action_test_connection()

    def test_test_connection_explains_a_missing_permission(self):
        self.store.tenants["tests-tenant"]["tests-client"]["permissions"] = set()
        with self.assertRaisesRegexp(UserError, "Bookings.Read.All"):
            self.business.sudo(self.manager).action_test_connection()

    def test_test_connection_without_secret(self):
        self.business.client_secret = False
        with self.assertRaises(UserError):
            self.business.sudo(self.manager).action_test_connection()

    def test_the_messages_are_translated(self):
        self.env["res.lang"].load_lang("fr_FR")
        self.env["ir.translation"].create({
            "type": "code", "name": "addons/bookings_invoicing/graph/errors.py", "lang": "fr_FR",
            "module": "bookings_invoicing", "state": "translated",
            "src": errors.BusinessNotFound.template,
            "value": "Entreprise Bookings %(business)s injoignable (%(code)s).",
        })
        self.business.mailbox = "missing@contoso.onmicrosoft.com"
        with self.assertRaisesRegexp(UserError, "Entreprise Bookings missing@contoso.onmicrosoft.com injoignable "
                                                "\\(404 ErrorFolderNotFound\\)"):
            self.business.sudo(self.manager).with_context(lang="fr_FR").action_test_connection()

    def test_a_call_of_the_notification_address_queues_one_synchronization(self):
        """The address's answers over HTTP (202, 404, 413) are the integration suite's, whose Odoo serves HTTP."""
        business = self.business.sudo(self.manager)
        self.assertFalse(business.notification_date)
        token = self._notification_token(business.action_renew_notification_url())
        self.assertTrue(business.notification_date)
        with self.assertRaises(AccessError):  # made by managers only
            self.business.sudo(self.user).action_renew_notification_url()
        Public = self.env["bookings.business"].sudo(self.env.ref("base.public_user"))
        before = self._synchronization_jobs()
        # a flow calls once per appointment changed: however many calls, one job waits
        for _call in range(3):
            notified = Public._notified_business(token)
            self.assertEqual(notified, self.business)
            notified._notified()
        self.assertEqual(len(self._synchronization_jobs() - before), 1)
        self.env.cache.invalidate()  # queued in a transaction of its own
        self.assertEqual(self.business.last_sync_state, "queued")
        # a wrong or renewed address is no business
        self._notification_token(business.action_renew_notification_url())
        for wrong in (token, token[:-1], "", False):
            self.assertFalse(Public._notified_business(wrong))
        self.business.active = False
        self.assertFalse(Public._notified_business(self._notification_token(
            self.business.action_renew_notification_url())))

    def test_a_notification_is_queued_the_interval_after_the_latest_run_began(self):
        self.sync()
        self.env["ir.config_parameter"].set_param("bookings_invoicing.notification_interval", "3600")
        token = self._notification_token(self.business.action_renew_notification_url())
        self.env["bookings.business"]._notified_business(token)._notified()
        job = self._synchronization_jobs()
        self.assertEqual(len(job), 1)
        began = fields.Datetime.from_string(self.business.sync_run_ids[:1].date_start)
        self.assertEqual(fields.Datetime.from_string(job.eta), began + datetime.timedelta(hours=1))

    def _notification_token(self, action):
        """The secret of the notification address that ``action`` (the dialog of its making) shows once."""
        message = self.env["bookings.message"].browse(action["res_id"]).message
        base_url = self.env["ir.config_parameter"].get_param("web.base.url")
        found = re.search(re.escape(base_url) + r"/bookings_invoicing/notify/(\S+)", message)
        self.assertTrue(found, message)
        return found.group(1)

    def _synchronization_jobs(self):
        return self.env["queue.job"].search([("model_name", "=", "bookings.business"),
                                             ("method_name", "=", "_synchronize_job"), ("state", "=", "pending")])

    # --- certificate credentials --------------------------------------------------------------------------------
    def _upload(self, data, password=None, user=None):
        wizard = self.env["bookings.certificate.upload"].sudo(user or self.env.user).create({
            "business_id": self.business.id, "certificate_file": base64.b64encode(data), "password": password})
        wizard.action_upload()
        return wizard

    def _forbid_secrets(self, *certificates):
        """The tenant's application takes no secret, and signs in with ``certificates`` only."""
        self.store.tenants[TENANT][CLIENT_ID].update(secret=None, certificates=list(certificates))
        self.peer.revoke_tokens()

    def test_a_tenant_that_forbids_secrets_is_reached_with_a_certificate(self):
        certificate, _pem, pfx = make_certificate("Contoso Salon invoicing")
        self._forbid_secrets(certificate)
        with self.assertRaisesRegexp(UserError, "invalid_client"):  # the secret no longer signs in
            self.business.sudo(self.manager).action_test_connection()
        with self.assertRaises(AccessError):  # a manager may not upload it: the key is a secret
            self._upload(pfx, "pfx-pw", user=self.manager)
        with self.assertRaises(UserError):
            self._upload(pfx, "not the password")
        self.assertEqual(self.business.auth_method, "secret", "nothing kept from a file that cannot be read")
        wizard = self._upload(pfx, "pfx-pw")
        self.assertFalse(wizard.exists(), "the file and its password are not kept")
        business = self.business.sudo(self.manager)
        self.assertEqual((business.auth_method, business.certificate_subject, business.certificate_thumbprint,
                          business.certificate_state),
                         ("certificate", "CN=Contoso Salon invoicing",
                          certificate.fingerprint(hashes.SHA1()).hex().upper(), "valid"))  # noqa: S303
        with self.assertRaises(AccessError):  # the private key is never shown again, but to administrators
            business.read(["certificate_key"])
        action = business.action_test_connection()
        report = self.env["bookings.message"].browse(action["res_id"]).message
        self.assertIn(business.certificate_thumbprint, report)
        self.assertEqual(self.peer.sign_ins[-1], (CLIENT_ID, "client_assertion"))
        self.assertEqual(self.sync().state, "done")

    def test_a_certificate_expiring_soon_is_told_and_an_expired_one_stops_the_synchronization(self):
        expiring, _pem, pfx = make_certificate(days=20)
        self._forbid_secrets(expiring)
        self._upload(pfx, "pfx-pw")
        self.assertEqual(self.business.certificate_state, "expiring")
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertIn(format_date(self.env, self.business.certificate_expiry), run.message)
        started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)
        expired, _pem, pfx = make_certificate(days=1, starts=started)
        self._forbid_secrets(expired)
        self._upload(pfx, "pfx-pw")
        self.assertEqual(self.business.certificate_state, "expired")
        run = self.sync()
        self.assertEqual((run.state, self.business.last_sync_state), ("failed", "failed"))
        self.assertIn(self.business.certificate_thumbprint, run.message)

    def test_a_certificate_removed_from_the_application_stops_the_next_run(self):
        certificate, _pem, pfx = make_certificate()
        self._forbid_secrets(certificate)
        self._upload(pfx, "pfx-pw")
        self.assertEqual(self.sync().state, "done")
        self._forbid_secrets()  # the tenant's administrator removed it from the application
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("AADSTS700027", run.message)

    # --- delegated sign-in --------------------------------------------------------------------------------------
    def _sign_in(self, user, login="max@contoso.onmicrosoft.com"):
        """``user`` signs in with Microsoft on the business, as the browser does it: the action's address (the
        peer's sign-in page), the account picked, and the parameters brought back to Odoo's address."""
        action = self.business.sudo(user).action_sign_in_microsoft()
        page = requests.get(action["url"], timeout=10)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"/>', page.text))
        answer = requests.post(page.url, data=dict({k: unescape(v) for k, v in fields.items()}, login=login),
                               allow_redirects=False, timeout=10)
        location = urlsplit(answer.headers["Location"])
        self.assertEqual(location.path, "/bookings_invoicing/signed_in")
        return dict(parse_qsl(location.query))

    def _tenant_grants_no_application_permission(self):
        self.store.tenants[TENANT][CLIENT_ID]["permissions"] = set()
        self.store.add_user(TENANT, "max@contoso.onmicrosoft.com", "Max Manager")
        self.peer.revoke_tokens()

    def test_a_manager_signs_in_with_microsoft_and_the_business_acts_as_them(self):
        self._tenant_grants_no_application_permission()
        self.assertEqual(self.sync().state, "failed", "the application alone may read nothing")
        business = self.business.sudo(self.manager)
        business._finish_sign_in(self._sign_in(self.manager))
        self.assertEqual((business.graph_access, business.delegated_user),
                         ("delegated", "Max Manager (max@contoso.onmicrosoft.com)"))
        self.assertTrue(business.delegated_date)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):  # the refresh token is administrators'
            self.env["bookings.sign.in"].sudo(self.manager).search([]).read(["token_cache"])
        report = self.env["bookings.message"].browse(business.action_test_connection()["res_id"]).message
        self.assertIn("Max Manager (max@contoso.onmicrosoft.com)", report)
        self.assertIn("Bookings.ReadWrite.All, BookingsAppointment.ReadWrite.All", report)
        self.assertEqual(self.sync().state, "done")
        # the user's access tokens expire: the refresh token renews them, and the renewed cache is kept
        sign_in = self.env["bookings.sign.in"].search([("business_id", "=", self.business.id)])
        kept = sign_in.token_cache
        self.peer.revoke_tokens()
        self.assertEqual(self.sync().state, "done")
        sign_in.invalidate_cache()
        self.assertNotEqual(sign_in.token_cache, kept)

    def test_a_revoked_sign_in_stops_the_next_run_and_says_who_must_sign_in_again(self):
        self._tenant_grants_no_application_permission()
        self.business.sudo(self.manager)._finish_sign_in(self._sign_in(self.manager))
        self.peer.end_sign_ins("max@contoso.onmicrosoft.com", "revoked")
        run = self.sync()
        self.assertEqual((run.state, self.business.last_sync_state), ("failed", "failed"))
        self.assertIn("Max Manager", run.message)
        self.assertIn("AADSTS50173", run.message)
        # signing in again mends it
        self.business.sudo(self.manager)._finish_sign_in(self._sign_in(self.manager))
        self.assertEqual(self.sync().state, "done")

    def test_a_sign_in_is_ended_only_by_whoever_began_it(self):
        self._tenant_grants_no_application_permission()
        params = self._sign_in(self.manager)
        other = self.manager.copy({"login": "another-manager-test"})
        with self.assertRaises(UserError):
            self.env["bookings.business"].sudo(other)._finish_sign_in(params)
        with self.assertRaises(UserError):
            self.env["bookings.business"].sudo(self.manager)._finish_sign_in(dict(params, state="forged"))
        with self.assertRaises(AccessError):  # a Bookings user may not sign the business in
            self.business.sudo(self.user).action_sign_in_microsoft()
        self.assertEqual(self.business.graph_access, "application")
