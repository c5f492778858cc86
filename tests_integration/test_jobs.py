"""Background synchronization as production runs it: an Odoo server with HTTP workers and queue_job's runner (a
server-wide module in var/odoo.conf) takes the job that Synchronize now queued for a large business, and the
business is synchronized in the background while the user goes on."""
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
