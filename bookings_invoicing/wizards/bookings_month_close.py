from collections import OrderedDict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, formatLang

from .. import rules


class BookingsMonthClose(models.TransientModel):
    """Close last month: what is left before a business's month is invoiced, in the order an accountant does it,
    each step with its count, its list and, where one click does it, its action; a step is done when nothing is left
    in it. The month is the business's (its time zone in Bookings, else the user's); what waits from earlier months
    counts too. Each step's list comes back here."""

    _name = "bookings.month.close"
    _description = "Close a Month of Bookings"

    business_id = fields.Many2one("bookings.business", required=True, readonly=True, ondelete="cascade")
    currency_id = fields.Many2one(related="business_id.currency_id", readonly=True)
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    name = fields.Char(compute="_compute_steps")
    period_text = fields.Char(compute="_compute_steps")
    customers_text = fields.Char(compute="_compute_steps")
    prices_text = fields.Char(compute="_compute_steps")
    invoice_text = fields.Char(compute="_compute_steps")
    to_confirm_text = fields.Char(compute="_compute_steps")
    review_text = fields.Char(compute="_compute_steps")
    drafts_text = fields.Char(compute="_compute_steps")
    no_customer_count = fields.Integer(string="Without customer", compute="_compute_steps")
    no_partner_count = fields.Integer(
        string="Bookings customers without partner", compute="_compute_steps",
        help="Bookings customers with bookings waiting for a customer, whom Bookings gives no e-mail address to be "
             "matched by.")
    no_price_count = fields.Integer(string="Without price", compute="_compute_steps")
    price_ids = fields.One2many("bookings.month.close.price", "close_id", string="Prices to set")
    ready_count = fields.Integer(string="To invoice", compute="_compute_steps")
    ready_amount = fields.Monetary(string="Amount to invoice", compute="_compute_steps")
    to_confirm_count = fields.Integer(string="Prices to confirm", compute="_compute_steps")
    review_count = fields.Integer(string="To review", compute="_compute_steps")
    draft_invoice_count = fields.Integer(string="Draft invoices", compute="_compute_steps")
    batch_id = fields.Many2one("bookings.invoice.batch", string="Invoicing batch", readonly=True,
                               help="The batch invoicing the month in the background, when it was started here.")
    batch_state = fields.Selection(related="batch_id.state", readonly=True)
    batch_progress = fields.Float(related="batch_id.progress", readonly=True)
    done = fields.Boolean(compute="_compute_steps", help="Nothing is left to do before the drafts are validated.")

    @api.model
    def _action_for(self, business):
        """The path of the month ``business`` closes today, where its time zone is."""
        zoned = self._zoned(business)
        first, last = rules.month_to_close(fields.Date.from_string(fields.Date.context_today(zoned)))
        close = self.create({"business_id": business.id, "date_from": fields.Date.to_string(first),
                             "date_to": fields.Date.to_string(last)})
        close._refresh_prices()
        return close._action()

    @api.model
    def _zoned(self, business):
        """This model in the business's time zone when Bookings gives one, else in the user's."""
        return self.with_context(tz=business.time_zone) if business.time_zone else self

    def _action(self):
        """This path on screen: a form in edit mode (its prices are typed in), to which each step's list returns."""
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "inline", "name": self.name}

    def _invoicing(self):
        """Invoice All up to the month's end, in the business's time zone: what the steps count is what it
        invoices and leaves out."""
        self.ensure_one()
        return self._zoned(self.business_id).env["bookings.invoice.wizard"].new({
            "business_id": self.business_id.id, "date_until": self.date_to, "date_invoice": self.date_to,
            "grouping": self.business_id.invoice_grouping})

    def _domain(self, step):
        """The bookings of a step: those waiting up to the month's end for a customer, a price or invoicing, and the
        business's bookings whose price is to confirm on a draft or that are to review, whatever their month."""
        if step in ("no_customer", "no_price", "to_invoice"):
            return self._invoicing()._rows_domain((step,))
        mine = [("business_id", "=", self.business_id.id)]
        if step == "to_confirm":
            return mine + self.env["bookings.appointment"]._to_confirm_domain()
        return mine + [("needs_review", "=", True)]

    @api.depends("business_id", "date_from", "date_to", "batch_id.state")
    def _compute_steps(self):
        Appointment = self.env["bookings.appointment"]
        for close in self:
            waiting = Appointment.search(close._domain("no_customer"))
            count = dict({step: Appointment.search_count(close._domain(step))
                          for step in ("no_price", "to_invoice", "to_confirm", "review")}, no_customer=len(waiting))
            ready = close._domain("to_invoice")
            amount = sum(group["amount"] or 0.0 for group in Appointment.read_group(ready, ["amount"], []))
            customers = waiting.mapped("bookings_customer_id")
            walk_ins = len(waiting.filtered(lambda row: not row.bookings_customer_id))
            close.update(dict(close._step_texts(count, customers, walk_ins, amount, ready), **{
                "no_customer_count": count["no_customer"],
                "no_partner_count": len(customers),
                "no_price_count": count["no_price"],
                "ready_count": count["to_invoice"],
                "ready_amount": amount,
                "to_confirm_count": count["to_confirm"],
                "review_count": count["review"],
                "draft_invoice_count": close.business_id.draft_invoice_count,
                "done": not any(count.values()),
            }))

    def _step_texts(self, count, customers, walk_ins, amount, ready):
        """What each step says is left, in the user's language: ``count`` of each step's bookings, the Bookings
        ``customers`` of those without customer and how many of them are ``walk_ins`` Bookings names no one for, the
        ``amount`` and the domain of those ``ready`` to invoice."""
        fees = self.env["bookings.appointment"].search_count(ready + [("fee_kind", "!=", False)])
        drafts = self.business_id.draft_invoice_count
        values = {"count": count, "customers": len(customers), "walk_ins": walk_ins, "fees": fees, "drafts": drafts,
                  "amount": formatLang(self.env, amount, currency_obj=self.currency_id),
                  "first": format_date(self.env, self.date_from), "last": format_date(self.env, self.date_to),
                  "zone": self.business_id.time_zone or self.env.context.get("tz") or self.env.user.tz or "UTC"}
        return {
            "name": _("Close %(month)s: %(business)s") % {
                "month": format_date(self.env, self.date_from, date_format="MMMM y"),
                "business": self.business_id.name},
            "period_text": _("Bookings that ended from %(first)s to %(last)s (%(zone)s), and those left from earlier "
                             "months. Each step says what is left, and its list comes back here.") % values,
            "customers_text": self._customers_text(dict(values, count=count["no_customer"])),
            "prices_text": _("%(count)s bookings have no price, in Bookings nor on their product: type the price of "
                             "each service, which their lines then bill.") % {"count": count["no_price"]}
            if count["no_price"] else _("Every booking has its price."),
            "invoice_text": self._invoice_text(dict(values, count=count["to_invoice"])),
            "to_confirm_text": _("%(count)s bookings on drafts bill a price that is not firm in Bookings (a minimum, "
                                 "or the product's price): confirm them as they are, or change their lines on the "
                                 "drafts first.") % {"count": count["to_confirm"]}
            if count["to_confirm"] else _("Every price on the drafts is confirmed."),
            "review_text": _("%(count)s invoiced bookings were changed or cancelled in Bookings since: settle them on "
                             "their invoices.") % {"count": count["review"]}
            if count["review"] else _("Nothing invoiced has changed in Bookings."),
            "drafts_text": (_("%(drafts)s draft invoices: the month is ready, validate them.") if not any(
                count.values()) else _("%(drafts)s draft invoices, to validate once the steps above are done."))
            % values,
        }

    @api.model
    def _customers_text(self, values):
        """What the customers' step says is left: ``values`` of ``_step_texts``, ``count`` being its bookings."""
        if not values["count"]:
            return _("Every booking has its customer.")
        return " ".join(filter(None, [
            _("%(count)s bookings wait for a customer.") % values,
            values["customers"] and _(
                "%(customers)s of their Bookings customers have no e-mail address to match them by: Create their "
                "partners makes a partner for each, with the name and phone Bookings gives.") % values,
            values["walk_ins"] and _("%(walk_ins)s are walk-ins Bookings names no one for: select them in the list "
                                     "and use Action > Set the customer.") % values,
        ]))

    @api.model
    def _invoice_text(self, values):
        """What the invoicing step says is left: ``values`` of ``_step_texts``, ``count`` being its bookings."""
        if not values["count"]:
            return _("Every booking of the month that can be invoiced is on a draft.")
        if values["fees"]:
            return _("%(count)s bookings to invoice, %(amount)s before taxes, %(fees)s of them late cancellations "
                     "and no-shows at their fee: one draft per paying party, which joins its draft of the "
                     "month.") % values
        return _("%(count)s bookings to invoice, %(amount)s before taxes: one draft per paying party, which joins "
                 "its draft of the month.") % values

    def _refresh_prices(self):
        """A line per service (and currency) of the bookings without price, for the accountant to type its price."""
        self.ensure_one()
        groups = OrderedDict()
        for row in self.env["bookings.appointment"].search(self._domain("no_price"), order="service_name, id"):
            groups.setdefault((row.service_id.id, row.currency_id.id, row.service_name), []).append(row.id)
        self.price_ids = [(5, 0, 0)] + [
            (0, 0, {"service_id": service_id, "service_name": name, "currency_id": currency_id,
                    "appointment_ids": [(6, 0, ids)]})
            for (service_id, currency_id, name), ids in groups.items()]

    # --- the steps -------------------------------------------------------------------------------------------
    def _open(self, step, name):
        self.ensure_one()
        action = self.env["bookings.appointment"]._action_open(self._domain(step))
        action["name"] = name
        return action

    @api.multi
    def action_open_no_customer(self):
        return self._open("no_customer", _("Bookings without customer"))

    @api.multi
    def action_create_partners(self):
        """A partner for each Bookings customer of the bookings without customer, made from what Bookings says of
        them; the walk-ins Bookings names no one for keep waiting for a customer to be set."""
        self.ensure_one()
        rows = self.env["bookings.appointment"].search(self._domain("no_customer"))
        return rows.mapped("bookings_customer_id").action_create_partners()

    @api.multi
    def action_open_no_price(self):
        return self._open("no_price", _("Bookings without price"))

    @api.multi
    def action_set_prices(self):
        """Set the prices typed in on the bookings of their line; the lines without one stay."""
        self.ensure_one()
        lines = self.price_ids.filtered(lambda line: line.price)
        if not lines:
            raise UserError(_("Type the price of a service first."))
        for line in lines:
            line.appointment_ids.write({"set_price": line.price})
            if line.for_later:
                line._set_service_price()
        self._refresh_prices()

    @api.multi
    def action_invoice_all(self):
        """Invoice All up to the month's end, which comes back here once the drafts are made."""
        self.ensure_one()
        action = self.business_id.action_invoice_all()
        action["context"] = dict(action["context"], default_date_until=self.date_to,
                                 default_date_invoice=self.date_to, bookings_month_close_id=self.id,
                                 **({"tz": self.business_id.time_zone} if self.business_id.time_zone else {}))
        return action

    @api.multi
    def action_open_to_confirm(self):
        return self.business_id.action_open_to_confirm()

    @api.multi
    def action_confirm_prices(self):
        self.ensure_one()
        return self.env["bookings.appointment"].search(self._domain("to_confirm")).action_confirm_prices()

    @api.multi
    def action_settle_reviews(self):
        """The settlement of the business's bookings to review, which shows what changed before it settles."""
        self.ensure_one()
        rows = self.env["bookings.appointment"].search(self._domain("review"))
        action = self.env.ref("bookings_invoicing.bookings_review_wizard_action").read()[0]
        action["context"] = {"active_model": rows._name, "active_ids": rows.ids}
        return action

    @api.multi
    def action_open_review(self):
        return self.business_id.action_open_review()

    @api.multi
    def action_open_draft_invoices(self):
        return self.business_id.action_open_draft_invoices()

    @api.model
    def _back(self, action):
        """Where Invoice All ends when started from this path: its dialog closes on the path, which follows the
        invoicing batch ``action`` opens; else (or when ``action`` shows the bookings it left out) ``action``."""
        close = self.browse(self.env.context.get("bookings_month_close_id")).exists()
        if not close or action.get("res_model") == "bookings.invoice.wizard":
            return action
        if action.get("res_model") == "bookings.invoice.batch":
            close.batch_id = action["res_id"]
        return {"type": "ir.actions.act_window_close"}


