"""Microsoft Graph Bookings client: plain Python, no Odoo import. ``client`` on ``signin`` on ``transport``, all
configured by ``settings``; ``records`` and ``payloads`` are what is read and written, ``errors`` what can go wrong."""
from . import errors  # noqa: F401
from .client import BookingsClient, Page, read_all  # noqa: F401
from .records import EMAIL_RE, normalize_email  # noqa: F401
from .settings import GraphSettings  # noqa: F401
