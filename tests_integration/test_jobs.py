"""Background work as production runs it: an Odoo server with HTTP workers and queue_job's runner (a server-wide
module in var/odoo.conf) takes the job that Synchronize now queued for a large business, and the jobs of an
invoicing batch that Invoice All made of a month's appointments, under production's time limits, while the user goes
on and one of the workers is killed."""
import collections
import datetime
import os
import shutil
import signal
import tempfile
from contextlib import closing

import psutil
import pytest
from bookings_testing import wait_for
from bookings_testing.odoo_process import pg_connect
from bookings_testing.peer import start_peer
from conftest import BUSINESS, Odoo, Rpc, expected_rows, odoo_server

HTTP_PORT = int(os.environ.get("JOBS_HTTP_PORT", 18389))
LOG = os.path.join(os.environ.get("ARTIFACTS", tempfile.gettempdir()), "odoo-jobs.log")
#: Appointments of the month-end business: about 2,000 rows to invoice (ten parts of a batch), group bookings counting
#: once per attendee. ``make bench`` invoices 5,000.
MONTH_END_APPOINTMENTS = 1900


def test_the_job_runner_synchronizes_a_business_queued_by_synchronize_now(odoo, database, peer_process):
    business_id = odoo.run(BUSINESS % {"connection": peer_process} + """
        print(json.dumps(business.id))
    """)
    with odoo_server(odoo, database, HTTP_PORT, LOG) as url:
        admin = Rpc(url, database, "admin")
        admin("ir.config_parameter", "set_param", "bookings_invoicing.sync_foreground_limit", "-1")
        try:
            assert admin("bookings.business", "action_synchronize", [business_id]) is True  # queued, not run
            job = "bookings.business(%d,)._synchronize_job()" % business_id

            def ended():  # the runner takes the job and a worker runs it
                jobs = admin("queue.job", "search_read", [("func_string", "=", job)], ["state", "exc_info"])
                return jobs if jobs and jobs[0]["state"] in ("done", "failed") else None

            jobs = wait_for(ended, "the job runner to run the job", timeout=300, interval=0.5)
        finally:
            admin("ir.config_parameter", "set_param", "bookings_invoicing.sync_foreground_limit", False)
        assert (len(jobs), jobs[0]["state"]) == (1, "done"), jobs
        run = admin("bookings.sync.run", "search_read", [("business_id", "=", business_id)],
                    ["state", "items_skipped"])
        # one run; "partial": customers without e-mail are reported
        assert [(r["state"], r["items_skipped"]) for r in run] == [("partial", 0)]
        assert admin("bookings.business", "read", [business_id], ["last_sync_state"])[0]["last_sync_state"] == \
            "partial"
        rows = admin("bookings.appointment", "search_count", [("business_id", "=", business_id)])
        assert rows == expected_rows(peer_process)


