"""Odoo with several worker processes and a cron thread over one PostgreSQL (``--workers``, ``--max-cron-threads``),
driven over XML-RPC as users drive it: two synchronizations of different businesses at once, a synchronization
beside a bulk invoicing of the same business, and many rounds of two users invoicing overlapping selections.
Each appointment ends on exactly one invoice line, and a user who loses a race is told so."""
import json
import os
import shutil
import tempfile
import threading
import urllib.request
import uuid
import xmlrpc.client
from urllib.parse import quote

import pytest
from conftest import Odoo, Rpc, expected_rows, odoo_server, start_peer

ROUNDS = int(os.environ.get("CONCURRENCY_ROUNDS", 25))
HTTP_PORT = int(os.environ.get("CONCURRENCY_HTTP_PORT", 18369))
CONFLICT = "Another user is invoicing some of these bookings right now"
LOG = os.path.join(os.environ.get("ARTIFACTS", tempfile.gettempdir()), "odoo-workers.log")
SETUP = """
    with api.Environment.manage(), registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        settings = json.loads(%(settings)r)
        businesses = env["bookings.business"]
        env["ir.config_parameter"].set_param("bookings_invoicing.allowed_hosts", ",".join(
            connection["url"].split("/")[2] for connection in settings["peers"]))
        for connection in settings["peers"]:
            businesses |= businesses.create({
                "name": connection["business_id"], "mailbox": connection["business_id"],
                "tenant_id": connection["tenant_id"], "client_id": connection["client_id"],
                "client_secret": connection["client_secret"], "authority_url": connection["url"],
                "graph_url": connection["url"], "sync_days_back": 400, "sync_days_ahead": 400})
        def user(login, group):
            return env["res.users"].create({
                "name": login, "login": login, "password": login, "email": login + "@example.com",
                "groups_id": [(6, 0, [env.ref("bookings_invoicing." + group).id])]}).id
        for login in settings["users"]:
            user(login, "group_bookings_invoicing_user")
        user(settings["manager"], "group_bookings_invoicing_manager")
        cr.commit()
        print(json.dumps(businesses.ids))
"""


def at_once(*calls):
    """Run the calls in threads released together; each result is its value or its ``xmlrpc.client.Fault``."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except xmlrpc.client.Fault as fault:
            results[index] = fault

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return results


@pytest.fixture(scope="module")
def peers():
    folder = tempfile.mkdtemp(prefix="bookings-concurrency-")
    tag = uuid.uuid4().hex[:8]
    started = [start_peer(folder, port, appointments=appointments, customers=80, services=6, seed="conc",
                          business="conc-%s-%d@contoso.onmicrosoft.com" % (tag, port), page_size=50)
               for port, appointments in ((18911, 900), (18912, 300))]  # one CA for both: the same cert folder
    yield [connection for _process, connection in started]
    for process, _connection in started:
        process.terminate()
        process.wait()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def setup(database, peers):
    tag = uuid.uuid4().hex[:8]
    settings = {"peers": peers, "users": ["conc-a-" + tag, "conc-b-" + tag], "manager": "conc-manager-" + tag}
    odoo = Odoo(database, peers[0]["ca_file"])
    settings["businesses"] = odoo.run(SETUP % {"settings": json.dumps(settings)})
    return dict(settings, odoo=odoo)


@pytest.fixture(scope="module")
def server(database, setup):
    with odoo_server(setup["odoo"], database, HTTP_PORT, LOG,
                     "--log-handler=odoo.addons.bookings_invoicing.sync:INFO") as url:
        yield url


def rows_of(setup, business):
    return setup["odoo"].sql("SELECT count(*), count(DISTINCT (bookings_id, attendee_key)) FROM bookings_appointment"
                             " WHERE business_id = %s", [business])[0]


def assert_each_appointment_on_one_line(setup, business):
    """Every line of the business's invoices carries exactly one appointment."""
    wrong = setup["odoo"].sql("""
        SELECT l.id, (SELECT count(*) FROM bookings_appointment a WHERE a.invoice_line_id = l.id)
          FROM account_invoice_line l
         WHERE l.invoice_id IN (SELECT l2.invoice_id FROM account_invoice_line l2
                                  JOIN bookings_appointment a2 ON a2.invoice_line_id = l2.id
                                 WHERE a2.business_id = %s)
           AND (SELECT count(*) FROM bookings_appointment a WHERE a.invoice_line_id = l.id) != 1""", [business])
    assert wrong == []


def test_two_businesses_synchronize_at_once(setup, server, database):
    manager = Rpc(server, database, setup["manager"])
    results = at_once(*[lambda b=b: manager("bookings.business", "action_synchronize", [b])
                        for b in setup["businesses"]])
    assert not [r for r in results if isinstance(r, xmlrpc.client.Fault)], results
    for business, connection in zip(setup["businesses"], setup["peers"]):
        rows, distinct = rows_of(setup, business)
        assert rows == distinct == expected_rows(connection)
    businesses = tuple(setup["businesses"])
    partners = setup["odoo"].sql("""
        SELECT p.name, lower(p.email) FROM res_partner p JOIN bookings_customer c ON c.partner_id = p.id
         WHERE c.business_id IN %s GROUP BY p.name, lower(p.email) HAVING count(DISTINCT p.id) > 1""", [businesses])
    assert partners == [], "two partners made for one customer"
    products = setup["odoo"].sql("""
        SELECT t.name FROM product_template t JOIN product_product p ON p.product_tmpl_id = t.id
          JOIN bookings_service s ON s.product_id = p.id
         WHERE s.business_id IN %s GROUP BY t.name HAVING count(DISTINCT t.id) > 1""", [businesses])
    assert products == [], "two products made for one service name"
    shared = setup["odoo"].sql("""
        SELECT count(DISTINCT c.partner_id) FROM bookings_customer c JOIN bookings_customer d
            ON d.partner_id = c.partner_id AND d.business_id != c.business_id WHERE c.business_id IN %s""",
                               [businesses])[0][0]
    assert shared > 0, "the two businesses share customers: the case where duplicates could appear"
    runs = setup["odoo"].sql("SELECT business_id, state FROM bookings_sync_run WHERE business_id IN %s",
                             [tuple(setup["businesses"])])
    assert sorted(b for b, _state in runs) == sorted(setup["businesses"]), "one run each"
    assert all(state in ("done", "partial") for _b, state in runs), runs  # partial: customers without e-mail


