from collections import defaultdict

from odoo import _, api, fields, models, tools


class BookingsAppointmentEvent(models.Model):
    """A Bookings appointment as the calendar shows it: one event per appointment, a group class with all its
    attendees, read from the attendees' rows (a database view: nothing is stored twice)."""

    _name = "bookings.appointment.event"
    _description = "Bookings Appointment (calendar)"
    _auto = False
    _order = "start desc, id desc"

    business_id = fields.Many2one("bookings.business", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    bookings_id = fields.Char(string="Bookings id", readonly=True)
    service_id = fields.Many2one("bookings.service", readonly=True)
    service_name = fields.Char(string="Service", readonly=True)
    staff = fields.Char(readonly=True)
    start = fields.Datetime(readonly=True)
    end = fields.Datetime(readonly=True)
    attendee_count = fields.Integer(string="Attendees", readonly=True)
    attendee_names = fields.Char(string="Customers", readonly=True)
    cancelled = fields.Boolean(string="Cancelled in Bookings", readonly=True)
    name = fields.Char(compute="_compute_name")
    calendar_note = fields.Char(compute="_compute_name")  # what the calendar says beside the names
    appointment_ids = fields.Many2many("bookings.appointment", string="Bookings", compute="_compute_appointment_ids",
                                       help="The appointment's rows: one per attendee, each invoiced on its own.")

    @api.model_cr
    def init(self):
        # An attendee taken off a group class keeps a cancelled row: the event shows the attendees still booked, and
        # a cancelled appointment those it had. The start and end are the same on every row that is still booked.
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute("""
            CREATE VIEW bookings_appointment_event AS (
                SELECT min(a.id) AS id, a.business_id, a.bookings_id,
                       min(a.company_id) AS company_id,
                       (array_agg(a.service_id ORDER BY a.state, a.id))[1] AS service_id,
                       (array_agg(a.service_name ORDER BY a.state, a.id))[1] AS service_name,
                       (array_agg(a.staff ORDER BY a.state, a.id))[1] AS staff,
                       (array_agg(a.start ORDER BY a.state, a.id))[1] AS start,
                       (array_agg(a."end" ORDER BY a.state, a.id))[1] AS "end",
                       bool_and(a.state = 'cancelled') AS cancelled,
                       CASE WHEN bool_and(a.state = 'cancelled') THEN count(*)
                            ELSE count(*) FILTER (WHERE a.state = 'active') END AS attendee_count,
                       CASE WHEN bool_and(a.state = 'cancelled')
                            THEN string_agg(a.customer_name, ', ' ORDER BY a.customer_name)
                            ELSE string_agg(a.customer_name, ', ' ORDER BY a.customer_name)
                                 FILTER (WHERE a.state = 'active') END AS attendee_names
                  FROM bookings_appointment a
              GROUP BY a.business_id, a.bookings_id
            )""")

    @api.depends("service_name", "attendee_count", "attendee_names", "cancelled")
    def _compute_name(self):
        cancelled = _("Cancelled in Bookings")
        for event in self:
            if event.attendee_count > 1:
                who = _("%d attendees") % event.attendee_count
            else:
                who = event.attendee_names or _("<No customer>")
            event.name = " - ".join(filter(None, (event.service_name, who)))
            event.calendar_note = cancelled if event.cancelled else False

    def _compute_appointment_ids(self):
        Appointment = self.env["bookings.appointment"]
        rows = defaultdict(Appointment.browse)
        for row in Appointment.search(
                [("business_id", "in", self.mapped("business_id").ids),
                 ("bookings_id", "in", self.mapped("bookings_id"))], order="state, customer_name, id"):
            rows[row.business_id.id, row.bookings_id] |= row
        for event in self:
            event.appointment_ids = rows[event.business_id.id, event.bookings_id]
