"""The demo's month, played through ``odoo shell`` (``scripts/demo.sh``, the browser suite). On a new database, the
demo business is synchronized with the local Bookings peer (at ``$BOOKINGS_PEER_URL`` when set) and last month's
completed bookings are invoiced, as the accountant did at month-end. Then the salon's staff make their changes in
Bookings (the peer's planned changes) and the business is synchronized again, and the front desk marks a customer
who did not come as a no-show. Three customers work for the salon's corporate client, which pays for their visits
with a purchase order a month. The demo shows bookings to invoice, drafts, cancellations, bookings to review of each
kind (changed on a draft, cancelled on a validated invoice), and late cancellations and a no-show to charge."""
import datetime
import os
from urllib.parse import quote, urlsplit

import pytz
import requests

from odoo import fields

from bookings_peer.salon import CORPORATE_CLIENT, CORPORATE_EMPLOYEES, invoiced_before

business = env.ref("bookings_invoicing.demo_business")
if os.environ.get("BOOKINGS_BASE_URL"):
    env["ir.config_parameter"].set_param("web.base.url", os.environ["BOOKINGS_BASE_URL"])
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
if os.environ.get("BOOKINGS_PEER_URL"):
    env["ir.config_parameter"].set_param("bookings_invoicing.allowed_hosts",
                                         urlsplit(os.environ["BOOKINGS_PEER_URL"]).netloc)
    business.write({"authority_url": os.environ["BOOKINGS_PEER_URL"], "graph_url": os.environ["BOOKINGS_PEER_URL"]})
env.cr.commit()  # the synchronization works in a transaction of its own, which must see the peer's address
changes_url = "%s/_peer/businesses/%s/planned-changes" % (business.graph_url, quote(business.mailbox))


def synchronize():
    """Synchronize, and the run's summary, read in a new transaction (the run was written in another)."""
    run = business._synchronize()
    env.cr.commit()
    return run.summary


if not business.last_sync_date:
    print("[demo] %s: %s" % (business.name, synchronize()))
    # the salon's corporate client pays for its employees' visits, at its accounts payable address
    fabrikam = env["res.partner"].create({"name": CORPORATE_CLIENT, "is_company": True, "city": "Chicago",
                                          "email": "contact@fabrikam.example.com"})
    env["res.partner"].create({"name": "Accounts Payable", "type": "invoice", "parent_id": fabrikam.id,
                               "email": "ap@fabrikam.example.com", "street": "200 W Madison St",
                               "city": "Chicago", "zip": "60606"})
    env["bookings.customer"].search([("business_id", "=", business.id), ("name", "in", CORPORATE_EMPLOYEES)]).mapped(
        "partner_id").write({"parent_id": fabrikam.id})
    accountant = env.ref("bookings_invoicing.demo_user_bookings")
    today = fields.Date.from_string(fields.Date.context_today(accountant))  # her day, in Chicago
    month_start = pytz.timezone(accountant.tz).localize(
        datetime.datetime.combine(today.replace(day=1), datetime.time()))
    closed = invoiced_before(month_start.astimezone(pytz.utc).replace(tzinfo=None), datetime.datetime.utcnow())
    planned = requests.get(changes_url, timeout=30)
    planned.raise_for_status()
    touched = {change["id"]: change["cancelled"] for change in planned.json()["value"]}
    # last month's bookings; those the staff will cancel late ended after it and wait for the fee
    rows = env["bookings.appointment"].sudo(accountant).search(
        [("business_id", "=", business.id), ("invoice_status", "=", "to_invoice"),
         ("end", "<", fields.Datetime.to_string(closed))])
    invoices, skipped = rows._create_invoices()
    # the accountant validated the invoice of a booking the staff will cancel, not that of the one they will change
    on_invoice = rows.filtered(lambda row: row.bookings_id in touched and row.invoice_id)
    changed_invoices = on_invoice.filtered(lambda row: not touched[row.bookings_id]).mapped("invoice_id")
    cancelled_invoices = on_invoice.filtered(lambda row: touched[row.bookings_id]).mapped("invoice_id")
    # one of them, when another cancelled booking stays on a draft
    validated = (cancelled_invoices - changed_invoices)[:1] if len(cancelled_invoices) > 1 else invoices.browse()
    validated.sudo(accountant).action_invoice_open()  # dated her day
    env.cr.commit()
    print("[demo] last month: %d bookings on %d draft invoices, %d validated" % (
        len(rows) - len(skipped), len(invoices), len(validated)))

changed = requests.post(changes_url, timeout=30)
changed.raise_for_status()
print("[demo] %d bookings changed or cancelled in Bookings; %s" % (
    changed.json()["applied"], synchronize()))

if not env["bookings.appointment"].search_count([("business_id", "=", business.id), ("no_show", "=", True)]):
    accountant = env.ref("bookings_invoicing.demo_user_bookings")
    missed = env["bookings.appointment"].sudo(accountant).search(
        [("business_id", "=", business.id), ("invoice_status", "=", "to_invoice"), ("is_completed", "=", True),
         ("state", "=", "active"), ("price_type", "=", "fixedPrice"), ("customer_name", "!=", False)], limit=1)
    missed.action_mark_no_show("Did not come, did not answer the reminder call.")
    env.cr.commit()
business.invalidate_cache()
print("[demo] %d late cancellations and no-shows to charge" % business.fee_count)
