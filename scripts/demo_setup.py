"""The demo's month, played through ``odoo shell`` (``scripts/demo.sh``, the browser suite). On a new database, the
demo business is synchronized with the local Bookings peer (at ``$BOOKINGS_PEER_URL`` when set) and last month's
completed bookings are invoiced, as the accountant did at month-end. Then the salon's staff make their changes in
Bookings (the peer's planned changes) and the business is synchronized again. The demo shows bookings to invoice,
drafts, cancellations and bookings to review."""
import datetime
import os
from urllib.parse import quote

import pytz
import requests

from odoo import fields

business = env.ref("bookings_invoicing.demo_business")
if os.environ.get("BOOKINGS_PEER_URL"):
    business.write({"authority_url": os.environ["BOOKINGS_PEER_URL"], "graph_url": os.environ["BOOKINGS_PEER_URL"]})
env.cr.commit()  # the synchronization works in a transaction of its own, which must see the peer's address


def synchronize():
    """Synchronize, and the run's summary, read in a new transaction (the run was written in another)."""
    run = business._synchronize()
    env.cr.commit()
    return run.summary


if not business.last_sync_date:
    print("[demo] %s: %s" % (business.name, synchronize()))
    accountant = env.ref("bookings_invoicing.demo_user_bookings")
    month_start = pytz.timezone(accountant.tz).localize(
        datetime.datetime.combine(datetime.date.today().replace(day=1), datetime.time()))
    rows = env["bookings.appointment"].sudo(accountant).search(
        [("business_id", "=", business.id), ("invoice_status", "=", "to_invoice"),
         ("end", "<", fields.Datetime.to_string(month_start.astimezone(pytz.utc)))])
    invoices, skipped = rows._create_invoices()
    env.cr.commit()
    print("[demo] last month: %d bookings on %d draft invoices" % (len(rows) - len(skipped), len(invoices)))

changed = requests.post("%s/_peer/businesses/%s/planned-changes" % (business.graph_url, quote(business.mailbox)),
                        timeout=30)
changed.raise_for_status()
print("[demo] %d bookings changed or cancelled in Bookings; %s" % (
    changed.json()["applied"], synchronize()))
