"""Benchmarks of the synchronization, the invoicing and the Uninvoiced Bookings list, each beside a baseline
measured in the same run on the same machine. Figures are medians of several runs (the first sync of a size
runs once: it creates what the next runs would find). Not a test: it prints a table and writes JSON.

Usage: .venv/bin/python bench/odoo_bench.py [--quick] [--runs N] [--json FILE] (the project's environment, with Odoo)

Each measurement of the Odoo side runs in a child process of its own (peak memory is that process's), against a
database ``bookings_bench`` created for the run (and dropped at its end) and the local Bookings peer in another
process.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import closing, contextmanager
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
from bookings_testing import wait_for  # noqa: E402
from bookings_testing.odoo_process import Rpc, pg_connect, running_odoo  # noqa: E402

DB = os.environ.get("BENCH_DB", "bookings_bench")
CONF = os.environ.get("ODOO_CONF", os.path.join(ROOT, "var", "odoo.conf"))


# --- child side: runs inside an Odoo registry ---------------------------------------------------------------------
def median_time(function, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def business_values(name, settings):
    """A business reading the peer of connection ``settings``, with a window that holds all its appointments."""
    return {"name": name, "mailbox": settings["business_id"], "tenant_id": settings["tenant_id"],
            "client_id": settings["client_id"], "client_secret": settings["client_secret"],
            "authority_url": settings["url"], "graph_url": settings["url"], "sync_days_back": 400,
            "sync_days_ahead": 400}


def business_for(env, connection, name):
    values = business_values(name, connection)
    business = env["bookings.business"].search([("mailbox", "=", values["mailbox"])])
    allow_host(env, connection["url"])
    return business or env["bookings.business"].create(values)


def allow_host(env, url):
    """Let businesses reach the host of ``url`` (a local peer is no Microsoft host), beside those already allowed."""
    Parameter = env["ir.config_parameter"].sudo()
    hosts = set(filter(None, (Parameter.get_param("bookings_invoicing.allowed_hosts") or "").split(",")))
    Parameter.set_param("bookings_invoicing.allowed_hosts", ",".join(sorted(hosts | {url.split("/")[2]})))


def rows_written(cr, business, since):
    cr.execute("SELECT count(*) FROM bookings_appointment WHERE business_id = %s AND write_date >= %s",
               (business.id, since))
    return cr.fetchone()[0]


def child_first_sync(env, cr, args):
    """One first synchronization: seconds, rows, peak memory growth of this process."""
    os.environ["REQUESTS_CA_BUNDLE"] = args["connection"]["ca_file"]
    business = business_for(env, args["connection"], "Bench %s" % args["label"])
    cr.execute("SELECT max(id) FROM res_partner")
    last_partner = cr.fetchone()[0]
    cr.commit()  # this cursor's next transaction, and its snapshot, begin after the synchronization
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = business._synchronize()
    seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = env["bookings.appointment"].search_count([("business_id", "=", business.id)])
    assert rows, ("the first synchronization made no row", run.state)
    cr.commit()
    partners = env["res.partner"].search([("id", ">", last_partner)])
    return {"seconds": seconds, "rows": rows, "state": run.state, "peak_kib": rss_after - rss_before,
            "rss_kib": rss_after, "partners": len(partners),
            "partner_floor_seconds": partner_floor(env, cr, partners) * len(partners)}


def partner_floor(env, cr, partners, sample=100):
    """Seconds per partner of Odoo's own ``res.partner.create`` with the values of ``partners`` (a sample of them,
    rolled back): what a first synchronization cannot go below while it creates partners through the ORM."""
    values = [{"name": p.name, "email": p.email, "phone": p.phone, "customer": True, "is_company": False,
               "company_id": p.company_id.id, "street": p.street, "city": p.city, "zip": p.zip,
               "country_id": p.country_id.id, "state_id": p.state_id.id} for p in partners[:sample]]
    if not values:
        return 0.0
    Partner = env["res.partner"].with_context(tracking_disable=True)
    started = time.perf_counter()
    for value in values:
        Partner.create(value)
    seconds = time.perf_counter() - started
    cr.rollback()
    return seconds / len(values)


def child_resync(env, cr, args):
    """Fetch-only baseline and re-synchronizations of a business synchronized before."""
    from odoo.addons.bookings_invoicing.graph import read_all

    os.environ["REQUESTS_CA_BUNDLE"] = args["connection"]["ca_file"]
    business = business_for(env, args["connection"], "Bench %s" % args["label"])
    mailbox = business.mailbox

    def fetch_only():
        client = business._graph_client()
        client.get_business(mailbox)
        read_all(client.service_pages(mailbox))
        read_all(client.customer_pages(mailbox))
        read_all(client.staff_pages(mailbox))
        now = datetime.datetime.utcnow()
        window = [pytz_utc(now - datetime.timedelta(days=400)), pytz_utc(now + datetime.timedelta(days=400))]
        for _page in client.appointment_pages(mailbox, *window):
            pass

    baseline = median_time(fetch_only, args["runs"])
    written = []

    def resync():
        since = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
        time.sleep(1.01)  # write_date has a one-second resolution
        business._synchronize()
        cr.commit()
        written.append(rows_written(cr, business, since))

    seconds = median_time(resync, args["runs"]) - 1.01
    return {"baseline_seconds": baseline, "seconds": seconds, "rows_written": max(written)}


def child_changed_sync(env, cr, args):
    """A re-synchronization after the peer changed some appointments and dropped others."""
    os.environ["REQUESTS_CA_BUNDLE"] = args["connection"]["ca_file"]
    business = business_for(env, args["connection"], "Bench %s" % args["label"])
    since = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
    time.sleep(1.01)
    started = time.perf_counter()
    run = business._synchronize()
    seconds = time.perf_counter() - started
    cr.commit()
    return {"seconds": seconds, "rows_written": rows_written(cr, business, since),
            "updated": run.appointments_updated, "cancelled": run.appointments_cancelled}


def pytz_utc(moment):
    import pytz

    return pytz.utc.localize(moment)


def invoicing_fixture(env, customers, per_customer, orders=True, name="Bench invoicing"):
    """A business with ``customers x per_customer`` completed rows, and (``orders``) the same work as confirmed sale
    orders."""
    tax = env["account.tax"].search([("type_tax_use", "=", "sale"), ("amount_type", "=", "percent")], limit=1)
    product = env["product.product"].create({"name": "Bench service", "type": "service", "list_price": 50.0,
                                             "invoice_policy": "order", "taxes_id": [(6, 0, tax.ids)]})
    business = env["bookings.business"].create({
        "name": name, "mailbox": "%s@bench.example.com" % name.lower().replace(" ", "-"), "tenant_id": "t",
        "client_id": "c", "client_secret": "s"})
    service = env["bookings.service"]._bookings_as_mirror().create({
        "business_id": business.id, "bookings_id": "svc", "name": "Bench", "product_id": product.id,
        "price_type": "fixedPrice"})
    Appointment = env["bookings.appointment"]._bookings_as_mirror().with_context(tracking_disable=True)
    Partner = env["res.partner"].with_context(tracking_disable=True)
    Order = env["sale.order"].with_context(tracking_disable=True)
    currency = env.user.company_id.currency_id
    rows, made = Appointment, Order
    # an hour apart, all of them ended a day ago or earlier
    start = datetime.datetime.utcnow() - datetime.timedelta(hours=customers * per_customer + 24)
    for index in range(customers):
        partner = Partner.create({"name": "Bench customer %d" % index, "email": "bench%d@example.com" % index})
        for line in range(per_customer):
            moment = start + datetime.timedelta(hours=index * per_customer + line)
            rows |= Appointment.create({
                "business_id": business.id, "bookings_id": "bench-%d-%d" % (index, line), "attendee_key": "c",
                "partner_id": partner.id, "service_id": service.id, "service_name": "Bench", "customer_name":
                partner.name, "start": moment, "end": moment + datetime.timedelta(hours=1), "duration": 1.0,
                "price": 50.0, "price_type": "fixedPrice", "currency_id": currency.id})
        if orders:
            made |= Order.create({"partner_id": partner.id, "order_line": [
                (0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": 50.0,
                        "name": "Bench line %d" % n}) for n in range(per_customer)]})
    for order in made:  # one by one: on several orders at once, Odoo 11 trips over a singleton
        order.action_confirm()
    return rows, made, product, tax


def child_invoicing(env, cr, args):
    rows, orders, product, tax = invoicing_fixture(env, args["customers"], args["per_customer"])
    cr.commit()
    account = product.categ_id.property_account_income_categ_id

    def bookings():
        return rows.browse(rows.ids)._create_invoices(grouping="customer")[0]

    def sale_orders():
        return env["account.invoice"].browse(orders.browse(orders.ids).action_invoice_create())

    tables = written_rows(cr, bookings())
    results, signatures = {}, {}
    for name, function in (("bookings", bookings), ("sale_order", sale_orders),
                           ("floor", lambda: orm_floor(env, orders, product, account, tax)),
                           ("sql_floor", lambda: sql_floor(env, cr, tables))):
        results[name], signatures[name] = measured_invoicing(env, cr, function, args["runs"], args["customers"])
    results["identical"] = len(set(signatures.values())) == 1
    return results


def measured_invoicing(env, cr, function, runs, customers):
    """``({seconds, queries}, signature)``: medians of ``runs`` runs of ``function``, which makes an invoice for each
    of ``customers`` customers, each rolled back; the signature of what it made."""
    times, queries = [], []
    for _ in range(runs):
        env.cache.invalidate()
        count = cr.sql_log_count
        started = time.perf_counter()
        invoices = function()
        times.append(time.perf_counter() - started)
        queries.append(cr.sql_log_count - count)
        assert len(invoices) == customers, (function, len(invoices))
        signature = invoice_signature(env["account.invoice"].browse(invoices.ids))
        cr.rollback()
    return {"seconds": statistics.median(times), "queries": int(statistics.median(queries))}, signature


def orm_floor(env, orders, product, account, tax):
    """The same invoices made the plainest fast way: the invoice, its lines, its taxes; no booking logic."""
    Invoice = env["account.invoice"].with_context(tracking_disable=True)
    invoices = Invoice
    for order in orders.browse(orders.ids):
        invoice = Invoice.create({"partner_id": order.partner_id.id, "type": "out_invoice"})
        for line in order.order_line:
            env["account.invoice.line"].create({
                "invoice_id": invoice.id, "product_id": product.id, "name": line.name, "quantity": 1,
                "price_unit": 50.0, "account_id": account.id, "invoice_line_tax_ids": [(6, 0, tax.ids)]})
        invoice.compute_taxes()
        invoices |= invoice
    return invoices


def written_rows(cr, invoices):
    """The rows of ``invoices`` (the add-on's), read back and rolled back: what the physical floor writes again."""
    tables = {}
    for table, column in (("account_invoice", "id"), ("account_invoice_line", "invoice_id"),
                          ("account_invoice_tax", "invoice_id")):
        cr.execute("SELECT * FROM %s WHERE %s IN %%s ORDER BY id" % (table, column), (tuple(invoices.ids),))
        tables[table] = cr.dictfetchall()
    cr.execute("SELECT * FROM account_invoice_line_tax WHERE invoice_line_id IN %s",
               (tuple(row["id"] for row in tables["account_invoice_line"]),))
    tables["account_invoice_line_tax"] = cr.dictfetchall()
    cr.rollback()
    return tables


def sql_floor(env, cr, tables):
    """The invoice, line and tax rows of ``tables`` written again with plain SQL INSERTs: the physical limit, no
    ORM at all."""
    made = []
    for invoice in tables["account_invoice"]:
        made.append(insert_rows(cr, "account_invoice", [invoice])[0])
        lines = [row for row in tables["account_invoice_line"] if row["invoice_id"] == invoice["id"]]
        new_lines = dict(zip([line["id"] for line in lines],
                             insert_rows(cr, "account_invoice_line", [dict(line, invoice_id=made[-1])
                                                                      for line in lines])))
        insert_rows(cr, "account_invoice_line_tax", [dict(row, invoice_line_id=new_lines[row["invoice_line_id"]])
                                                     for row in tables["account_invoice_line_tax"]
                                                     if row["invoice_line_id"] in new_lines], returning=False)
        insert_rows(cr, "account_invoice_tax", [dict(row, invoice_id=made[-1])
                                                for row in tables["account_invoice_tax"]
                                                if row["invoice_id"] == invoice["id"]])
    return env["account.invoice"].browse(made)


def invoice_signature(invoices):
    """What must be identical between two ways of invoicing the same work: amounts, taxes and accounts."""
    def lines(invoice):
        return tuple(sorted((line.account_id.id, line.price_subtotal, tuple(line.invoice_line_tax_ids.ids))
                            for line in invoice.invoice_line_ids))

    def taxes(invoice):
        return tuple(sorted((tax.tax_id.id, tax.account_id.id, tax.amount) for tax in invoice.tax_line_ids))

    return tuple(sorted((invoice.partner_id.id, invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total,
                         invoice.account_id.id, lines(invoice), taxes(invoice)) for invoice in invoices))


def insert_rows(cr, table, rows, returning=True):
    """One INSERT of ``rows`` (dicts of column values, their ids left out) into ``table``; returns the new ids, in
    the order of ``rows`` (none for a relation table: ``returning=False``)."""
    if not rows:
        return []
    columns = [column for column in rows[0] if column != "id"]
    values = ", ".join(cr.mogrify("%s", (tuple(row[column] for column in columns),)).decode() for row in rows)
    cr.execute("INSERT INTO %s (%s) VALUES %s%s" % (table, ", ".join(columns), values,
                                                    " RETURNING id" if returning else ""))
    return [row[0] for row in cr.fetchall()] if returning else []


def child_invoicing_rows(env, cr, args):
    """Commit a business (``business``, a name) of ``customers x per_customer`` completed rows to invoice."""
    rows = invoicing_fixture(env, args["customers"], args["per_customer"], orders=False,
                             name=args.get("business", "Bench batch"))[0]
    cr.commit()
    return {"rows": len(rows)}


def batch_rows(env):
    return env["bookings.appointment"].search([("business_id.name", "=", "Bench batch"),
                                                ("invoice_status", "=", "to_invoice")])


def child_invoicing_immediate(env, cr, args):
    """The immediate path (one transaction, as Invoice All below the threshold) on the rows of the batch; rolled
    back, so that the batch finds them."""
    rows = batch_rows(env)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    invoices = rows._create_invoices()[0]
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "rows": len(rows), "invoices": len(invoices),
              "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before}
    cr.rollback()
    return result


def child_invoicing_batch(env, cr, args):
    """The background path: a batch of the rows, its queue_job jobs performed one after the other in this process as
    a worker performs them (each job in a transaction of its own, committed)."""
    from odoo.addons.queue_job.job import Job

    rows = batch_rows(env)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    batch = env["bookings.invoice.batch"]._invoice_in_background(rows, False)
    cr.commit()
    waiting = env["queue.job"].search([("state", "=", "pending")], order="id")
    while waiting:  # the parts, then the closings they queue
        for record in waiting:
            job = Job.load(env, record.uuid)
            job.set_started()
            job.store()
            cr.commit()
            job.perform()
            job.set_done()
            job.store()
            cr.commit()
        waiting = env["queue.job"].search([("state", "=", "pending")], order="id")
    seconds = time.perf_counter() - started
    env.cache.invalidate()
    assert batch.state == "done", batch.state
    return {"seconds": seconds, "rows": len(rows), "invoices": batch.invoice_count, "parts": len(batch.part_ids),
            "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before}


def child_batch_outcome(env, cr, args):
    """What a batch run by queue_job's runner made: its state, every row of its parts on exactly one line of its
    invoices, every invoice's total the sum of its rows to the cent."""
    batch = env["bookings.invoice.batch"].browse(args["batch"])
    rows = batch.part_ids.mapped("row_ids")
    cents = defaultdict(int)
    for row in rows:
        cents[row.invoice_id] += round(row.amount * 100)
    return {"state": batch.state, "rows": len(rows), "parts": len(batch.part_ids), "invoices": batch.invoice_count,
            "one_line_each": len(rows.mapped("invoice_line_id")) == len(rows) == sum(
                len(invoice.invoice_line_ids) for invoice in batch.invoice_ids),
            "totals_exact": all(round(invoice.amount_untaxed * 100) == cents[invoice] for invoice in batch.invoice_ids)
            and set(cents) == set(batch.invoice_ids)}


def fill_list(env, cr, business, rows):
    """Rows of ``business`` inserted in bulk up to ``rows`` in all (the list's own table, which is the add-on's),
    then vacuumed and analyzed."""
    partner = env["res.partner"].search([], limit=1)
    cr.execute("SELECT count(*) FROM bookings_appointment")
    missing = rows - cr.fetchone()[0]
    if missing > 0:
        # a realistic mix: most completed and to invoice, some in the future, invoiced or without customer
        cr.execute("""
            INSERT INTO bookings_appointment (business_id, company_id, bookings_id, attendee_key, partner_id,
                customer_name, service_name, start, "end", duration, price, price_type, currency_id, state,
                invoice_status, amount, quantity, unit_price, create_uid, create_date, write_uid, write_date)
            SELECT %(business)s, %(company)s, 'list-' || n || '-' || %(offset)s, 'c',
                   CASE WHEN n %% 10 = 3 THEN NULL ELSE %(partner)s END, 'Customer ' || n, 'Service ' || (n %% 20),
                   now() at time zone 'utc' - (n %% 900 || ' hours')::interval + (CASE WHEN n %% 10 = 7
                       THEN '60 days' ELSE '0 days' END)::interval,
                   now() at time zone 'utc' - (n %% 900 || ' hours')::interval + (CASE WHEN n %% 10 = 7
                       THEN '60 days' ELSE '0 days' END)::interval + interval '1 hour',
                   1.0, 50.0, 'fixedPrice', %(currency)s, 'active',
                   CASE WHEN n %% 10 = 3 THEN 'no_customer' WHEN n %% 10 = 5 THEN 'invoiced' ELSE 'to_invoice' END,
                   50.0, 1.0, 50.0, 1, now() at time zone 'utc', 1, now() at time zone 'utc'
              FROM generate_series(1, %(missing)s) AS n""",
                   {"business": business.id, "company": business.company_id.id, "partner": partner.id,
                    "currency": business.company_id.currency_id.id,
                    "missing": missing, "offset": rows})
        cr.commit()
        cr.autocommit(True)  # VACUUM runs outside a transaction; autovacuum would do it in production
        cr.execute("VACUUM ANALYZE bookings_appointment")
        cr.autocommit(False)


def child_list(env, cr, args):
    """The Uninvoiced Bookings list and Invoice All's preview at a given number of rows (inserted in bulk), as a
    Bookings user sees them."""
    business = env["bookings.business"].search([("mailbox", "=", "list@bench.example.com")])
    if not business:
        business = env["bookings.business"].create({"name": "Bench list", "mailbox": "list@bench.example.com",
                                                    "tenant_id": "t", "client_id": "c", "client_secret": "s"})
    fill_list(env, cr, business, args["rows"])
    user = env["res.users"].search([("login", "=", "bench-user")])
    if not user:
        user = env["res.users"].create({"name": "Bench user", "login": "bench-user", "groups_id": [
            (6, 0, [env.ref("bookings_invoicing.group_bookings_invoicing_user").id])]})
        cr.commit()
    Appointment = env["bookings.appointment"].sudo(user)
    domain = Appointment._uninvoiced_domain() + [("invoice_status", "=", "to_invoice")]  # the list's default
    fields = ["start", "partner_id", "customer_name", "service_name", "duration", "price_type", "amount",
              "currency_id", "price_to_confirm", "needs_review", "invoice_status", "business_id"]

    def open_list():
        env.cache.invalidate()
        Appointment.search_count(domain)
        Appointment.search_read(domain, fields, limit=80)

    def preview():
        """Invoice All's preview of every completed row to invoice (as its form computes it on each change)."""
        env.cache.invalidate()
        wizard = env["bookings.invoice.wizard"].sudo(user)
        wizard.new({"date_until": datetime.date.today().isoformat(), "grouping": "customer"})._preview()

    open_list()  # warm the caches, as a second look at the list would
    preview()
    return {"seconds": median_time(open_list, args["runs"]), "rows": args["rows"],
            "preview_seconds": median_time(preview, args["runs"])}


def child(name, args):
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(["-c", CONF, "-d", DB, "--log-level=warn"])
    with api.Environment.manage(), odoo.registry(DB).cursor() as cr:
        result = globals()["child_" + name](api.Environment(cr, SUPERUSER_ID, {}), cr, args)
    print(json.dumps(result))


# --- parent side ---------------------------------------------------------------------------------------------------
def run_child(name, **args):
    output = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if output.returncode:
        sys.stderr.write(output.stderr[-4000:])
        raise SystemExit("the %s measurement failed" % name)
    return json.loads(output.stdout.strip().splitlines()[-1])


def odoo(*args):
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "odoo"), "-c", CONF, "-d", DB,
                    "--stop-after-init", "--log-level=warn", "--without-demo=all", "--no-http"] + list(args),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def drop_database():
    env = dict(os.environ, PGPASSWORD=os.environ.get("DB_PASSWORD", "odoo"))
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", os.environ.get("DB_USER", "odoo"), "--if-exists", DB],
                   check=True, env=env)


