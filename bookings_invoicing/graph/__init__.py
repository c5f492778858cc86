"""Microsoft Graph Bookings client: plain Python, no Odoo import (see ``client``, ``records`` and ``errors``)."""
from . import errors  # noqa: F401
from .client import BookingsClient, GraphSettings, Page, read_all  # noqa: F401
from .records import EMAIL_RE, normalize_email  # noqa: F401
