"""What a synchronization run keeps and how it works: its memory (``Progress``), its units of work, each a transaction
of the run's own cursor committed there (``RunUnits``), where its problems, warnings and counts go, and what it shares
with the push it runs (``RunContext``).

``RunUnits`` is a base of ``sync.importer.BusinessImporter``; it uses the run's ``env`` (on the run's own cursor),
``registry``, ``business`` and ``progress``, which the importer sets.
"""
import logging
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable

import psycopg2

from odoo import _
from odoo.exceptions import UserError
from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE, PG_CONCURRENCY_ERRORS_TO_RETRY

from ..locks import advisory_locks
from ..messages import graph_error_message

_logger = logging.getLogger(__name__)


class Progress(object):
    """What a run keeps in memory besides the database; copied before each unit of work, to go back to when the
    unit is rolled back."""

    def __init__(self):
        self.counts = Counter()  # the counters of bookings.sync.run
        self.problems = []  # in words, for the run's message
        self.warnings = []  # in words: items read without an optional value that could not be read
        self.customers = {}  # Bookings customer id -> (bookings.customer id, partner id or False)
        # e-mail -> ((partner id, lower-case name), ...): the partners of the addresses the run met, read by the
        # turn that met them (bookings.customer._partner_index)
        self.partner_index = {}
        self.taken = {}  # partner id -> lower-case name of the Bookings customer linked to it
        self.listed = defaultdict(list)  # e-mail or None -> [(Bookings customer id, lower-case name)] of the list

    def snapshot(self):
        """A copy that the next unit of work cannot change (the partner index's entries are tuples, replaced and
        never changed in place)."""
        copied = Progress()
        copied.counts, copied.problems, copied.warnings = Counter(self.counts), list(self.problems), list(self.warnings)
        copied.customers, copied.taken, copied.listed = dict(self.customers), dict(self.taken), self.listed
        copied.partner_index = dict(self.partner_index)
        return copied


@dataclass(frozen=True)
class RunContext:
    """What the push shares with the synchronization that runs it."""

    env: object
    business: object
    problem: Callable  # problem(message): recorded on the run
    in_transaction: Callable  # in_transaction(work): work() committed, or rolled back and run again on a conflict
    count: Callable  # count(counter): one more on the run's counter


class RunUnits(object):
    """The run's units of work and its report; see the module."""

    def _run_context(self):
        return RunContext(self.env, self.business, self._problem, self._in_transaction, self._count)

    def _commit(self):
        # The importer's own cursor, opened by run(): never the caller's. Each unit of work is committed there so
        # that a crash keeps what was done. pylint: disable=invalid-commit
        self.env.cr.commit()

    def _in_transaction(self, work):
        """Run ``work()`` and commit it. When it fails, roll back and forget what it changed in memory; when a
        concurrent transaction (an invoicing) changed the same rows, run it again on fresh data."""
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            saved = self.progress.snapshot()
            try:
                result = work()
                self._commit()
                return result
            except Exception as error:
                self.env.cr.rollback()
                self.env.clear()  # nothing of the rolled back work may stay in the cache or be recomputed
                self.progress = saved
                if not isinstance(error, psycopg2.OperationalError) or \
                        error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                    raise
                _logger.info("Bookings synchronization of %s met a concurrent change (%s), attempt %d of %d",
                             self.business.mailbox, error.pgcode, attempt, MAX_TRIES_ON_CONCURRENCY_FAILURE)
                time.sleep(random.uniform(0.1, 0.5) * attempt)  # nosec B311  # a jitter, no secret
        raise UserError(_("Other users kept changing these bookings during the synchronization; run it again."))

    def _in_turn(self, keys, work):
        """``_in_transaction(work)`` holding the advisory locks ``keys``, in a transaction begun after they were
        obtained."""
        if not keys:
            return self._in_transaction(work)
        with advisory_locks(self.registry.db_name, keys):
            self._commit()  # ends a transaction begun before the locks: its snapshot would not see their holders'
            return self._in_transaction(work)

    def _count(self, counter):
        self.progress.counts[counter] += 1

    def _problem(self, message):
        _logger.info("Bookings synchronization of %s: %s", self.business.mailbox, message)
        self.progress.problems.append(message)

    def _warn(self, kind, record):
        """Record that ``record`` was kept without the optional values named in its ``warnings``."""
        if record.warnings:
            self.progress.counts["items_warned"] += 1
            self.progress.warnings.append(
                _("%(kind)s %(item)s was kept without what could not be read: %(details)s.")
                % {"kind": kind, "item": record.id, "details": "; ".join(record.warnings)})

    def _skip(self, problems):
        for problem in problems:
            self.progress.counts["items_skipped"] += 1
            self._problem(graph_error_message(self.env, problem))