def test_a_synchronization_beside_a_bulk_invoicing(setup, server, database):
    business, connection = setup["businesses"][1], setup["peers"][1]
    user = Rpc(server, database, setup["users"][0])
    manager = Rpc(server, database, setup["manager"])
    ready = user("bookings.appointment", "search", [("business_id", "=", business),
                                                    ("invoice_status", "=", "to_invoice"),
                                                    ("is_completed", "=", True)])
    assert len(ready) > 50
    # Bookings changes under the synchronization: prices of some invoiced-to-be rows, a few cancellations
    appointments = {row["bookings_id"] for row in user("bookings.appointment", "read", ready[:30], ["bookings_id"])}
    control = "%s/_peer/businesses/%s/appointments/" % (connection["url"], connection["business_id"])
    for index, appointment in enumerate(sorted(appointments)):
        method, body = ("DELETE", None) if index % 3 == 0 else ("PATCH", json.dumps({"price": 99.0}).encode())
        request = urllib.request.Request(control + quote(appointment, safe=""), data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, context=_trust(connection), timeout=30).close()

    # this selection is invoiced in the request, as a smaller one is by default, beside the synchronization
    admin = Rpc(server, database, "admin")
    admin("ir.config_parameter", "set_param", "bookings_invoicing.invoice_batch_threshold", str(len(ready)))
    try:
        invoiced, synchronized = at_once(lambda: user("bookings.appointment", "action_create_invoices", ready),
                                         lambda: manager("bookings.business", "action_synchronize", [business]))
        retry = isinstance(invoiced, xmlrpc.client.Fault)
        if retry:  # the synchronization held a row: the user is told, and tries again
            assert CONFLICT in invoiced.faultString, invoiced.faultString
            user("bookings.appointment", "action_create_invoices", ready)
    finally:
        admin("ir.config_parameter", "set_param", "bookings_invoicing.invoice_batch_threshold", False)
    assert not isinstance(synchronized, xmlrpc.client.Fault), synchronized
    last_run = manager("bookings.sync.run", "search_read", [("business_id", "=", business)], ["state", "message"],
                       0, 1, "id desc")[0]
    assert last_run["state"] in ("done", "partial"), last_run  # partial: customers without e-mail
    assert_each_appointment_on_one_line(setup, business)
    rows = user("bookings.appointment", "read", ready, ["invoice_status", "state", "needs_review", "amount",
                                                         "invoice_line_id"])
    lines = {line["id"]: line for line in user("account.invoice.line", "read",
                                               [r["invoice_line_id"][0] for r in rows if r["invoice_line_id"]],
                                               ["price_subtotal"])}
    for row in rows:
        if row["invoice_line_id"]:
            # invoiced before or after the synchronization: either the line bills the current amount, or the row
            # was changed or cancelled afterwards and is raised for review
            line = lines[row["invoice_line_id"][0]]
            assert row["needs_review"] or abs(line["price_subtotal"] - row["amount"]) < 0.005, row
        else:
            assert row["state"] == "cancelled" or row["invoice_status"] != "to_invoice", row
    assert rows_of(setup, business)[0] == rows_of(setup, business)[1]
    with open(LOG) as log:
        retried = log.read().count("met a concurrent change")
    print("concurrency: synchronization beside invoicing: %d page(s) retried after a conflict, invoicing %s"
          % (retried, "retried once" if retry else "went through"))


def test_two_users_invoicing_overlapping_selections(setup, server, database):
    business = setup["businesses"][0]
    first, second = (Rpc(server, database, login) for login in setup["users"])
    outcomes = {"both invoiced": 0, "one told to retry": 0}
    for _round in range(ROUNDS):
        ready = first("bookings.appointment", "search", [("business_id", "=", business),
                                                         ("invoice_status", "=", "to_invoice"),
                                                         ("is_completed", "=", True)], 0, 10)
        assert len(ready) == 10, "the business ran out of bookings to invoice"
        results = at_once(lambda ids=ready[:7]: first("bookings.appointment", "action_create_invoices", ids),
                          lambda ids=ready[3:]: second("bookings.appointment", "action_create_invoices", ids))
        succeeded = [not isinstance(result, xmlrpc.client.Fault) for result in results]
        for result in results:
            if isinstance(result, xmlrpc.client.Fault):
                assert CONFLICT in result.faultString, result.faultString
        assert any(succeeded), "one of the two always gets through"
        outcomes["both invoiced" if all(succeeded) else "one told to retry"] += 1
        rows = first("bookings.appointment", "read", ready, ["invoice_line_id"])
        expected = (set(ready[:7]) if succeeded[0] else set()) | (set(ready[3:]) if succeeded[1] else set())
        assert {row["id"] for row in rows if row["invoice_line_id"]} == expected, \
            "exactly the rows of the successful calls are invoiced"
    assert_each_appointment_on_one_line(setup, business)
    print("concurrency: %d rounds: %s" % (ROUNDS, outcomes))


def _trust(connection):
    import ssl

    return ssl.create_default_context(cafile=connection["ca_file"])
