"""Fixtures of the plain-Python suite: a local Bookings peer over HTTPS and a Graph client configured for it.

``bookings_invoicing`` is registered as a bare package so that its ORM-free modules import without running the
add-on's ``__init__`` (which loads Odoo models): this suite proves those modules need no Odoo.
"""
import os
import sys
import types
from urllib.parse import urlsplit

import pytest

ADDON_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bookings_invoicing")
_package = types.ModuleType("bookings_invoicing")
_package.__path__ = [ADDON_DIR]
sys.modules.setdefault("bookings_invoicing", _package)

from bookings_invoicing.graph import BookingsClient, GraphSettings  # noqa: E402
from bookings_peer import BookingsPeer, Store, seed_business  # noqa: E402

TENANT, CLIENT_ID, SECRET = "tenant-a", "client-a", "s3cret-value"
BUSINESS = "salon@contoso.onmicrosoft.com"


@pytest.fixture
def store():
    store = Store()
    store.add_client(TENANT, CLIENT_ID, SECRET)
    seed_business(store, TENANT, BUSINESS, "Contoso Salon", seed="tests", customers=30, services=8,
                  appointments=120)
    return store


@pytest.fixture
def peer(store, monkeypatch):
    with BookingsPeer(store, page_size=25) as peer:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", peer.ca_file)
        yield peer


def settings_for(peer, **overrides):
    values = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": SECRET, "authority_url": peer.url,
              "graph_url": peer.url, "timeout": (5.0, 5.0), "backoff_factor": 0.01,
              "allowed_hosts": frozenset([urlsplit(peer.url).netloc])}
    values.update(overrides)
    return GraphSettings(**values)


@pytest.fixture
def client(peer):
    return BookingsClient(settings_for(peer))
