"""The synchronization of a Bookings business with Odoo: the read (``importer``) and the push (``exporter``)."""
from .importer import BusinessImporter, SynchronizationRunning  # noqa: F401
