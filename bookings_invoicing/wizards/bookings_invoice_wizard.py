import datetime
from collections import OrderedDict, defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, formatLang

from .. import rules
from ..rules import INVOICE_GROUPING_SELECTION


class BookingsInvoiceWizard(models.TransientModel):
    """Invoice all: every completed, uninvoiced appointment up to a date. Shows what it will invoice first,
    and afterwards what it created and what it left out."""

    _name = "bookings.invoice.wizard"
    _inherit = ["bookings.local.time"]
    _description = "Invoice Bookings Appointments"

    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    business_id = fields.Many2one("bookings.business", help="Only this business; all businesses when empty.")
    date_until = fields.Date(
        string="Up to", required=True, default=lambda self: self._default_date_until(),
        help="Invoice the appointments that ended on or before this day. By default, during the first days of a "
             "month, the last day of last month; else today.")
    date_invoice = fields.Date(string="Invoice date",
                               help="The date of the draft invoices: the period they are booked in, and the "
                                    "start of their payment terms. By default (empty) the Up to day.")
    grouping = fields.Selection(INVOICE_GROUPING_SELECTION, required=True, default="customer")
    row_count = fields.Integer(string="Appointments to invoice", compute="_compute_preview")
    customer_count = fields.Integer(string="Customers", compute="_compute_preview")
    invoice_count = fields.Integer(string="Draft invoices", compute="_compute_preview")
    amount_text = fields.Char(string="Total to invoice", compute="_compute_preview",
                              help="Before taxes, in each invoice currency.")
    largest_customers = fields.Text(compute="_compute_preview")
    to_confirm_count = fields.Integer(
        string="Prices to confirm", compute="_compute_preview",
        help="Appointments whose price is not firm in Bookings (a minimum, or no price): check their lines on the "
             "drafts before validating them.")
    fee_count = fields.Integer(
        string="Late cancellations and no-shows", compute="_compute_preview",
        help="Of the appointments to invoice, those billed at their cancellation policy's fee.")
    waiting_count = fields.Integer(
        string="Waiting", compute="_compute_preview",
        help="Completed bookings up to this day that are not invoiced because they have no customer or no price.")
    waiting_text = fields.Char(string="What waits", compute="_compute_preview")
    invoice_ids = fields.Many2many("account.invoice", readonly=True)
    skipped_message = fields.Text(readonly=True)

    @api.model
    def default_get(self, field_names):
        values = super(BookingsInvoiceWizard, self).default_get(field_names)
        if self.env.context.get("active_model") == "bookings.business" and self.env.context.get("active_id"):
            business = self.env["bookings.business"].browse(self.env.context["active_id"])
            values.update(business_id=business.id, grouping=business.invoice_grouping)
        if "date_invoice" in field_names and values.get("date_until"):
            values.setdefault("date_invoice", values["date_until"])
        return values

    @api.model
    def _default_date_until(self):
        """Last month's last day while it is closed, else today, as the user's calendar reads; today once last month
        is locked for the user (its drafts could not be dated in it)."""
        today = fields.Date.context_today(self)
        until = fields.Date.to_string(rules.default_invoice_until(fields.Date.from_string(today)))
        lock_date = self.env["bookings.appointment"]._lock_date(self.env.user.company_id)
        return today if lock_date and until <= lock_date else until

    def _rows_domain(self, statuses=("to_invoice",)):
        """The completed rows of the chosen business up to the chosen day whose status is one of ``statuses``: by
        default, those Invoice All invoices."""
        end_of_day = self._stored_moment(fields.Date.from_string(self.date_until), datetime.time.max)
        domain = self.env["bookings.appointment"]._uninvoiced_domain(statuses) + [("end", "<=", end_of_day)]
        if self.business_id:
            domain.append(("business_id", "=", self.business_id.id))
        return domain

    def _waiting_domain(self):
        """The rows Invoice All leaves out because they wait for a customer or a price."""
        return self._rows_domain(("no_customer", "no_price"))

    def _rows(self):
        return self.env["bookings.appointment"].search(self._rows_domain())

    @api.onchange("date_until")
    def _onchange_date_until(self):
        self.date_invoice = self.date_until

    @api.depends("business_id", "date_until", "date_invoice", "grouping")
    def _compute_preview(self):
        for wizard in self:
            preview = {"row_count": 0, "customer_count": 0, "to_confirm_count": 0, "invoice_count": 0, "fee_count": 0,
                       "amount_text": False, "largest_customers": False, "waiting_count": 0, "waiting_text": False}
            if wizard.date_until:
                preview.update(wizard._preview())
            wizard.update(preview)

    def _preview(self):
        """What Invoice All will do, counted and summed by the database: a month-end backlog is never read row by
        row to be previewed."""
        Appointment = self.env["bookings.appointment"]
        domain = self._rows_domain()
        row_count = Appointment.search_count(domain)
        group_fields = Appointment._invoice_group_fields(self.grouping)
        waiting = Appointment.read_group(self._waiting_domain(), ["invoice_status"], ["invoice_status"], lazy=False)
        totals = self._totals(domain)
        people = Appointment.read_group(domain, ["partner_id"], ["partner_id"])
        bill_to = self.env["res.partner"].browse(
            [group["partner_id"][0] for group in people if group["partner_id"]])._bookings_bill_to()
        by_payer = self._by_payer(domain, bill_to)
        payers = self.env["res.partner"].browse({payer for payer, _currency in by_payer})
        largest = sorted(by_payer.items(), key=lambda item: (-item[1], item[0]))[:3]
        return {
            "row_count": row_count,
            "customer_count": len(payers),
            "to_confirm_count": Appointment.search_count(domain + [("price_to_confirm", "=", True)]),
            "fee_count": Appointment.search_count(domain + [("fee_kind", "!=", False)]),
            "invoice_count": self._invoice_count(domain, group_fields, bill_to) if group_fields else row_count,
            "amount_text": " + ".join(self._money(amount, currency_id) for currency_id, amount in totals.items()),
            "largest_customers": "\n".join("%s: %s" % (payers.browse(payer).display_name, self._money(
                amount, currency_id)) for (payer, currency_id), amount in largest),
            "waiting_count": sum(group["__count"] for group in waiting),
            "waiting_text": self._waiting_text({group["invoice_status"]: group["__count"] for group in waiting}),
        }

    def _by_payer(self, domain, bill_to):
        """``{(id of the party that pays, currency id): amount}`` of the rows of ``domain``, summed by the database
        per person and added up on the party that pays (``bill_to``: person id -> its id): a company's people count
        as the one customer invoiced."""
        groups = self.env["bookings.appointment"].read_group(
            domain, ["amount", "partner_id", "currency_id"], ["partner_id", "currency_id"], lazy=False)
        amounts = defaultdict(float)
        for group in groups:
            if group["partner_id"]:
                amounts[bill_to[group["partner_id"][0]], group["currency_id"][0]] += group["amount"]
        return amounts

    def _invoice_count(self, domain, group_fields, bill_to):
        """How many drafts the rows of ``domain`` make, grouped by ``group_fields`` as the invoicing groups them
        (``bill_to``: person id -> id of the party that pays)."""
        Appointment = self.env["bookings.appointment"]
        groups = Appointment.read_group(domain, group_fields, group_fields, lazy=False)
        return len({Appointment._invoice_key(
            [(name, group[name][0] if isinstance(group[name], tuple) else group[name]) for name in group_fields],
            bill_to) for group in groups})

    def _totals(self, domain):
        """``{currency id: amount}`` the drafts of the rows of ``domain`` will hold before taxes, summed by the
        database: the rows' amounts, except where a row's line bills a price converted from its company's currency
        at the invoice date (``_line_terms``)."""
        Appointment = self.env["bookings.appointment"]
        groups = Appointment.read_group(domain, ["amount", "currency_id", "company_id"], ["currency_id", "company_id"],
                                        lazy=False)
        totals = OrderedDict()
        for group in groups:
            company_currency = self.env["res.company"].browse(group["company_id"][0]).currency_id
            currency_id = group["currency_id"][0] if group["currency_id"] else company_currency.id
            totals[currency_id] = totals.get(currency_id, 0.0) + group["amount"]
            if currency_id != company_currency.id:
                converted = Appointment.search(group["__domain"] + Appointment._converted_domain())
                totals[currency_id] += sum(float(row._line_terms(self._invoice_date()).amount) - row.amount
                                           for row in converted)
        return totals

    def _invoice_date(self):
        """The date of the drafts: the one chosen, else the Up to day."""
        return self.date_invoice or self.date_until

    @api.model
    def _waiting_text(self, counts):
        """What waits, in words: ``counts`` by invoice status."""
        parts = []
        if counts.get("no_customer"):
            parts.append(_("%(count)s without customer: set their customer") % {"count": counts["no_customer"]})
        if counts.get("no_price"):
            parts.append(_("%(count)s without price: set their price (Close last month)")
                         % {"count": counts["no_price"]})
        return "; ".join(parts) or False

    @api.multi
    def action_open_waiting(self):
        """The bookings Invoice All leaves out until they have a customer or a price."""
        self.ensure_one()
        action = self.env["bookings.appointment"]._action_open(self._waiting_domain())
        action["name"] = _("Bookings waiting for a customer or a price")
        return action

    def _money(self, amount, currency_id):
        """``amount`` in the currency ``currency_id``, as Odoo shows money."""
        return formatLang(self.env, amount, currency_obj=self.env["res.currency"].browse(currency_id))

    @api.multi
    def action_open_pivot(self):
        """What Invoice All will invoice, in the pivot table by month and service."""
        self.ensure_one()
        action = self.env["bookings.appointment"]._action_open(self._rows_domain())
        # the title says what is shown: the action's domain is no facet of the search bar
        name = _("Ready to invoice up to %(date)s") % {"date": format_date(self.env, self.date_until)}
        if self.business_id:
            name = "%s - %s" % (self.business_id.name, name)
        action.update(view_mode="pivot,tree,form", views=[(False, "pivot"), (False, "tree"), (False, "form")],
                      name=name)
        return action

    @api.multi
    def action_create_invoices(self):
        self.ensure_one()
        rows = self._rows()
        if not rows:
            raise UserError(_("No completed booking is ready to invoice up to %(date)s.")
                            % {"date": format_date(self.env, self.date_until)})
        return self.env["bookings.month.close"]._back(
            rows._invoice_action(self.grouping, self._invoice_date(), wizard=self))

    @api.model
    def _result_action(self, invoices, skipped_rows, reasons, wizard=None):
        """Open the invoices; when rows were left out, first show which and why."""
        if not skipped_rows:
            return invoices._bookings_open_action()
        wizard = wizard or self.create({"date_until": fields.Date.context_today(self)})
        wizard.write({
            "state": "done",
            "invoice_ids": [(6, 0, invoices.ids)],
            "skipped_message": _("%(count)s booking(s) were not invoiced:\n%(rows)s") % {
                "count": len(skipped_rows), "rows": skipped_rows._describe(reasons)},
        })
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": wizard.id, "view_mode": "form",
                "target": "new", "name": _("Draft invoices created")}

    @api.multi
    def action_open_invoices(self):
        return self.invoice_ids._bookings_open_action()
