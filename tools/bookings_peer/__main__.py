"""Run the local Bookings peer standalone: ``bookings-peer --seed demo --port 8443``.

It prints (and with ``--connection-file`` writes as JSON) what to configure in Odoo: the URL to use as both the
authority and the Graph URL, the tenant, client id and secret, the business id and the CA file to trust.
"""
import argparse
import json
import os
import signal
import sys
import threading

from cryptography import x509
from dateutil import tz
from dateutil.parser import isoparse

from .certificates import make_certificate
from .data import Store
from .seed import KINDS, seed_business
from .server import BookingsPeer

FAULTS_HELP = """faults on demand, while it runs:
  POST /_peer/faults with a JSON object: "path" (a part of the request paths it hits), and any of
    "status" (an HTTP status, with "retry_after" for 429/503), "body" (a raw body), "delay" (seconds),
    "reset" (close the connection), "repeat_next_link", "redirect" (a Location), "huge" (bytes),
    "trickle" (seconds between two bytes), "page", "method", "times" (null: every request)
  DELETE /_peer/faults clears them; GET /_peer/requests lists the requests received.
  e.g. curl --cacert ca.pem -X POST https://127.0.0.1:8443/_peer/faults -d '{"path": "calendarView", "status": 429,
       "retry_after": 5}'"""


def _utc(text):
    moment = isoparse(text)
    return moment.astimezone(tz.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def client_certificate(path):
    """The certificate of the PEM file ``path``, made there (with its private key) when absent."""
    if not os.path.exists(path):
        with open(path, "wb") as handle:
            handle.write(make_certificate("Bookings invoicing demo")[1])
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def _parser():
    parser = argparse.ArgumentParser(
        prog="bookings-peer", description=__doc__.splitlines()[0], epilog=FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--seed", default="demo")
    parser.add_argument("--now", type=_utc, help="the reference time of the seeded data, ISO 8601 (default: now)")
    parser.add_argument("--kind", choices=sorted(KINDS), default="salon",
                        help="salon: the demo's salon and spa; varied: every variation over generic services")
    parser.add_argument("--tenant", default="contoso-tenant")
    parser.add_argument("--client-id", default="bookings-invoicing-demo")
    parser.add_argument("--secret", default="demo-secret", help="empty: the tenant allows no client secret")
    parser.add_argument("--certificate-file",
                        help="the client also signs in with this certificate: a PEM file with its private key, to "
                             "upload in Odoo (made there when absent)")
    parser.add_argument("--permissions", nargs="+", metavar="PERMISSION",
                        default=["Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All"],
                        help="the application permissions granted to the client (the token's roles)")
    parser.add_argument("--user", nargs=2, action="append", metavar=("LOGIN", "NAME"),
                        help="a user of the tenant who can sign in with Microsoft (delegated permissions); "
                             "default: manager@contoso.onmicrosoft.com, Max Manager")
    parser.add_argument("--business", default="demo-salon@contoso.onmicrosoft.com")
    parser.add_argument("--business-name", default="Contoso Salon & Spa")
    parser.add_argument("--currency", default="USD")
    parser.add_argument("--customers", type=int, default=40, help="varied businesses only")
    parser.add_argument("--services", type=int, default=8, help="varied businesses only")
    parser.add_argument("--appointments", type=int, default=400)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--cert-dir", help="keep the certificates in this folder (reused when present)")
    parser.add_argument("--connection-file", help="write the connection settings to this JSON file")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    store = Store()
    store.add_client(args.tenant, args.client_id, args.secret or None, permissions=args.permissions,
                     certificates=[client_certificate(args.certificate_file)] if args.certificate_file else ())
    for login, name in args.user or [("manager@contoso.onmicrosoft.com", "Max Manager")]:
        store.add_user(args.tenant, login, name)
    seed_business(store, args.tenant, args.business, args.business_name, seed=args.seed, customers=args.customers,
                  services=args.services, appointments=args.appointments, currency=args.currency, kind=args.kind,
                  now=args.now)
    peer = BookingsPeer(store, port=args.port, page_size=args.page_size, cert_dir=args.cert_dir).start()
    connection = {"url": peer.url, "tenant_id": args.tenant, "client_id": args.client_id,
                  "client_secret": args.secret, "business_id": args.business, "ca_file": peer.ca_file}
    if args.connection_file:
        with open(args.connection_file, "w") as handle:
            json.dump(connection, handle, indent=2)
    # the command's own output, which scripts and people read: pylint: disable=print-used
    print("Bookings peer serving %s (%d appointments); trust %s" % (peer.url, args.appointments, peer.ca_file))
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    peer.stop()


if __name__ == "__main__":
    main()
