from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools.sql import escape_psql

from ..graph.payloads import customer_payload
from ..graph.records import Address, Customer
from .bookings_binding import BookingsDirectoryBinding


class BookingsCustomer(models.Model):
    """A Bookings customer of one business, linked to the Odoo partner it is invoiced as."""

    _name = "bookings.customer"
    _inherit = "bookings.directory.binding"
    _sql_constraints = [
        ("bookings_key_uniq", "unique(business_id, bookings_id)", "A Bookings customer is bound once per business."),
    ]
    _description = "Bookings Customer"
    _bookings_mirrored_fields = BookingsDirectoryBinding._bookings_mirrored_fields + ("email", "phone")
    _bookings_odoo_model = "res.partner"
    _bookings_link_field = "partner_id"

    email = fields.Char(readonly=True, help="As received from Bookings, trimmed and in lower case.")
    phone = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", ondelete="set null", index=True)

    @api.multi
    def write(self, values):
        by_hand = "partner_id" in values and not self._bookings_mirroring()
        result = super(BookingsCustomer, self).write(values)
        if by_hand and values["partner_id"]:
            # the partner chosen settles why the customer waited for one
            self._bookings_as_mirror().write({"needs_review": False, "review_reason": False})
            self._give_partner_to_bookings()
        return result

    @api.multi
    def _give_partner_to_bookings(self):
        """A partner set by hand on a Bookings customer is the customer of all its bookings not invoiced yet; later
        synchronizations keep the link."""
        Appointment = self.env["bookings.appointment"]
        for customer in self:
            rows = Appointment.search([("bookings_customer_id", "=", customer.id), ("invoice_status", "!=", "invoiced"),
                                       "|", ("partner_id", "=", False), ("partner_id", "!=", customer.partner_id.id)])
            rows.write({"partner_id": customer.partner_id.id})

    @api.multi
    def action_create_partners(self):
        """A new partner for each of these Bookings customers without one (those Bookings gives no e-mail address to
        be matched by), made from what Bookings says of them as the synchronization makes one
        (``_prepare_partner_values``): the customer of their bookings not invoiced yet."""
        self.check_access_rights("write")
        self.check_access_rule("write")
        Partner = self.env["res.partner"]
        for customer in self.filtered(lambda customer: not customer.partner_id):
            record = Customer(id=customer.bookings_id, display_name=customer.name, email=customer.email or None,
                              phone=customer.phone or None)
            customer.partner_id = Partner.create(self._prepare_partner_values(customer.business_id, record))
        return True

    @api.model
    def _bookings_to_odoo_values(self, record):
        """``record``: a ``graph.records.Customer`` (an appointment's attendee gives one too)."""
        return {"name": record.display_name, "email": record.email or False, "phone": record.phone or False}

    @api.model
    def _prepare_bookings_payload(self, business, partner):
        """The ``bookingCustomer`` pushed for ``partner``: its name, e-mail, phone (else mobile) and address."""
        address = Address(street=", ".join(filter(None, (partner.street, partner.street2))) or None,
                          city=partner.city or None, state=partner.state_id.code or None,
                          postal_code=partner.zip or None, country=partner.country_id.code or None)
        phone, phone_type = (partner.phone, "home") if partner.phone else (partner.mobile, "mobile")
        return customer_payload(partner.name, partner.email, phone, phone_type, address)

    # --- partners -----------------------------------------------------------------------------------------------
    @api.model
    def _partner_index(self, business, emails):
        """``{e-mail: ((partner id, trimmed lower-case name), ...)}`` for each of the trimmed lower-case ``emails``:
        the individual partners of the business's company (or shared) with that address, oldest first."""
        if not emails:
            return {}
        self.env.cr.execute("""
            SELECT lower(trim(email)), id, lower(trim(name)) FROM res_partner
             WHERE active AND NOT is_company AND (company_id = %s OR company_id IS NULL)
               AND lower(trim(email)) IN %s
             ORDER BY id""", (business.company_id.id, tuple(emails)))
        index = defaultdict(list)
        for email, partner_id, name in self.env.cr.fetchall():
            index[email].append((partner_id, name or ""))
        return {email: tuple(index[email]) for email in emails}

    @api.model
    def _match_partner(self, name, email, partner_index, taken):
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
    def _find_or_create_partner(self, business, record, partner_index, taken):
        """``(partner id or False, review reason or False)`` of a Bookings customer (or attendee) ``record`` not
        linked yet, by the matching rules (``_match_partner``), created when the business synchronizes customers
        and nothing matches."""
        partner_id, reason = self._match_partner(record.display_name, record.email, partner_index, taken)
        if not partner_id and not reason:
            if not business.sync_customers:
                return False, _("No partner has the e-mail %(email)s: link one by hand.") % {"email": record.email}
            partner_id = self.env["res.partner"].with_context(tracking_disable=True).create(
                self._prepare_partner_values(business, record)).id
        return partner_id, reason

    @api.model
    def _prepare_partner_values(self, business, record):
        """Values of the partner created for a new Bookings customer ``record`` (``graph.records.Customer``): an
        individual of the business's company, with its phone and postal address (an invoice needs them), and the
        defaults of the business's partner template."""
        values = {
            "name": record.display_name or record.email,
            "email": record.email,
            "phone": record.phone,
            "is_company": False,
            "customer": True,
            "company_id": business.company_id.id,
        }
        values.update(self._prepare_partner_address(record.address))
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

    @api.model
    def _prepare_partner_address(self, address):
        """A partner's address fields from a Bookings address (``graph.records.Address`` or None): the country and
        state are Odoo's, found by code or name; one that Odoo does not know is left empty."""
        if not address:
            return {}
        country = self._find_by_code_or_name("res.country", address.country)
        state = self._find_by_code_or_name("res.country.state", address.state,
                                           [("country_id", "=", country.id)])  # none without a country
        return {"street": address.street, "city": address.city, "zip": address.postal_code,
                "country_id": country.id, "state_id": state.id}

    @api.model
    def _find_by_code_or_name(self, model, text, domain=()):
        if not text:
            return self.env[model]
        for field in ("code", "name"):
            found = self.env[model].search(list(domain) + [(field, "=ilike", escape_psql(text.strip()))], limit=2)
            if len(found) == 1:
                return found
        return self.env[model]
