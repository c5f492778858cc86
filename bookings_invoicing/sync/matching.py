"""The matching of a run's Bookings customers to Odoo partners: the customer bindings upserted and linked, the
attendees of appointments linked to them, and the same person recognized whatever shape Graph named them in.

``CustomerMatching`` is a base of ``sync.importer.BusinessImporter``; what it learns for the rest of the run (the
customers read, the partners of their e-mail addresses, the partners taken) is in the run's ``progress``.
"""
from dataclasses import replace

from odoo import _

from .. import rules
from ..locks import lock_key
from .run import RunUnits


class CustomerMatching(RunUnits):
    """Customers to partners, for a run; see the module."""

    def _email_keys(self, emails):
        """The advisory locks of the company's partners of ``emails``: whoever may create one holds them."""
        company_id = self.business.company_id.id
        return [lock_key("partner e-mail", "%d %s" % (company_id, email)) for email in emails]

    def _index_taken_partners(self):
        """The partners the business's customers took (``_match_partner``)."""
        self.progress.taken = {row["partner_id"]: (row["name"] or "").strip().lower()
                               for row in self.env["bookings.customer"]._bookings_bound(self.business).values()
                               if row["partner_id"]}

    def _read_partners_of(self, emails):
        """Read the partners of ``emails`` afresh into the run's index, in the turn that may match them: another
        run may have just created them."""
        self.progress.partner_index.update(self.env["bookings.customer"]._partner_index(self.business, emails))

    def _import_customers(self, records, emails):
        """Upsert the customers ``records``, whose addresses are ``emails``, and link them to partners."""
        self._read_partners_of(emails)
        bound = self.env["bookings.customer"]._bookings_bound(self.business, [record.id for record in records])
        kind = _("Customer")
        for record in records:
            self._warn(kind, record)
            self._import_customer(record, bound)

    def _import_customer(self, record, bound):
        """Upsert one customer (``graph.records.Customer``) given the stored ``bound`` ones; returns
        ``(bookings.customer id, partner id or False)``."""
        Customer = self.env["bookings.customer"]
        values = Customer._bookings_to_odoo_values(record)
        old = bound.get(record.id)
        if old is None:
            old = bound[record.id] = Customer._bookings_create(self.business, record.id, values)
            self.progress.counts["customers_created"] += 1
        elif Customer._bookings_write_changes(old, values):
            self.progress.counts["customers_updated"] += 1
        if not old.get("partner_id"):
            partner_id, reason = self._partner_of(record)
            self._link(Customer, old, "partner_id", partner_id, reason, _("Customer"), record.display_name)
        self.progress.customers[record.id] = (old["id"], old.get("partner_id") or False)
        return self.progress.customers[record.id]

    def _link(self, Binding, old, field, odoo_id, reason, kind, name):
        """Link the binding ``old`` (its stored values) to its Odoo record, or say why it has none: a binding that
        waits for a link is reported by the run that first finds it waiting, not by every run."""
        changes = Binding._bookings_write_changes(
            old, {field: odoo_id or False, "needs_review": bool(reason), "review_reason": reason or False})
        if reason and "review_reason" in changes:
            self._problem(_("%(kind)s %(name)s: %(reason)s") % {"kind": kind, "name": name, "reason": reason})

    def _partner_of(self, record):
        """``(partner id or False, review reason or False)`` of the Bookings customer ``record`` not linked yet
        (found or made by the customer model); the partner is then matched by its e-mail, and taken by the
        customer's name, for the rest of the run."""
        progress = self.progress
        partner_id, reason = self.env["bookings.customer"]._find_or_create_partner(
            self.business, record, progress.partner_index, progress.taken)
        if not partner_id:
            return False, reason
        name = (record.display_name or "").strip().lower()
        if record.email:
            known = progress.partner_index.get(record.email, ())
            if partner_id not in [known_id for known_id, _known_name in known]:
                progress.partner_index[record.email] = known + ((partner_id, name),)
        progress.taken.setdefault(partner_id, name)
        return partner_id, reason

    def _attendee_links(self, attendee):
        """``(bookings.customer id or False, partner id or False)`` of an appointment's attendee (or None)."""
        if attendee is None:  # a walk-in: the business's walk-in customer, where it has one
            return False, self.business.walk_in_partner_id.id or False
        if attendee.customer_id in self.progress.customers:
            return self.progress.customers[attendee.customer_id]
        if attendee.customer_id:  # not in the customer list (removed since): recorded from the appointment
            bound = self.env["bookings.customer"]._bookings_bound(self.business, [attendee.customer_id])
            return self._import_customer(attendee.as_customer(), bound)
        if attendee.email:
            return False, self._partner_of(attendee.as_customer())[0]
        return False, False

    def _with_listed_customers(self, record):
        """The appointment ``record`` whose attendees without customer id (named by the legacy fields only) take
        the id of the listed Bookings customer with their e-mail (where several share it, a family, the one with
        their name; without e-mail, the only one with their name): the same person whatever shape Graph used."""
        def listed(attendee):
            found = self.progress.listed.get(attendee.email) or []
            named = [customer_id for customer_id, name in found if name == attendee.name.lower()]
            if attendee.email and len(found) == 1:
                return replace(attendee, customer_id=found[0][0])
            return replace(attendee, customer_id=named[0]) if len(named) == 1 else attendee

        if all(attendee.customer_id for attendee in record.attendees):
            return record
        return replace(record, attendees=tuple(
            attendee if attendee.customer_id else listed(attendee) for attendee in record.attendees))

    def _unlisted_emails(self, records):
        """The addresses of the attendees of the appointments ``records`` (``_with_listed_customers``) who are no
        customer of the list: the page may create their partners."""
        return {attendee.email for record in records for attendee in record.attendees
                if attendee.email and attendee.customer_id not in self.progress.customers}

    @staticmethod
    def _same_person(bound, record, rows, key, attendee):
        """The stored row of ``record`` that stands for the only attendee under a key of an older shape: the row
        without customer or the row keyed by the e-mail, kept when Graph names the customer otherwise (legacy
        fields, then ``customers[]``), so that one booking stays one row and is never billed twice. It takes
        ``key``; None when there is none."""
        if attendee is None or len(rows) != 1:
            return None
        for older in (rules.NO_CUSTOMER_KEY, rules.attendee_key(replace(attendee, customer_id=None), 0)):
            old = bound.pop((record.id, older), None)
            if old is not None and older != key:
                bound[(record.id, key)] = old
                return old
        return None
