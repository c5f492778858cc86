"""The settlement of the appointment rows raised for review: Bookings changed or cancelled them after they were
invoiced. On a draft invoice the row's line is put right (removed, or rewritten by the rules of any line); on a
validated invoice it is credited, on a draft credit note of that invoice (Odoo's own refund, with only the settled
lines); or the accountant keeps the invoice as it is and says why. Each settlement clears the flag and is written
in the chatter of the row and of the invoice. What was billed is kept beside what Bookings says from the moment a
synchronization raises the row (``bookings_appointment._bookings_update``)."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html_escape
from odoo.tools.misc import formatLang

from .. import rules
from ..mirror import mirror_context
from .bookings_appointment import BILLED_FIELDS

#: Invoice states whose lines a settlement changes (a draft) or credits (validated, paid or not).
EDITABLE_STATES = ("draft",)
CREDITED_STATES = ("open", "paid")


class BookingsAppointment(models.Model):
    """The review of the rows: a workflow of its own beside their invoicing (``bookings_appointment_invoicing``)."""

    _inherit = "bookings.appointment"  # pylint: disable=consider-merging-classes-inherited

    # --- what was billed, beside what Bookings says -------------------------------------------------------
    @api.depends("state", "amount")
    def _compute_review_amount(self):
        for row in self:
            row.review_amount = 0.0 if row.state == "cancelled" else row.amount

    def _compute_review_changes(self):
        for row in self:
            row.review_changes = row._review_changes_text() if row.needs_review else False

    def _review_changes_text(self):
        """What was billed -> what Bookings says now, a line per value that differs, times in the zone of the
        context or the user and amounts in the row's currency. A row raised before what was billed was kept gives
        its reason."""
        self.ensure_one()
        lines = [_("Cancelled in Bookings")] if self.state == "cancelled" else []
        if not self.billed_start:
            return "\n".join(lines) or self.review_reason or False
        types = dict(self._fields["price_type"]._description_selection(self.env))

        def money(value):
            return formatLang(self.env, value, currency_obj=self._billing_currency())

        pairs = [
            (_("Customer"), self.billed_partner_id.display_name, self.partner_id.display_name),
            (_("Service"), self.billed_service_name, self.service_name),
            (_("Start"), self._local_text(self.billed_start), self._local_text(self.start)),
            (_("End"), self._local_text(self.billed_end), self._local_text(self.end)),
            (_("Price type"), types.get(self.billed_price_type), types.get(self.price_type)),
            (_("Bookings price"), money(self.billed_price), money(self.price)),
        ]
        if self.state != "cancelled":
            pairs.append((_("Amount"), money(self.billed_amount), money(self.amount)))
        lines += ["%s: %s \u2192 %s" % (label, before or "-", after or "-")
                  for label, before, after in pairs if before != after]
        return "\n".join(lines) or self.review_reason

    def _billed_values(self, stored=None):
        """What this invoiced row bills, as the ``billed_*`` fields keep it: from ``stored`` (the row's stored
        values before a change, as the binder reads them), else from the row; the amount from its invoice line."""
        self.ensure_one()
        if stored is None:
            stored = {field: self._fields[field].convert_to_write(self[field], self)
                      for field, _billed in BILLED_FIELDS}
        line = self.invoice_line_id
        amount = line.quantity * line.price_unit * (1 - (line.discount or 0.0) / 100.0)
        return dict({billed: stored[field] for field, billed in BILLED_FIELDS},
                    billed_amount=line.invoice_id.currency_id.round(amount))

    # --- the settlement ----------------------------------------------------------------------------------
    @api.multi
    def _to_settle(self):
        """These rows, locked against another settlement or invoicing, that are still raised for review: what one
        user settles is never settled again by another, whatever they click at once."""
        if self:
            self._lock_rows(_("Another user is settling or invoicing some of these bookings right now. Try again in a "
                              "moment: those they settle will then be left out."))
        rows = self.filtered("needs_review")
        if not rows:
            raise UserError(_("None of these bookings is to review: there is nothing to settle."))
        return rows

    @api.multi
    def _settle(self, reason=None, date_invoice=None):
        """Settle these raised rows on their invoices: on a draft, apply what Bookings now says; on a validated
        invoice, credit the rows' lines on one draft credit note per invoice, dated ``date_invoice`` (a date string,
        today by default). Returns the credit notes."""
        rows = self._to_settle()
        date_invoice = date_invoice or fields.Date.context_today(self)
        on_invoice = rows.filtered(lambda row: row.invoice_status == "invoiced")
        held = on_invoice.filtered(lambda row: row.invoice_state not in EDITABLE_STATES + CREDITED_STATES)
        if held:
            raise UserError(_("These bookings are on pro-forma invoices: set those back to draft first.\n%(rows)s")
                            % {"rows": held._describe()})
        credited = on_invoice.filtered(lambda row: row.invoice_state in CREDITED_STATES)
        if credited:
            credited._check_invoice_date(date_invoice)
        for row in rows - on_invoice:
            # freed from its invoice since it was raised (the draft deleted or cancelled): nothing left to put right
            row._settled(_("it is no longer on an invoice: nothing to put right"), reason)
        credit_notes = self.env["account.invoice"]
        for invoice in on_invoice.mapped("invoice_id"):
            group = on_invoice.filtered(lambda row, invoice=invoice: row.invoice_id == invoice)
            if invoice.state in EDITABLE_STATES:
                group._apply_to_draft(invoice, reason)
            else:
                credit_notes |= group._credit(invoice, reason, date_invoice)
        rows.mapped("business_id")._queue_invoice_status()
        return credit_notes

    @api.multi
    def _acknowledge(self, reason):
        """The accountant keeps the invoices as they are (a courtesy, a price agreed at the desk): the rows are no
        longer raised, and the reason is kept in the chatter."""
        if not (reason or "").strip():
            raise UserError(_("Say why the invoice is kept as it is."))
        for row in self._to_settle():
            row._settled(_("the invoice is kept as it is"), reason.strip(), row.invoice_id)

    def _apply_to_draft(self, invoice, reason):
        """Put these rows' lines of the draft ``invoice`` right: a cancelled booking's line is removed, a changed
        one's rewritten to the new terms; a booking that this draft can no longer bill (another customer, no
        product or no price now) leaves it and waits to be invoiced again."""
        for row in self:
            line = row.invoice_line_id
            if row.state == "cancelled":
                line.unlink()
                what = _("its line was removed from the draft (cancelled in Bookings)")
            elif row._billable_on(invoice):
                values = row._prepare_invoice_line(invoice)
                del values["bookings_appointment_ids"]
                line = line.with_context(**mirror_context())
                line.write(values)
                line._set_additional_fields(invoice)
                what = _("its line was rewritten to what Bookings now says")
            else:
                line.unlink()
                what = _("its line was removed from the draft: the booking waits to be invoiced again")
            row._settled(what, reason, invoice)
        invoice.compute_taxes()

    def _billable_on(self, invoice):
        """Whether the draft ``invoice`` can bill this row at its present terms."""
        self.ensure_one()
        return (self._invoice_partner() == invoice.partner_id and bool(self._invoice_product())
                and (bool(self.amount) or self.price_type == rules.FREE))

    def _credit(self, invoice, reason, date_invoice):
        """Credit these rows' lines of the validated ``invoice`` on one draft credit note, made as Odoo's own
        refund of it (same accounts, taxes, analytic), with a line per row linked back to it. A cancelled booking
        stays cancelled; a changed one returns to invoicing at its new terms. Returns the credit note."""
        Invoice = self.env["account.invoice"]
        values = Invoice._prepare_refund(
            invoice, date_invoice=date_invoice, journal_id=invoice.journal_id.id,
            description=_("Bookings changed or cancelled after invoicing"))
        values.update(invoice_line_ids=[], tax_line_ids=[])
        credit_note = Invoice.create(values)
        Line = self.env["account.invoice.line"].with_context(**mirror_context())
        for row in self:
            line_values = Invoice._refund_cleanup_lines(row.invoice_line_id)[0][2]
            credit_line = Line.create(dict(line_values, invoice_id=credit_note.id))
            row._bookings_as_mirror().write({"credit_line_id": credit_line.id, "invoice_line_id": False})
            what = (_("its line was credited on the draft credit note of %(invoice)s") if row.state == "cancelled" else
                    _("its line was credited on the draft credit note of %(invoice)s; the booking waits to be "
                      "invoiced at its new terms"))
            row._settled(what % {"invoice": invoice.number}, reason, invoice)
        credit_note.compute_taxes()
        credit_note.message_post(body=_("Credit note of %(invoice)s for bookings changed or cancelled in Bookings "
                                        "after invoicing:<br/>%(rows)s") % {
            "invoice": html_escape(invoice.number),
            "rows": self._labels_html()})
        return credit_note

    def _settled(self, what, reason=None, invoice=None):
        """This row's review is settled by ``what`` was done: no longer raised, what was billed forgotten (a later
        change is raised from the present values), and the chatter of the row and of ``invoice`` say who did what
        and why."""
        self.ensure_one()
        changes = self.with_context(tz=self._display_tz())._review_changes_text()
        body = "<br/>".join(html_escape(line) for line in filter(None, [
            _("Review settled: %(what)s.") % {"what": what}, changes,
            reason and _("Why: %(reason)s") % {"reason": reason}]))
        self.message_post(body=body)
        if invoice:
            invoice.message_post(body=_("Bookings appointment %(booking)s:<br/>%(settlement)s") % {
                "booking": html_escape(self._display_label_for_message()), "settlement": body})
        cleared = dict({billed: False for _field, billed in BILLED_FIELDS}, billed_amount=False,
                       needs_review=False, review_reason=False)
        self._bookings_as_mirror().write(cleared)
