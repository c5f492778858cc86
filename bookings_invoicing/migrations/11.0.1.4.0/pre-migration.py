"""11.0.1.4.0: the bindings' unique keys are SQL constraints (``_sql_constraints``) instead of unique indexes made by
the models. The indexes, which carry the constraints' names, are dropped first; the update adds the constraints,
which hold the same rows."""


def migrate(cr, version):
    if not version:
        return
    for table in ("bookings_customer", "bookings_service", "bookings_appointment"):
        cr.execute("DROP INDEX IF EXISTS %s_bookings_key_uniq" % table)  # names of our own, no user input
