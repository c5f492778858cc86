"""What the synchronization mirrors and what the invoicing links stay as they made them: over real XML-RPC, no user
(Bookings user or manager, accountant, administrator, employee, portal) changes them by write, create, unlink or
import. What users are meant to change (a row's partner, its exclusion, a binding's partner or product, a review's
settlement) they do."""
import os
import tempfile
import uuid
import xmlrpc.client

import pytest
from conftest import Odoo, Rpc, odoo_server

HTTP_PORT = int(os.environ.get("INTEGRITY_HTTP_PORT", 18379))
LOG = os.path.join(os.environ.get("ARTIFACTS", tempfile.gettempdir()), "odoo-integrity.log")
GUARD = "come from Microsoft Bookings"

#: Rows made as the synchronization and the invoicing make them: one invoiced, one without customer.
SETUP = """
    import datetime
    with api.Environment.manage(), registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        tag = %(tag)r
        business = env["bookings.business"].create({
            "name": "Integrity " + tag, "mailbox": "integrity-%%s@contoso.onmicrosoft.com" %% tag,
            "tenant_id": "t", "client_id": "c"})
        product = env["product.product"].create({"name": "Integrity " + tag, "type": "service", "list_price": 40})
        partner = env["res.partner"].create({"name": "Ann " + tag, "email": "ann-%%s@example.com" %% tag})
        walk_in = env["res.partner"].create({"name": "Walk-in " + tag})
        service = env["bookings.service"]._bookings_as_mirror().create({
            "business_id": business.id, "bookings_id": "svc", "name": "Cut", "default_price": 40.0,
            "price_type": "fixedPrice", "product_id": product.id})
        customer = env["bookings.customer"]._bookings_as_mirror().create({
            "business_id": business.id, "bookings_id": "cust", "name": partner.name, "email": partner.email,
            "partner_id": partner.id})
        Row = env["bookings.appointment"]._bookings_as_mirror()
        start = datetime.datetime.utcnow() - datetime.timedelta(days=2)
        def row(key, **values):
            return Row.create(dict({
                "business_id": business.id, "bookings_id": "AAMk" + key, "attendee_key": key,
                "service_id": service.id, "service_name": "Cut", "start": start,
                "end": start + datetime.timedelta(hours=1), "duration": 1.0, "price": 40.0,
                "price_type": "fixedPrice", "currency_id": env.user.company_id.currency_id.id}, **values))
        invoiced = row("cust", bookings_customer_id=customer.id, partner_id=partner.id, customer_name=partner.name,
                       customer_email=partner.email)
        invoiced._create_invoices()
        raised = row("raised", partner_id=partner.id, customer_name=partner.name)  # cancelled after invoicing
        raised._create_invoices()
        raised._bookings_cancel()
        alone = row("-")
        def user(role, groups):
            login = "integrity-%%s-%%s" %% (role, tag)
            return login, env["res.users"].with_context(no_reset_password=True).create({
                "name": login, "login": login, "password": login, "email": login + "@example.com",
                "groups_id": [(6, 0, [env.ref(group).id for group in groups])]}).id
        users = dict([
            user("user", ["bookings_invoicing.group_bookings_invoicing_user"]),
            user("manager", ["bookings_invoicing.group_bookings_invoicing_manager"]),
            user("accountant", ["account.group_account_manager"]),
            user("admin", ["base.group_system", "base.group_erp_manager", "account.group_account_manager",
                           "bookings_invoicing.group_bookings_invoicing_manager"]),
            user("employee", ["base.group_user"]),
            user("portal", ["base.group_portal"]),
        ])
        cr.commit()
        print(json.dumps({"users": {login.split("-")[1]: login for login in users}, "business": business.id,
                          "invoiced": invoiced.id, "raised": raised.id, "alone": alone.id,
                          "line": invoiced.invoice_line_id.id,
                          "customer": customer.id, "service": service.id, "partner": partner.id,
                          "walk_in": walk_in.id, "product": product.id}))
"""
ROLES = ("user", "manager", "accountant", "admin", "employee", "portal")
#: Roles that may read and write bookings at all: refused by the guard itself, not by access rights.
BOOKINGS_ROLES = ("user", "manager", "admin")


@pytest.fixture(scope="module")
def setup(database):
    odoo = Odoo(database, os.devnull)
    return dict(odoo.run(SETUP % {"tag": uuid.uuid4().hex[:8]}), odoo=odoo)


@pytest.fixture(scope="module")
def server(database, setup):
    with odoo_server(setup["odoo"], database, HTTP_PORT, LOG) as url:
        yield url


def mirrored(setup):
    """Every column of the business's bindings, and the invoice line's amount: what no user may change."""
    return setup["odoo"].sql("""
        SELECT (SELECT json_agg(a ORDER BY a.id) FROM bookings_appointment a WHERE a.business_id = %s),
               (SELECT json_agg(c) FROM bookings_customer c WHERE c.business_id = %s),
               (SELECT json_agg(s) FROM bookings_service s WHERE s.business_id = %s),
               (SELECT price_subtotal FROM account_invoice_line WHERE id = %s)""",
                             [setup["business"]] * 3 + [setup["line"]])


def refused(call, role):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        call()
    if role in BOOKINGS_ROLES:
        assert GUARD in fault.value.faultString, fault.value.faultString


