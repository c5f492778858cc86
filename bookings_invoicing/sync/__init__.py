"""The synchronization of a Bookings business into Odoo (see ``importer``)."""
from .importer import BusinessImporter, SynchronizationRunning  # noqa: F401