def fresh_database():
    drop_database()
    odoo("-i", "l10n_generic_coa,sale,bookings_invoicing")


STEPS = ("list", "invoicing", "batch", "sync", "parallel")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each: a smoke run")
    parser.add_argument("--only", nargs="+", choices=STEPS, default=STEPS, help="the measurements to run (all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--appointments", type=int, default=7700, help="about 10,000 rows (group bookings)")
    parser.add_argument("--big-appointments", type=int, default=30800, help="about 40,000 rows")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--invoice-customers", type=int, default=200)
    parser.add_argument("--invoice-lines", type=int, default=5)
    parser.add_argument("--batch-customers", type=int, default=1000, help="customers of the batch (5 rows each)")
    parser.add_argument("--list-rows", type=int, default=100000)
    parser.add_argument("--parallel-businesses", type=int, default=4)
    parser.add_argument("--parallel-appointments", type=int, default=2500, help="appointments of each business")
    parser.add_argument("--json", default=os.path.join(ROOT, "artifacts", "bench.json"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.appointments, args.big_appointments, args.customers = 1, 400, 1600, 100
        args.invoice_customers, args.batch_customers, args.list_rows = 20, 100, 5000
        args.parallel_appointments = 200
    return args


def main():
    args = arguments()
    if args.child:
        return child(args.child[0], json.loads(args.child[1]))
    print("creating the database %s ..." % DB, flush=True)
    fresh_database()
    try:  # the database is the run's: dropped at its end, whatever happens
        results = measurements(args)
        report(results)
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
        print("written: %s" % args.json)
    finally:
        drop_database()


def measurements(args):
    """The results of the measurements ``args.only``."""
    results = {"runs": args.runs}
    if "list" in args.only:
        print("the Uninvoiced Bookings list ...", flush=True)
        small = run_child("list", rows=1000, runs=args.runs * 3)
        large = run_child("list", rows=args.list_rows, runs=args.runs * 3)
        results["list"] = {"small": small, "large": large, "ratio": large["seconds"] / small["seconds"]}
    if "invoicing" in args.only:
        print("invoicing ...", flush=True)
        results["invoicing"] = run_child("invoicing", customers=args.invoice_customers,
                                         per_customer=args.invoice_lines, runs=args.runs)
    if "batch" in args.only:
        print("invoicing %d rows: immediate and as a batch ..." % (args.batch_customers * args.invoice_lines),
              flush=True)
        run_child("invoicing_rows", customers=args.batch_customers, per_customer=args.invoice_lines)
        immediate = run_child("invoicing_immediate")
        results["invoicing_batch"] = dict(run_child("invoicing_batch"), immediate=immediate)
    with tempfile.TemporaryDirectory() as folder:
        if "sync" in args.only:
            results.update(synchronizations(folder, args))
        if "parallel" in args.only:
            print("invoicing %d rows as a batch, with 1 worker then 2 ..." % (
                args.batch_customers * args.invoice_lines), flush=True)
            results["invoicing_batch_parallel"] = parallel_invoicing(args.batch_customers, args.invoice_lines)
            print("synchronizing %d businesses of %d appointments at once, with 1 worker then 2 ..." % (
                args.parallel_businesses, args.parallel_appointments), flush=True)
            results["sync_parallel"] = parallel_sync(folder, args.parallel_businesses, args.parallel_appointments,
                                                     args.customers // 2, args.services)
    return results


def synchronizations(folder, args):
    """The first synchronization at two sizes, then at the first size a re-synchronization without change and one
    after 1 % of changes and cancellations."""
    from bookings_testing.peer import start_peer

    results = {}
    for label, appointments in (("size", args.appointments), ("big", args.big_appointments)):
        print("synchronizing %d appointments ..." % appointments, flush=True)
        process, connection = start_peer(
            folder, 18600 + len(results), appointments=appointments, customers=args.customers,
            services=args.services, seed="bench-%s" % label, business="%s@bench.example.com" % label)
        try:
            results["first_sync_" + label] = run_child("first_sync", connection=connection, label=label)
            if label == "size":
                results["resync"] = run_child("resync", connection=connection, label=label, runs=args.runs)
                changed = change_peer(connection, percent=1)
                results["changed_sync"] = dict(run_child("changed_sync", connection=connection, label=label),
                                               **changed)
        finally:
            process.terminate()
            process.wait()
    return results


# --- parent side: queue_job's runner with one worker, then two -----------------------------------------------------
@contextmanager
def runner_server(workers, port, ca_file=None):
    """An Odoo server of ``workers`` HTTP workers whose queue_job runner gives the add-on's channels as many jobs at
    once, without cron; yields an XML-RPC caller (as admin). Its time limits are raised: this measures throughput,
    the integration suite runs jobs within production's limits."""
    environment = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS="root:%d,root.bookings_sync:%d,root.bookings_invoicing:%d"
                       % (workers, workers, workers))
    if ca_file:
        environment["REQUESTS_CA_BUNDLE"] = ca_file
    with running_odoo(environment, CONF, DB, port, os.devnull, "--workers=%d" % workers, "--max-cron-threads=0",
                      "--limit-time-cpu=3600", "--limit-time-real=3600") as url:
        yield Rpc(url, DB, "admin")


def wait_until(connection, query, params, done, what, timeout=7200):
    """Poll ``query`` until ``done(rows)``; returns the time it took, in seconds."""
    started = time.perf_counter()

    def finished():
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        connection.rollback()  # the next poll sees what was committed since
        return done(rows) or None

    wait_for(finished, what + " to end", timeout=timeout, interval=0.2)
    return time.perf_counter() - started


def parallel_invoicing(customers, per_customer):
    """One batch of ``customers x per_customer`` rows run by the runner with one worker, another (same rows, a
    business of its own) with two: seconds and rows per second of each, the speed-up, and whether each run put every
    row on exactly one line with exact totals."""
    results = {}
    for workers in (1, 2):
        name = "Bench parallel %d" % workers
        run_child("invoicing_rows", customers=customers, per_customer=per_customer, business=name)
        with runner_server(workers, 18640 + 10 * workers) as call, closing(pg_connect(CONF, DB)) as connection:
            started = time.perf_counter()
            rows = call("bookings.appointment", "search", [("business_id.name", "=", name),
                                                           ("invoice_status", "=", "to_invoice")])
            batch = call("bookings.appointment", "action_create_invoices", rows)["res_id"]
            wait_until(connection, "SELECT state FROM bookings_invoice_batch WHERE id = %s", (batch,),
                       lambda found: found[0][0] != "running", "the batch")
            seconds = time.perf_counter() - started
        outcome = run_child("batch_outcome", batch=batch)
        results["workers_%d" % workers] = dict(outcome, seconds=seconds, rows_per_second=outcome["rows"] / seconds)
    results["speedup"] = results["workers_1"]["seconds"] / results["workers_2"]["seconds"]
    return results


def parallel_sync(folder, businesses, appointments, customers, services):
    """``businesses`` first synchronizations of ``appointments`` each, queued at once and run by the runner with one
    worker, then (other businesses and customers, the same sizes) with two: seconds, rows, the speed-up."""
    from bookings_testing.peer import start_peer

    results = {}
    for workers in (1, 2):
        peers = [start_peer(folder, 18700 + 10 * workers + index, appointments=appointments, customers=customers,
                            services=services, seed="parallel-%d-%d" % (workers, index),
                            business="parallel-%d-%d@bench.example.com" % (workers, index))
                 for index in range(businesses)]
        try:
            with runner_server(workers, 18640 + 10 * workers, peers[0][1]["ca_file"]) as call, \
                    closing(pg_connect(CONF, DB)) as connection:
                call("ir.config_parameter", "set_param", "bookings_invoicing.sync_foreground_limit", "-1")
                call("ir.config_parameter", "set_param", "bookings_invoicing.allowed_hosts",
                     ",".join(settings["url"].split("/")[2] for _process, settings in peers))
                ids = [call("bookings.business", "create", business_values(
                    "Bench parallel %d-%d" % (workers, index), settings))
                    for index, (_process, settings) in enumerate(peers)]
                started = time.perf_counter()
                for business in ids:
                    call("bookings.business", "action_synchronize", [business])
                wait_until(connection, "SELECT last_sync_state FROM bookings_business WHERE id IN %s", (tuple(ids),),
                           lambda found: all(state in ("done", "partial", "failed") for state, in found),
                           "the synchronizations")
                seconds = time.perf_counter() - started
                call("ir.config_parameter", "set_param", "bookings_invoicing.sync_foreground_limit", False)
                results["workers_%d" % workers] = dict(synchronized(connection, ids), seconds=seconds)
        finally:
            for process, _settings in peers:
                process.terminate()
                process.wait()
        results["workers_%d" % workers]["rows_per_second"] = results["workers_%d" % workers]["rows"] / seconds
    results["speedup"] = results["workers_1"]["seconds"] / results["workers_2"]["seconds"]
    return results


def synchronized(connection, ids):
    """What the synchronizations of the businesses ``ids`` left: rows, whether each is there once, states."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*), count(DISTINCT (business_id, bookings_id, attendee_key))
                            FROM bookings_appointment WHERE business_id IN %s""", (tuple(ids),))
        rows, distinct = cursor.fetchone()
        cursor.execute("SELECT last_sync_state FROM bookings_business WHERE id IN %s", (tuple(ids),))
        return {"rows": rows, "rows_once": rows == distinct, "states": sorted(state for state, in cursor.fetchall())}


def change_peer(connection, percent):
    """Change the price of ``percent`` % of the appointments and cancel as many others, through the control API."""
    import requests

    verify = connection["ca_file"]
    base = "%s/_peer/businesses/%s/appointments" % (connection["url"], connection["business_id"])
    session = requests.Session()
    token = session.post("%s/%s/oauth2/v2.0/token" % (connection["url"], connection["tenant_id"]), verify=verify,
                         data={"grant_type": "client_credentials", "client_id": connection["client_id"],
                               "client_secret": connection["client_secret"], "scope": "x"}, timeout=30).json()
    ids = []
    url = "%s/v1.0/solutions/bookingBusinesses/%s/appointments" % (connection["url"], connection["business_id"])
    while url:
        page = session.get(url, headers={"Authorization": "Bearer " + token["access_token"]}, verify=verify,
                           timeout=60).json()
        ids.extend(item["id"] for item in page["value"])
        url = page.get("@odata.nextLink")
    step = max(1, int(100 / percent))
    changed, cancelled = ids[::step], ids[step // 2::step]
    for item_id in changed:
        session.patch("%s/%s" % (base, quote(item_id, safe="")), json={"price": 99.0}, verify=verify, timeout=30)
    for item_id in cancelled:
        session.delete("%s/%s" % (base, quote(item_id, safe="")), verify=verify, timeout=30)
    return {"appointments_changed": len(changed), "appointments_cancelled": len(cancelled)}


def sync_lines(results):
    first, big, resync, changed = (results["first_sync_size"], results["first_sync_big"], results["resync"],
                                   results["changed_sync"])
    base = resync["baseline_seconds"]
    rest = first["seconds"] - first["partner_floor_seconds"]  # the first sync without Odoo's partner creation
    return [
        ("fetch-only baseline (same pages, no database)", "%.2f s" % base, ""),
        ("first sync, %d rows" % first["rows"], "%.2f s, %.0f rows/s" % (first["seconds"],
                                                                          first["rows"] / first["seconds"]),
         "%.2fx baseline" % (first["seconds"] / base)),
        ("  of which Odoo's res.partner.create, %d partners" % first["partners"],
         "%.2f s" % first["partner_floor_seconds"],
         "%.2fx baseline" % (first["partner_floor_seconds"] / base)),
        ("  the rest: the add-on's reading and mirroring", "%.2f s" % rest, "%.2fx baseline" % (rest / base)),
        ("first sync peak memory growth, %d vs %d rows" % (first["rows"], big["rows"]),
         "%d KiB vs %d KiB" % (first["peak_kib"], big["peak_kib"]),
         "%.2fx for %.1fx the rows" % (big["peak_kib"] / max(first["peak_kib"], 1), big["rows"] / first["rows"])),
        ("re-sync, nothing changed", "%.2f s, %d rows written" % (resync["seconds"], resync["rows_written"]),
         "%.2fx baseline" % (resync["seconds"] / base)),
        ("re-sync, %d changed and %d cancelled" % (changed["appointments_changed"], changed["appointments_cancelled"]),
         "%.2f s, %d rows written" % (changed["seconds"], changed["rows_written"]),
         "%.2fx baseline" % (changed["seconds"] / base)),
    ]


def invoicing_lines(invoicing):
    return [
        ("invoicing (bookings)", "%.2f s, %d queries" % (invoicing["bookings"]["seconds"],
                                                       invoicing["bookings"]["queries"]), ""),
        ("invoicing (Odoo sale orders, same work)", "%.2f s, %d queries" % (invoicing["sale_order"]["seconds"],
                                                                          invoicing["sale_order"]["queries"]),
         "bookings / sale orders: %.2fx" % (invoicing["bookings"]["seconds"] / invoicing["sale_order"]["seconds"])),
        ("invoicing floor (account.invoice create)", "%.2f s, %d queries" % (invoicing["floor"]["seconds"],
                                                                           invoicing["floor"]["queries"]),
         "bookings / floor: %.2fx" % (invoicing["bookings"]["seconds"] / invoicing["floor"]["seconds"])),
        ("invoicing physical floor (SQL INSERTs, same rows)", "%.2f s, %d queries" % (
            invoicing["sql_floor"]["seconds"], invoicing["sql_floor"]["queries"]),
         "bookings / SQL floor: %.1fx" % (invoicing["bookings"]["seconds"] / invoicing["sql_floor"]["seconds"])),
        ("invoices identical (amounts, taxes, accounts)", "yes" if invoicing["identical"] else "NO", ""),
    ]


def parallel_lines(invoicing, sync):
    lines = []
    for what, results in (("invoicing batch", invoicing), ("synchronizations", sync)):
        for workers in (1, 2):
            run = results["workers_%d" % workers]
            exact = run.get("one_line_each", True) and run.get("totals_exact", True) and run.get("rows_once", True)
            lines.append(("%s, %d rows, runner with %d worker(s)" % (what, run["rows"], workers),
                          "%.2f s, %.0f rows/s" % (run["seconds"], run["rows_per_second"]),
                          "" if exact else "ROWS WRONG"))
        lines.append(("  speed-up with 2 workers", "", "%.2fx" % results["speedup"]))
    return lines


def list_lines(listing):
    return [
        ("Uninvoiced list, %d rows" % listing["small"]["rows"], "%.1f ms" % (listing["small"]["seconds"] * 1000), ""),
        ("Uninvoiced list, %d rows" % listing["large"]["rows"], "%.1f ms" % (listing["large"]["seconds"] * 1000),
         "%.2fx the small list" % listing["ratio"]),
        ("Invoice All preview, %d rows" % listing["small"]["rows"],
         "%.1f ms" % (listing["small"]["preview_seconds"] * 1000), ""),
        ("Invoice All preview, %d rows" % listing["large"]["rows"],
         "%.1f ms" % (listing["large"]["preview_seconds"] * 1000),
         "%.2fx the small preview" % (listing["large"]["preview_seconds"] / listing["small"]["preview_seconds"])),
    ]


def report(results):
    lines = []
    if "resync" in results:
        lines += sync_lines(results)
    if "invoicing" in results:
        lines += invoicing_lines(results["invoicing"])
    if "invoicing_batch" in results:
        batch = results["invoicing_batch"]
        lines += [
            ("invoicing %d rows, immediate (one transaction)" % batch["immediate"]["rows"],
             "%.2f s, %.0f rows/s, %d KiB" % (batch["immediate"]["seconds"], batch["immediate"]["rows"] /
                                              batch["immediate"]["seconds"], batch["immediate"]["peak_kib"]), ""),
            ("invoicing %d rows, batch of %d jobs" % (batch["rows"], batch["parts"]),
             "%.2f s, %.0f rows/s, %d KiB" % (batch["seconds"], batch["rows"] / batch["seconds"], batch["peak_kib"]),
             "%.2fx immediate" % (batch["seconds"] / batch["immediate"]["seconds"]))]
    if "invoicing_batch_parallel" in results:
        lines += parallel_lines(results["invoicing_batch_parallel"], results["sync_parallel"])
    if "list" in results:
        lines += list_lines(results["list"])
    width = max(len(line[0]) for line in lines)
    for name, figure, ratio in lines:
        print("%-*s  %-28s %s" % (width, name, figure, ratio))


if __name__ == "__main__":
    main()
