"""11.0.1.1.0: the Uninvoiced list also holds the bookings that wait for a price (status ``no_price``). Its two
partial indexes are made again by the model's ``init`` with the new statuses."""


def migrate(cr, version):
    if not version:
        return
    cr.execute("DROP INDEX IF EXISTS bookings_appointment_uninvoiced_idx")
    cr.execute("DROP INDEX IF EXISTS bookings_appointment_uninvoiced_count_idx")
