"""11.0.1.6.0: a business's secrets (client secret, certificate key, notification address) move from its own row to
``bookings.business.secret``, which only administrators reach; the notification address's secret is kept as its
hash, so that the address already given to Power Automate works until it is renewed. The old columns are dropped.
An invoicing batch names who started it (``user_id``), which its creator was."""
from odoo import SUPERUSER_ID, api, fields
from odoo.tools import sql

from odoo.addons.bookings_invoicing.models.bookings_business_secret import notification_hash

OLD_COLUMNS = ("client_secret", "certificate_key", "notification_token")


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    columns = [column for column in OLD_COLUMNS if sql.column_exists(cr, "bookings_business", column)]
    if columns:
        # the names of the add-on's own columns, no user input
        cr.execute("SELECT id, %s FROM bookings_business" % ", ".join(columns))  # nosec B608
        Secret = env["bookings.business.secret"]
        for row in cr.dictfetchall():
            token = row.get("notification_token")
            values = {"client_secret": row.get("client_secret") or False,
                      "certificate_key": row.get("certificate_key") or False,
                      "notification_hash": token and notification_hash(token)}
            if any(values.values()):
                Secret.create(dict(values, business_id=row["id"]))
            if values["notification_hash"]:
                cr.execute("UPDATE bookings_business SET notification_date = %s WHERE id = %s",
                           (fields.Datetime.now(), row["id"]))
        for column in columns:
            cr.execute('ALTER TABLE bookings_business DROP COLUMN "%s"' % column)
    cr.execute("UPDATE bookings_invoice_batch SET user_id = create_uid WHERE user_id IS NULL")
