"""11.0.1.1.0: a booking with nothing to bill (no Bookings price and a product without price) is no longer ready to
invoice at 0.00: it waits for a price. The status of the rows not invoiced at nothing is computed again."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    rows = env["bookings.appointment"].search([("invoice_status", "=", "to_invoice"), ("amount", "=", 0.0)])
    env.add_todo(rows._fields["invoice_status"], rows)
    rows.recompute()
