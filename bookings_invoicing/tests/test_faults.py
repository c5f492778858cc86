import dataclasses
import time
from contextlib import nullcontext
from types import SimpleNamespace
from unittest.mock import patch

from odoo.tools import mute_logger

from bookings_peer import BookingsPeer

from .common import MAILBOX, BookingsCase, allow_host, hours_ago


class TestFaults(BookingsCase):
    """Network faults served by the peer during a synchronization. Each run either completes with the exact mirror
    or stops with a recorded error having cancelled nothing; the next run then converges to the exact mirror."""

    def setUp(self):
        super(TestFaults, self).setUp()
        self.cut = self.add_service("Hair cut", price=35.0, minutes=45)
        self.ann = self.add_customer("Ann Archer", "ann@example.com")
        for hours in range(1, 31):  # three pages of ten
            self.add_appointment(self.cut, [self.ann], hours_ago(hours * 3))
        self.sync()
        appointments = list(self.store.items(MAILBOX, "appointments"))
        self.gone = [item["id"] for item in appointments[:3]]  # cancelled in Bookings since the last run
        for appointment_id in self.gone:
            self.store.remove(MAILBOX, "appointments", appointment_id)
        self.changed = appointments[20]["id"]  # its price changed in Bookings, on the last page
        self.store.update(MAILBOX, "appointments", self.changed, price=77.0)
        # short timeouts and back-off, so that a fault costs the test little: the requests stay real
        Business = type(self.business)
        settings = Business._graph_settings
        fast = patch.object(Business, "_graph_settings", autospec=True, side_effect=lambda business: (
            dataclasses.replace(settings(business), timeout=(2.0, 1.0), backoff_factor=0.01, max_attempts=4)))
        fast.start()
        self.addCleanup(fast.stop)

    def assert_mirror(self):
        rows = self.rows()
        self.assertEqual(set(rows.filtered(lambda r: r.state == "cancelled").mapped("bookings_id")), set(self.gone))
        self.assertEqual(set(rows.filtered(lambda r: r.state == "active").mapped("bookings_id")),
                         {item["id"] for item in self.store.items(MAILBOX, "appointments")})
        self.assertEqual(rows.filtered(lambda r: r.bookings_id == self.changed).price, 77.0)

    def assert_nothing_cancelled(self, run):
        self.assertEqual(run.appointments_cancelled, 0)
        self.assertFalse(self.rows().filtered(lambda r: r.state == "cancelled"))

    def fails_then_converges(self, text, later=None, **fault):
        self.peer.inject(**fault)
        with mute_logger("odoo.addons.bookings_invoicing.sync", "urllib3.connectionpool"):
            run = self.sync()
        self.assertEqual(run.state, "failed", run.message)
        self.assertIn(text, run.message)
        self.assertEqual(self.business.last_sync_state, "failed")
        self.assert_nothing_cancelled(run)
        self.peer.clear_faults()
        with later or nullcontext():  # the next synchronization, in a context of its own (a clock moved on)
            self.assertEqual(self.sync().state, "done")
        self.assert_mirror()

    def completes(self, **fault):
        self.peer.inject(**fault)
        with mute_logger("urllib3.connectionpool"):
            run = self.sync()
        self.assertEqual((run.state, run.appointments_cancelled), ("done", 3), run.message)
        self.assert_mirror()
        self.assertTrue(all(f.hits for f in self.peer.faults), "the fault was served")

    def test_a_retry_after_beyond_the_throttling_budget_fails_the_run_with_the_reason(self):
        self.business.sync_throttle_budget = 2
        self.peer.inject(path="calendarView", page=2, status=429, retry_after=1, times=1)  # waited: 1 s of 2
        self.fails_then_converges("wait 3 seconds", path="calendarView", page=3, status=429, retry_after=3, times=1)

    def test_a_burst_of_429_with_retry_after_is_waited_out(self):
        self.completes(path="calendarView", page=2, status=429, retry_after=1, times=2)

    def test_a_503_on_a_middle_page_is_retried(self):
        self.completes(path="calendarView", page=2, status=503, retry_after=0.1, times=2)

    def test_a_middle_page_that_keeps_failing(self):
        self.fails_then_converges("HTTP 500", path="calendarView", page=2, status=500, times=None)

    def test_a_middle_page_that_times_out(self):
        self.fails_then_converges("Cannot reach", path="calendarView", page=2, delay=1.5, times=None)

    def test_malformed_json_on_a_middle_page(self):
        self.fails_then_converges("cannot be read", path="calendarView", page=2, body='{"value": [', times=None)

    def test_a_next_link_that_repeats_itself(self):
        self.fails_then_converges("same next page twice", path="calendarView", page=2, repeat_next_link=True,
                                  times=None)

    def test_a_token_endpoint_that_fails(self):
        self.peer.inject(path="calendarView", page=1, status=401, times=1)  # the cached token is refused: renew it
        # msal calls the token endpoint again only after its throttling delay (5 s by default), by its own clock
        past_throttling = patch("msal.individual_cache.time", SimpleNamespace(time=lambda: time.time() + 6))
        self.fails_then_converges("Microsoft Entra ID failed with HTTP 503", path="/oauth2/v2.0/token", status=503,
                                  times=None, later=past_throttling)

    def test_an_untrusted_certificate(self):
        stranger = BookingsPeer(self.store, page_size=10).start()  # the same data, a certificate no one trusts
        self.addCleanup(stranger.stop)
        allow_host(self.env, stranger.url)
        self.business.write({"authority_url": stranger.url, "graph_url": stranger.url})
        with mute_logger("odoo.addons.bookings_invoicing.sync"):
            run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn(stranger.url, run.message, "the address whose certificate is not trusted")
        self.assert_nothing_cancelled(run)
        self.business.write({"authority_url": self.peer.url, "graph_url": self.peer.url})
        self.assertEqual(self.sync().state, "done")
        self.assert_mirror()

    def test_an_item_without_id_cancels_nothing(self):
        # the last page comes back as one item without id: what it held is not seen, and must not be cancelled
        self.peer.inject(path="calendarView", page=3, body='{"value": [{"subject": "no id"}]}', times=1)
        with mute_logger("odoo.addons.bookings_invoicing.sync"):
            run = self.sync()
        self.assertEqual(run.state, "partial")
        self.assertEqual(run.items_skipped, 1)
        self.assert_nothing_cancelled(run)
        self.assertEqual(self.sync().state, "done")
        self.assert_mirror()
