from odoo import _, api, fields, models


class BookingsSyncRun(models.Model):
    """The record of one synchronization of a business (``sync.importer`` writes it): window, state, counts and
    messages."""

    _name = "bookings.sync.run"
    _inherit = ["bookings.local.time"]
    _description = "Bookings Synchronization"
    _order = "id desc"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True,
                                  readonly=True)
    company_id = fields.Many2one(related="business_id.company_id", store=True, readonly=True)
    date_start = fields.Datetime(string="Started", default=fields.Datetime.now, readonly=True)
    date_end = fields.Datetime(string="Ended", readonly=True)
    window_start = fields.Datetime(readonly=True)
    window_end = fields.Datetime(readonly=True)
    appointments_read = fields.Datetime(
        string="Window read", readonly=True,
        help="When the run began reading the appointments of its window, which it then read completely: the bookings "
             "it found were there at that time, those it missed were gone.")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Done with problems"), ("failed", "Failed")],
        default="running", readonly=True)
    customers_created = fields.Integer(readonly=True)
    customers_updated = fields.Integer(readonly=True)
    services_created = fields.Integer(readonly=True)
    services_updated = fields.Integer(readonly=True)
    appointments_created = fields.Integer(readonly=True)
    appointments_updated = fields.Integer(readonly=True)
    appointments_cancelled = fields.Integer(readonly=True)
    items_skipped = fields.Integer(string="Skipped", readonly=True)
    rows_flagged = fields.Integer(string="Raised for review", readonly=True)
    items_warned = fields.Integer(string="Read with warnings", readonly=True,
                                  help="Items kept without an optional value that could not be read (the message "
                                       "names them).")
    customers_pushed = fields.Integer(string="Customers created in Bookings", readonly=True)
    customers_push_updated = fields.Integer(string="Customers updated in Bookings", readonly=True)
    services_pushed = fields.Integer(string="Services created in Bookings", readonly=True)
    services_push_updated = fields.Integer(string="Services updated in Bookings", readonly=True)
    invoice_status_written = fields.Integer(
        string="Invoice status written to Bookings", readonly=True,
        help="Bookings whose invoice's number, status, amount and date were written to Bookings (Graph beta).")
    message = fields.Text(readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.multi
    def name_get(self):
        """A run is named by its business and the time it started, where the user is."""
        return [(run.id, "%s, %s" % (run.business_id.name, run._local_text(run.date_start))) for run in self]

    @api.depends("appointments_created", "appointments_updated", "appointments_cancelled", "items_skipped",
                 "items_warned", "customers_pushed", "customers_push_updated", "services_pushed",
                 "services_push_updated", "invoice_status_written")
    def _compute_summary(self):
        for run in self:
            counts = {"cp": run.customers_pushed, "cu": run.customers_push_updated, "sp": run.services_pushed,
                      "su": run.services_push_updated}
            push = _("Pushed to Bookings: customers %(cp)s new, %(cu)s updated; services %(sp)s new, %(su)s "
                     "updated. ") % counts if any(counts.values()) else ""
            run.summary = push + _(
                "Customers: %(cc)s new, %(cu)s updated. Services: %(sc)s new, %(su)s updated. Appointments: "
                "%(ac)s new, %(au)s updated, %(ax)s cancelled. Skipped: %(sk)s. Raised for review: %(rv)s. Read with "
                "warnings: %(wn)s."
            ) % {"cc": run.customers_created, "cu": run.customers_updated, "sc": run.services_created,
                 "su": run.services_updated, "ac": run.appointments_created, "au": run.appointments_updated,
                 "ax": run.appointments_cancelled, "sk": run.items_skipped, "rv": run.rows_flagged,
                 "wn": run.items_warned}
            if run.invoice_status_written:
                run.summary = "%s %s" % (run.summary, _("Invoice status written to Bookings: %(count)s.") % {
                    "count": run.invoice_status_written})
