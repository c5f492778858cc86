"""Invoicing of appointment rows, as Odoo's sale orders are invoiced: rows grouped by ``_invoice_group_fields``, one
draft invoice per group (``_prepare_invoice``), one line per row (``_prepare_invoice_line``), linked back to it."""
from collections import OrderedDict

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr
from odoo.tools.misc import format_date, formatLang

from .. import rules
from .bookings_binding import mirror_context


class RowsLocked(UserError):
    """Another transaction is invoicing some of the rows: nothing was done."""


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
                "date": format_date(self.env, invoice.date_invoice or invoice.create_date[:10]),
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
            raise RowsLocked(_("Another user is invoicing some of these bookings right now. Try again in a moment: "
                               "the bookings they invoice will then be listed as already invoiced."))
        self.invalidate_cache()

    @api.model
    def _invoice_group_fields(self, grouping):
        """The fields whose values rows share to share one draft invoice; none: one invoice per row. Rows of two
        businesses never share one: each invoice has its business's journal and origin."""
        if grouping == "appointment":
            return []
        return ["business_id", "partner_id", "currency_id"]

    def _invoice_group_key(self, grouping):
        """Rows with the same key share one draft invoice (see ``_invoice_group_fields``)."""
        names = self._invoice_group_fields(grouping)
        if not names:
            return (self.id,)
        return tuple(self._fields[name].convert_to_write(self[name], self) for name in names)

    def _invoice_groups(self, grouping):
        """These rows by invoice, in the order of ``_create_invoices``: a list of recordsets. ``grouping``: as
        ``_invoice_group_key``; when empty, each business's own."""
        groups = OrderedDict()
        for row in self.sorted(lambda r: (r.partner_id.id, r.start, r.id)):
            key = row._invoice_group_key(grouping or row.business_id.invoice_grouping)
            groups.setdefault(key, []).append(row.id)
        return [self.browse(ids) for ids in groups.values()]

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
        """Values of the draft invoice of this row's group (the row is its first): partner accounts, payment
        terms and fiscal position as Odoo's own invoicing sets them, the business's currency and journal, and
        the invoice date ``date_invoice`` (a date string; None leaves it to the validation)."""
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
            "date_invoice": date_invoice or False,
        }

    def _prepare_invoice_line(self, fiscal_position, date_invoice=None):
        """Values of this row's invoice line: account and taxes as Odoo's own invoicing sets them for the
        product, partner and fiscal position; quantity and price by the Bookings price type, a product's price
        standing in for a missing one converted at ``date_invoice``."""
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
        local_start = self.with_context(tz=self._display_tz())._local_start()
        terms = self._invoice_terms(date=date_invoice)
        currency = self.currency_id or self.company_id.currency_id
        rate = terms.hourly_rate and "%s %s" % (
            float_repr(float(terms.hourly_rate), currency.decimal_places), currency.name)
        return {
            "product_id": product.id,
            "name": rules.line_description(self.service_name or product.name, local_start, self.duration * 60,
                                           self.staff, hourly_rate=rate),
            "origin": _("Bookings appointment %(id)s") % {"id": self.bookings_id},
            "account_id": account.id,
            "quantity": float(terms.quantity),
            # a duration billed as one unit is no quantity of the product's unit of measure (hours)
            "uom_id": False if terms.hourly_rate else product.uom_id.id,
            "price_unit": float(terms.unit_price),
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
    def _check_invoice_date(self, date_invoice):
        """Refuse an invoice date in a period locked for the user in a company of these rows, as Odoo would refuse
        the drafts' validation: before anything is created."""
        if not date_invoice:
            return
        adviser = self.env.user.has_group("account.group_account_manager")
        for company in self.mapped("company_id"):
            lock_date = max(filter(None, [company.fiscalyear_lock_date,
                                          None if adviser else company.period_lock_date]), default=None)
            if lock_date and date_invoice <= lock_date:
                raise UserError(_("The invoice date %(date)s is in a period locked in %(company)s (up to "
                                  "%(lock)s): choose a later date, or ask an adviser to reopen the period.")
                                % {"date": format_date(self.env, date_invoice), "company": company.name,
                                   "lock": format_date(self.env, lock_date)})

    @api.multi
    def _create_invoices(self, grouping=None, date_invoice=None):
        """Invoice the rows that can be invoiced, all or nothing, dated ``date_invoice`` (a date string, or None),
        and return ``(invoices, skipped)`` where ``skipped`` maps each row left out to the reason."""
        self._check_invoice_date(date_invoice)
        if self:
            self._lock_for_invoicing()
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
            invoice = invoices.with_context(force_company=values["company_id"]).create(values)
            if date_invoice:
                invoice._onchange_payment_term_date_invoice()  # the due date, as the invoice form sets it
            with self.env.norecompute():
                for row in group:
                    line_values = row._prepare_invoice_line(invoice.fiscal_position_id, date_invoice)
                    lines.create(dict(line_values, invoice_id=invoice.id))
                invoice.compute_taxes()
            self.recompute()
            invoices |= invoice
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
        """Create draft invoices for the selected rows and open them; rows left out are listed. A large
        selection is invoiced in the background, by a batch, which opens instead."""
        Batch = self.env["bookings.invoice.batch"]
        today = fields.Date.context_today(self)
        if Batch._is_large(self):
            return Batch._invoice_in_background(self, False, today)._open_action()
        invoices, skipped = self._create_invoices(date_invoice=today)
        if not invoices:
            raise UserError(_("No draft invoice was created: none of these bookings can be invoiced.\n%(rows)s")
                            % {"rows": self.browse(list(skipped))._describe(skipped)})
        return self.env["bookings.invoice.wizard"]._result_action(invoices, self.browse(list(skipped)), skipped)
