"""Transaction helpers for long work that commits as it goes (the synchronization and its cron).

Under Odoo's test runner everything happens in one transaction that is rolled back at the end: there a savepoint
stands in for each commit, so the same code runs in both worlds.
"""
import threading
from contextlib import contextmanager


def in_test_mode():
    return getattr(threading.current_thread(), "testing", False)


def commit(cr):
    """Commit the work done so far (a batch), except under tests."""
    if not in_test_mode():
        cr.commit()


@contextmanager
def unit_of_work(cr):
    """Commit what the block did, or roll it all back when it raises (the exception goes on)."""
    if in_test_mode():
        with cr.savepoint():
            yield
        return
    try:
        yield
    except Exception:
        cr.rollback()
        raise
    cr.commit()
