from collections import defaultdict

from odoo import _, api, fields, models


class BookingsCustomer(models.Model):
    """A Bookings customer of one business, linked to the Odoo partner it is invoiced as."""

    _name = "bookings.customer"
    _inherit = "bookings.binding"
    _description = "Bookings Customer"

    email = fields.Char(readonly=True, help="As received from Bookings, trimmed and in lower case.")
    phone = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", ondelete="set null", index=True)

    @api.model
    def _partner_index(self, business):
        """Individual partners of the business's company (or shared), by trimmed lower-case e-mail."""
        self.env.cr.execute(
            """SELECT lower(trim(email)), id, lower(trim(name)) FROM res_partner
                WHERE active AND NOT is_company AND email IS NOT NULL AND trim(email) != ''
                  AND (company_id = %s OR company_id IS NULL)
                ORDER BY id""",
            (business.company_id.id,),
        )
        index = defaultdict(list)
        for email, partner_id, name in self.env.cr.fetchall():
            index[email].append((partner_id, name or ""))
        return index

    @api.model
    def _match_partner(self, business, name, email, partner_index, taken):
        """``(partner id or False, review reason or False)`` for a customer not linked yet.

        ``taken`` maps a partner id to the name of the Bookings customer of this business already linked to it.
        A partner is matched by e-mail; a partner already linked to a Bookings customer of another name is
        another person sharing the address (a family, an office) and is not merged with this one.
        """
        if not email:
            return False, _("No e-mail address in Bookings: set the partner by hand.")
        name = (name or "").strip().lower()
        candidates = [(pid, pname) for pid, pname in partner_index.get(email, ())
                      if taken.get(pid) is None or taken[pid] == name]
        if len(candidates) > 1:
            same_name = [pid for pid, pname in candidates if pname == name]
            if len(same_name) == 1:
                return same_name[0], False
            names = ", ".join(self.env["res.partner"].browse([pid for pid, _n in candidates]).mapped("display_name"))
            return False, _("Several partners have the e-mail %(email)s (%(names)s): choose one by hand.") % {
                "email": email, "names": names}
        if candidates:
            return candidates[0][0], False
        return False, False

    @api.model
    def _prepare_partner_values(self, business, name, email, phone):
        """Values of the partner created for a new Bookings customer: an individual of the business's company,
        with the defaults of the business's partner template."""
        values = {
            "name": name or email,
            "email": email,
            "phone": phone,
            "is_company": False,
            "customer": True,
            "company_id": business.company_id.id,
        }
        template = business.partner_template_id.with_context(force_company=business.company_id.id)
        if template:
            values.update({
                "property_payment_term_id": template.property_payment_term_id.id,
                "property_account_position_id": template.property_account_position_id.id,
                "category_id": [(6, 0, template.category_id.ids)],
                "lang": template.lang,
                "user_id": template.user_id.id,
            })
        return values
