"""The connection of a Bookings business to Microsoft Graph: its sign-in settings (client secret, certificate, or a
user's delegated sign-in with Microsoft), the hosts it may reach, and *Test connection*. The business's fields, its
scheduling and its dashboard are in ``bookings_business``."""
import json
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_date

from ..graph import BookingsClient, GraphSettings, errors
from ..graph.credentials import Certificate
from ..graph.settings import (
    CUSTOMER_WRITE_PERMISSIONS,
    GLOBAL_AUTHORITY_URL,
    GLOBAL_GRAPH_URL,
    MICROSOFT_HOSTS,
    SERVICE_WRITE_PERMISSIONS,
)
from ..graph.signin import finish_sign_in, start_sign_in
from ..graph.transport import host_allowed
from ..locks import GRAPH_CONCURRENCY, one_of
from ..messages import graph_error_message

#: Where the browser comes back from signing in with Microsoft (the redirect URI to register on the application).
SIGN_IN_PATH = "/bookings_invoicing/signed_in"


class BookingsBusiness(models.Model):
    _inherit = "bookings.business"

    @api.constrains("auth_method", "certificate_pem")
    def _check_certificate(self):
        if self.filtered(lambda business: business.auth_method == "certificate" and not business.certificate_pem):
            raise ValidationError(_(
                "A business signs in with a certificate once one is uploaded, and only an administrator can upload "
                "it: keep the client secret until then. Upload the certificate (Connection tab) makes the business "
                "sign in with it."))

    @api.depends("mailbox", "auth_method", "certificate_pem")
    def _compute_sign_in_missing(self):
        """What the business needs before it can sign in: its business id, the client secret or the certificate
        (which only administrators enter, and nobody else reads: only whether there is one is said)."""
        secrets_of = self.env["bookings.business.secret"]._of(self)
        for business in self:
            secret = secrets_of.get(business.id)
            business.sign_in_missing = (
                "mailbox" if not business.mailbox else
                "certificate" if business.auth_method == "certificate" and not (secret and secret.certificate_key)
                else "secret" if business.auth_method == "secret" and not (secret and secret.client_secret) else False)

    @api.constrains("authority_url", "graph_url")
    def _check_urls(self):
        allowed = self._allowed_hosts()
        for business in self.sudo():
            for label, url in ((_("authority URL"), business.authority_url), (_("Graph URL"), business.graph_url)):
                parts = urlsplit(url or "")
                if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
                    raise ValidationError(
                        _("The %(label)s must be an https:// address without query, e.g. %(example)s; got %(url)r.")
                        % {"label": label, "url": url,
                           "example": GLOBAL_AUTHORITY_URL if label == _("authority URL") else GLOBAL_GRAPH_URL})
                if not host_allowed(url, allowed):
                    raise ValidationError(
                        _("The %(label)s %(url)s is not a Microsoft sign-in or Graph host (global, US Government or "
                          "China): the business's secret would be sent there. An administrator can allow another host "
                          "in the system parameter bookings_invoicing.allowed_hosts (host names, or host:port, "
                          "separated by commas).") % {"label": label, "url": url})

    @api.model
    def _allowed_hosts(self):
        """The hosts the business's requests may go to: Microsoft's, and those an administrator allowed (system
        parameter ``bookings_invoicing.allowed_hosts``, comma-separated, e.g. ``bookings.example.com:8443``)."""
        extra = self.env["ir.config_parameter"].sudo().get_param("bookings_invoicing.allowed_hosts") or ""
        return MICROSOFT_HOSTS | frozenset(host.strip().lower() for host in extra.split(",") if host.strip())

    def _graph_settings(self, signing_in=False):
        """The client settings of this business; reads the secret, which only administrators may see, and, when it
        acts as a signed-in user, that user's sign-in (``signing_in``: not yet)."""
        self.ensure_one()
        business = self.sudo()
        if not business.mailbox:
            raise UserError(_("Enter the business id of %(name)s first.") % {"name": self.name})
        secret = self.env["bookings.business.secret"]._of(self).get(self.id)
        certificate = None
        if business.auth_method == "certificate":
            if not (secret and secret.certificate_key):
                raise UserError(_("Upload the certificate of %(name)s first (an administrator can).")
                                % {"name": self.name})
            certificate = replace(business._certificate_dates(), private_key=secret.certificate_key)
        elif not (secret and secret.client_secret):
            raise UserError(_("Enter the client secret of %(name)s first (an administrator can).")
                            % {"name": self.name})
        settings = GraphSettings(
            tenant_id=business.tenant_id.strip(),
            client_id=business.client_id.strip(),
            client_secret=None if certificate else secret.client_secret,
            client_certificate=certificate,
            authority_url=business.authority_url.strip().rstrip("/"),
            graph_url=business.graph_url.strip().rstrip("/"),
            throttle_budget=business.sync_throttle_budget,
            allowed_hosts=self._allowed_hosts(),
            max_answer_bytes=int(self.env["ir.config_parameter"].sudo().get_param(
                "bookings_invoicing.graph_max_answer_bytes", GraphSettings.max_answer_bytes)),
        )
        if signing_in or business.graph_access != "delegated":
            return settings
        sign_in = self._sign_in()
        if not sign_in.account:
            raise UserError(_("%(name)s acts as a signed-in user: a manager must sign in with Microsoft on the "
                              "business first.") % {"name": self.name})
        return replace(settings, account=sign_in.account, account_name=sign_in.user_name,
                       token_cache=sign_in.token_cache)

    def _graph_client(self):
        """A client of this business whose requests, with those of every process of the database, stay within the
        requests Bookings serves at once per application and mailbox; acting as a signed-in user, it keeps their
        renewed tokens."""
        settings = self._graph_settings()
        return BookingsClient(settings,
                              gate=partial(one_of, self.env.cr.dbname, self._graph_gate_name(), GRAPH_CONCURRENCY),
                              on_token_cache=self._keep_token_cache if settings.account else None)

    def _keep_token_cache(self, serialized):
        self._sign_in()._keep_token_cache(serialized)

    def _sign_in(self):
        """The record of the user signed in with Microsoft for these businesses (empty when none): read for
        whoever may synchronize, though only administrators may read it."""
        return self.env["bookings.sign.in"].sudo().search([("business_id", "in", self.ids)])

    def _compute_delegated(self):
        sign_ins = {sign_in.business_id.id: sign_in for sign_in in self._sign_in() if sign_in.account}
        for business in self:
            sign_in = sign_ins.get(business.id)
            business.delegated_user = sign_in and sign_in.user_name
            business.delegated_date = sign_in and sign_in.signed_in

    @api.multi
    def action_sign_in_microsoft(self):
        """Sign in with Microsoft, for a business that acts as a signed-in user: the browser goes to Microsoft's
        sign-in page (authorization code flow with PKCE) and comes back to this Odoo (``_finish_sign_in``)."""
        self.ensure_one()
        self._check_may_connect()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        try:
            flow = start_sign_in(self._graph_settings(signing_in=True), base_url + SIGN_IN_PATH)
        except errors.GraphError as error:
            raise UserError(graph_error_message(self.env, error))
        sign_in = self._sign_in() or self.env["bookings.sign.in"].sudo().create({"business_id": self.id})
        sign_in.write({"flow": json.dumps(dict(flow, odoo_uid=self.env.uid)), "flow_state": flow["state"]})
        return {"type": "ir.actions.act_url", "url": flow["auth_uri"], "target": "self"}

    @api.model
    def _finish_sign_in(self, params):
        """End the sign-in with Microsoft that this user began, with the parameters the browser brought back
        (``state``, and ``code`` or ``error``): the business then acts as the signed-in user. Returns the business."""
        sign_in = self.env["bookings.sign.in"].sudo().search(
            [("flow_state", "=", params.get("state") or "-")], limit=1)
        flow = sign_in._flow()
        if not flow or flow.pop("odoo_uid") != self.env.uid:
            raise UserError(_("This sign-in with Microsoft was not begun here by you, or it has ended: begin it "
                              "again with Sign in with Microsoft on the business."))
        business = sign_in.business_id.sudo(self.env.uid)
        business._check_may_connect()
        sign_in.write({"flow": False, "flow_state": False})
        try:
            user = finish_sign_in(business._graph_settings(signing_in=True), flow, params)
        except errors.GraphError as error:
            raise UserError(graph_error_message(self.env, error))
        sign_in.write({"account": user.account, "user_name": "%s (%s)" % (user.name, user.username),
                       "signed_in": fields.Datetime.now(), "token_cache": user.token_cache})
        business.graph_access = "delegated"
        return business

    @api.multi
    def action_sign_out_microsoft(self):
        """Forget the signed-in user: the business acts with the application's permissions again."""
        self._check_may_connect()
        self._sign_in().unlink()
        return self.write({"graph_access": "application"})

    def _form_url(self):
        """The address of the business's form as the Bookings menu opens it: with its breadcrumb and side menu."""
        return "/web#id=%d&model=%s&view_type=form&action=%d&menu_id=%d" % (
            self.id, self._name, self.env.ref("bookings_invoicing.bookings_business_action").id,
            self.env.ref("bookings_invoicing.bookings_menu_root").id)

    def _graph_gate_name(self):
        """The requests of one application at one mailbox share a gate, whichever business record sends them."""
        return "graph:%s:%s" % ((self.client_id or "").strip().lower(), (self.mailbox or "").strip().lower())

    def _check_may_connect(self):
        """Reaching Bookings is for who may configure the business (managers): the buttons are not the guard."""
        self.check_access_rights("write")
        self.check_access_rule("write")

    @api.multi
    def action_test_connection(self):
        self.ensure_one()
        self._check_may_connect()
        try:
            client = self._graph_client()
            info = client.get_business(self.mailbox)
            granted = client.granted_permissions()
        except errors.GraphError as error:
            raise UserError(graph_error_message(self.env, error))
        currency = self._bookings_currency(info.currency)
        self.currency_id = currency
        signed_in = (_("Signed in with the certificate %(thumbprint)s, which expires on %(date)s.")
                     % {"thumbprint": self.certificate_thumbprint,
                        "date": format_date(self.env, self.certificate_expiry)}
                     if self.auth_method == "certificate" else _("Signed in with the client secret."))
        acting = self.graph_access == "delegated" and _(
            "Acting as %(user)s, who signed in with Microsoft on %(date)s (delegated permissions).") % {
            "user": self.delegated_user, "date": format_date(self.env, self.delegated_date)}
        report = "\n".join(
            [_("Connection works. Bookings business: %(name)s, currency: %(currency)s.")
             % {"name": info.display_name, "currency": info.currency or currency.name}]
            + list(filter(None, [signed_in, acting])) + self._push_permission_report(granted))
        return self.env["bookings.message"]._open(_("Test connection"), report)

    def _push_permission_report(self, granted):
        """What the granted permissions (None: unknown) allow of the push, in lines."""
        if granted is None:
            return [_("The permissions granted to the application cannot be read from its token: the push of "
                      "customers needs %(customers)s, the push of services %(services)s.")
                    % {"customers": CUSTOMER_WRITE_PERMISSIONS[0], "services": SERVICE_WRITE_PERMISSIONS[0]}]
        lines = [(_("Permissions of the signed-in user: %(permissions)s.") if self.graph_access == "delegated" else
                  _("Permissions granted to the application: %(permissions)s."))
                 % {"permissions": ", ".join(sorted(granted)) or _("none")}]
        for label, needed, on in ((_("Pushing customers"), CUSTOMER_WRITE_PERMISSIONS, self.push_customers),
                                  (_("Pushing services"), SERVICE_WRITE_PERMISSIONS, self.push_services)):
            if granted & set(needed):
                lines.append(_("%(push)s to Bookings: allowed.") % {"push": label})
            else:
                lines.append((_("%(push)s to Bookings is turned on but needs the permission %(permission)s.") if on else
                              _("%(push)s to Bookings would need the permission %(permission)s."))
                             % {"push": label, "permission": needed[0]})
        return lines

    @api.depends("auth_method", "certificate_expiry")
    def _compute_certificate_state(self):
        now = fields.Datetime.from_string(fields.Datetime.now())
        for business in self:
            certificate = business.auth_method == "certificate" and business._certificate_dates()
            business.certificate_state = certificate and (
                "expired" if certificate.expired(now) else "expiring" if certificate.expires_soon(now) else "valid")

    def _certificate_dates(self):
        """The business's certificate as far as its dates tell (no key), or None."""
        if not self.certificate_expiry:
            return None
        return Certificate(private_key="", certificate=self.certificate_pem or "",
                           thumbprint=self.certificate_thumbprint or "", subject=self.certificate_subject or "",
                           not_after=fields.Datetime.from_string(self.certificate_expiry))

    @api.multi
    def _set_certificate(self, certificate):
        """Keep an uploaded ``graph.credentials.Certificate`` and sign in with it from now on (administrators)."""
        self.ensure_one()
        self.env["bookings.business.secret"]._keep(self, {"certificate_key": certificate.private_key})
        self.write({"auth_method": "certificate", "certificate_pem": certificate.certificate,
                    "certificate_thumbprint": certificate.thumbprint, "certificate_subject": certificate.subject,
                    "certificate_expiry": fields.Datetime.to_string(certificate.not_after)})

    def _compute_secrets(self):
        """The secrets, for administrators (the fields' groups); an empty value for anyone else, whatever path of
        the ORM computes them."""
        secrets_of = self.env["bookings.business.secret"]._of(self) if self.user_has_groups("base.group_system") \
            else {}
        for business in self:
            secret = secrets_of.get(business.id)
            business.client_secret = secret and secret.client_secret
            business.certificate_key = secret and secret.certificate_key

    def _inverse_client_secret(self):
        self._keep_secret("client_secret")

    def _inverse_certificate_key(self):
        self._keep_secret("certificate_key")

    def _keep_secret(self, name):
        if not self.user_has_groups("base.group_system"):  # a create, which Odoo does not check field by field
            self.check_field_access_rights("write", [name])
        for business in self:
            self.env["bookings.business.secret"]._keep(business, {name: business[name] or False})
