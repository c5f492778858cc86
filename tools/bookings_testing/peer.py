"""The local Bookings peer in a process of its own (the benchmarks, the integration and browser suites)."""
import json
import os
import subprocess
import sys

from . import wait_for


def start_peer(folder, port, appointments, customers=500, services=8, seed="bench",
               business="bench@contoso.onmicrosoft.com", page_size=100, executable=None, kind="varied", now=None,
               env=None):
    """``(process, connection settings)``: a peer serving a seeded business; terminate the process when done.
    ``executable`` is the ``bookings-peer`` command, by default the one beside the running Python; ``now``, the
    reference time of the seeded data (ISO 8601; the appointments lie from 60 days before it to 30 after); ``env``,
    the process's environment (by default this one's)."""
    connection = os.path.join(folder, "connection-%s.json" % port)
    process = subprocess.Popen(
        [executable or os.path.join(os.path.dirname(sys.executable), "bookings-peer"), "--port", str(port),
         "--appointments", str(appointments), "--customers", str(customers), "--services", str(services),
         "--seed", seed, "--kind", kind, "--business", business, "--page-size", str(page_size), "--cert-dir", folder,
         "--connection-file", connection] + (["--now", now] if now else []),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for(lambda: os.path.exists(connection) and os.path.getsize(connection) > 0, "the Bookings peer",
                 timeout=120, process=process, interval=0.1)
    except AssertionError:
        process.kill()
        raise
    with open(connection) as handle:
        return process, json.load(handle)
