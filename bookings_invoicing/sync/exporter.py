"""The push of one Bookings business: the partners and service products its filters select, written to Bookings.

``DirectoryExporter(importer, client).push(services, customers)`` runs inside a synchronization (``sync.importer``),
after it read the business's services and customers and before it mirrors them:

* A selected record without a binding is created in Bookings and bound at once (its binding is committed right
  after the create), marked *pushed*. Graph has no idempotency key: before creating, the push looks for a Bookings
  record with the same key (a customer's e-mail, a service's name) in what was just read, and binds it instead.
  So a run that died between the create and the commit binds, on the next run, what it created.
* A pushed record whose mapped values changed in Odoo is updated in Bookings (only then). Records born in Bookings
  are never written. A pushed record that Bookings no longer has was deleted there: its binding is marked so, raised
  for review and no longer pushed. Archiving in Odoo deletes nothing in Bookings.
* The listings read are brought up to date with what was written, so that the mirroring that follows sees Bookings
  as it now is. An error on one record is recorded on the run and the push goes on; an error that every write would
  meet (no permission, no sign-in, the throttling budget spent) ends the push of that kind of record.
"""
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from odoo import _

from ..graph import errors, normalize_email
from ..graph.payloads import as_record, customer_is_current, service_is_current
from ..graph.records import parse_customer, parse_service

_logger = logging.getLogger(__name__)

#: Errors that every further write of the run would meet.
STOPPING = (errors.PermissionDenied, errors.AuthenticationError, errors.ThrottleBudgetSpent, errors.ConnectionFailed)


@dataclass(frozen=True)
class _Kind:
    """What differs between pushing customers and pushing services."""

    binding: str  # the binding model
    flag: str  # the business's field that turns the push on
    domain: str  # the business's field that holds the filter
    create: str  # the client's methods
    update: str
    parse: Callable  # the parser of the records read
    is_current: Callable  # whether a record read holds a payload
    key: Callable  # what identifies a record read that has no binding
    created: str  # the run's counters
    updated: str


SERVICES = _Kind("bookings.service", "push_services", "push_service_domain", "create_service", "update_service",
                 parse_service, service_is_current, lambda record: record.display_name.strip().lower(),
                 "services_pushed", "services_push_updated")
CUSTOMERS = _Kind("bookings.customer", "push_customers", "push_customer_domain", "create_customer",
                  "update_customer", parse_customer, customer_is_current, lambda record: normalize_email(record.email),
                  "customers_pushed", "customers_push_updated")


class DirectoryExporter(object):
    """Pushes the selected partners and service products of the importer's business; see the module."""

    def __init__(self, importer, client):
        self.importer = importer
        self.client = client
        self.env = importer.env
        self.business = importer.business

    def push(self, services, customers):
        """Push what the business's filters select; ``services`` and ``customers`` are the listings (``Page``) just
        read, which are updated with what was written."""
        for kind, listing in ((SERVICES, services), (CUSTOMERS, customers)):
            if self.business[kind.flag]:
                self._push_kind(kind, listing)

    def _push_kind(self, kind, listing):
        Binding = self.env[kind.binding]
        targets = self.env[Binding._bookings_odoo_model].search(
            self.business._push_domain(Binding._bookings_odoo_model, self.business[kind.domain]), order="id")
        bound = Binding._bookings_bound(self.business)
        link = Binding._bookings_link_field
        bindings_of = defaultdict(list)
        for row in bound.values():
            if row[link]:
                bindings_of[row[link]].append(row)
        positions = {record.id: index for index, record in enumerate(listing.records)}
        by_key = defaultdict(list)
        for record in listing.records:
            by_key[kind.key(record)].append(record)
        unreadable = {problem.params.get("item") for problem in listing.problems}
        for target in targets:
            pushed = [row for row in bindings_of.get(target.id, ())
                      if row["pushed"] and not row["removed_in_bookings"]]
            if target.id in bindings_of and not pushed:
                continue  # bound to what Bookings owns, or deleted there: nothing to write
            payload = Binding._prepare_bookings_payload(self.business, target)
            try:
                for row in pushed:
                    self._update(kind, listing, positions, unreadable, row, target, payload)
                if target.id not in bindings_of:
                    self._create(kind, listing, bound, by_key, target, payload)
            except STOPPING as error:
                self.importer._problem(self.business._graph_error_message(error))
                return
            except errors.GraphError as error:
                self.importer._problem(_("%(record)s was not pushed to Bookings: %(error)s") % {
                    "record": target.display_name, "error": self.business._graph_error_message(error)})

    def _create(self, kind, listing, bound, by_key, target, payload):
        Binding = self.env[kind.binding]
        key = kind.key(as_record(kind.parse, payload, "-"))
        if not key:
            self.importer._problem(_("%(record)s was not pushed to Bookings: it has no e-mail address.")
                                   % {"record": target.display_name})
            return
        existing = by_key.get(key, [])
        free = [record for record in existing if record.id not in bound]
        if existing and not free:
            self.importer._problem(
                _("%(record)s was not pushed to Bookings: Bookings already has %(other)s, bound to another record.")
                % {"record": target.display_name, "other": existing[0].display_name})
            return
        pushed = not free
        if free:  # made by a run that died before its commit, or in Bookings since: bound, not created again
            record = free[0]
            _logger.info("Bound %s of %s to the Bookings record %s", target, self.business.mailbox, record.id)
        else:
            record = getattr(self.client, kind.create)(self.business.mailbox, payload)
            listing.records.append(record)
            by_key[key].append(record)
        values = dict(Binding._bookings_to_odoo_values(record), pushed=pushed,
                      **{Binding._bookings_link_field: target.id})
        bound[record.id] = self.importer._in_transaction(
            lambda: Binding._bookings_create(self.business, record.id, values))
        self.importer.progress.counts[kind.created] += int(pushed)

    def _update(self, kind, listing, positions, unreadable, row, target, payload):
        position = positions.get(row["bookings_id"])
        if position is None:
            if row["bookings_id"] not in unreadable:
                self._removed(kind, row, target)
            return
        if kind.is_current(payload, listing.records[position]):
            return
        try:
            getattr(self.client, kind.update)(self.business.mailbox, row["bookings_id"], payload)
        except errors.ItemNotFound:
            self._removed(kind, row, target)
            return
        listing.records[position] = as_record(kind.parse, payload, row["bookings_id"])
        self.importer.progress.counts[kind.updated] += 1

    def _removed(self, kind, row, target):
        """The pushed record ``row`` was deleted in Bookings: no longer pushed, raised for review."""
        reason = _("Deleted in Bookings: no longer pushed (its Odoo record %(record)s is kept).") % {
            "record": target.display_name}
        binding = self.env[kind.binding].browse(row["id"])
        self.importer._in_transaction(lambda: binding.write(
            {"removed_in_bookings": True, "needs_review": True, "review_reason": reason}))
        row["removed_in_bookings"] = True
        self.importer._problem(_("%(record)s: %(reason)s") % {"record": row["name"], "reason": reason})
