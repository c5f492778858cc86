"""A Bookings business: its fields, its checks, its synchronizations (scheduled, notified, in the background) and
its dashboard. How it connects to Microsoft Graph (sign-in, certificate, *Test connection*) is in
``bookings_business_connection``."""
import datetime
import secrets
from collections import Counter, defaultdict

import psycopg2

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE
from odoo.tools import html_escape
from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact, job

from ..graph import EMAIL_RE
from ..graph.settings import GLOBAL_AUTHORITY_URL, GLOBAL_GRAPH_URL
from ..locks import advisory_locks, lock_key
from ..rules import INVOICE_GROUPING_SELECTION
from ..sync import BusinessImporter, DirectoryExporter, InvoiceStatusWriter, SynchronizationRunning
from .bookings_business_secret import notification_hash
from .queue_job import recoverable_job

#: Where a Power Automate flow calls to have a business synchronized at once.
NOTIFICATION_PATH = "/bookings_invoicing/notify"
#: The least time, in seconds, between the start of a synchronization and that of one a notification queues.
NOTIFICATION_INTERVAL = 60
#: Synchronize now runs at once for a business with at most this many appointment rows, as a job above.
SYNC_FOREGROUND_LIMIT = 2000
#: A background synchronization that finds another one of its business running is retried after this long.
SYNC_RETRY_SECONDS = 60
#: The partners pushed to Bookings unless a manager says otherwise: individuals with an e-mail tagged "Bookings".
DEFAULT_PUSH_CUSTOMER_DOMAIN = ("[('is_company', '=', False), ('email', '!=', False), "
                                "('category_id.name', '=', 'Bookings')]")
#: The service products pushed unless a manager says otherwise: those given a Bookings duration (none at first).
DEFAULT_PUSH_SERVICE_DOMAIN = "[('bookings_duration', '>', 0)]"


