import logging
from collections import OrderedDict

import psycopg2
import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from .. import rules
from .bookings_service import PRICE_TYPE_SELECTION

_logger = logging.getLogger(__name__)

#: Invoice states in which an invoice holds its appointments; a cancelled or deleted invoice sets them free.
LIVE_INVOICE_STATES = ("draft", "proforma", "proforma2", "open", "paid")

INVOICE_STATUS = [
    ("to_invoice", "To invoice"),
    ("no_customer", "No customer"),
    ("invoiced", "Invoiced"),
    ("excluded", "Excluded"),
    ("nothing", "Nothing to invoice"),
    ("cancelled", "Cancelled in Bookings"),
]


class BookingsAppointment(models.Model):
    """One billable attendee of a Bookings appointment: a group booking gives one row per customer, a booking
    without customer one row without partner."""

    _name = "bookings.appointment"
    _description = "Bookings Appointment"
    _inherit = ["mail.thread"]
    _order = "start desc, id desc"
    _rec_name = "display_label"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="business_id.company_id", store=True, readonly=True, index=True)
    bookings_id = fields.Char(string="Bookings Id", required=True, readonly=True, index=True)
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
    price_type = fields.Selection(PRICE_TYPE_SELECTION, readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    staff = fields.Char(readonly=True)
    notes = fields.Text(readonly=True)
    bookings_updated = fields.Datetime(string="Last modified in Bookings", readonly=True)
    state = fields.Selection([("active", "Active"), ("cancelled", "Cancelled in Bookings")], default="active",
                             required=True, readonly=True, index=True, track_visibility="onchange")
    needs_review = fields.Boolean(readonly=True, index=True, track_visibility="onchange")
    review_reason = fields.Text(readonly=True)
    excluded = fields.Boolean(string="Excluded from invoicing", readonly=True, track_visibility="onchange")
    exclusion_reason = fields.Char(readonly=True, track_visibility="onchange")
    invoice_line_id = fields.Many2one("account.invoice.line", readonly=True, copy=False, ondelete="set null",
                                      index=True)
    invoice_id = fields.Many2one(related="invoice_line_id.invoice_id", store=True, readonly=True, index=True)
    invoice_state = fields.Selection(related="invoice_id.state", store=True, readonly=True)
    invoice_status = fields.Selection(INVOICE_STATUS, compute="_compute_invoice_status", store=True, index=True)
    quantity = fields.Float(compute="_compute_invoice_terms", store=True, digits=(16, 4))
    unit_price = fields.Monetary(compute="_compute_invoice_terms", store=True)
    amount = fields.Monetary(string="Amount to invoice", compute="_compute_invoice_terms", store=True)
    price_to_confirm = fields.Boolean(
        compute="_compute_invoice_terms", store=True,
        help="Bookings gives no firm price for this price type: the amount is the Bookings price when positive, "
             "else the product's sales price. Check it on the draft invoice.")
    is_completed = fields.Boolean(compute="_compute_is_completed", search="_search_is_completed",
                                  help="The appointment has ended.")
    display_label = fields.Char(compute="_compute_display_label")

    _sql_constraints = [
        ("attendee_uniq", "unique(business_id, bookings_id, attendee_key)",
         "An attendee of a Bookings appointment is recorded once per business."),
    ]

    def init(self):
        # The Uninvoiced Bookings list, over the rows that may be invoiced: its first page, newest first, and its
        # count, read from the index alone (status, end for "completed", company for the record rule).
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS bookings_appointment_uninvoiced_idx
                ON bookings_appointment (start DESC, id DESC)
             WHERE invoice_status IN ('to_invoice', 'no_customer')""")
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS bookings_appointment_uninvoiced_count_idx
                ON bookings_appointment (invoice_status, "end", company_id)
             WHERE invoice_status IN ('to_invoice', 'no_customer')""")

    # --- computed fields ------------------------------------------------------------------------------------
    @api.depends("state", "excluded", "price_type", "partner_id", "invoice_line_id", "invoice_state")
    def _compute_invoice_status(self):
        for row in self:
            if row.invoice_line_id and row.invoice_state in LIVE_INVOICE_STATES:
                row.invoice_status = "invoiced"
            elif row.state == "cancelled":
                row.invoice_status = "cancelled"
            elif row.excluded:
                row.invoice_status = "excluded"
            elif row.price_type == rules.FREE:
                row.invoice_status = "nothing"
            elif not row.partner_id:
                row.invoice_status = "no_customer"
            else:
                row.invoice_status = "to_invoice"

    @api.depends("price_type", "price", "duration", "product_id.product_tmpl_id.list_price", "product_id.uom_id",
                 "currency_id")
    def _compute_invoice_terms(self):
        for row in self:
            terms = rules.invoice_terms(row.price_type, row.price, row.duration, row.product_id.lst_price)
            if terms is None:
                row.update({"quantity": 0.0, "unit_price": 0.0, "amount": 0.0, "price_to_confirm": False})
                continue
            quantity = float(terms.quantity)
            if row.product_id.uom_id:
                quantity = float_round(quantity, precision_rounding=row.product_id.uom_id.rounding)
            unit_price = float(terms.unit_price)
            amount = quantity * unit_price
            if row.currency_id:
                amount = row.currency_id.round(amount)
            row.update({"quantity": quantity, "unit_price": unit_price, "amount": amount,
                        "price_to_confirm": terms.to_confirm})

    def _compute_is_completed(self):
        now = fields.Datetime.now()
        for row in self:
            row.is_completed = bool(row.end) and row.end < now

    def _search_is_completed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on 'completed'."))
        completed = (operator == "=") == value
        return [("end", "<" if completed else ">=", fields.Datetime.now())]

    @api.depends("service_name", "customer_name", "start")
    def _compute_display_label(self):
        for row in self:
            row.display_label = " - ".join(filter(None, (
                row.service_name, row.customer_name or _("<No customer>"), row._local_start_text())))

    def _local_start(self):
        """The start in the time zone of the user (or of the context), as an aware datetime."""
        if not self.start:
            return None
        zone = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        return pytz.utc.localize(fields.Datetime.from_string(self.start)).astimezone(zone)

    def _local_start_text(self):
        start = self._local_start()
        return start.strftime("%Y-%m-%d %H:%M") if start else ""

    @api.model
    def _action_open(self, domain):
        """The All Bookings action, restricted to ``domain``: what the smart buttons open."""
        action = self.env.ref("bookings_invoicing.bookings_appointment_action").read()[0]
        action.update({"domain": domain, "context": {}})
        return action

    @api.model
    def _uninvoiced_domain(self):
        return [("invoice_status", "in", ("to_invoice", "no_customer")), ("is_completed", "=", True)]

    # --- exclusion ------------------------------------------------------------------------------------------
    @api.multi
    def action_exclude(self, reason):
        """Take rows out of invoicing (e.g. paid at the desk), with the reason; invoiced rows are refused."""
        invoiced = self.filtered(lambda r: r.invoice_status == "invoiced")
        if invoiced:
            raise UserError(_("These bookings are on an invoice and cannot be excluded:\n%(rows)s")
                            % {"rows": invoiced._describe()})
        if not (reason or "").strip():
            raise UserError(_("Say why these bookings are not to be invoiced."))
        self.write({"excluded": True, "exclusion_reason": reason.strip()})

    @api.multi
    def action_restore(self):
        self.write({"excluded": False, "exclusion_reason": False})

    def _describe(self, reasons=None):
        """One line per row, for messages: label and, if given, the reason."""
        return "\n".join("- %s%s" % (row.display_label, (": %s" % reasons[row.id]) if reasons else "")
                         for row in self)

    # --- invoicing -----------------------------------------------------------------------------------------
    def _invoicing_problem(self):
        """Why this row cannot be invoiced now, in words; False when it can."""
        self.ensure_one()
        status = self.invoice_status
        if status == "invoiced":
            return _("already on invoice %(invoice)s") % {
                "invoice": self.invoice_id.number or self.invoice_id.display_name}
        if status == "cancelled":
            return _("cancelled in Bookings")
        if status == "excluded":
            return _("excluded from invoicing (%(reason)s)") % {"reason": self.exclusion_reason or ""}
        if status == "nothing":
            return _("free: nothing to invoice")
        if status == "no_customer":
            return _("no customer: set the partner first")
        if not self.is_completed:
            return _("not completed yet")
        if not self.product_id:
            return _("the Bookings service %(service)s has no product") % {"service": self.service_name or "?"}
        return False

    def _lock_for_invoicing(self):
        """Lock the rows against a concurrent invoicing; a row held by another user is named in the error."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM bookings_appointment WHERE id IN %s FOR UPDATE NOWAIT", (tuple(self.ids),))
        except psycopg2.OperationalError as error:
            if error.pgcode != "55P03":  # lock_not_available
                raise
            raise UserError(_("Another user is invoicing some of these bookings right now. Try again in a moment: "
                              "the bookings they invoice will then be listed as already invoiced."))
        self.invalidate_cache()

    def _invoice_group_key(self, grouping):
        """Rows with the same key share one draft invoice."""
        if grouping == "appointment":
            return (self.id,)
        return (self.company_id.id, self.partner_id.id, self.currency_id.id)

    def _invoice_journal(self):
        journal = self.business_id.journal_id
        if not journal:
            journal = self.env["account.journal"].search(
                [("type", "=", "sale"), ("company_id", "=", self.company_id.id)], limit=1)
        if not journal:
            raise UserError(_("Company %(company)s has no sales journal: create one, or set one on %(business)s.")
                            % {"company": self.company_id.name, "business": self.business_id.name})
        return journal

    def _prepare_invoice(self):
        """Values of the draft invoice of this row's group (the row is its first): partner accounts, payment
        terms and fiscal position as Odoo's own invoicing sets them, the business's currency and journal."""
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.with_context(force_company=company.id)
        fiscal_position_id = self.env["account.fiscal.position"].with_context(
            force_company=company.id).get_fiscal_position(partner.id)
        return {
            "type": "out_invoice",
            "partner_id": partner.id,
            "company_id": company.id,
            "journal_id": self._invoice_journal().id,
            "currency_id": (self.currency_id or company.currency_id).id,
            "account_id": partner.property_account_receivable_id.id,
            "payment_term_id": partner.property_payment_term_id.id,
            "fiscal_position_id": fiscal_position_id,
            "user_id": self.env.uid,
            "origin": _("Microsoft Bookings: %(business)s") % {"business": self.business_id.name},
        }

    def _prepare_invoice_line(self, fiscal_position):
        """Values of this row's invoice line: account and taxes as Odoo's own invoicing sets them for the
        product, partner and fiscal position; quantity and price by the Bookings price type."""
        self.ensure_one()
        product = self.product_id.with_context(force_company=self.company_id.id, lang=self.partner_id.lang)
        account = self.env["account.invoice.line"].get_invoice_line_account(
            "out_invoice", product, fiscal_position, self.company_id)
        if not account:
            raise UserError(_("No income account for %(product)s: set one on the product or its category.")
                            % {"product": product.display_name})
        taxes = product.taxes_id.filtered(lambda tax: tax.company_id == self.company_id)
        taxes = fiscal_position.map_tax(taxes, product, self.partner_id)
        if self.business_id.price_include_tax:
            taxes = self._price_included_taxes(taxes)
        local_start = self.with_context(tz=self.customer_tz or self.partner_id.tz or self.env.user.tz)._local_start()
        return {
            "product_id": product.id,
            "name": rules.line_description(self.service_name or product.name, local_start, self.duration * 60,
                                           self.staff),
            "origin": _("Bookings appointment %(id)s") % {"id": self.bookings_id},
            "account_id": account.id,
            "quantity": self.quantity,
            "uom_id": product.uom_id.id,
            "price_unit": self.unit_price,
            "invoice_line_tax_ids": [(6, 0, taxes.ids)],
            "bookings_appointment_ids": [(6, 0, self.ids)],  # the line links back to its appointment
        }

    def _price_included_taxes(self, taxes):
        """The price-included twin of each tax, so that a line's total with taxes is the Bookings price."""
        result = self.env["account.tax"]
        for tax in taxes:
            if tax.price_include or tax.amount_type == "group":
                result |= tax
                continue
            twin = self.env["account.tax"].search([
                ("company_id", "=", tax.company_id.id), ("type_tax_use", "=", tax.type_tax_use),
                ("amount_type", "=", tax.amount_type), ("amount", "=", tax.amount),
                ("price_include", "=", True),
            ], limit=1)
            if not twin:
                raise UserError(_(
                    "Bookings prices include taxes, but tax %(tax)s has no price-included variant. Create a tax "
                    "of %(amount)s with 'Included in Price', or switch off 'Bookings prices include taxes' on "
                    "the business.") % {"tax": tax.name, "amount": tax.amount})
            result |= twin
        return result

    @api.multi
    def _create_invoices(self, grouping=None):
        """Invoice the rows that can be invoiced, all or nothing, and return ``(invoices, skipped)`` where
        ``skipped`` maps each row left out to the reason."""
        rows = self.sorted(lambda r: (r.partner_id.id, r.start, r.id))
        if rows:
            rows._lock_for_invoicing()
        skipped = OrderedDict()
        groups = OrderedDict()
        for row in rows:
            problem = row._invoicing_problem()
            if problem:
                skipped[row.id] = problem
                continue
            key = row._invoice_group_key(grouping or row.business_id.invoice_grouping)
            groups.setdefault(key, self.browse())
            groups[key] |= row
        # as sale orders are invoiced: the invoice, then its lines, then its taxes, one invoice at a time
        invoices = self.env["account.invoice"]
        for group in groups.values():
            values = group[0]._prepare_invoice()
            invoice = invoices.with_context(force_company=values["company_id"]).create(values)
            for row in group:
                line_values = row._prepare_invoice_line(invoice.fiscal_position_id)
                self.env["account.invoice.line"].create(dict(line_values, invoice_id=invoice.id))
            invoice.compute_taxes()
            invoices |= invoice
        return invoices, skipped

    @api.multi
    def action_create_invoices(self):
        """Create draft invoices for the selected rows and open them; rows left out are listed."""
        invoices, skipped = self._create_invoices()
        if not invoices:
            raise UserError(_("No draft invoice was created: none of these bookings can be invoiced.\n%(rows)s")
                            % {"rows": self.browse(list(skipped))._describe(skipped)})
        return self.env["bookings.invoice.wizard"]._result_action(invoices, self.browse(list(skipped)), skipped)
