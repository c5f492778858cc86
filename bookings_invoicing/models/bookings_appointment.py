import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import html_escape

from odoo.addons import decimal_precision as dp

from .. import rules

#: Invoice states in which an invoice holds its appointments; a cancelled or deleted invoice sets them free.
LIVE_INVOICE_STATES = ("draft", "proforma", "proforma2", "open", "paid")

INVOICE_STATUS = [
    ("to_invoice", "To invoice"),
    ("no_customer", "No customer"),
    ("no_price", "No price"),
    ("invoiced", "Invoiced"),
    ("excluded", "Excluded"),
    ("nothing", "Nothing to invoice"),
    ("cancelled", "Cancelled in Bookings"),
]
#: What a row bills instead of its booking, by the cancellation policy: a late cancellation or a no-show.
FEE_KIND = [
    ("late_cancellation", "Late cancellation"),
    ("no_show", "No-show"),
]
#: The statuses of the rows that wait for an invoice once completed: ready, or waiting for a customer or a price.
UNINVOICED_STATUSES = ("to_invoice", "no_customer", "no_price")
#: Changes to these after invoicing are raised for review and posted on the invoice (labels translated at use).
BILLING_FIELDS = {"partner_id": _("customer"), "service_id": _("service"), "price": _("price"),
                  "price_type": _("price type"), "start": _("start"), "end": _("end"), "duration": _("duration"),
                  "first_missed": _("cancellation")}
#: What an invoiced row billed, kept beside what Bookings now says when it is raised for review: field -> its copy.
BILLED_FIELDS = (("partner_id", "billed_partner_id"), ("service_name", "billed_service_name"),
                 ("start", "billed_start"), ("end", "billed_end"), ("price_type", "billed_price_type"),
                 ("price", "billed_price"))


def _utc_naive(moment):
    """An aware datetime as Odoo 11 stores and reads it: a naive UTC string."""
    return fields.Datetime.to_string(moment.astimezone(pytz.utc)) if moment else False


