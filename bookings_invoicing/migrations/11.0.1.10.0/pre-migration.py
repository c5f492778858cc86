"""11.0.1.10.0: an appointment row stores the hourly rate its line's description names (``hourly_rate``), beside the
terms it already stores. The column is made and filled here, by the rule that computed those terms, so that the
update computes none of a row's stored terms again: an invoiced row keeps every value it had."""
import math

from odoo.addons.bookings_invoicing import rules


def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE bookings_appointment ADD COLUMN IF NOT EXISTS hourly_rate numeric")
    cr.execute("SELECT digits FROM decimal_precision WHERE name = 'Product Unit of Measure'")
    quantity_digits = (cr.fetchone() or (3,))[0]
    cr.execute("""
        SELECT row.id, row.price, row.duration, currency.rounding
          FROM bookings_appointment row
          JOIN res_company company ON company.id = row.company_id
          JOIN res_currency currency ON currency.id = COALESCE(row.currency_id, company.currency_id)
         WHERE row.price_type = %s AND row.fee_kind IS NULL""", (rules.HOURLY,))
    for row_id, price, duration, rounding in cr.fetchall():
        # the currency's decimal places, as res.currency computes them
        currency_digits = int(math.ceil(math.log10(1 / rounding))) if 0 < rounding < 1 else 0
        terms = rules.invoice_terms(rules.HOURLY, price or 0, int(round((duration or 0) * 3600)), 0,
                                    currency_digits=currency_digits, quantity_digits=quantity_digits)
        if terms.hourly_rate:
            cr.execute("UPDATE bookings_appointment SET hourly_rate = %s WHERE id = %s", (terms.hourly_rate, row_id))
