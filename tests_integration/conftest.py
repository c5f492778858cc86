"""Fixtures of the integration suite: real Odoo processes on the database that `make test` created
(``BOOKINGS_TEST_DB``), and the local Bookings peer in a process of its own."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid

import pytest
from bookings_testing.odoo_process import Rpc, running_odoo  # noqa: F401 (Rpc: for the tests)
from bookings_testing.peer import start_peer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = textwrap.dedent("""
    import json, os, sys
    import odoo
    from odoo import SUPERUSER_ID, api
    odoo.tools.config.parse_config(["-c", os.environ["ODOO_CONF"], "-d", os.environ["BOOKINGS_TEST_DB"],
                                    "--log-level=warn"])
    registry = odoo.registry(os.environ["BOOKINGS_TEST_DB"])
""")


#: Code that finds (or creates) the business of ``peer_process`` as ``business``, in a transaction it then commits.
BUSINESS = """
    with api.Environment.manage(), registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        connection = %(connection)s
        business = env["bookings.business"].search([("mailbox", "=", connection["business_id"])])
        # the local peer is no Microsoft host: allowed as an administrator allows any other
        env["ir.config_parameter"].set_param("bookings_invoicing.allowed_hosts", connection["url"].split("/")[2])
        if not business:
            business = env["bookings.business"].create({
                "name": "Crash test", "mailbox": connection["business_id"], "tenant_id": connection["tenant_id"],
                "client_id": connection["client_id"], "client_secret": connection["client_secret"],
                "authority_url": connection["url"], "graph_url": connection["url"],
                "sync_days_back": 400, "sync_days_ahead": 400})
        cr.commit()  # the synchronization works in a transaction of its own: what follows reads what it committed
"""


@pytest.fixture(scope="session")
def database():
    name = os.environ.get("BOOKINGS_TEST_DB")
    if not name:
        pytest.fail("BOOKINGS_TEST_DB names no database: run these tests through `make test`")
    return name


@pytest.fixture(scope="session", autouse=True)
def hourly_synchronization_held(database):
    """The tests start each synchronization themselves and count its runs; the hourly synchronization, due whenever
    the suite reaches the hour after its last call, would add runs of its own. Its next call is moved past the suite
    and put back at the end."""
    odoo = Odoo(database)
    cron = """(SELECT res_id FROM ir_model_data
                WHERE module = 'bookings_invoicing' AND name = 'ir_cron_bookings_synchronize')"""
    nextcall = odoo.sql("SELECT nextcall::text FROM ir_cron WHERE id = %s" % cron)[0][0]
    odoo.sql("UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') + interval '1 day' WHERE id = %s RETURNING id"
             % cron)
    yield
    odoo.sql("UPDATE ir_cron SET nextcall = %%s WHERE id = %s RETURNING id" % cron, [nextcall])


class Odoo:
    """Runs Python code in an Odoo process of its own, against the test database."""

    def __init__(self, database, ca_file=None):
        self.env = dict(os.environ, BOOKINGS_TEST_DB=database,
                        ODOO_CONF=os.environ.get("ODOO_CONF", os.path.join(ROOT, "var", "odoo.conf")))
        if ca_file:
            self.env["REQUESTS_CA_BUNDLE"] = ca_file

    def start(self, code):
        return subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)

    def run(self, code, timeout=600):
        process = self.start(code)
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err[-3000:]
        return json.loads(out.strip().splitlines()[-1])

    def sql(self, query, params=()):
        return self.run("""
            with registry.cursor() as cr:
                cr.execute(%r, %r)
                print(json.dumps(cr.fetchall()))
        """ % (query, tuple(params)))


def odoo_server(odoo, database, port, log_path, *options):
    """An Odoo server on 127.0.0.1:``port`` over the test database as production runs it, with two HTTP workers
    and a cron worker; yields its URL and stops it at the end. Its log goes to ``log_path``."""
    return running_odoo(odoo.env, odoo.env["ODOO_CONF"], database, port, log_path, "--workers=2",
                        "--max-cron-threads=1", *options)



@pytest.fixture
def peer_process():
    folder = tempfile.mkdtemp(prefix="bookings-crash-")
    business = "crash-%s@contoso.onmicrosoft.com" % uuid.uuid4().hex[:8]  # a business of its own, on any database
    process, connection = start_peer(folder, 18900, appointments=1500, customers=300, services=12,
                                     seed="crash", business=business, page_size=50)
    yield connection
    process.terminate()
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def odoo(database, peer_process):
    return Odoo(database, peer_process["ca_file"])


def expected_rows(connection):
    """What the peer holds: one row per attendee, or one for an appointment without customer."""
    import requests

    url = "%s/v1.0/solutions/bookingBusinesses/%s/appointments" % (connection["url"], connection["business_id"])
    token = requests.post("%s/%s/oauth2/v2.0/token" % (connection["url"], connection["tenant_id"]),
                          data={"grant_type": "client_credentials", "client_id": connection["client_id"],
                                "client_secret": connection["client_secret"], "scope": "x"},
                          verify=connection["ca_file"], timeout=30).json()["access_token"]
    count = 0
    while url:
        page = requests.get(url, headers={"Authorization": "Bearer " + token}, verify=connection["ca_file"],
                            timeout=60).json()
        count += sum(max(1, len({c["customerId"] for c in a.get("customers", ())})) for a in page["value"])
        url = page.get("@odata.nextLink")
    return count
