"""A local peer that speaks the Microsoft Graph Bookings protocol over HTTPS, with seeded data and faults."""
from .data import Generator, Store  # noqa: F401
from .salon import SalonGenerator  # noqa: F401
from .seed import KINDS, seed_business  # noqa: F401
from .server import BookingsPeer, Fault  # noqa: F401
