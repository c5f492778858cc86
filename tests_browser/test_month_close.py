"""The accountant closes last month from the dashboard, along *Close last month*, in at most fifteen clicks and
entries: customers, prices, the month's drafts, prices to confirm and reviews. Each step is compared with what the
server holds (over XML-RPC); what the suite's earlier tests did is found done."""
import os

from conftest import ARTIFACTS
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from test_accountant_day import Screen

#: What closing a month may cost the accountant, clicks and typed entries together
MOST_CLICKS = 15
PATH = "bookings.month.close"


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
        screen.press("Refresh")
    screen.wait(lambda driver: screen.step_done("invoice"))
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
