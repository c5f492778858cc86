"""The synchronization window: the appointments of a business that a run asks Bookings for."""
from odoo import fields


def window_domain(business_id, window):
    """The rows of the business ``business_id`` still in Bookings that start inside ``window`` (start included, end
    excluded; naive UTC, as ``bookings.business._sync_window`` gives it)."""
    start, end = window
    return [("business_id", "=", business_id), ("state", "=", "active"),
            ("start", ">=", fields.Datetime.to_string(start)), ("start", "<", fields.Datetime.to_string(end))]
