"""Read the log of an Odoo 11 test run and count what the unittest runners reported.

Odoo's exit code does not say whether its tests failed, so the log is read instead: every test module ends with
``Ran N tests``, and Odoo adds ``Module NAME: F failures, E errors`` when any failed. Only MODULE's tests are
counted: the modules installed with it (queue_job, with demo data) run theirs in the same log. Errors outside any
test (a module that fails to load) are counted as failures too, and so is a run that did not reach its end (Odoo's
``All post-tested in`` line): a process that died midway has left tests unrun.

Usage: odoo_test_summary.py LOG MODULE  -> prints "passed failed" and exits 0
"""
import re
import sys

RAN = re.compile(r"\bRan (\d+) tests? in ")
FAILED = re.compile(r"\bModule (\S+): (\d+) failures?, (\d+) errors?")
OUTSIDE = re.compile(
    r"(Failed to initialize database|Failed to load registry|invalid module names|"
    r"Some modules are not loaded|At least one test failed when loading the modules|"
    r"Module %s: an exception occurred in a test)")
FINISHED = re.compile(r"\bAll post-tested in ")


def summarize(path, module):
    """``(passed, failed)``: the tests that passed; the tests that failed, plus one for each error outside the tests
    and one for a run that did not finish."""
    ran = failed = problems = 0
    finished = False
    outside = re.compile(OUTSIDE.pattern.replace("%s", re.escape(module)))
    logger = " odoo.addons.%s.tests" % module
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = RAN.search(line)
            if match and logger in line:
                ran += int(match.group(1))
                continue
            match = FAILED.search(line)
            if match and match.group(1) == module:
                failed += int(match.group(2)) + int(match.group(3))
                continue
            if outside.search(line):
                problems += 1
            finished = finished or bool(FINISHED.search(line))
    return max(ran - failed, 0), failed + problems + (0 if finished else 1)


if __name__ == "__main__":
    passed, failed = summarize(sys.argv[1], sys.argv[2])
    print(passed, failed)
