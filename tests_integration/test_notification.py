"""The notification address a Power Automate flow calls, on an Odoo server with HTTP workers and queue_job's runner as
production runs it: whatever a call sends, it answers 202 and the business has at most one synchronization waiting,
however many calls arrive at once; a wrong address answers 404 and queues nothing; a body over the limit answers 413
unread; the address's secret is in no line of the server's log."""
import datetime
import http.client
import os
import tempfile
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from urllib.parse import urlsplit

from bookings_testing import wait_for
from bookings_testing.odoo_process import pg_connect
from conftest import BUSINESS, Rpc, odoo_server

HTTP_PORT = int(os.environ.get("NOTIFICATION_HTTP_PORT", 18409))
LOG = os.path.join(os.environ.get("ARTIFACTS", tempfile.gettempdir()), "odoo-notification.log")
#: What Power Automate's HTTP action may send: a method, a content type and a body.
CALLS = [("GET", None, None), ("POST", None, None), ("POST", "application/json", b'{"appointment": "AAMk1"}'),
         ("POST", "application/x-www-form-urlencoded", b"appointment=AAMk1"), ("POST", "text/plain", b"created"),
         ("PUT", "application/json", b"{}"), ("PATCH", "application/json", b"[1, 2]")]
WAITING = """SELECT count(*) FROM queue_job WHERE method_name = '_synchronize_job'
              AND record_ids::jsonb = jsonb_build_array(%s) AND state IN ('pending', 'enqueued')"""


def call(url, method="POST", content_type=None, body=None):
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type} if content_type else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_storm_of_calls_queues_one_waiting_synchronization_and_a_wrong_address_none(odoo, database, peer_process):
    business_id, token = odoo.run(BUSINESS % {"connection": peer_process} + """
        import re
        action = business.action_renew_notification_url()
        message = env["bookings.message"].browse(action["res_id"]).message
        cr.commit()
        print(json.dumps([business.id, re.search(r"/bookings_invoicing/notify/(\\S+)", message).group(1)]))
    """)
    with odoo_server(odoo, database, HTTP_PORT, LOG, "--log-handler=werkzeug:INFO") as url, \
            closing(pg_connect(odoo.env["ODOO_CONF"], database)) as connection:
        connection.autocommit = True
        admin = Rpc(url, database, "admin")
        address = "%s/bookings_invoicing/notify/%s" % (url, token)

        def waiting():
            with connection.cursor() as cr:
                cr.execute(WAITING, (business_id,))
                return cr.fetchone()[0]

        def runs():
            return admin("bookings.sync.run", "search_read", [("business_id", "=", business_id)], ["date_start"])

        runs_before, most_waiting, storming = len(runs()), [0], threading.Event()
        storming.set()

        def watch():  # how many synchronizations of the business wait, all along the storm
            while storming.is_set():
                most_waiting[0] = max(most_waiting[0], waiting())

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(20) as pool:
                answers = list(pool.map(lambda index: call(address, *CALLS[index % len(CALLS)]), range(100)))
                assert call(url + "/web/login", "GET") == 200, "the server answers its users during the storm"
        finally:
            storming.clear()
            watcher.join()
        last_call = datetime.datetime.utcnow()
        assert answers == [202] * 100
        assert most_waiting[0] == 1, "one synchronization waits at most, whatever calls arrive at once"

        # the runner runs what waits: a synchronization starts after the last call, and a handful ran in all
        wait_for(lambda: not waiting() and len(runs()) > runs_before
                 and runs()[0]["date_start"] >= last_call.strftime("%Y-%m-%d %H:%M:%S"),
                 "a synchronization run after the calls", timeout=600, interval=0.5)
        assert 1 <= len(runs()) - runs_before <= 3, "a storm costs a few reads of Graph, not one per call"

        # a wrong or partial address: 404, nothing queued, whatever the call sends
        wrong = [address[:-1], address + "x", address.rsplit("/", 1)[0] + "/" + "A" * 43]
        assert [call(wrong[index % 3], *CALLS[index % len(CALLS)]) for index in range(50)] == [404] * 50
        assert waiting() == 0

        # a body over the limit is refused from its length alone: none of it is sent, and none is read
        parts = urlsplit(address)
        with closing(http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)) as raw:
            raw.putrequest("POST", parts.path)
            raw.putheader("Content-Type", "application/json")
            raw.putheader("Content-Length", str(10 * 1024 * 1024))
            raw.endheaders()
            assert raw.getresponse().status == 413
        assert waiting() == 0
        assert call(url + "/web/login", "GET") == 200
    with open(LOG) as log:
        text = log.read()
    assert "/bookings_invoicing/notify/***" in text, "the request log names the address's path"
    assert token not in text, "the address's secret is in no line of the log"