class BookingsAppointment(models.Model):
    """One billable attendee of a Bookings appointment: a group booking gives one row per customer, a booking
    without customer one row without partner."""

    _name = "bookings.appointment"
    _description = "Bookings Appointment"
    _inherit = ["bookings.binding", "bookings.local.time", "mail.thread"]
    _sql_constraints = [
        ("bookings_key_uniq", "unique(business_id, bookings_id, attendee_key)",
         "An attendee of a Bookings appointment is bound once per business."),
    ]
    _order = "start desc, id desc"
    _rec_name = "display_label"

    _bookings_key_fields = ("bookings_id", "attendee_key")
    #: Everything but the partner (which a user may set while the row is not invoiced) and the no-show: the
    #: synchronization's values (a cancellation's times included), the invoicing's link to the invoice line with what
    #: follows from it, the review (set by the synchronization, cleared by its settlement) and the exclusion (by
    #: *Exclude from invoicing* and *Restore*, which check what may be excluded).
    _bookings_mirrored_fields = (
        "business_id", "company_id", "bookings_id", "attendee_key", "bookings_customer_id", "customer_name",
        "customer_email", "customer_tz", "service_id", "service_name", "product_id", "start", "end", "duration",
        "price", "price_type", "currency_id", "staff", "notes", "bookings_updated", "state",
        "invoice_line_id", "invoice_id", "invoice_state", "invoice_status", "quantity", "unit_price", "amount",
        "price_to_confirm", "price_confirmed", "credit_line_id", "custom_answers", "customer_reference",
        "booking_note", "last_seen", "first_missed", "cancellation_policy_id", "cancellation", "fee_kind",
        "bookings_invoice_written", "needs_review", "review_reason", "excluded", "exclusion_reason",
    ) + tuple(billed for _field, billed in BILLED_FIELDS) + ("billed_amount",)

    attendee_key = fields.Char(required=True, readonly=True,
                               help="Identifies the attendee within the appointment (customer id, e-mail or '-').")
    bookings_customer_id = fields.Many2one("bookings.customer", string="Bookings customer", readonly=True,
                                           ondelete="set null")
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, track_visibility="onchange",
                                 domain=[("is_company", "=", False)])
    customer_name = fields.Char(readonly=True, help="The customer's name as Bookings has it.")
    customer_email = fields.Char(readonly=True)
    customer_tz = fields.Char(string="Customer time zone", readonly=True,
                              help="The zone the customer booked in: invoice lines give the time in it.")
    service_id = fields.Many2one("bookings.service", readonly=True, ondelete="set null", index=True)
    service_name = fields.Char(readonly=True)
    product_id = fields.Many2one(related="service_id.product_id", store=True, readonly=True)
    start = fields.Datetime(required=True, readonly=True, index=True)
    end = fields.Datetime(required=True, readonly=True, index=True)
    duration = fields.Float(string="Duration (hours)", readonly=True)
    price = fields.Monetary(string="Bookings price", readonly=True)
    price_type = fields.Selection(rules.PRICE_TYPE_SELECTION, readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    staff = fields.Char(readonly=True)
    notes = fields.Text(readonly=True)
    custom_answers = fields.Text(string="Answers in Bookings", readonly=True,
                                 help="The customer's answers to the business's custom questions.")
    customer_reference = fields.Char(
        readonly=True, index=True,
        help="The answer to the business's purchase-order question: the reference of the invoice. Bookings with "
             "different references never share an invoice.")
    booking_note = fields.Char(string="Note for the invoice", readonly=True,
                               help="The answer to the business's question noted on the invoice line.")
    bookings_updated = fields.Datetime(string="Last modified in Bookings", readonly=True)
    state = fields.Selection([("active", "Active"), ("cancelled", "Cancelled in Bookings")], default="active",
                             required=True, readonly=True, index=True, track_visibility="onchange")
    # a cancellation, as the synchronizations saw it: still there at the one, gone at the next
    last_seen = fields.Datetime(
        string="Last seen in Bookings", readonly=True,
        help="The last synchronization that found the booking before it was cancelled, where one tells.")
    first_missed = fields.Datetime(
        string="First missed in Bookings", readonly=True,
        help="The synchronization that first found the booking gone from Bookings.")
    cancellation_policy_id = fields.Many2one(
        "bookings.cancellation.policy", compute="_compute_cancellation_policy", store=True, readonly=True,
        help="The service's cancellation policy, else the business's.")
    cancellation = fields.Selection(
        rules.CANCELLATION_SELECTION, string="Cancelled", compute="_compute_cancellation", store=True,
        help="When the booking was cancelled, by the policy's hours before its start.")
    cancellation_text = fields.Char(string="Cancellation", compute="_compute_cancellation_text")
    no_show = fields.Boolean(string="No-show", readonly=True, copy=False, track_visibility="onchange",
                             help="The customer did not come: the booking bills the policy's no-show fee.")
    no_show_note = fields.Char(string="No-show note", readonly=True, copy=False, track_visibility="onchange")
    set_price = fields.Monetary(
        string="Price set in Odoo", readonly=True, copy=False, track_visibility="onchange",
        help="The price of a booking Bookings gives no price for (price varies, call us, not set), set by the "
             "accountant: billed instead of the product's sales price, and confirmed by being set.")
    fee_kind = fields.Selection(
        FEE_KIND, string="Fee", compute="_compute_fee_kind", store=True, index=True,
        help="What the booking bills instead of its price, by the cancellation policy.")
    bookings_invoice_written = fields.Char(
        string="Invoice status in Bookings", readonly=True, copy=False,
        help="What was last written to the booking in Bookings of its invoice (Graph beta), as JSON.")
    needs_review = fields.Boolean(readonly=True, index=True, track_visibility="onchange")
    review_reason = fields.Text(readonly=True)
    # what the invoice billed, kept while the row is raised for review (the review list shows before -> after)
    billed_partner_id = fields.Many2one("res.partner", string="Billed customer", readonly=True, ondelete="set null")
    billed_service_name = fields.Char(string="Billed service", readonly=True)
    billed_start = fields.Datetime(string="Billed start", readonly=True)
    billed_end = fields.Datetime(string="Billed end", readonly=True)
    billed_price_type = fields.Selection(rules.PRICE_TYPE_SELECTION, string="Billed price type", readonly=True)
    billed_price = fields.Monetary(string="Billed Bookings price", readonly=True)
    billed_amount = fields.Monetary(string="Billed", readonly=True, help="What the invoice line bills, before taxes.")
    review_amount = fields.Monetary(
        string="Now", compute="_compute_review_amount",
        help="What the booking bills once its review is settled: nothing when Bookings cancelled it.")
    review_changes = fields.Text(string="Changes", compute="_compute_review_changes",
                                 help="What Bookings changed after invoicing: what was billed -> what it says now.")
    credit_line_id = fields.Many2one("account.invoice.line", string="Credit note line", readonly=True, copy=False,
                                     ondelete="set null", index=True)
    credit_note_id = fields.Many2one(related="credit_line_id.invoice_id", string="Credit note", readonly=True)
    excluded = fields.Boolean(string="Excluded from invoicing", readonly=True, track_visibility="onchange")
    exclusion_reason = fields.Char(readonly=True, track_visibility="onchange")
    invoice_line_id = fields.Many2one("account.invoice.line", readonly=True, copy=False, ondelete="set null",
                                      index=True)
    invoice_id = fields.Many2one(related="invoice_line_id.invoice_id", store=True, readonly=True, index=True)
    invoice_state = fields.Selection(related="invoice_id.state", store=True, readonly=True)
    invoice_status = fields.Selection(INVOICE_STATUS, compute="_compute_invoice_status", store=True, index=True)
    quantity = fields.Float(compute="_compute_invoice_terms", store=True,
                            digits=dp.get_precision("Product Unit of Measure"))
    unit_price = fields.Monetary(compute="_compute_invoice_terms", store=True)
    amount = fields.Monetary(
        compute="_compute_invoice_terms", store=True,
        help="What the booking bills, before taxes: its invoice line's amount, invoiced or not.")
    hourly_rate = fields.Monetary(
        string="Hourly rate", compute="_compute_invoice_terms", store=True,
        help="The Bookings price per hour when the line bills the duration as one unit (a duration its quantity "
             "cannot hold): the line's description says it.")
    price_to_confirm = fields.Boolean(
        compute="_compute_invoice_terms", store=True,
        help="Bookings gives no firm price for this price type: a minimum (starting at), or no price, when the "
             "amount is the Bookings price if positive, else the product's sales price in the invoice's currency. "
             "Check it on the draft invoice.")
    price_confirmed = fields.Boolean(
        string="Price confirmed", readonly=True, copy=False,
        help="The accountant checked the price on the draft invoice (changed its line, or confirmed its prices).")
    is_completed = fields.Boolean(compute="_compute_is_completed", search="_search_is_completed",
                                  help="The appointment has ended.")
    status = fields.Selection(
        [("upcoming", "Upcoming")] + INVOICE_STATUS + [
            ("late_cancellation", "Late cancellation to charge"), ("no_show", "No-show to charge")],
        compute="_compute_status",
        help="The invoice status, or Upcoming for a booking that has not ended and waits for nothing else.")
    display_label = fields.Char(compute="_compute_display_label")

    @api.model_cr_context
    def init(self):
        result = super(BookingsAppointment, self).init()
        # The Uninvoiced Bookings list, over the rows that may be invoiced: its first page, newest first, and its
        # count, read from the index alone (status, end for "completed", company for the record rule).
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS bookings_appointment_uninvoiced_idx
                ON bookings_appointment (start DESC, id DESC)
             WHERE invoice_status IN %s""", (UNINVOICED_STATUSES,))
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS bookings_appointment_uninvoiced_count_idx
                ON bookings_appointment (invoice_status, "end", company_id)
             WHERE invoice_status IN %s""", (UNINVOICED_STATUSES,))
        return result

    # --- computed fields ------------------------------------------------------------------------------------
    @api.depends("state", "excluded", "price_type", "partner_id", "invoice_line_id", "invoice_state", "amount",
                 "fee_kind")
    def _compute_invoice_status(self):
        for row in self:
            row.invoice_status = rules.invoice_status(
                bool(row.invoice_line_id) and row.invoice_state in LIVE_INVOICE_STATES, row.state == "cancelled",
                row.excluded, row.fee_kind, bool(row.partner_id), row.amount, row.price_type)

    @api.depends("service_id.cancellation_policy_id", "business_id.cancellation_policy_id")
    def _compute_cancellation_policy(self):
        for row in self:  # the service's, else the business's
            row.cancellation_policy_id = row.service_id.cancellation_policy_id or row.business_id.cancellation_policy_id

    @api.depends("state", "start", "last_seen", "first_missed", "cancellation_policy_id.late_hours")
    def _compute_cancellation(self):
        """When a cancelled row was cancelled (``rules.cancellation_timing``) by its policy; False when it was not,
        or no policy tells."""
        for row in self:
            if row.state != "cancelled" or not row.first_missed or not row.cancellation_policy_id:
                row.cancellation = False
                continue
            row.cancellation = rules.cancellation_timing(
                fields.Datetime.from_string(row.start), fields.Datetime.from_string(row.last_seen),
                fields.Datetime.from_string(row.first_missed), row.cancellation_policy_id.late_hours)

    @api.depends("cancellation", "no_show", "cancellation_policy_id")
    def _compute_fee_kind(self):
        for row in self:
            row.fee_kind = rules.fee_kind(bool(row.cancellation_policy_id), row.no_show, row.cancellation)

    @api.depends("cancellation", "start", "last_seen", "first_missed")
    def _compute_cancellation_text(self):
        for row in self:
            if not row.first_missed:
                row.cancellation_text = False
                continue
            times = {"seen": row._local_text(row.last_seen), "missed": row._local_text(row.first_missed)}
            if row.last_seen and row.last_seen >= row.start:
                # still there once it had begun: what happened is not a cancellation before it
                row.cancellation_text = (_(
                    "Removed from Bookings after its start: still there at %(seen)s, gone at %(missed)s.")
                    % times + (" " + _("Charged as a late cancellation, as the policy says.")
                               if row.cancellation == "late" else ""))
                continue
            if row.first_missed > row.start:
                between = (_("Not seen in Bookings after %(seen)s, before its start, and gone at %(missed)s, after "
                             "it") if row.last_seen else _("Gone from Bookings at %(missed)s, after its start"))
            else:
                between = (_("Cancelled between %(seen)s and %(missed)s") if row.last_seen else
                           _("Cancelled before %(missed)s"))
            between %= times
            hours = row.cancellation_policy_id.late_hours
            why = {
                "late": _("less than %(hours)s hours before the start: charged"),
                "early": _("%(hours)s hours or more before the start: not charged"),
                "unknown": _("the synchronizations do not tell whether it was less than %(hours)s hours before the "
                             "start: not charged"),
            }.get(row.cancellation)
            row.cancellation_text = "%s, %s." % (between, why % {"hours": hours}) if why else between + "."

    @api.depends("price_type", "price", "duration", "product_id.product_tmpl_id.list_price", "currency_id",
                 "price_confirmed", "set_price", "fee_kind", "cancellation_policy_id.late_fee_type",
                 "cancellation_policy_id.late_fee", "cancellation_policy_id.no_show_fee_type",
                 "cancellation_policy_id.no_show_fee")
    def _compute_invoice_terms(self):
        for row in self:
            row.update(row._invoice_terms_values(row._invoice_terms(), row.price_confirmed))

    @api.model
    def _invoice_terms_values(self, terms, price_confirmed):
        """The stored values of the invoice ``terms`` (``rules.InvoiceTerms`` or None) of a row."""
        if terms is None:
            return {"quantity": 0.0, "unit_price": 0.0, "amount": 0.0, "hourly_rate": 0.0, "price_to_confirm": False}
        return {"quantity": float(terms.quantity), "unit_price": float(terms.unit_price),
                "amount": float(terms.amount), "hourly_rate": float(terms.hourly_rate or 0.0),
                "price_to_confirm": terms.to_confirm and not price_confirmed}

    def _invoice_terms(self, date=None):
        """What this row puts on its invoice line, computed anew (``rules.invoice_terms``), in its billing currency;
        for a late cancellation or a no-show (``fee_kind``), its policy's fee (``rules.fee_terms``). When Bookings
        gives no price, the price set in Odoo stands in (``set_price``, in the row's currency: a firm price), else
        the product's sales price; the product's price and a fixed fee are converted from the company's currency at
        ``date`` (today by default: drafts have no date yet)."""
        self.ensure_one()
        company, currency = self.company_id, self._billing_currency()
        fallback, set_in_odoo = 0.0, self.set_price > 0 and rules.uses_fallback_price(self.price_type, self.price)
        if set_in_odoo:
            fallback = self.set_price
        elif rules.uses_fallback_price(self.price_type, self.price):
            fallback = self._from_company_currency(self.product_id.lst_price, company, currency, date)
        terms = rules.invoice_terms(
            self.price_type, self.price, int(round(self.duration * 3600)), fallback,
            currency_digits=currency.decimal_places,
            quantity_digits=self.env["decimal.precision"].precision_get("Product Unit of Measure"))
        if set_in_odoo:
            terms = terms._replace(to_confirm=False)
        if not self.fee_kind:
            return terms
        fee_type, fee = self.cancellation_policy_id._fee(self.fee_kind)
        if fee_type == "fixed":
            fee = self._from_company_currency(fee, company, currency, date)
        return rules.fee_terms(fee_type, fee, terms.amount if terms else 0, currency_digits=currency.decimal_places)

    def _line_terms(self, date=None):
        """What this row's invoice line bills when the invoice is dated ``date``: its stored terms, the one source
        that the list, the dashboard, the review and the line read (a free booking's: nothing, at 0). Only a row
        billed in another currency than its company's can differ: a product's price standing in for a missing
        Bookings price, or a fixed fee, is converted at ``date``, the stored terms at the day they were computed.
        Invoice All's preview prices those rows (``_converted_domain``) by this too."""
        self.ensure_one()
        if self._billing_currency() != self.company_id.currency_id:
            terms = self._invoice_terms(date)
            return terms or rules.NOTHING
        quantity, unit_price, amount = (rules.to_decimal(value) for value in (self.quantity, self.unit_price,
                                                                                self.amount))
        return rules.InvoiceTerms(quantity, unit_price, amount, self.price_to_confirm,
                                  rules.to_decimal(self.hourly_rate) if self.hourly_rate else None)

    @api.model
    def _converted_domain(self):
        """The rows whose price is converted from their company's currency: those billed at their product's price
        (``_fallback_domain``) and fixed fees. In another currency, what their lines bill depends on the invoice's
        date (``_line_terms``)."""
        return expression.OR([expression.normalize_domain(self._fallback_domain()), [
            "|", "&", ("fee_kind", "=", "late_cancellation"), ("cancellation_policy_id.late_fee_type", "=", "fixed"),
            "&", ("fee_kind", "=", "no_show"), ("cancellation_policy_id.no_show_fee_type", "=", "fixed")]])

    @api.model
    def _from_company_currency(self, amount, company, currency, date=None):
        """``amount`` of ``company``'s currency in ``currency`` at ``date`` (today by default), unrounded: a
        product's price standing in for a missing Bookings price, a fixed fee."""
        date = date or fields.Date.context_today(self)
        return company.currency_id.with_context(date=date).compute(amount, currency, round=False)

    @api.model
    def _fallback_domain(self):
        """The rows billed at their product's price (``rules.uses_fallback_price``, no price set in Odoo)."""
        return [("price_type", "not in", list(rules.FIRM_PRICE_TYPES)), "|", ("price", "<=", 0), ("price", "=", False),
                "|", ("set_price", "<=", 0), ("set_price", "=", False)]

    def _compute_is_completed(self):
        now = fields.Datetime.now()
        for row in self:
            row.is_completed = bool(row.end) and row.end < now

    @api.depends("invoice_status", "end", "fee_kind")
    def _compute_status(self):
        for row in self:
            waiting = row.invoice_status in UNINVOICED_STATUSES and not row.is_completed
            if waiting:
                row.status = "upcoming"
            elif row.invoice_status == "to_invoice" and row.fee_kind:
                row.status = row.fee_kind
            else:
                row.status = row.invoice_status

    def _search_is_completed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on 'completed'."))
        completed = (operator == "=") == value
        return [("end", "<" if completed else ">=", fields.Datetime.now())]

    @api.depends("service_name", "customer_name", "start")
    def _compute_display_label(self):
        for row in self:
            row.display_label = " - ".join(filter(None, (
                row.service_name, row.customer_name or _("<No customer>"), row._local_text(row.start))))

    def _display_tz(self):
        """The zone this row's times are given in where no user reads them on a screen (invoice lines, messages):
        the customer's, else the partner's, else that of whoever made its invoice, else the user's."""
        self.ensure_one()
        return (self.customer_tz or self.partner_id.tz or self.invoice_id.user_id.tz or self.env.user.tz
                or "UTC")

    def _display_label_for_message(self):
        return self.with_context(tz=self._display_tz()).display_label

    def _labels_html(self):
        """These rows' labels (``_display_label_for_message``), a line each, for a chatter message."""
        return "<br/>".join(html_escape(row._display_label_for_message()) for row in self)

    @api.model
    def _action_open(self, domain):
        """The All Bookings action, restricted to ``domain``: what the smart buttons open."""
        action = self.env.ref("bookings_invoicing.bookings_appointment_action").read()[0]
        action.update({"domain": domain, "context": {}})
        return action

    @api.model
    def _action_open_review(self, domain):
        """The Bookings to Review action, restricted to ``domain``."""
        action = self.env.ref("bookings_invoicing.bookings_appointment_action_review").read()[0]
        action.update({"domain": [("needs_review", "=", True)] + domain, "context": {}})
        return action

    def _billing_currency(self):
        """The currency the row bills in: its business's, else its company's."""
        self.ensure_one()
        return self.currency_id or self.company_id.currency_id

    @api.model
    def _uninvoiced_domain(self, statuses=UNINVOICED_STATUSES):
        """The completed rows not invoiced yet whose status is one of ``statuses`` (by default all of them, as the
        Uninvoiced Bookings list shows them)."""
        return [("invoice_status", "in", list(statuses)), ("is_completed", "=", True)]

    @api.model
    def _to_confirm_domain(self):
        """The rows whose price the accountant is to confirm: on a draft invoice, at a price Bookings does not give
        firm (the Prices to confirm list, the dashboard's count, Close last month's step)."""
        return [("invoice_state", "=", "draft"), ("price_to_confirm", "=", True)]

    # --- synchronization ------------------------------------------------------------------------------------
    @api.model
    def _bookings_to_odoo_values(self, record, attendee=None):
        """``record``: a ``graph.records.Appointment``; ``attendee``: the ``Attendee`` this row bills, None for the
        row of an appointment without customer. The links to other bindings (customer, partner, service, staff,
        currency) are the importer's, which resolves them."""
        return {
            "customer_name": attendee.name if attendee else False,
            "customer_email": attendee.email if attendee else False,
            "customer_tz": attendee.time_zone if attendee and attendee.time_zone else False,
            "service_name": record.service_name or False,
            "start": _utc_naive(record.start),
            "end": _utc_naive(record.end),
            "duration": (record.end - record.start).total_seconds() / 3600.0,
            "price": float(record.price),
            "price_type": rules.price_type_value(record.price_type),
            "notes": record.notes or False,
            "custom_answers": "\n".join("%s: %s" % answer for answer in attendee.answers) or False
            if attendee else False,
            "bookings_updated": _utc_naive(record.last_updated),
            "state": "active",
            "last_seen": False,  # back in Bookings: not cancelled, hence no fee
            "first_missed": False,
        }

    @api.model
    def _bookings_update(self, old, changes):
        """Apply a synchronization's ``changes`` to the row whose stored values are ``old``. A change of what was
        billed is applied, raised for review with what was billed kept beside it, and posted on the invoice;
        returns whether the row was raised."""
        row = self.browse(old["id"])
        billing = [_(label) for field, label in BILLING_FIELDS.items() if field in changes]
        raised = old["invoice_status"] == "invoiced" and bool(billing)
        if old.get("price_confirmed") and ("price" in changes or "price_type" in changes):
            changes = dict(changes, price_confirmed=False)  # a new price is to be confirmed again
        if raised:
            changes = dict(changes, needs_review=True, review_reason=_(
                "Changed in Bookings after invoicing: %(what)s.") % {"what": ", ".join(billing)})
            if not old.get("needs_review"):  # changed again before it was settled: what was billed stays
                changes.update(row._billed_values(old))
        row.write(changes)
        old.update(changes)
        if raised:
            row = row.with_context(tz=row._display_tz())
            row.invoice_id.message_post(body="<br/>".join(html_escape(line) for line in [
                _("Bookings appointment %(row)s changed after it was invoiced (%(what)s): check this invoice.")
                % {"row": row.display_label, "what": ", ".join(billing)}] + row._review_changes_text().split("\n")))
        return raised

    @api.multi
    def _bookings_cancel(self, first_missed=None, seen=None):
        """Bookings no longer returns these rows' appointments: they were cancelled there. Every row is recorded
        as cancelled, whatever the state of its invoice, so that a row freed later (its draft cancelled or
        deleted) never comes back to invoicing; an invoiced row is also raised for review, with what it billed kept
        and a message on its invoice. A row not invoiced keeps when it was cancelled, for its cancellation policy:
        gone at ``first_missed`` (the run's read of the window), still there at ``seen`` (a ``bookings.sync.run``
        recordset: the earlier runs that read their window completely, the latest first). Returns ``(cancelled,
        raised)`` counts."""
        invoiced = self.filtered(lambda r: r.invoice_status == "invoiced")
        if first_missed:
            for row in self - invoiced:
                row.write({"first_missed": first_missed, "last_seen": row._last_seen(seen or [])})
        for row in invoiced:
            row.invoice_id.message_post(body=_("Bookings appointment %(row)s was cancelled in Bookings after it "
                                               "was invoiced: check this invoice.")
                                        % {"row": html_escape(row._display_label_for_message())})
            review = {"needs_review": True, "review_reason": _("Cancelled in Bookings after invoicing.")}
            row.write(review if row.needs_review else dict(review, **row._billed_values()))
        if self:
            self.write({"state": "cancelled"})
        return len(self), len(invoiced)

    def _last_seen(self, runs):
        """When the latest of ``runs`` (runs that read their window completely, the latest first) found this row:
        one whose window held its start, that ended after the row was made; False when none did."""
        self.ensure_one()
        for run in runs:
            if run.window_start <= self.start < run.window_end and self.create_date <= (run.date_end or run.write_date):
                return run.appointments_read
        return False

    def _check_not_invoiced(self):
        """Refuse a change by hand to what these rows bill (their customer, their exclusion, their no-show) when
        some are on an invoice: the invoice's lines bill them as they are."""
        invoiced = self.filtered(lambda r: r.invoice_status == "invoiced")
        if invoiced:
            raise UserError(_("These bookings are on an invoice, whose lines bill them as they are: remove their "
                              "lines from the draft first, or credit them on the validated invoice.\n%(rows)s")
                            % {"rows": invoiced._describe()})

    @api.multi
    def write(self, values):
        self._check_no_show(values)
        self._check_set_price(values)
        by_hand = "partner_id" in values and not self._bookings_mirroring()
        if by_hand:
            self.filtered(lambda r: r.partner_id.id != values["partner_id"])._check_not_invoiced()
        result = super(BookingsAppointment, self).write(values)
        if by_hand and values["partner_id"]:
            # the first partner chosen for a Bookings customer is that customer's, for all its bookings
            self.mapped("bookings_customer_id").filtered(lambda customer: not customer.partner_id).write(
                {"partner_id": values["partner_id"]})
        return result

    # --- exclusion ------------------------------------------------------------------------------------------
    @api.multi
    def action_exclude(self, reason):
        """Take rows out of invoicing (e.g. paid at the desk), with the reason; invoiced rows are refused."""
        self._check_not_invoiced()
        if not (reason or "").strip():
            raise UserError(_("Say why these bookings are not to be invoiced."))
        self.check_access_rights("write")
        self.check_access_rule("write")
        return self._bookings_as_mirror().write({"excluded": True, "exclusion_reason": reason.strip()})

    # --- no-shows -------------------------------------------------------------------------------------------------
    @api.multi
    def action_mark_no_show(self, note):
        """The customers of these completed bookings did not come: each then bills its policy's no-show fee instead
        of its price (see ``_check_no_show``)."""
        return self.write({"no_show": True, "no_show_note": (note or "").strip() or False})

    @api.multi
    def action_unmark_no_show(self):
        """The customers came after all: the bookings bill their price again."""
        return self.write({"no_show": False, "no_show_note": False})

    def _check_no_show(self, values):
        """Refuse to change the no-show of a booking on an invoice (its line bills what it was), and to mark one
        that is cancelled, not ended yet or without a cancellation policy: from a button, an import or RPC alike."""
        if "no_show" not in values and "no_show_note" not in values:
            return
        self._check_not_invoiced()
        if values.get("no_show"):
            refused = {row.id: reason for row, reason in ((row, row._no_show_problem()) for row in self) if reason}
            if refused:
                raise UserError(_("These bookings cannot be marked as no-shows:\n%(rows)s")
                                % {"rows": self.browse(list(refused))._describe(refused)})

    def _check_set_price(self, values):
        """Refuse a price set in Odoo on a booking on an invoice (its line bills what it was), on one Bookings gives a
        price for, and below nothing: from the month's close, an import or RPC alike."""
        if "set_price" not in values:
            return
        self._check_not_invoiced()
        if (values["set_price"] or 0.0) < 0:
            raise UserError(_("A price cannot be below nothing."))
        priced = self.filtered(lambda row: not rules.uses_fallback_price(row.price_type, row.price))
        if priced and values["set_price"]:
            raise UserError(_("Bookings gives these bookings their price; change it in Bookings:\n%(rows)s")
                            % {"rows": priced._describe()})

    def _no_show_problem(self):
        """Why this row, not invoiced, cannot be marked as a no-show, in words; False when it can."""
        self.ensure_one()
        if self.state == "cancelled":
            return _("cancelled in Bookings")
        if not self.is_completed:
            return _("not ended yet")
        if not self.cancellation_policy_id:
            return _("no cancellation policy on its service or business")
        return False

    @api.multi
    def _confirm_price(self):
        """The accountant checked these rows' prices on their draft invoice: no longer flagged as to confirm."""
        if self:
            self.sudo()._bookings_as_mirror().write({"price_confirmed": True})

    @api.multi
    def action_confirm_prices(self):
        """The accountant checked the prices of these bookings on their draft invoices (*Confirm prices*, on a
        selection of bookings or of drafts): they are confirmed, and each draft's chatter says which."""
        self.check_access_rights("write")
        self.check_access_rule("write")
        rows = self.filtered(lambda row: row.price_to_confirm and row.invoice_state == "draft")
        if not rows:
            raise UserError(_("None of these bookings has a price to confirm on a draft invoice."))
        for invoice in rows.mapped("invoice_id"):
            confirmed = rows.filtered(lambda row, invoice=invoice: row.invoice_id == invoice)
            invoice.message_post(body=_("Prices confirmed:<br/>%(rows)s") % {
                "rows": confirmed._labels_html()})
        rows._confirm_price()
        return True

    @api.multi
    def action_restore(self):
        """Back to invoicing: these rows are no longer excluded."""
        self.check_access_rights("write")
        self.check_access_rule("write")
        return self._bookings_as_mirror().write({"excluded": False, "exclusion_reason": False})

    def _describe(self, reasons=None):
        """One line per row, for messages: label and, if given, the reason."""
        return "\n".join("- %s%s" % (row.display_label, (": %s" % reasons[row.id]) if reasons else "")
                         for row in self)
