"""The invoice status of each booking written back to Bookings, where a business turns it on: the invoice's number,
status, amount and date on the appointment, as Business Central wrote them. Graph v1.0 has no such properties, beta
has (``graph.client.BookingsClient.update_appointment_invoice``); Microsoft does not support beta in production, so
a refusal is a warning, never an error of the synchronization or of the invoicing.

A row keeps what was last written (``bookings_invoice_written``): a booking is written when what its invoice says
changed (drafted, validated, paid, cancelled, credited), and only then."""
import json
import logging

from odoo import _

from ..graph import errors
from ..messages import graph_error_message
from .window import window_domain

_logger = logging.getLogger(__name__)


class InvoiceStatusWriter(object):
    """Writes the invoice status of a business's bookings of its synchronization window to Bookings."""

    def __init__(self, env, business, client, window, warn):
        """``window``: ``(start, end)`` of the synchronization, naive UTC; ``warn``: takes a refusal, in words."""
        self.env = env
        self.business = business
        self.client = client
        self.window = window
        self.warn = warn

    def _rows(self):
        """The business's bookings of the window still in Bookings, that are or were on an invoice."""
        return self.env["bookings.appointment"].search(window_domain(self.business.id, self.window) + [
            "|", "|", ("invoice_line_id", "!=", False), ("credit_line_id", "!=", False),
            ("bookings_invoice_written", "!=", False)], order="id")

    def run(self):
        """Write what changed; returns how many bookings were written. The first refusal ends the writing."""
        written = 0
        for row in self._rows():
            payload = row._bookings_invoice_payload()
            text = payload and json.dumps(payload, sort_keys=True)
            if not text or text == row.bookings_invoice_written:
                continue
            try:
                self.client.update_appointment_invoice(self.business.mailbox, row.bookings_id, payload)
            except errors.ItemNotFound:  # gone from Bookings since the last synchronization: nothing to tell there
                _logger.info("Bookings appointment %s of %s is gone: its invoice status is not written",
                             row.bookings_id, self.business.mailbox)
            except errors.GraphError as error:
                self.warn(_("The invoice status of the bookings was not written to Bookings (Microsoft Graph beta): "
                            "%(error)s") % {"error": graph_error_message(self.env, error)})
                return written
            else:
                written += 1
            row._bookings_as_mirror().write({"bookings_invoice_written": text})
        return written
