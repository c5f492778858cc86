"""Seeding a store with one generated business, of a kind: "varied" spreads every variation the service gives over
generic services (tests, benchmarks); "salon" is the demo's salon and spa (its own services and customers)."""
from .data import Generator
from .salon import SalonGenerator

KINDS = {"varied": Generator, "salon": SalonGenerator}


def seed_business(store, tenant_id, business_id, name, seed="demo", customers=40, services=8, appointments=200,
                  currency="USD", now=None, days_back=60, days_ahead=30, kind="varied"):
    """Fill ``store`` with one generated business and plan the changes its staff make after the first read;
    returns the generator (its ``now`` is the reference time)."""
    generator = KINDS[kind](seed=seed, now=now)
    entry = store.add_business(tenant_id, generator.business(business_id, name, currency))
    collections = generator.populate(customers, services, appointments, days_back, days_ahead)
    with store.lock:
        for collection, items in collections.items():
            entry[collection].update((item["id"], item) for item in items)
        store.version += 1
    store.plan(business_id, generator.planned_changes(collections["appointments"]))
    return generator
