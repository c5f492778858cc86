"""What the test suites and the benchmarks share to run the product from outside: the local Bookings peer and an
Odoo server in processes of their own (``peer``, ``odoo_process``), the ways in (XML-RPC, PostgreSQL), and the wait
on a condition (``wait_for``)."""
import time


def wait_for(condition, what, timeout=60, process=None, interval=0.01):
    """The first value other than None or False that ``condition()`` gives (0 is one: a slot, a count), polled
    every ``interval`` seconds. Waiting longer than
    ``timeout`` seconds, or ``process`` (a ``subprocess.Popen``) ending meanwhile, fails with an ``AssertionError``
    that says what was waited for."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError("%s: the process ended with code %s" % (what, process.returncode))
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("still waiting for %s after %s s" % (what, timeout))
        time.sleep(interval)