@pytest.mark.parametrize("role", ROLES)
def test_no_user_changes_what_bookings_mirrors(setup, server, database, role):
    rpc = Rpc(server, database, setup["users"][role])
    before = mirrored(setup)
    rows = [setup["invoiced"], setup["alone"]]
    for values in ({"price": 1.0}, {"start": "2020-01-01 09:00:00"}, {"price_type": "free"},
                   {"customer_email": "eve@example.com"}, {"bookings_id": "forged"}, {"invoice_line_id": False},
                   {"invoice_status": "to_invoice"}, {"amount": 0.0}, {"state": "cancelled"}):
        refused(lambda values=values: rpc("bookings.appointment", "write", rows, values), role)
    refused(lambda: rpc("bookings.customer", "write", [setup["customer"]], {"email": "eve@example.com"}), role)
    refused(lambda: rpc("bookings.service", "write", [setup["service"]], {"default_price": 0.01}), role)
    refused(lambda: rpc("bookings.appointment", "create", {
        "business_id": setup["business"], "bookings_id": "forged", "attendee_key": "-",
        "start": "2020-01-01 09:00:00", "end": "2020-01-01 10:00:00"}), role)
    refused(lambda: rpc("bookings.appointment", "copy", setup["alone"]), role)
    for model, record in (("bookings.appointment", setup["alone"]), ("bookings.customer", setup["customer"]),
                          ("bookings.service", setup["service"])):
        refused(lambda model=model, record=record: rpc(model, "unlink", [record]), role)
    # the context of a remote call cannot claim the synchronization's right
    proxy = xmlrpc.client.ServerProxy(server + "/xmlrpc/2/object", allow_none=True)
    with pytest.raises(xmlrpc.client.Fault):
        proxy.execute_kw(database, rpc.uid, rpc.login, "bookings.appointment", "write",
                         [rows, {"price": 1.0}], {"context": {"bookings_mirror": True}})
    # an import (Odoo's load) imports nothing: it reports the refusal, or is refused at once without access rights
    for fields, row in (([".id", "price", "customer_name"], [str(setup["alone"]), "1.00", "Forged"]),
                        (["bookings_id", "attendee_key", "business_id/.id", "start", "end"],
                         ["forged", "-", str(setup["business"]), "2020-01-01 09:00:00", "2020-01-01 10:00:00"])):
        try:
            imported = rpc("bookings.appointment", "load", fields, [row])
        except xmlrpc.client.Fault:
            assert role not in BOOKINGS_ROLES
        else:
            assert imported["ids"] is False, imported
            if role in BOOKINGS_ROLES:
                assert any(GUARD in message["message"] for message in imported["messages"]), imported
    assert mirrored(setup) == before


def test_users_change_what_is_theirs(setup, server, database):
    user = Rpc(server, database, setup["users"]["user"])
    manager = Rpc(server, database, setup["users"]["manager"])
    alone = setup["alone"]
    user("bookings.appointment", "write", [alone], {"partner_id": setup["walk_in"]})
    user("bookings.appointment", "action_exclude", [alone], "Paid at the desk")
    assert user("bookings.appointment", "read", [alone], ["invoice_status", "partner_id"])[0]["invoice_status"] \
        == "excluded"
    user("bookings.appointment", "action_restore", [alone])
    row = user("bookings.appointment", "read", [alone], ["invoice_status", "partner_id"])[0]
    assert (row["invoice_status"], row["partner_id"][0]) == ("to_invoice", setup["walk_in"])
    # an invoiced row keeps the customer of its invoice
    with pytest.raises(xmlrpc.client.Fault) as fault:
        user("bookings.appointment", "write", [setup["invoiced"]], {"partner_id": setup["walk_in"]})
    assert "on an invoice" in fault.value.faultString
    # a manager links a Bookings customer and a service to what they are invoiced as
    manager("bookings.customer", "write", [setup["customer"]], {"partner_id": setup["walk_in"]})
    manager("bookings.service", "write", [setup["service"]], {"product_id": setup["product"]})
    assert manager("bookings.customer", "read", [setup["customer"]], ["partner_id"])[0]["partner_id"][0] \
        == setup["walk_in"]


def test_a_bookings_user_settles_a_booking_raised_for_review(setup, server, database):
    """Over XML-RPC, as the screens do it: the review's wizard, then its button. An employee without the Bookings
    group is refused and changes nothing."""
    raised = setup["raised"]
    employee = Rpc(server, database, setup["users"]["employee"])
    with pytest.raises(xmlrpc.client.Fault):
        wizard = employee("bookings.review.wizard", "create", {"appointment_ids": [(6, 0, [raised])]})
        employee("bookings.review.wizard", "action_settle", [wizard])
    assert setup["odoo"].sql("SELECT needs_review, invoice_line_id IS NOT NULL FROM bookings_appointment "
                             "WHERE id = %s", [raised]) == [[True, True]]
    user = Rpc(server, database, setup["users"]["user"])
    wizard = user("bookings.review.wizard", "create", {"appointment_ids": [(6, 0, [raised])],
                                                         "reason": "did not come"})
    user("bookings.review.wizard", "action_settle", [wizard])
    row = user("bookings.appointment", "read", [raised], ["needs_review", "invoice_status", "invoice_id"])[0]
    assert (row["needs_review"], row["invoice_status"], row["invoice_id"]) == (False, "cancelled", False)
