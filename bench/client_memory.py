"""Peak memory of the Graph client reading a large business page by page, against the local peer.

The peer runs in a process of its own, so this process's tracemalloc peak is the client's alone. The same read
is measured at two sizes; a peak that does not grow with the size shows that only one page is held at a time.
A baseline from the same run: the same records gathered in a list (what a client that held everything would keep).

Usage: python bench/client_memory.py [SIZE ...]   (default: 10000 40000)
"""
import datetime
import os
import sys
import tempfile
import time
import tracemalloc
import types
from urllib.parse import urlsplit

import pytz

# the Graph client alone, without the add-on's Odoo models (as in tests/conftest.py)
_package = types.ModuleType("bookings_invoicing")
_package.__path__ = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bookings_invoicing")]
sys.modules.setdefault("bookings_invoicing", _package)
from bookings_testing.peer import start_peer  # noqa: E402

from bookings_invoicing.graph import BookingsClient, GraphSettings  # noqa: E402


def measure(connection, hold):
    os.environ["REQUESTS_CA_BUNDLE"] = connection["ca_file"]
    client = BookingsClient(GraphSettings(
        tenant_id=connection["tenant_id"], client_id=connection["client_id"],
        client_secret=connection["client_secret"], authority_url=connection["url"], graph_url=connection["url"],
        allowed_hosts=frozenset([urlsplit(connection["url"]).netloc])))
    client.get_business(connection["business_id"])  # sign in first: msal's own objects are not the read's
    window = (datetime.datetime(2000, 1, 1, tzinfo=pytz.utc), datetime.datetime(2100, 1, 1, tzinfo=pytz.utc))
    tracemalloc.start()
    started = time.perf_counter()
    count, kept = 0, []
    for page in client.appointment_pages(connection["business_id"], *window):
        count += len(page.records)
        if hold:
            kept.extend(page.records)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak, seconds


def main(sizes):
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for index, size in enumerate(sizes):
            process, connection = start_peer(folder, 18443 + index, appointments=size, seed="bench-%d" % size)
            try:
                count, peak, seconds = measure(connection, hold=False)
                _count, held_peak, _seconds = measure(connection, hold=True)
            finally:
                process.terminate()
                process.wait()
            rows.append((size, count, peak, held_peak, seconds))
    print("%10s %10s %16s %20s %10s" % ("size", "read", "peak (page by page)", "baseline: all held", "seconds"))
    for size, count, peak, held_peak, seconds in rows:
        print("%10d %10d %16.1f KiB %16.1f KiB %10.2f" % (size, count, peak / 1024, held_peak / 1024, seconds))
    if len(rows) > 1:
        print("peak ratio %d vs %d: %.2f (page by page), %.2f (all held)" % (
            rows[-1][0], rows[0][0], rows[-1][2] / rows[0][2], rows[-1][3] / rows[0][3]))


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [10000, 40000])
