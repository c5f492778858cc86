"""The accountant closes last month from the dashboard, along *Close last month*, in at most fifteen clicks and
entries: customers, prices, the month's drafts, prices to confirm and reviews. Each step is compared with what the
server holds (over XML-RPC); what the suite's earlier tests did is found done. Then again on the first, the seventh
and the last day of a month, each on a database of its own."""
import datetime
import os

import pytest
from conftest import (
    ADMIN,
    ARTIFACTS,
    HTTP_PORT,
    PEER_PORT,
    Rpc,
    demo_database,
    demo_peer,
    faked_clock,
    odoo_environment,
    odoo_server,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from test_accountant_day import Screen
from zoneinfo import ZoneInfo

#: What closing a month may cost the accountant, clicks and typed entries together
MOST_CLICKS = 15
PATH = "bookings.month.close"
#: The demo salon's zone (Bookings' "Central Standard Time"), in which its months are closed
SALON_ZONE = ZoneInfo("America/Chicago")


class CountingScreen(Screen):
    """The screen, counting what the accountant clicks and types."""

    clicks = 0

    def click(self, css, timeout=30):
        self.clicks += 1
        super(CountingScreen, self).click(css, timeout)

    def press(self, label, scope="//div[contains(@class, 'o_form_view')]"):
        self.clicks += 1
        super(CountingScreen, self).press(label, scope)

    def type_in(self, css, *keys):
        """Type ``keys`` in the input ``css`` once it is there, over what it holds: one entry."""
        self.clicks += 1
        field = self.find(css)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(*keys)

    def step_done(self, name):
        """Whether the path shows the step ``name`` ticked."""
        marks = self.all(".o_bookings_step[name=%s] .o_bookings_step_mark .fa-check-circle" % name)
        return bool(marks) and marks[0].is_displayed()

    def wait_path(self):
        self.wait_view(PATH, "form")
        self.find(".o_bookings_month_close .o_bookings_step[name=drafts]")


def path_values(bea, close_id):
    return bea(PATH, "read", [close_id], [
        "date_from", "date_to", "no_customer_count", "no_partner_count", "no_price_count", "ready_count",
        "to_confirm_count", "review_count", "batch_id", "batch_state", "done", "price_ids"])[0]


def test_the_accountant_closes_last_month_in_fifteen_clicks(server, browser, rpc):
    close_the_month(server, browser, rpc, "today")


def this_month(day, hour):
    """The ``day`` of this month in the salon's zone (``-1``: its last day) at ``hour``, as an aware datetime."""
    today = datetime.datetime.now(SALON_ZONE).date()
    first = today.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return datetime.datetime.combine(last if day == -1 else first.replace(day=day), datetime.time(hour),
                                     tzinfo=SALON_ZONE)


#: The days the path is walked on besides today, in the salon's zone; at 20:00 on the last day of a month it is
#: already the next month in UTC
DAYS = {"first": (1, 9), "seventh": (7, 12), "last": (-1, 20)}


@pytest.mark.parametrize("day", sorted(DAYS))
def test_the_path_holds_on_the_first_the_seventh_and_the_last_day_of_a_month(installed, folder, browser, day):
    """The demo's month lived on that day: the peer, the demo's set-up and the Odoo server under libfaketime (the
    browser and PostgreSQL keep the real clock), the path walked as today's; it closes the month before that day."""
    moment = this_month(*DAYS[day])
    clock = faked_clock(moment)
    with demo_peer(os.path.join(folder, day), PEER_PORT + 1, env=dict(os.environ, **clock)) as peer, \
            demo_database(installed, "bookings_browser_%d_%s" % (os.getpid(), day),
                          odoo_environment(peer, clock)) as database, \
            odoo_server(database, odoo_environment(peer, clock), http_port=HTTP_PORT + 10) as url:
        after = close_the_month(url, browser, lambda login=ADMIN[0], password=ADMIN[1]: Rpc(url, database, login,
                                                                                             password), day)
    month_end = moment.date().replace(day=1) - datetime.timedelta(days=1)
    assert (after["date_from"], after["date_to"]) == (month_end.replace(day=1).isoformat(), month_end.isoformat())


def close_the_month(server, browser, rpc, day):
    """Close last month along the path as the accountant, counting her clicks and entries (written in the
    artifacts, as the screenshots, under the name of the ``day``); the path's values once it is closed."""
    bea = rpc("bookings", "bookings")
    user = bea("res.users", "read", [bea.uid], ["tz"])[0]
    screen = CountingScreen(browser, server)
    screen.log_in("bookings", "bookings", user["tz"])
    screen.menu("bookings_menu_root")  # which opens on the dashboard
    screen.wait_view("bookings.business", "kanban")

    screen.click(".o_kanban_record .o_bookings_close_month")
    screen.wait_path()
    close_id = int(browser.current_url.split("id=")[1].split("&")[0])
    before = path_values(bea, close_id)
    assert not before["done"], before
    assert not screen.step_done("drafts")
    screen.shot("%s-close-last-month" % day)

    if before["no_partner_count"]:
        screen.press("Create their partners")
        screen.wait(lambda driver: path_values(bea, close_id)["no_partner_count"] == 0 and screen.step_done(
            "customers") == (path_values(bea, close_id)["no_customer_count"] == 0))
    assert path_values(bea, close_id)["no_customer_count"] == 0, "the demo's walk-ins have its walk-in customer"
    assert screen.step_done("customers")

    lines = bea("bookings.month.close.price", "read", before["price_ids"], ["service_name", "count"])
    assert sum(line["count"] for line in lines) == before["no_price_count"] > 0
    prices = {}
    screen.click(".o_bookings_step[name=prices] tr.o_data_row:first-child td:last-child")
    for index, line in enumerate(lines):  # each price typed, then Tab to the next service's
        row = ".o_bookings_step[name=prices] tr.o_data_row:nth-child(%d)" % (index + 1)
        screen.wait(lambda driver, row=row: "o_selected_row" in screen.find(row).get_attribute("class"))
        prices[line["service_name"]] = "%d.50" % (40 + index)
        screen.type_in(row + " input", prices[line["service_name"]], Keys.TAB)
    screen.shot("%s-prices-typed" % day)
    screen.press("Set these prices")
    screen.wait(lambda driver: screen.step_done("prices"))
    priced = bea("bookings.appointment", "search_read", [("set_price", ">", 0)], ["service_name", "set_price"])
    assert len(priced) == before["no_price_count"]
    assert {row["service_name"]: "%.2f" % row["set_price"] for row in priced} == prices

    to_invoice = path_values(bea, close_id)["ready_count"]
    assert to_invoice >= len(priced), "the bookings priced are ready to invoice"
    screen.press("Invoice them")
    screen.find(".modal .o_form_view [name=row_count]")
    assert screen.text(".modal .o_form_view [name=row_count]") == str(to_invoice)
    screen.press("Create draft invoices", scope="//div[contains(@class, 'modal')]")
    screen.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))
    screen.wait_path()
    values = path_values(bea, close_id)
    if values["batch_id"]:  # a month this large is invoiced in the background; the path follows it
        screen.wait(lambda driver: path_values(bea, close_id)["batch_state"] != "running", timeout=300)
        assert path_values(bea, close_id)["batch_state"] == "done"
    screen.wait(lambda driver: screen.step_done("invoice"), timeout=60)  # the path follows it by itself
    assert path_values(bea, close_id)["ready_count"] == 0

    if path_values(bea, close_id)["to_confirm_count"]:
        screen.press("Confirm them")
    screen.wait(lambda driver: screen.step_done("to_confirm"))
    assert bea("bookings.appointment", "search_count", [("price_to_confirm", "=", True),
                                                        ("invoice_state", "=", "draft")]) == 0

    if path_values(bea, close_id)["review_count"]:
        screen.press("Settle them")
        screen.find(".modal .o_form_view [name=summary]")
        screen.press("Settle on the invoices", scope="//div[contains(@class, 'modal')]")

        def settled(driver):
            """Where settling ends: the credit notes it made, or back on the path when it made none."""
            if driver.find_elements(By.CSS_SELECTOR, ".modal"):
                return None
            if "model=account.invoice" in driver.current_url and screen.all(".o_content .o_form_view"):
                return "credit notes"
            return "path" if screen.step_done("review") else None

        if screen.wait(settled) == "credit notes":
            screen.wait_view("account.invoice", "form")
            screen.shot("%s-month-credit-note" % day)
            screen.click(".o_control_panel .breadcrumb li:nth-last-child(2) a")  # back to the path
    screen.wait_path()
    screen.wait(lambda driver: screen.step_done("review") and screen.step_done("drafts"))
    after = path_values(bea, close_id)
    assert after["done"] and (after["date_from"], after["date_to"]) == (before["date_from"], before["date_to"])
    for step in ("customers", "prices", "invoice", "to_confirm", "review", "drafts"):
        assert screen.step_done(step), step
    screen.shot("%s-month-closed" % day)
    with open(os.path.join(ARTIFACTS, "%s-month-close-clicks.txt" % day), "w") as written:
        written.write("%d\n" % screen.clicks)
    assert screen.clicks <= MOST_CLICKS, "closing the month took %d clicks and entries" % screen.clicks
    return after
