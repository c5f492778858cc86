"""Transaction helpers for long work that commits as it goes (the synchronization and its cron), and the
PostgreSQL advisory locks that keep such work apart.

Under Odoo's test runner everything happens in one transaction that is rolled back at the end: there a savepoint
stands in for each commit, so the same code runs in both worlds.
"""
import threading
import zlib
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


def lock_key(name, number):
    """The two integers of a PostgreSQL advisory lock: a class named after the add-on's use, and a record id."""
    return zlib.crc32(("bookings_invoicing." + name).encode()) & 0x7FFFFFFF, number


@contextmanager
def advisory_lock(registry, key, wait=True):
    """Hold the PostgreSQL session lock ``key`` while the block runs; yields whether it was obtained.

    The lock lives on a connection of its own: the work commits (or fails) on its cursor without touching the lock,
    and a new transaction started after the lock was obtained sees all that its previous holder committed. With
    ``wait=False`` a lock held elsewhere is not waited for. PostgreSQL releases it if the process dies.
    """
    cr = registry.cursor()
    try:
        if wait:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", key)
            obtained = True
        else:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            obtained = cr.fetchone()[0]
        try:
            yield obtained
        finally:
            if obtained:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        cr.close()
