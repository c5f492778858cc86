"""Background work as production runs it: an Odoo server with HTTP workers and queue_job's runner (a server-wide
module in var/odoo.conf) takes the job that Synchronize now queued for a large business, and the jobs of an
invoicing batch that Invoice All made of a large selection, while the user goes on."""
import datetime
import os
import tempfile
import time

from conftest import BUSINESS, Rpc, expected_rows, odoo_server

HTTP_PORT = int(os.environ.get("JOBS_HTTP_PORT", 18389))
LOG = os.path.join(os.environ.get("ARTIFACTS", tempfile.gettempdir()), "odoo-jobs.log")


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
            deadline = time.time() + 300
            while True:  # the runner takes the job and a worker runs it: until the job has ended
                jobs = admin("queue.job", "search_read", [("func_string", "=", job)], ["state", "exc_info"])
                if jobs and jobs[0]["state"] in ("done", "failed"):
                    break
                assert time.time() < deadline, "the job runner did not run the job: %s" % jobs
                time.sleep(0.5)
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


def test_the_job_runner_invoices_a_large_invoice_all_as_a_batch(odoo, database, peer_process):
    business_id = odoo.run(BUSINESS % {"connection": peer_process} + """
        business._synchronize()
        print(json.dumps(business.id))
    """)
    with odoo_server(odoo, database, HTTP_PORT, LOG) as url:
        admin = Rpc(url, database, "admin")
        ready = [("business_id", "=", business_id), ("invoice_status", "=", "to_invoice"),
                 ("end", "<", datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))]
        count = admin("bookings.appointment", "search_count", ready)
        admin("ir.config_parameter", "set_param", "bookings_invoicing.invoice_batch_threshold", "100")
        try:
            wizard = admin("bookings.invoice.wizard", "create", {"business_id": business_id})
            action = admin("bookings.invoice.wizard", "action_create_invoices", [wizard])
        finally:
            admin("ir.config_parameter", "set_param", "bookings_invoicing.invoice_batch_threshold", False)
        assert action["res_model"] == "bookings.invoice.batch"
        deadline = time.time() + 600
        while True:  # the parts run as jobs: until the batch has ended
            batch = admin("bookings.invoice.batch", "read", [action["res_id"]],
                          ["state", "row_count", "invoice_count", "part_ids"])[0]
            if batch["state"] != "running":
                break
            assert time.time() < deadline, "the batch did not end: %s" % batch
            time.sleep(1)
        assert (batch["state"], batch["row_count"]) == ("done", count), batch
        assert len(batch["part_ids"]) > 1
        invoiced = admin("bookings.appointment", "search_read", [("business_id", "=", business_id),
                                                                 ("invoice_line_id", "!=", False)],
                         ["invoice_line_id", "amount", "invoice_id"])
        assert len(invoiced) == count == len({row["invoice_line_id"][0] for row in invoiced}), \
            "every row on exactly one line"
        invoices = admin("account.invoice", "read", list({row["invoice_id"][0] for row in invoiced}),
                         ["amount_untaxed"])
        assert len(invoices) == batch["invoice_count"]
        total = sum(round(row["amount"] * 100) for row in invoiced)
        assert sum(round(invoice["amount_untaxed"] * 100) for invoice in invoices) == total, "to the cent"
