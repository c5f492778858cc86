"""The synchronization of a Bookings business with Odoo: the read (``importer``), the push (``exporter``) and the
invoice status written back (``invoice_status``)."""
from .importer import BusinessImporter, SynchronizationRunning  # noqa: F401
from .invoice_status import InvoiceStatusWriter  # noqa: F401
