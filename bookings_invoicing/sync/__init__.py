"""The synchronization of a Bookings business into Odoo (see ``importer``)."""
from .importer import BusinessImporter  # noqa: F401
