"""The add-on's background jobs run again when their worker dies.

queue_job cannot tell a job whose worker was killed (a time limit, the out-of-memory killer, a machine lost) from a
job still running, so it leaves it *Started* for ever and its channel one slot short. Each job of the add-on is
declared ``@recoverable_job``: it holds, for its whole transaction, a PostgreSQL advisory lock on its queue_job id;
PostgreSQL drops the lock with the dead worker's connection. A cron queues again the started jobs so declared whose
lock is free: they are all safe to run again. The same cron ends the parts of invoicing batches whose job queue_job
failed (out of retries after concurrent updates, or failed by hand), so that their batch still ends.
"""
import functools
import logging

from odoo import api, models, tools

from ..locks import lock_key
from ..mirror import run_context

_logger = logging.getLogger(__name__)

#: A job marked started takes its lock a moment later: until then it is left alone.
STARTED_GRACE_SECONDS = 60
#: The class of the jobs' advisory locks; each is keyed by its job's queue_job id.
JOB_LOCK = lock_key("job", 0)[0]


def recoverable_job(method):
    """Declare a job method (under queue_job's ``@job``) safe to run again: as it starts, it holds its lock until
    its transaction ends (by its commit or its worker's death), and the recovery cron queues it again when its
    worker died. It runs in a context built from scratch (``mirror.run_context``): nothing of the context it was
    called in reaches what it creates, and a job writes in the language and time zone of the user who queued it.
    Outside a job, the method just runs, in such a context too."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        uuid = self.env.context.get("job_uuid")
        context = self.env.context
        if uuid:
            self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, id) FROM queue_job WHERE uuid = %s",
                                (JOB_LOCK, uuid))
            # a job runs in the job runner's request: what it writes is in the language of whoever queued it
            context = {"lang": self.env.user.lang, "tz": self.env.user.tz}
        # the caller's context replaced, not extended: that is the point
        clean = self.with_context(run_context(context))  # pylint: disable=context-overridden
        return method(clean, *args, **kwargs)

    run.bookings_recoverable = True
    return run


class QueueJob(models.Model):
    _inherit = "queue.job"

    @api.model
    def _bookings_recover(self):
        """The cron: jobs whose worker stopped run again, and parts of batches whose job queue_job failed end."""
        self._bookings_requeue_interrupted()
        self.env["bookings.invoice.batch.part"]._end_parts_of_failed_jobs()

    @api.model
    @tools.ormcache()
    def _bookings_recoverable_jobs(self):
        """The jobs declared ``@recoverable_job``, as queue_job stores them: (model, method)."""
        return tuple(sorted(
            (name, attribute) for name, model in self.env.registry.items() for attribute in dir(model)
            if getattr(getattr(model, attribute, None), "bookings_recoverable", False)))

    @api.model
    def _bookings_requeue_interrupted(self):
        """The cron: queue again the add-on's started jobs that no worker runs any more; returns them."""
        self.env.cr.execute("""
            SELECT id FROM queue_job
            WHERE state = 'started' AND (model_name, method_name) IN %s
              AND date_started < (now() AT TIME ZONE 'UTC') - interval '1 second' * %s
        """, (self._bookings_recoverable_jobs(), STARTED_GRACE_SECONDS))
        interrupted = self.browse()
        for job_id in [row[0] for row in self.env.cr.fetchall()]:
            # free only when no transaction holds it; obtained here, it is released at this transaction's end
            self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (JOB_LOCK, job_id))
            if self.env.cr.fetchone()[0]:
                interrupted |= self.browse(job_id)
        for job in interrupted:
            _logger.warning("The job %s (%s) was interrupted: its worker stopped. It is queued again.",
                            job.uuid, job.name)
        interrupted.requeue()
        return interrupted
