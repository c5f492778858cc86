"""Invoicing of appointment rows, as Odoo's sale orders are invoiced: rows grouped by ``_invoice_group_fields``, one
draft invoice per group (``_prepare_invoice``), or the party's draft of the period that the group joins
(``_joinable_draft``), one line per row (``_prepare_invoice_line``), linked back to it. The settlement of the rows
Bookings changed after invoicing is in ``bookings_appointment_review``."""
import json
from collections import OrderedDict
from decimal import Decimal

import psycopg2
from dateutil.relativedelta import relativedelta
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr
from odoo.tools.misc import format_date, formatLang

from .. import rules
from ..graph import payloads
from ..mirror import mirror_context

#: An invoice's state -> what Bookings (Graph beta's ``bookingInvoiceStatus``) says of it.
BOOKINGS_INVOICE_STATUS = {"draft": "draft", "proforma": "reviewing", "proforma2": "reviewing", "open": "open",
                           "paid": "paid", "cancel": "canceled"}


class RowsLocked(UserError):
    """Another transaction is invoicing or settling some of the rows: nothing was done."""


class BookingsAppointment(models.Model):
    _inherit = "bookings.appointment"

    def _invoicing_problem(self):
        """Why this row cannot be invoiced now, in words; False when it can."""
        self.ensure_one()
        status = self.invoice_status
        if status == "invoiced":
            invoice = self.invoice_id
            if invoice.number:
                return _("already on invoice %(invoice)s") % {"invoice": invoice.number}
            return _("already on the draft invoice of %(partner)s of %(date)s (%(amount)s)") % {
                "partner": invoice.partner_id.display_name,
                "date": format_date(self.env, invoice._bookings_date()),
                "amount": formatLang(self.env, invoice.amount_total, currency_obj=invoice.currency_id)}
        if status == "cancelled":
            return _("cancelled in Bookings")
        if status == "excluded":
            return _("excluded from invoicing (%(reason)s)") % {"reason": self.exclusion_reason or ""}
        if status == "nothing":
            return _("free: nothing to invoice")
        if status == "no_customer":
            return _("no customer: set the partner first")
        if status == "no_price":
            return _("no price: set a sales price on the product %(product)s") % {
                "product": self.product_id.display_name or self.service_name or "?"}
        if not self.is_completed:
            return _("not completed yet")
        if not self._invoice_product():
            return _("the Bookings service %(service)s has no product") % {"service": self.service_name or "?"}
        return False

    def _lock_rows(self, busy):
        """Lock the rows against a concurrent invoicing or settlement; when another user holds some, nothing is
        done and ``busy`` says so."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM bookings_appointment WHERE id IN %s FOR UPDATE NOWAIT", (tuple(self.ids),))
        except psycopg2.OperationalError as error:
            if error.pgcode != errorcodes.LOCK_NOT_AVAILABLE:
                raise
            raise RowsLocked(busy)
        self.invalidate_cache()

    @api.model
    def _invoice_group_fields(self, grouping):
        """The fields whose values rows share to share one draft invoice; none: one invoice per row. Rows of two
        businesses never share one: each invoice has its business's journal and origin, nor two customer references
        (purchase orders). The partner stands for the party that pays for them (``res.partner._bookings_bill_to``):
        people of one company share its invoice."""
        if grouping == "appointment":
            return []
        return ["business_id", "partner_id", "currency_id", "customer_reference"]

    @api.model
    def _invoice_key(self, values, bill_to):
        """The draft invoice of rows with ``values``, pairs ``(field, id)`` of ``_invoice_group_fields``: rows with
        one key share one, the partner replaced by the party that pays (``bill_to``: partner id -> its id)."""
        return tuple(bill_to.get(value, value) if name == "partner_id" else value for name, value in values)

    def _invoice_groups(self, grouping):
        """These rows by invoice: a list of recordsets, ordered by their paying party (``_bookings_bill_to``), then
        by the start of their first booking; each invoice's rows by start. ``grouping``: as
        ``_invoice_group_fields``; when empty, each business's own."""
        bill_to = self.mapped("partner_id")._bookings_bill_to()
        groups = OrderedDict()
        for row in self.sorted(lambda r: (bill_to.get(r.partner_id.id, 0), r.start, r.id)):
            names = self._invoice_group_fields(grouping or row.business_id.invoice_grouping)
            values = [(name, self._fields[name].convert_to_write(row[name], row)) for name in names]
            key = self._invoice_key(values, bill_to) if names else (row.id,)
            groups.setdefault(key, []).append(row.id)
        return [self.browse(ids) for ids in groups.values()]

    def _invoice_product(self):
        """The product this row's line bills: its service's, or its cancellation policy's fee product for a late
        cancellation or a no-show."""
        self.ensure_one()
        return self.cancellation_policy_id.product_id if self.fee_kind else self.product_id

    def _bookings_invoice_payload(self):
        """What Bookings is to say of this row's invoice (``graph.payloads.invoice_payload``): its invoice's number
        (a draft's id), status, the line's amount with taxes and the invoice's date; once credited, its credit note's,
        as *corrective*; *canceled*, with what was last written, once it is on no invoice any more. None for a row
        never invoiced."""
        self.ensure_one()
        line = self.invoice_line_id or self.credit_line_id
        if not line:
            written = self.bookings_invoice_written and json.loads(self.bookings_invoice_written)
            return dict(written, invoiceStatus="canceled") if written else None
        invoice = line.invoice_id
        status = "corrective" if line == self.credit_line_id else BOOKINGS_INVOICE_STATUS[invoice.state]
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        amount = Decimal(float_repr(line.price_total, invoice.currency_id.decimal_places))
        return payloads.invoice_payload(
            invoice.number or "draft-%d" % invoice.id, status, amount,
            invoice._bookings_date(),
            "%s/web#id=%d&model=account.invoice&view_type=form" % (base_url, invoice.id))

    def _invoice_partner(self):
        """The party that pays for this row: the invoice address of its customer's company, or the customer."""
        self.ensure_one()
        return self.partner_id.browse(self.partner_id._bookings_bill_to()[self.partner_id.id])

    def _invoice_journal(self):
        journal = self.business_id.journal_id
        if not journal:
            journal = self.env["account.journal"].search(
                [("type", "=", "sale"), ("company_id", "=", self.company_id.id)], limit=1)
        if not journal:
            raise UserError(_("Company %(company)s has no sales journal: create one, or set one on %(business)s.")
                            % {"company": self.company_id.name, "business": self.business_id.name})
        return journal

    def _prepare_invoice(self, date_invoice=None):
        """Values of the draft invoice of this row's group (the row is its first), to the party that pays for it
        (``_invoice_partner``): partner accounts, payment
        terms and fiscal position as Odoo's own invoicing sets them, the business's currency and journal, and
        the invoice date ``date_invoice`` (a date string; None leaves it to the validation)."""
        self.ensure_one()
        company = self.company_id
        partner = self._invoice_partner().with_context(force_company=company.id)
        fiscal_position_id = self.env["account.fiscal.position"].with_context(
            force_company=company.id).get_fiscal_position(partner.id)
        return {
            "type": "out_invoice",
            "partner_id": partner.id,
            "company_id": company.id,
            "journal_id": self._invoice_journal().id,
            "currency_id": self._billing_currency().id,
            "account_id": partner.property_account_receivable_id.id,
            "payment_term_id": partner.property_payment_term_id.id,
            "fiscal_position_id": fiscal_position_id,
            "user_id": self.env.uid,
            "origin": _("Microsoft Bookings: %(business)s") % {"business": self.business_id.name},
            "date_invoice": date_invoice or False,
            "name": self.customer_reference or False,  # the customer's reference, as sale orders give it
        }

    def _prepare_invoice_line(self, invoice):
        """Values of this row's line on the draft ``invoice``, whose partner is the party that pays for the row
        (``_invoice_partner``): account and taxes as Odoo's own invoicing sets them for the product, the partner and
        the fiscal position (``_invoice_line_taxes``); quantity and price by the row's terms at the invoice's date
        (``_line_terms``). Odoo's ``_set_additional_fields`` then completes the created line, as for sale's."""
        self.ensure_one()
        payer = invoice.partner_id
        product = self._invoice_product().with_context(force_company=self.company_id.id, lang=payer.lang)
        account = self.env["account.invoice.line"].get_invoice_line_account(
            "out_invoice", product, invoice.fiscal_position_id, self.company_id)
        if not account:
            raise UserError(_("No income account for %(product)s: set one on the product or its category.")
                            % {"product": product.display_name})
        terms = self._line_terms(invoice.date_invoice)
        return {
            "product_id": product.id,
            "name": self._invoice_line_name(product, payer, terms),
            "origin": _("Bookings appointment %(id)s") % {"id": self.bookings_id},
            "account_id": account.id,
            "quantity": float(terms.quantity),
            # a duration billed as one unit is no quantity of the product's unit of measure (hours)
            "uom_id": False if terms.hourly_rate else product.uom_id.id,
            "price_unit": float(terms.unit_price),
            "invoice_line_tax_ids": [(6, 0, self._invoice_line_taxes(invoice, product, account).ids)],
            "bookings_appointment_ids": [(6, 0, self.ids)],  # the line links back to its appointment
        }

    def _invoice_line_taxes(self, invoice, product, account):
        """The taxes of this row's line on ``invoice``: those Odoo's invoice line chooses for ``product`` and
        ``account`` (``account.invoice.line._set_taxes``, mapped by the fiscal position); their price-included
        twins when Bookings prices include taxes."""
        line = self.env["account.invoice.line"].new({
            "invoice_id": invoice.id, "product_id": product.id, "account_id": account.id})
        line._set_taxes()
        taxes = line.invoice_line_tax_ids
        return self._price_included_taxes(taxes) if self.business_id.price_include_tax else taxes

    def _invoice_line_name(self, product, payer, terms):
        """The line's description (``rules.line_description``): the service, its start where the customer is, its
        duration (at the hourly rate ``terms`` bill it at) and staff; said to be a late cancellation's or a no-show's
        fee in the words of the invoice's language; naming who came where a company (``payer``) pays; with the
        booking's note."""
        currency = self._billing_currency()
        rate = terms.hourly_rate and "%s %s" % (
            float_repr(float(terms.hourly_rate), currency.decimal_places), currency.name)
        local_start = self.with_context(tz=self._display_tz())._local(self.start)
        name = rules.line_description(self.service_name or product.name, local_start, self.duration * 60, self.staff,
                                      hourly_rate=rate)
        if self.fee_kind:
            kinds = dict(self._fields["fee_kind"]._description_selection(self.with_context(lang=payer.lang).env))
            name = "%s: %s" % (kinds[self.fee_kind], name)
        if payer != self.partner_id:
            name = "%s - %s" % (name, self.partner_id.name)  # who came, on the invoice of the company that pays
        if self.booking_note:
            name = "%s\n%s" % (name, self.booking_note)
        return name

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

    @api.model
    def _lock_date(self, company):
        """The last day locked for the user in ``company`` (a date string), or None: its fiscal year's lock, and for
        who is no adviser its period's."""
        adviser = self.env.user.has_group("account.group_account_manager")
        return max(filter(None, [company.fiscalyear_lock_date, None if adviser else company.period_lock_date]),
                   default=None)

    @api.multi
    def _check_invoice_date(self, date_invoice):
        """Refuse an invoice date in a period locked for the user in a company of these rows, as Odoo would refuse
        the drafts' validation: before anything is created."""
        if not date_invoice:
            return
        for company in self.mapped("company_id"):
            lock_date = self._lock_date(company)
            if lock_date and date_invoice <= lock_date:
                raise UserError(_("The invoice date %(date)s is in a period locked in %(company)s (up to "
                                  "%(lock)s): choose a later date, or ask an adviser to reopen the period.")
                                % {"date": format_date(self.env, date_invoice), "company": company.name,
                                   "lock": format_date(self.env, lock_date)})

    def _joinable_draft(self, values, grouping=None):
        """The draft this row's group joins instead of a new one, ``values`` being the new one's
        (``_prepare_invoice``): one invoice per paying party and period. A draft of this business to the same party,
        in the same company, journal, currency, receivable account, payment terms and fiscal position, under the same
        customer reference, and of the same date (without one: made this month, where the user is); the oldest when
        several. None when each booking has its invoice (``grouping``, else the business's)."""
        self.ensure_one()
        if not self._invoice_group_fields(grouping or self.business_id.invoice_grouping):
            return None
        domain = [(name, "=", values[name]) for name in (
            "type", "partner_id", "company_id", "journal_id", "currency_id", "account_id", "payment_term_id",
            "fiscal_position_id", "name", "date_invoice")]
        if not values["date_invoice"]:
            first = fields.Date.from_string(fields.Date.context_today(self)).replace(day=1)
            domain += [("create_date", ">=", self._stored_moment(first)),
                       ("create_date", "<", self._stored_moment(first + relativedelta(months=1)))]
        return self.env["account.invoice"].search(domain + [
            ("state", "=", "draft"), ("bookings_appointment_ids.business_id", "=", self.business_id.id),
        ], order="id", limit=1) or None

    @api.multi
    def _create_invoices(self, grouping=None, date_invoice=None):
        """Invoice the rows that can be invoiced, all or nothing, dated ``date_invoice`` (a date string, or None),
        and return ``(invoices, skipped)`` where ``skipped`` maps each row left out to the reason."""
        self._check_invoice_date(date_invoice)
        if self:
            self._lock_rows(_("Another user is invoicing some of these bookings right now. Try again in a moment: "
                              "the bookings they invoice will then be listed as already invoiced."))
        skipped = OrderedDict()
        for row in self.sorted(lambda r: (r.partner_id.id, r.start, r.id)):
            problem = row._invoicing_problem()
            if problem:
                skipped[row.id] = problem
        rows = self - self.browse(list(skipped))
        # as sale orders are invoiced: the invoice, its lines, its taxes, one invoice at a time; the stored computed
        # fields (amounts, the rows' invoice status) once per invoice rather than after each line
        invoices = self.env["account.invoice"]
        lines = self.env["account.invoice.line"].with_context(**mirror_context())  # links back to the rows
        for group in rows._invoice_groups(grouping):
            values = group[0]._prepare_invoice(date_invoice)
            invoice = group[0]._joinable_draft(values, grouping)
            if invoice:
                invoice.message_post(body=_("Bookings added:<br/>%(rows)s") % {
                    "rows": group._labels_html()})
            else:
                invoice = invoices.with_context(force_company=values["company_id"]).create(values)
                if date_invoice:
                    invoice._onchange_payment_term_date_invoice()  # the due date, as the invoice form sets it
            with self.env.norecompute():
                created = lines.browse()
                for row in group:
                    created |= lines.create(dict(row._prepare_invoice_line(invoice), invoice_id=invoice.id))
                for line in created:
                    line._set_additional_fields(invoice)  # what extensions of invoice lines add, as for sale's
                invoice.compute_taxes()
            self.recompute()
            invoices |= invoice
        rows.mapped("business_id")._queue_invoice_status()
        return invoices, skipped

    @api.multi
    def _free_from_invoice(self):
        """Unlink these rows from the invoice line about to be deleted, so that they can be invoiced again.

        A row refers to both the line and its invoice: left to the database, deleting the invoice would clear the
        two references by two cascades in either order, and a row written in the same transaction would then fail
        the check of the first one. Whoever may delete the invoice frees its bookings, hence ``sudo``.
        """
        if self:
            self.sudo()._bookings_as_mirror().write({"invoice_line_id": False, "price_confirmed": False})

    @api.multi
    def action_create_invoices(self):
        """Create draft invoices for the selected rows, dated today, and open them."""
        return self._invoice_action(date_invoice=fields.Date.context_today(self))

    @api.multi
    def _invoice_action(self, grouping=None, date_invoice=None, wizard=None):
        """Invoice these rows and return the screen of the outcome: a large selection is invoiced in the background
        by a batch, whose form opens; else the drafts open, after the rows left out and why (in ``wizard`` when
        given). The one entry point of the selection's action and of Invoice All."""
        Batch = self.env["bookings.invoice.batch"]
        if Batch._is_large(self):
            return Batch._invoice_in_background(self, grouping, date_invoice)._open_action()
        invoices, skipped = self._create_invoices(grouping=grouping, date_invoice=date_invoice)
        if not invoices:
            raise UserError(_("No draft invoice was created: none of these bookings can be invoiced.\n%(rows)s")
                            % {"rows": self.browse(list(skipped))._describe(skipped)})
        return self.env["bookings.invoice.wizard"]._result_action(invoices, self.browse(list(skipped)), skipped,
                                                                  wizard=wizard)