class BookingsBusiness(models.Model):
    _name = "bookings.business"
    _description = "Bookings Business"
    _inherit = ["mail.thread", "bookings.field.guard"]
    _order = "name"

    name = fields.Char(required=True, track_visibility="onchange")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.user.company_id, ondelete="restrict",
    )
    mailbox = fields.Char(
        string="Business Id", copy=False,  # required on the form: a duplicate is saved without it, to be entered
        help="The Bookings business id: the SMTP address of its mailbox, e.g. contosolunch@contoso.onmicrosoft.com.",
    )
    tenant_id = fields.Char(
        string="Tenant Id", required=True, groups="bookings_invoicing.group_bookings_invoicing_manager",
        help="The directory (tenant) id of the Microsoft Entra ID tenant that owns the business.",
    )
    client_id = fields.Char(
        string="Client Id", required=True, groups="bookings_invoicing.group_bookings_invoicing_manager",
        help="The application (client) id of the application registered in Microsoft Entra ID, with the "
             "application permission Bookings.Read.All granted and admin consent given.",
    )
    client_secret = fields.Char(
        compute="_compute_secrets", inverse="_inverse_client_secret", groups="base.group_system",
        help="A client secret of that application. Only administrators can read or change it.",
    )
    auth_method = fields.Selection(
        [("secret", "Client secret"), ("certificate", "Certificate")], string="Sign in with", default="secret",
        required=True,
        help="How the application signs in to Microsoft Entra ID: with a client secret, or with a certificate (for "
             "tenants whose policy forbids secrets).")
    graph_access = fields.Selection(
        [("application", "The application's permissions"), ("delegated", "A signed-in user's permissions")],
        string="Act with", default="application", required=True,
        groups="bookings_invoicing.group_bookings_invoicing_manager",
        help="Whose permissions the add-on has in Bookings: the application's (application permissions an "
             "administrator granted over the tenant's businesses), or those of a user who signs in with Microsoft "
             "(delegated permissions, for tenants whose administrators grant no application permission). The "
             "application signs in with its secret or certificate either way.")
    delegated_user = fields.Char(string="Signed in as", compute="_compute_delegated",
                                 groups="bookings_invoicing.group_bookings_invoicing_manager")
    delegated_date = fields.Datetime(string="Signed in on", compute="_compute_delegated",
                                     groups="bookings_invoicing.group_bookings_invoicing_manager")
    certificate_key = fields.Char(string="Private key", compute="_compute_secrets", inverse="_inverse_certificate_key",
                                  groups="base.group_system")  # PEM: never shown
    certificate_pem = fields.Text(string="Certificate", copy=False, readonly=True)
    certificate_thumbprint = fields.Char(string="Certificate thumbprint", copy=False, readonly=True,
                                         help="Its SHA-1 thumbprint, as Microsoft Entra ID shows it.")
    certificate_subject = fields.Char(string="Certificate subject", copy=False, readonly=True)
    certificate_expiry = fields.Datetime(string="Certificate expires", copy=False, readonly=True)
    certificate_state = fields.Selection(
        [("valid", "Valid"), ("expiring", "Expires within 30 days"), ("expired", "Expired")],
        string="Certificate validity", compute="_compute_certificate_state")
    notification_date = fields.Datetime(
        string="Notification address made on", copy=False, readonly=True,
        help="A Power Automate flow triggered when an appointment is created, updated or cancelled in Bookings calls "
             "the business's secret notification address: the business is synchronized within minutes. The address "
             "is shown once, when it is made; renew it if it is lost or has been shown to someone who should not "
             "call it.")
    authority_url = fields.Char(
        string="Authority URL", required=True, default=GLOBAL_AUTHORITY_URL,
        groups="bookings_invoicing.group_bookings_invoicing_manager",
        help="The Microsoft Entra ID login host. National clouds use their own: https://login.microsoftonline.us "
             "(US Government), https://login.chinacloudapi.cn (China).",
    )
    graph_url = fields.Char(
        string="Graph URL", required=True, default=GLOBAL_GRAPH_URL,
        groups="bookings_invoicing.group_bookings_invoicing_manager",
        help="The Microsoft Graph host. National clouds use their own: https://graph.microsoft.us "
             "(US Government), https://microsoftgraph.chinacloudapi.cn (China).",
    )
    currency_id = fields.Many2one(
        "res.currency",
        help="Currency of the Bookings prices. Set from the business's default currency at each "
             "synchronization; the company's currency when Bookings names none.",
    )
    sign_in_missing = fields.Selection(
        [("mailbox", "The business id"), ("secret", "The client secret"), ("certificate", "The certificate")],
        string="Missing to sign in", compute="_compute_sign_in_missing")
    time_zone = fields.Char(
        readonly=True, copy=False,
        help="The business's time zone in Bookings (its booking page's), set at each synchronization: its months are "
             "closed in it. Empty when Bookings names none: each user's own time zone then.",
    )
    reference_question = fields.Char(
        string="Purchase-order question",
        help="The custom question of the Bookings business (its text, as Bookings has it) whose answer is the "
             "customer's reference on the invoice, e.g. a purchase-order number. Bookings with different answers "
             "never share an invoice.")
    note_question = fields.Char(
        string="Question noted on the line",
        help="The custom question of the Bookings business whose answer is added to the booking's invoice line.")
    write_invoice_status = fields.Boolean(
        string="Invoice status in Bookings (beta)",
        help="After each invoicing and at each synchronization, write to each booking of the synchronization window "
             "whose invoice changed its invoice's number, status, amount and date, through Microsoft Graph's beta "
             "API (the application needs BookingsAppointment.ReadWrite.All). Microsoft does not support beta in "
             "production: a refusal is a warning on the synchronization and never stops invoicing.")
    walk_in_partner_id = fields.Many2one(
        "res.partner", string="Walk-in customer", domain=[("is_company", "=", False)],
        help="The partner billed for bookings that name no customer (walk-ins). Empty: each waits for its "
             "customer to be set.")
    partner_template_id = fields.Many2one(
        "res.partner",
        help="New customers copy this partner's payment terms, fiscal position, tags, language and salesperson.",
    )
    product_template_id = fields.Many2one(
        "product.product", domain=[("type", "=", "service")],
        help="New service products copy this service product's category, taxes, unit of measure and accounts.",
    )
    sync_customers = fields.Boolean(
        string="Synchronize customers", default=True,
        help="Create a partner for a Bookings customer that matches none. Off: unmatched customers stay "
             "unlinked and their appointments wait for a partner set by hand.",
    )
    sync_services = fields.Boolean(
        string="Synchronize services", default=True,
        help="Create a service product for a Bookings service that matches none by name.",
    )
    push_customers = fields.Boolean(
        string="Push customers to Bookings",
        help="Create the partners of the filter below as Bookings customers, and keep them up to date, at each "
             "synchronization (before it reads Bookings), so that staff book them without typing them again. "
             "Customers born in Bookings are never written. Needs the application permission "
             "BookingsAppointment.ReadWrite.All.",
    )
    push_customer_domain = fields.Char(
        string="Customers to push", default=DEFAULT_PUSH_CUSTOMER_DOMAIN,
        help="The partners pushed (of the business's company, or shared). By default the individuals with an e-mail "
             "address that carry the tag Bookings.",
    )
    push_services = fields.Boolean(
        string="Push services to Bookings",
        help="Create the service products of the filter below as Bookings services, and keep them up to date, at "
             "each synchronization. Services born in Bookings are never written. Needs the application permission "
             "Bookings.ReadWrite.All.",
    )
    push_service_domain = fields.Char(
        string="Services to push", default=DEFAULT_PUSH_SERVICE_DOMAIN,
        help="The service products pushed (of the business's company, or shared). By default those given a Bookings "
             "duration.",
    )
    sync_days_back = fields.Integer(
        string="Days back", default=30, help="The synchronization reads appointments from this many days ago...",
    )
    sync_days_ahead = fields.Integer(
        string="Days ahead", default=30, help="...up to this many days ahead.",
    )
    sync_throttle_budget = fields.Integer(
        string="Throttling budget (seconds)", default=600,
        help="When Microsoft Graph throttles a synchronization, it says how long to wait (Retry-After), and the "
             "synchronization waits that long. It waits this many seconds in all; a longer wait stops it, with the "
             "reason, and the next synchronization goes on.",
    )
    invoice_grouping = fields.Selection(
        INVOICE_GROUPING_SELECTION, default="customer", required=True,
        help="One draft invoice per customer and currency with a line per appointment, or one invoice for each "
             "appointment (and attendee).",
    )
    journal_id = fields.Many2one(
        "account.journal", string="Sales Journal", domain="[('type', '=', 'sale'), ('company_id', '=', company_id)]",
        help="Journal of the draft invoices; the company's default sales journal when empty.",
    )
    price_include_tax = fields.Boolean(
        string="Bookings prices include taxes",
        help="On: each invoice line's total with taxes equals the Bookings price (the line uses the "
             "price-included variant of its taxes). Off: taxes are added to the Bookings prices.",
    )
    cancellation_policy_id = fields.Many2one(
        "bookings.cancellation.policy", ondelete="restrict",
        domain="[('company_id', '=', company_id)]",
        help="What a late cancellation and a no-show cost; a service may have its own policy. Empty: neither is "
             "charged.",
    )
    last_sync_date = fields.Datetime(string="Last synchronization", readonly=True, copy=False)
    last_sync_state = fields.Selection(
        [("never", "Never"), ("queued", "Queued"), ("running", "Running"), ("done", "Done"),
         ("partial", "Done with problems"), ("failed", "Failed")],
        string="Synchronization state", default="never", readonly=True, copy=False,
    )
    last_sync_message = fields.Text(string="Synchronization message", compute="_compute_last_sync_message")
    sync_run_ids = fields.One2many("bookings.sync.run", "business_id", string="Synchronizations", readonly=True)
    appointment_count = fields.Integer(compute="_compute_counts")
    uninvoiced_count = fields.Integer(
        compute="_compute_counts",
        help="Completed bookings not invoiced yet: those ready to invoice and those that wait for a customer or a "
             "price.")
    ready_count = fields.Integer(string="Ready to invoice", compute="_compute_counts")
    uninvoiced_amount = fields.Monetary(string="Amount to invoice", compute="_compute_counts",
                                        help="Of the completed bookings ready to invoice, before taxes.")
    review_count = fields.Integer(string="To review", compute="_compute_counts")
    no_customer_count = fields.Integer(string="Without customer", compute="_compute_counts")
    no_customer_amount = fields.Monetary(
        string="Amount without customer", compute="_compute_counts",
        help="Of the completed bookings that wait for a customer, before taxes: invoiced once it is set.")
    no_price_count = fields.Integer(string="Without price", compute="_compute_counts")
    fee_count = fields.Integer(
        string="Fees to charge", compute="_compute_counts",
        help="Late cancellations and no-shows ready to invoice at their cancellation policy's fee (counted among "
             "those to invoice).")
    draft_invoice_count = fields.Integer(string="Draft invoices", compute="_compute_counts")
    to_confirm_count = fields.Integer(
        string="Prices to confirm", compute="_compute_counts",
        help="Bookings on draft invoices whose price is not firm in Bookings (a minimum, or no price).")

    _sql_constraints = [
        ("mailbox_uniq", "unique(mailbox)",
         "This Bookings business is already connected: one business is synchronized by one record only."),
        ("sync_window_check", "check(sync_days_back >= 0 and sync_days_ahead >= 0)",
         "The synchronization window counts days back and ahead: neither can be negative."),
        ("sync_throttle_budget_check", "check(sync_throttle_budget >= 0)",
         "The throttling budget is a number of seconds: it cannot be negative."),
    ]

    def _compute_counts(self):
        """The dashboard's figures, in five grouped queries."""
        Appointment = self.env["bookings.appointment"]
        mine = [("business_id", "in", self.ids)]

        def count(domain):
            groups = Appointment.read_group(mine + domain, ["business_id"], ["business_id"], lazy=False)
            return {group["business_id"][0]: group["__count"] for group in groups}

        totals, review = count([]), count([("needs_review", "=", True)])
        to_confirm = count(Appointment._to_confirm_domain())
        drafts = defaultdict(set)
        for group in Appointment.read_group(mine + [("invoice_state", "=", "draft")], ["business_id", "invoice_id"],
                                            ["business_id", "invoice_id"], lazy=False):
            drafts[group["business_id"][0]].add(group["invoice_id"][0])
        waiting = defaultdict(lambda: (0, 0.0))  # (business id, status) -> (count, amount)
        fees = Counter()
        for group in Appointment.read_group(mine + Appointment._uninvoiced_domain(),
                                            ["amount", "business_id", "invoice_status", "fee_kind"],
                                            ["business_id", "invoice_status", "fee_kind"], lazy=False):
            key = group["business_id"][0], group["invoice_status"]
            waiting[key] = (waiting[key][0] + group["__count"], waiting[key][1] + group["amount"])
            if group["fee_kind"] and group["invoice_status"] == "to_invoice":
                fees[group["business_id"][0]] += group["__count"]
        for business in self:
            ready, no_customer, no_price = (waiting.get((business.id, status), (0, 0.0))
                                            for status in ("to_invoice", "no_customer", "no_price"))
            business.appointment_count = totals.get(business.id, 0)
            business.review_count = review.get(business.id, 0)
            business.uninvoiced_count = ready[0] + no_customer[0] + no_price[0]
            business.ready_count = ready[0]
            business.uninvoiced_amount = ready[1]
            business.no_customer_count = no_customer[0]
            business.no_customer_amount = no_customer[1]
            business.no_price_count = no_price[0]
            business.fee_count = fees[business.id]
            business.draft_invoice_count = len(drafts[business.id])
            business.to_confirm_count = to_confirm.get(business.id, 0)

    @api.depends("last_sync_state", "last_sync_date")
    def _compute_last_sync_message(self):
        """What the latest ended run did, in the reader's language (a run's summary is written as it is read), or
        that a run is queued."""
        Run = self.env["bookings.sync.run"].sudo()
        for business in self:
            if business.last_sync_state == "queued":
                business.last_sync_message = _("Queued: the synchronization runs in the background.")
                continue
            run = Run.search([("business_id", "=", business.id), ("date_end", "!=", False)], limit=1) \
                if business.id else Run
            business.last_sync_message = "\n".join(filter(None, [run.summary, run.message])) if run else False

    @api.constrains("mailbox")
    def _check_mailbox(self):
        for business in self.filtered("mailbox"):
            if not EMAIL_RE.match(business.mailbox):
                raise ValidationError(
                    _("The business id %(mailbox)r is not an e-mail address. Bookings names a business by the "
                      "SMTP address of its mailbox, e.g. contosolunch@contoso.onmicrosoft.com.")
                    % {"mailbox": business.mailbox})

    @api.multi
    def copy(self, default=None):
        """A duplicate keeps the connection's settings and the invoicing rules; its business id and secrets are
        entered anew (``sign_in_missing`` says what is missing)."""
        self.ensure_one()
        default = dict(default or {})
        default.setdefault("name", _("%s (copy)") % self.name)
        if self.auth_method == "certificate":
            default.setdefault("auth_method", "secret")  # the certificate and its key are not copied
        return super(BookingsBusiness, self).copy(default)

    @api.constrains("push_customer_domain", "push_service_domain")
    def _check_push_domains(self):
        for business in self:
            for model, label, text in (("res.partner", _("customers to push"), business.push_customer_domain),
                                       ("product.product", _("services to push"), business.push_service_domain)):
                try:
                    with self.env.cr.savepoint():
                        self.env[model].search_count(business._push_domain(model, text))
                except Exception as error:  # pylint: disable=broad-except
                    # whatever the filter holds: a syntax error, an unknown field, a value of the wrong type
                    raise ValidationError(_("The filter of the %(label)s is not a valid domain: %(error)s")
                                          % {"label": label, "error": error})

    def _push_domain(self, model, text):
        """The records of ``model`` that the filter ``text`` pushes: of the business's company or shared (and, for
        products, services only)."""
        domain = safe_eval(text or "[]")
        if not isinstance(domain, list):
            raise ValueError(_("a domain is a list of conditions"))
        domain = domain + [("company_id", "in", [self.company_id.id, False])]
        return domain + [("type", "=", "service")] if model == "product.product" else domain

    @api.constrains("product_template_id")
    def _check_product_template(self):
        for business in self:
            if business.product_template_id and business.product_template_id.type != "service":
                raise ValidationError(_("The product template must be a service product."))

    @api.onchange("mailbox")
    def _onchange_mailbox(self):
        if self.mailbox:
            self.mailbox = self.mailbox.strip().lower()

    # --- what Bookings says, as the business maps it ---------------------------------------------------------
    def _invoice_answers(self, answers):
        """The row values that the answers ``(question, answer)`` of a customer give by the questions this business
        maps: the invoice's customer reference and the line's note (questions compared without case)."""
        self.ensure_one()
        by_question = {question.lower(): answer for question, answer in answers}

        def answer(question):
            return by_question.get(" ".join(question.split()).lower(), False) if question else False

        return {"customer_reference": answer(self.reference_question), "booking_note": answer(self.note_question)}

    def _billing_currency(self):
        """The currency the business bills in: what Bookings last said, else its company's."""
        self.ensure_one()
        return self.currency_id or self.company_id.currency_id

    def _bookings_currency(self, iso_code):
        """The currency Bookings bills in (its ``defaultCurrencyIso``), the company's where Odoo has none of that
        code."""
        self.ensure_one()
        return self.env["res.currency"]._bookings_from_iso(iso_code) or self.company_id.currency_id

    # --- synchronization ------------------------------------------------------------------------------------
    def _sync_foreground_limit(self):
        """Businesses with more appointment rows than this synchronize in the background when asked from the form:
        the system parameter ``bookings_invoicing.sync_foreground_limit``, 2000 by default."""
        return int(self.env["ir.config_parameter"].sudo().get_param("bookings_invoicing.sync_foreground_limit",
                                                                    SYNC_FOREGROUND_LIMIT))

    @api.multi
    def action_synchronize(self):
        """Synchronize now: at once for a small business, as a background job (run right away) for a large one."""
        self.ensure_one()
        self._check_may_connect()
        if self.appointment_count > self._sync_foreground_limit():
            self._enqueue_synchronization()
            return True
        run = self._synchronize()
        return {
            "type": "ir.actions.act_window",
            "res_model": "bookings.sync.run",
            "res_id": run.id,
            "view_mode": "form",
            "views": [(self.env.ref("bookings_invoicing.bookings_sync_run_view_form_dialog").id, "form")],
            "target": "new",
            "name": _("Synchronization"),
        }

    @api.multi
    def action_renew_notification_url(self):
        """Make the business a new secret notification address, shown once in a dialog: only its hash is kept. The
        previous address answers 404 from now on."""
        self.ensure_one()
        self._check_may_connect()
        token = secrets.token_urlsafe(32)
        self.env["bookings.business.secret"]._keep(self, {"notification_hash": notification_hash(token)})
        self.notification_date = fields.Datetime.now()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return self.env["bookings.message"]._open(_("Notification address"), _(
            "The notification address of %(name)s, for the HTTP action of its Power Automate flows:\n\n%(url)s\n\n"
            "Copy it now: it is shown only this once. A flow that calls the previous address gets 404 from now on.")
            % {"name": self.name, "url": "%s%s/%s" % (base_url, NOTIFICATION_PATH, token)})

    @api.model
    def _notified_business(self, token):
        """The active business whose notification address has the secret ``token``; empty for an unknown or renewed
        address."""
        return self.env["bookings.business.secret"]._business_notified(token)

    @api.multi
    def _notified(self):
        """A call of this business's notification address: queue its synchronization.

        Calls of one business are taken one at a time (an advisory lock), each in a transaction begun once it holds
        the lock, which sees the job the previous one queued: however many calls arrive at once, one job waits. A
        call while a synchronization runs queues the next one, which starts after it, at least the notification
        interval after the previous run began: a storm of calls costs a few reads of Graph, not one per call."""
        self.ensure_one()
        with advisory_locks(self.env.cr.dbname, [lock_key("notified", self.id)]):
            for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
                try:
                    with self.pool.cursor() as cr:
                        business = self.with_env(self.env(cr=cr, user=SUPERUSER_ID, context={}))
                        business._enqueue_synchronization(eta=business._notification_eta())
                    return
                except psycopg2.extensions.TransactionRollbackError:  # a synchronization wrote the business meanwhile
                    if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                        raise

    def _notification_eta(self):
        """When a synchronization a notification queues may start: the notification interval after the latest run
        of the business began (system parameter ``bookings_invoicing.notification_interval``, seconds), or now."""
        interval = int(self.env["ir.config_parameter"].sudo().get_param(
            "bookings_invoicing.notification_interval", NOTIFICATION_INTERVAL))
        latest = self.env["bookings.sync.run"].sudo().search([("business_id", "=", self.id)], limit=1)
        if not latest:
            return None
        eta = fields.Datetime.from_string(latest.date_start) + datetime.timedelta(seconds=interval)
        return eta if eta > datetime.datetime.utcnow() else None

    @api.multi
    def _enqueue_synchronization(self, eta=None):
        """A background synchronization of each business: a queue_job job on the channel ``root.bookings_sync``,
        which any Odoo process running the job runner takes, not before ``eta`` (naive UTC) when given. A business
        whose job still waits gets no second; a business being synchronized keeps its state (and its row, which that
        synchronization writes last)."""
        for business in self:
            business.with_delay(identity_key=identity_exact, eta=eta,
                                description=_("Synchronize the Bookings business %s") % business.name,
                                )._synchronize_job()
        self.filtered(lambda business: business.last_sync_state not in ("running", "queued")).write({
            "last_sync_state": "queued"})

    @job(default_channel="root.bookings_sync")
    @recoverable_job
    @api.multi
    def _synchronize_job(self):
        """The background synchronization (a job: it may run again after a crash; a synchronization is safe to
        repeat). While another synchronization of the business runs, it waits and is retried."""
        self.ensure_one()
        importer = self._bookings_importer()
        try:
            importer.run()
        except SynchronizationRunning as error:
            raise RetryableJobError(error.name, seconds=SYNC_RETRY_SECONDS, ignore_retry=True)
        # the run was committed by the importer after this transaction began (with the job's lock): this
        # transaction cannot read it
        return importer.summary

    def _synchronize(self):
        """Run one synchronization of this business (``sync.importer``) and return its ``bookings.sync.run``."""
        self.ensure_one()
        return self.env["bookings.sync.run"].browse(self._bookings_importer().run())

    def _bookings_importer(self):
        """The synchronization of this business (``sync.BusinessImporter``): the hook for an add-on that reads
        more of an appointment or imports a page its own way, with a subclass."""
        self.ensure_one()
        return BusinessImporter(self)

    @api.model
    def _bookings_exporter(self, run, client):
        """The push that a synchronization runs (``sync.DirectoryExporter``), ``run`` being what it shares with it
        (``sync.RunContext``): the hook for an add-on that pushes its own way, with a subclass."""
        return DirectoryExporter(run, client)

    def _sync_window(self):
        """``(start, end)`` of the synchronization window, naive UTC datetimes."""
        self.ensure_one()
        now = datetime.datetime.utcnow().replace(microsecond=0)
        return now - datetime.timedelta(days=self.sync_days_back), now + datetime.timedelta(days=self.sync_days_ahead)

    @api.multi
    def _queue_invoice_status(self):
        """Have the invoice status of these businesses' bookings written to Bookings in the background, where they
        write it: once per business, however many invoicings queue it."""
        for business in self.filtered("write_invoice_status"):
            business.with_delay(identity_key=identity_exact)._write_invoice_status_job()

    @job(default_channel="root.bookings_sync")
    @recoverable_job
    @api.multi
    def _write_invoice_status_job(self):
        """Write to Bookings (Graph beta) the invoice status of the bookings whose invoice changed; a refusal is
        posted on the business and ends the job without error (it never stops invoicing). As the synchronization
        does, it acts for the business, whoever invoiced."""
        self.ensure_one()
        business = self.sudo()
        warnings = []
        written = InvoiceStatusWriter(business.env, business, business._graph_client(), business._sync_window(),
                                      warnings.append).run()
        if warnings:
            business.message_post(body="<br/>".join(html_escape(warning) for warning in warnings))
        return written

    @api.model
    def _cron_synchronize(self):
        """The hourly synchronization: a background job per active business (``_enqueue_synchronization``)."""
        self.search([("active", "=", True), ("mailbox", "!=", False)])._enqueue_synchronization()

    # --- the dashboard's links -------------------------------------------------------------------------------
    def _open_uninvoiced(self, search_filter=None):
        """The business's Uninvoiced Bookings, optionally filtered by one of that list's filters."""
        self.ensure_one()
        action = self.env.ref("bookings_invoicing.bookings_appointment_action_uninvoiced").read()[0]
        action["context"] = {"search_default_business_id": self.id}
        if search_filter:
            action["context"]["search_default_%s" % search_filter] = 1
        return action

    @api.multi
    def action_open_uninvoiced(self):
        return self._open_uninvoiced()

    @api.multi
    def action_open_ready(self):
        return self._open_uninvoiced("ready")

    @api.multi
    def action_open_no_customer(self):
        return self._open_uninvoiced("no_customer")

    @api.multi
    def action_open_no_price(self):
        return self._open_uninvoiced("no_price")

    @api.multi
    def action_open_fees(self):
        action = self._open_uninvoiced("late_cancellation")
        action["context"]["search_default_no_show"] = 1  # either: the two filters are in one group
        return action

    @api.multi
    def action_open_appointments(self):
        return self.env["bookings.appointment"]._action_open([("business_id", "=", self.id)])

    @api.multi
    def action_open_review(self):
        return self.env["bookings.appointment"]._action_open_review([("business_id", "=", self.id)])

    @api.multi
    def action_open_to_confirm(self):
        """The bookings of the business's drafts whose price is to confirm, where *Confirm prices* confirms them."""
        self.ensure_one()
        action = self.env.ref("bookings_invoicing.bookings_appointment_action_to_confirm").read()[0]
        action["domain"] = [("business_id", "=", self.id)] + safe_eval(action["domain"])
        return action

    @api.multi
    def action_open_draft_invoices(self):
        self.ensure_one()
        action = self.env.ref("bookings_invoicing.account_invoice_action_bookings_drafts").read()[0]
        action["domain"] = [("bookings_appointment_ids.business_id", "=", self.id), ("state", "=", "draft")]
        return action

    @api.multi
    def action_close_month(self):
        """Close last month: what is left, step by step (``bookings.month.close``)."""
        self.ensure_one()
        return self.env["bookings.month.close"]._action_for(self)

    @api.multi
    def action_invoice_all(self):
        """Invoice All of this business: a button of the form and of the dashboard's card (a kanban button cannot
        name the record in its context)."""
        self.ensure_one()
        action = self.env.ref("bookings_invoicing.bookings_invoice_wizard_action").read()[0]
        action["context"] = {"active_model": self._name, "active_id": self.id}
        return action