class BookingsMonthClosePrice(models.TransientModel):
    """The bookings of one service that Bookings gives no price for, and the price the accountant sets them."""

    _name = "bookings.month.close.price"
    _description = "Price to Set on Bookings"

    close_id = fields.Many2one("bookings.month.close", required=True, ondelete="cascade")
    service_id = fields.Many2one("bookings.service", readonly=True)
    service_name = fields.Char(string="Service", readonly=True)
    appointment_ids = fields.Many2many("bookings.appointment", readonly=True)
    count = fields.Integer(string="Bookings", compute="_compute_count")
    currency_id = fields.Many2one("res.currency", readonly=True)
    price = fields.Monetary(help="The price of each of these bookings, before taxes.")
    for_later = fields.Boolean(
        string="For later bookings too",
        help="Also the sales price of the service's product, which bookings to come bill when Bookings gives them no "
             "price (Bookings managers).")

    @api.depends("appointment_ids")
    def _compute_count(self):
        for line in self:
            line.count = len(line.appointment_ids)

    def _set_service_price(self):
        """The line's price as its service's product's sales price, which is in the company's currency."""
        self.ensure_one()
        company = self.service_id.company_id
        if self.currency_id != company.currency_id:
            raise UserError(_("%(service)s bills in %(currency)s, its product in %(company_currency)s: set the "
                              "product's price on the service.") % {
                "service": self.service_name, "currency": self.currency_id.name,
                "company_currency": company.currency_id.name})
        self.service_id.product_price = self.price