@pytest.fixture
def month_end_peer():
    """A business whose appointments have all ended: about 2,000 rows to invoice, of about 400 customers."""
    folder = tempfile.mkdtemp(prefix="bookings-month-end-")
    month_ago = (datetime.datetime.utcnow() - datetime.timedelta(days=31)).isoformat()
    process, connection = start_peer(folder, 18901, appointments=MONTH_END_APPOINTMENTS, customers=450, services=12,
                                     seed="month-end", business="month-end-%s@contoso.onmicrosoft.com" % os.getpid(),
                                     now=month_ago)
    yield connection
    process.terminate()
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def test_invoice_all_of_a_month_end_under_production_limits_survives_a_killed_worker(database, month_end_peer):
    odoo = Odoo(database, month_end_peer["ca_file"])
    odoo.env["ODOO_QUEUE_JOB_CHANNELS"] = "root:2,root.bookings_sync:1,root.bookings_invoicing:2"  # both workers
    business_id, job_lock = odoo.run(BUSINESS % {"connection": month_end_peer} + """
        business._synchronize()
        from odoo.addons.bookings_invoicing.models.queue_job import JOB_LOCK
        print(json.dumps([business.id, JOB_LOCK]))
    """)
    limits = ("--limit-time-cpu=60", "--limit-time-real=120")
    with odoo_server(odoo, database, HTTP_PORT, LOG, *limits) as url, \
            closing(pg_connect(odoo.env["ODOO_CONF"], database)) as pg:
        admin = Rpc(url, database, "admin")
        ready = [("business_id", "=", business_id), ("invoice_status", "=", "to_invoice"),
                 ("end", "<", datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))]
        count = admin("bookings.appointment", "search_count", ready)
        customers = len(admin("bookings.appointment", "read_group", ready, ["partner_id"], ["partner_id"]))
        assert count >= 1800 and customers >= 350, (count, customers)
        # up to tomorrow: every booking that has ended, wherever the user is and whatever the day of the month
        until = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
        wizard = admin("bookings.invoice.wizard", "create", {"business_id": business_id, "date_until": until})
        action = admin("bookings.invoice.wizard", "action_create_invoices", [wizard])
        assert action["res_model"] == "bookings.invoice.batch", "Invoice All of a month: a batch, not the request"
        batch_id = action["res_id"]

        killed = kill_a_running_part(pg, batch_id, job_lock)
        def ended():  # the batch, once the killed part was queued again and run by the cron's recovery
            batch = admin("bookings.invoice.batch", "read", [batch_id],
                          ["state", "row_count", "customer_count", "invoice_count", "part_ids"])[0]
            return batch if batch["state"] != "running" else None

        batch = wait_for(ended, "the batch to end", timeout=1200, interval=2)
        assert (batch["state"], batch["row_count"], batch["customer_count"]) == ("done", count, customers), batch
        job = admin("queue.job", "search_read", [("uuid", "=", killed)], ["state"])
        assert job[0]["state"] == "done", "the part whose worker was killed ran again: %s" % job
        # the closing message, posted by the runner's job as the batch's creator, reaches her (inbox or e-mail)
        creator = admin("res.users", "read", [admin.uid], ["partner_id"])[0]["partner_id"][0]
        message = admin("mail.message", "search_read", [("model", "=", "bookings.invoice.batch"),
                                                        ("res_id", "=", batch_id),
                                                        ("needaction_partner_ids", "in", [creator])], ["author_id"])
        assert len(message) == 1, message
        assert message[0]["author_id"][0] != creator, "Odoo notifies no author: the company writes it"

        invoiced = admin("bookings.appointment", "search_read", [("business_id", "=", business_id),
                                                                 ("invoice_line_id", "!=", False)],
                         ["invoice_line_id", "amount", "invoice_id"])
        assert len(invoiced) == count == len({row["invoice_line_id"][0] for row in invoiced}), \
            "every row on exactly one line"
        cents = collections.Counter()
        for row in invoiced:
            cents[row["invoice_id"][0]] += round(row["amount"] * 100)
        invoices = admin("account.invoice", "read", list(cents), ["amount_untaxed", "invoice_line_ids"])
        assert len(invoices) == batch["invoice_count"] == customers
        assert all(round(invoice["amount_untaxed"] * 100) == cents[invoice["id"]] for invoice in invoices), \
            "every invoice total to the cent"
        assert sum(len(invoice["invoice_line_ids"]) for invoice in invoices) == count, "no line twice"


def kill_a_running_part(pg, batch_id, job_lock):
    """Once a part of the batch has ended, SIGKILL the Odoo worker running another part's job, as a time limit or
    the out-of-memory killer does; returns that job's uuid. The worker is the process whose connection to
    PostgreSQL holds the job's lock (``@recoverable_job``)."""
    pg.autocommit = True

    def running_worker():
        with pg.cursor() as cr:
            cr.execute("""
                SELECT j.uuid, a.client_port FROM queue_job j
                JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = j.id
                                   AND l.objsubid = 2
                JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE j.state = 'started' AND j.method_name = '_invoice_job'
                  AND EXISTS (SELECT 1 FROM bookings_invoice_batch_part p WHERE p.batch_id = %s AND p.state = 'done')
            """, (job_lock, batch_id))
            running = cr.fetchone()
        if not running:
            return None
        uuid, port = running
        workers = [c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid]
        return (uuid, workers[0]) if workers else None

    uuid, worker = wait_for(running_worker, "a part of the batch running", timeout=600, interval=0.2)
    os.kill(worker, signal.SIGKILL)
    return uuid
