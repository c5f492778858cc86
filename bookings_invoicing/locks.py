"""PostgreSQL advisory locks: what the add-on's processes hold to work one at a time, or a few at a time.

Each lock lives on a connection of its own: the work commits (or fails) on its cursor without touching the lock,
and a transaction started after a lock was obtained sees all that its previous holder committed. PostgreSQL
releases the locks of a process that dies.
"""
import random
import zlib
from contextlib import contextmanager

from odoo import sql_db

#: Bookings serves at most four requests at once per application and mailbox (Microsoft Graph's throttling limits);
#: beyond, it answers 429.
GRAPH_CONCURRENCY = 4


def lock_key(name, number):
    """The two integers of a PostgreSQL advisory lock: a class named after the add-on's use, and a number. A text
    stands for the number it hashes to: two texts may share one, whose holders then take turns needlessly but
    never work at once on one text."""
    if isinstance(number, str):
        number = _hash(number)
    return _hash("bookings_invoicing." + name), number


def _hash(text):
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


@contextmanager
def try_advisory_lock(dbname, key):
    """Hold the PostgreSQL session lock ``key`` while the block runs, if no one else holds it; yields whether it
    was obtained."""
    cr = sql_db.db_connect(dbname).cursor()
    try:
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        obtained = cr.fetchone()[0]
        try:
            yield obtained
        finally:
            if obtained:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        cr.close()


@contextmanager
def advisory_locks(dbname, keys):
    """Hold all the PostgreSQL session locks ``keys`` while the block runs, waiting for each. They are tried all
    at once, in one query; when another process holds one of them, they are released and taken one by one in one
    order shared by every process, so that two holders of some of them never wait for each other in a cycle."""
    keys = sorted(set(keys))
    cr = sql_db.db_connect(dbname).cursor()
    try:
        cr.execute("SELECT bool_and(pg_try_advisory_lock(k.class, k.number))"
                   "  FROM unnest(%s::int[], %s::int[]) AS k(class, number)",
                   ([key[0] for key in keys], [key[1] for key in keys]))
        if not cr.fetchone()[0]:
            cr.execute("SELECT pg_advisory_unlock_all()")
            for key in keys:
                cr.execute("SELECT pg_advisory_lock(%s, %s)", key)
        yield
    finally:
        try:
            cr.execute("SELECT pg_advisory_unlock_all()")  # the locks of this connection only: the block's
        finally:
            cr.close()


@contextmanager
def one_of(dbname, name, slots):
    """Hold one of ``slots`` advisory locks named ``name`` while the block runs: at most ``slots`` blocks of that
    name run at once in all the processes of the database. A free slot is taken at once; when none is, the block
    waits for one chosen at random."""
    cr = sql_db.db_connect(dbname).cursor()
    try:
        for slot in random.sample(range(slots), slots):  # nosec B311  # spreads waiters, guards nothing
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", lock_key(name, slot))
            if cr.fetchone()[0]:
                key = lock_key(name, slot)
                break
        else:
            key = lock_key(name, random.randrange(slots))  # nosec B311  # spreads waiters
            cr.execute("SELECT pg_advisory_lock(%s, %s)", key)
        try:
            yield
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        cr.close()
