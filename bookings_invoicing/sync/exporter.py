"""The push of one Bookings business: the partners and service products its filters select, written to Bookings.

``DirectoryExporter(run, client).push(services, customers)`` runs inside a synchronization (``sync.importer``),
after it read the business's services and customers and before it mirrors them; ``run`` (a ``sync.run.RunContext``)
is what it shares with the synchronization: the environment, the business, where its problems and counts go, and
its transactions.

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
from ..messages import graph_error_message

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
    """Pushes the selected partners and service products of the run's business; see the module."""

    def __init__(self, run, client):
        self.run = run
        self.client = client

    def push(self, services, customers):
        """Push what the business's filters select; ``services`` and ``customers`` are the listings (``Page``) just
        read, which are updated with what was written."""
        for kind, listing in ((SERVICES, services), (CUSTOMERS, customers)):
            if self.run.business[kind.flag]:
                _KindPush(self.run, self.client, kind, listing).push()


class _KindPush(object):
    """The push of one kind of record (customers or services), with what it read of them."""

    def __init__(self, run, client, kind, listing):
        self.run = run
        self.client = client
        self.kind = kind
        self.listing = listing
        self.business = run.business
        self.Binding = run.env[kind.binding]
        self.bound = self.Binding._bookings_bound(self.business)
        self.positions = {record.id: index for index, record in enumerate(listing.records)}
        self.by_key = defaultdict(list)
        for record in listing.records:
            self.by_key[kind.key(record)].append(record)
        self.unreadable = {problem.params.get("item") for problem in listing.problems}

    def push(self):
        Binding, business = self.Binding, self.business
        odoo_model = Binding._bookings_odoo_model
        targets = self.run.env[odoo_model].search(
            business._push_domain(odoo_model, business[self.kind.domain]), order="id")
        bindings_of = defaultdict(list)
        for row in self.bound.values():
            if row[Binding._bookings_link_field]:
                bindings_of[row[Binding._bookings_link_field]].append(row)
        for target in targets:
            pushed = [row for row in bindings_of.get(target.id, ())
                      if row["pushed"] and not row["removed_in_bookings"]]
            if target.id in bindings_of and not pushed:
                continue  # bound to what Bookings owns, or deleted there: nothing to write
            payload = Binding._prepare_bookings_payload(business, target)
            try:
                for row in pushed:
                    self._update(row, target, payload)
                if target.id not in bindings_of:
                    self._create(target, payload)
            except STOPPING as error:
                self.run.problem(graph_error_message(business.env, error))
                return
            except errors.GraphError as error:
                self.run.problem(_("%(record)s was not pushed to Bookings: %(error)s") % {
                    "record": target.display_name, "error": graph_error_message(business.env, error)})

    def _create(self, target, payload):
        kind, Binding = self.kind, self.Binding
        key = kind.key(as_record(kind.parse, payload, "-"))
        if not key:
            self.run.problem(_("%(record)s was not pushed to Bookings: it has no e-mail address.")
                             % {"record": target.display_name})
            return
        existing = self.by_key.get(key, [])
        free = [record for record in existing if record.id not in self.bound]
        if existing and not free:
            self.run.problem(
                _("%(record)s was not pushed to Bookings: Bookings already has %(other)s, bound to another record.")
                % {"record": target.display_name, "other": existing[0].display_name})
            return
        pushed = not free
        if free:  # made by a run that died before its commit, or in Bookings since: bound, not created again
            record = free[0]
            _logger.info("Bound %s of %s to the Bookings record %s", target, self.business.mailbox, record.id)
        else:
            record = getattr(self.client, kind.create)(self.business.mailbox, payload)
            self.listing.records.append(record)
            self.by_key[key].append(record)
        values = dict(Binding._bookings_to_odoo_values(record), pushed=pushed,
                      **{Binding._bookings_link_field: target.id})
        self.bound[record.id] = self.run.in_transaction(
            lambda: Binding._bookings_create(self.business, record.id, values))
        if pushed:
            self.run.count(kind.created)

    def _update(self, row, target, payload):
        kind = self.kind
        position = self.positions.get(row["bookings_id"])
        if position is None:
            if row["bookings_id"] not in self.unreadable:
                self._removed(row, target)
            return
        if kind.is_current(payload, self.listing.records[position]):
            return
        try:
            getattr(self.client, kind.update)(self.business.mailbox, row["bookings_id"], payload)
        except errors.ItemNotFound:
            self._removed(row, target)
            return
        self.listing.records[position] = as_record(kind.parse, payload, row["bookings_id"])
        self.run.count(kind.updated)

    def _removed(self, row, target):
        """The pushed record ``row`` was deleted in Bookings: no longer pushed, raised for review."""
        reason = _("Deleted in Bookings: no longer pushed (its Odoo record %(record)s is kept).") % {
            "record": target.display_name}
        binding = self.Binding.browse(row["id"])
        self.run.in_transaction(lambda: binding.write(
            {"removed_in_bookings": True, "needs_review": True, "review_reason": reason}))
        row["removed_in_bookings"] = True
        self.run.problem(_("%(record)s: %(reason)s") % {"record": row["name"], "reason": reason})
