"""The synchronization works in a transaction of its own: what its caller has not committed stays the caller's to
commit or roll back, and what the synchronization did stays committed either way."""
import json

from conftest import BUSINESS


def test_a_synchronization_leaves_its_callers_transaction_alone(odoo, peer_process):
    marker = "Uncommitted by the caller %s" % peer_process["business_id"]
    code = BUSINESS % {"connection": json.dumps(peer_process)} + """
        env["res.partner"].create({"name": %r})
        run_id = business._synchronize().id
        cr.rollback()  # the caller changes its mind: its partner goes, the synchronization stays
        print(json.dumps(run_id))
    """ % marker
    run_id = odoo.run(code)
    assert odoo.sql("SELECT count(*) FROM res_partner WHERE name = %s", [marker]) == [[0]]
    state, created = odoo.sql("SELECT state, appointments_created FROM bookings_sync_run WHERE id = %s", [run_id])[0]
    assert state in ("done", "partial") and created > 0
    rows = odoo.sql("""SELECT count(*) FROM bookings_appointment a JOIN bookings_business b ON b.id = a.business_id
                        WHERE b.mailbox = %s""", [peer_process["business_id"]])
    assert rows == [[created]]
