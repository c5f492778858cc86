"""The accountant's day in a real browser: a Bookings user (not an administrator) invoices three bookings of one
customer from the Uninvoiced Bookings list; a Bookings manager tests the connection and synchronizes, then turns on
the push of customers; a French user gets French screens. Each screen is compared with what the server (over
XML-RPC) and the Bookings peer hold."""
import datetime
import json
import os
import ssl
import urllib.request
from decimal import Decimal

from conftest import ARTIFACTS
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from zoneinfo import ZoneInfo

#: What Uninvoiced Bookings shows: completed bookings ready to invoice or waiting for a customer or a price
UNINVOICED = [("invoice_status", "in", ["to_invoice", "no_customer", "no_price"]), ("is_completed", "=", True)]
READY = [("invoice_status", "=", "to_invoice"), ("is_completed", "=", True)]


class Screen:
    """The web client as a user sees it: menus by their XML ids, elements by CSS, a screenshot per step."""

    steps = 0  # screenshots are numbered across the session, in the order of the scenario

    def __init__(self, driver, url):
        self.driver, self.url = driver, url

    def wait(self, condition, timeout=30):
        return WebDriverWait(self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
            condition)

    def find(self, css, timeout=30):
        return self.wait(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)

    def click(self, css, timeout=30):
        self.wait(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout).click()

    def press(self, label, scope="//div[contains(@class, 'o_form_view')]"):
        """Click the button that reads ``label``."""
        xpath = "%s//button[normalize-space() = '%s']" % (scope, label)

        def pressed(_driver):  # found again if the web client renders the button anew meanwhile
            try:
                self.wait(expected_conditions.element_to_be_clickable((By.XPATH, xpath))).click()
            except StaleElementReferenceException:
                return False
            return True

        self.wait(pressed)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def lists_fit(self):
        """Whether every list on screen fits its width, with no sideways scroll (at the suite's 1440 pixels)."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('.table-responsive'))"
            ".every(function (list) { return list.scrollWidth <= list.clientWidth; });")

    def texts(self, css, shown=True):
        """The texts of the elements ``css``, read again if the web client re-renders them meanwhile; with
        ``shown=False`` also the part cut off by the element's size (a short event in a calendar)."""
        return self.wait(lambda driver: ([(element.text if shown else element.get_attribute("textContent")).strip()
                                          for element in self.all(css)],))[0]

    def wait_idle(self):
        """Until the web client has no RPC in flight (its "Loading" indicator is gone)."""
        self.wait(lambda driver: not driver.find_elements(By.CSS_SELECTOR, ".o_loading:not([style*='none'])"))

    def shot(self, name):
        self.wait_idle()
        Screen.steps += 1
        path = os.path.join(ARTIFACTS, "%02d-%s.png" % (Screen.steps, name))
        self.driver.save_screenshot(path)
        return path

    def log_in(self, login, password, time_zone):
        self.driver.get(self.url + "/web/session/logout")
        self.driver.get(self.url + "/web/login")
        # the web client shows datetimes in the browser's zone: the browser runs in the user's zone, as at the office
        self.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": time_zone})
        self.find("input[name=login]").send_keys(login)
        self.find("input[name=password]").send_keys(password + Keys.ENTER)
        self.find(".o_main_content")
        self.wait_idle()

    def menu(self, *xml_ids):
        for xml_id in xml_ids:
            self.click("a[data-menu-xmlid='bookings_invoicing.%s']" % xml_id)

    def open_action(self, xml_id):
        """Open an action by its URL, as a bookmark does (for steps that are not about navigation)."""
        self.driver.get("%s/web#action=bookings_invoicing.%s" % (self.url, xml_id))

    def wait_view(self, model, view_type):
        """Until the web client shows the ``view_type`` view of ``model``: the URL names them (the web client writes
        it once the view is on screen), the view is rendered in the main content, and no RPC is in flight. Whatever
        was on screen before (Discuss after a log-in, another action) is gone then."""
        css = {"list": ".o_content .o_list_view", "form": ".o_content .o_form_view",
               "kanban": ".o_content .o_kanban_view .o_kanban_record",
               "calendar": ".o_content .o_calendar_view .fc-view", "pivot": ".o_content .o_pivot table"}[view_type]

        def shown(driver):
            url = driver.current_url
            return ("model=%s" % model in url and "view_type=%s" % view_type in url
                    and driver.find_elements(By.CSS_SELECTOR, css))

        self.wait(shown)
        self.wait_idle()

    def text(self, css):
        """The text of the element ``css`` once visible, read again if the web client re-renders it meanwhile."""
        return self.wait(lambda driver: (self.find(css).text.strip(),))[0]

    def click_containing(self, css, text):
        """Click the first element ``css`` whose text contains ``text``, found again if it is re-rendered."""
        def click(_driver):
            elements = [element for element in self.all(css) if text in element.text]
            if elements:
                elements[0].click()
            return bool(elements)

        self.wait(click)

    def open_business_as_manager(self, name):
        """Log in as the Bookings manager and open the form of the business ``name`` from its menu."""
        self.log_in("bookings-manager", "bookings-manager", "America/Chicago")
        self.menu("bookings_menu_root", "bookings_business_menu")
        self.wait_view("bookings.business", "list")
        self.click_containing(".o_list_view tbody tr.o_data_row", name)
        self.wait_view("bookings.business", "form")

    def breadcrumb(self):
        """The title of the current screen (the web client may render the breadcrumbs again at any time)."""
        return self.text(".o_control_panel .breadcrumb li.active")

    def list_rows(self):
        return self.all(".o_list_view tbody tr.o_data_row")

    def column(self, label):
        """The texts of one column of the list, by its header; read again if the list is re-rendered meanwhile."""
        def read(_driver):
            index = self.texts(".o_list_view thead th").index(label)
            return [row.find_elements(By.TAG_NAME, "td")[index].text.strip() for row in self.list_rows()]

        return self.wait(lambda driver: (read(driver),))[0]  # a one-tuple: an empty column is an answer too


def local(utc_string, zone, pattern):
    moment = datetime.datetime.strptime(utc_string, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern)


def money(text):
    """A monetary amount as the web client shows it ("$ 1,234.50" or "1 234,50 €")."""
    digits = "".join(c for c in text if c.isdigit() or c in ",.")
    return Decimal(digits.replace(",", ""))


def customer_with_three_rows(rpc):
    """A customer billed on an invoice of their own (not a company's, nor per purchase order) with at least three
    bookings ready to invoice and none waiting for a price, whose name no other partner's name contains."""
    apart = {group["partner_id"][0] for group in rpc(
        "bookings.appointment", "read_group", UNINVOICED + ["|", ("customer_reference", "!=", False),
                                                            ("partner_id.parent_id", "!=", False)],
        ["partner_id"], ["partner_id"]) if group["partner_id"]}
    groups = [group for group in rpc("bookings.appointment", "read_group", UNINVOICED, ["partner_id"], ["partner_id"])
              if not group["partner_id"] or group["partner_id"][0] not in apart]
    ready = {group["partner_id"][0]: group["partner_id_count"] for group in rpc(
        "bookings.appointment", "read_group", READY, ["partner_id"], ["partner_id"]) if group["partner_id"]}
    names = [group["partner_id"][1] for group in groups if group["partner_id"]]
    for group in sorted(groups, key=lambda g: -g["partner_id_count"]):
        name = group["partner_id"] and group["partner_id"][1]
        if name and ready.get(group["partner_id"][0]) == group["partner_id_count"] >= 3 \
                and sum(name.lower() in other.lower() for other in names) == 1:
            return group["partner_id"][0], name
    raise AssertionError("the demo data has no customer with three bookings to invoice")


def test_a_bookings_user_invoices_three_bookings_of_one_customer(server, browser, rpc):
    bea = rpc("bookings", "bookings")
    user = bea("res.users", "read", [bea.uid], ["tz", "groups_id"])[0]
    assert not bea("res.users", "has_group", "base.group_system"), "the accountant must not be an administrator"
    screen = Screen(browser, server)
    screen.log_in("bookings", "bookings", user["tz"])
    screen.shot("home")

    screen.menu("bookings_menu_root", "bookings_appointment_menu_uninvoiced")
    screen.wait_view("bookings.appointment", "list")
    assert screen.breadcrumb() == "Uninvoiced Bookings"
    expected = bea("bookings.appointment", "search_read", UNINVOICED, ["start"], limit=80)
    assert len(screen.list_rows()) == len(expected) > 0
    assert screen.column("Start") == [local(row["start"], user["tz"], "%m/%d/%Y %H:%M") for row in expected], \
        "the list shows the start of each booking in the user's time zone"
    screen.shot("uninvoiced-bookings")

    partner_id, name = customer_with_three_rows(bea)
    expected = bea("bookings.appointment", "search_read", UNINVOICED + [("partner_id", "=", partner_id)],
                   ["start", "amount", "invoice_id"])
    box = screen.find(".o_searchview_input")
    box.send_keys(name)
    screen.find(".o_searchview_autocomplete li.o-selection-focus")
    box.send_keys(Keys.ENTER)
    # until the list is the filtered one: its search facet is on screen and the list shows that customer's rows
    screen.wait(lambda driver: name in screen.texts(".o_searchview_facet .o_facet_values")
                and set(screen.column("Customer")) == {name})
    screen.wait_idle()
    assert len(screen.list_rows()) == len(expected)

    for checkbox in screen.all("tbody tr.o_data_row td.o_list_record_selector input")[:3]:
        checkbox.click()
    chosen = expected[:3]
    screen.shot("three-selected")

    screen.click_containing(".o_cp_sidebar .o_dropdown_toggler_btn", "Action")  # shown once rows are selected
    screen.wait(expected_conditions.element_to_be_clickable((By.LINK_TEXT, "Create draft invoices"))).click()
    screen.wait_view("account.invoice", "form")
    screen.find(".o_form_view .o_statusbar_status")

    invoices = bea("bookings.appointment", "read", [row["id"] for row in chosen], ["invoice_id"])
    invoice_ids = {row["invoice_id"][0] for row in invoices if row["invoice_id"]}
    assert len(invoice_ids) == 1 and all(row["invoice_id"] for row in invoices), "one invoice for the three rows"
    invoice = bea("account.invoice", "read", list(invoice_ids),
                  ["state", "partner_id", "amount_untaxed", "amount_total", "invoice_line_ids"])[0]
    assert "id=%d" % invoice["id"] in browser.current_url and "model=account.invoice" in browser.current_url
    assert (invoice["state"], invoice["partner_id"][0]) == ("draft", partner_id)
    assert screen.text(".o_statusbar_status .btn-primary") == "Draft"
    # the three lines, on the customer's draft of the month (which they join when she has one)
    lines = screen.all(".o_form_view .o_field_one2many[name=invoice_line_ids] tbody tr.o_data_row")
    assert len(lines) == len(invoice["invoice_line_ids"]) >= 3
    assert screen.lists_fit(), "the lines are read without scrolling sideways"
    billed = bea("account.invoice.line", "read", invoice["invoice_line_ids"],
                 ["price_subtotal", "bookings_appointment_ids"])
    theirs = [line for line in billed if set(line["bookings_appointment_ids"]) & {row["id"] for row in chosen}]
    assert sorted(Decimal(str(line["price_subtotal"])) for line in theirs) == sorted(
        Decimal(str(row["amount"])) for row in chosen)
    assert Decimal(str(invoice["amount_untaxed"])) == sum(Decimal(str(line["price_subtotal"])) for line in billed)
    assert money(screen.text(".o_form_view [name=amount_total]")) == Decimal(str(invoice["amount_total"]))
    assert money(screen.text(".o_form_view [name=amount_untaxed]")) == Decimal(str(invoice["amount_untaxed"]))
    screen.shot("draft-invoice")


def test_a_bookings_user_reads_the_bookings_in_a_calendar_and_a_pivot_table(server, browser, rpc):
    bea = rpc("bookings", "bookings")
    user = bea("res.users", "read", [bea.uid], ["tz"])[0]
    screen = Screen(browser, server)
    screen.log_in("bookings", "bookings", user["tz"])
    screen.menu("bookings_menu_root", "bookings_appointment_event_menu")
    screen.wait_view("bookings.appointment.event", "calendar")
    names = {row["service_name"] for row in bea("bookings.appointment", "search_read", [], ["service_name"])}
    events = screen.wait(lambda driver: screen.texts(".o_calendar_view .fc-event", shown=False))  # this week's
    assert all(any(name in event for name in names) for event in events), events  # the service of each
    shown = bea("bookings.appointment.event", "search_count", [])  # one event per appointment, not per attendee
    assert shown < bea("bookings.appointment", "search_count", []), shown
    screen.shot("calendar")

    screen.open_action("bookings_appointment_action")
    screen.wait_view("bookings.appointment", "list")
    screen.click(".o_cp_switch_buttons .o_cp_switch_pivot")
    screen.wait_view("bookings.appointment", "pivot")
    total = bea("bookings.appointment", "read_group", [], ["amount"], [])[0]["amount"]
    cells = screen.texts(".o_pivot table tbody tr:first-child td")  # the first row is the grand total
    assert money(cells[-1]) == Decimal(str(total)).quantize(Decimal("0.01")), cells
    screen.shot("pivot")


def test_a_bookings_manager_tests_the_connection_and_synchronizes(server, browser, rpc):
    max_ = rpc("bookings-manager", "bookings-manager")
    business = max_("bookings.business", "search_read", [], ["name"])[0]
    screen = Screen(browser, server)
    screen.open_business_as_manager(business["name"])
    screen.press("Test connection")
    message = screen.text(".modal .modal-body")
    assert "Connection works" in message and "Contoso Salon & Spa" in message
    screen.shot("test-connection")
    screen.click(".modal .modal-footer .btn-primary")
    screen.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))

    screen.press("Synchronize now")
    screen.find(".modal .o_form_view [name=appointments_created]")
    screen.wait_idle()
    counts = ("appointments_created", "appointments_updated", "appointments_cancelled")
    run = max_("bookings.sync.run", "search_read", [("business_id", "=", business["id"])], ["summary"] + list(counts),
               limit=1, order="id desc")[0]

    def dialog(driver):
        """The dialog's text and counts, read again if the dialog is re-rendered while they are read."""
        modal = driver.find_element(By.CSS_SELECTOR, ".modal")
        return modal.text, {name: modal.find_element(By.CSS_SELECTOR, "[name=%s]" % name).text.strip()
                            for name in counts}

    text, shown = screen.wait(dialog)
    assert run["summary"] in text
    assert shown == {name: str(run[name]) for name in counts}
    screen.shot("synchronized")
    screen.press("Close", scope="//div[contains(@class, 'modal')]")
    screen.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))

    # the manager's landing screen: a card per business, its figures links to its bookings
    screen.menu("bookings_menu_root", "bookings_dashboard_menu")
    screen.wait_view("bookings.business", "kanban")
    figures = max_("bookings.business", "read", [business["id"]],
                   ["ready_count", "uninvoiced_amount", "review_count", "no_customer_count", "no_customer_amount",
                    "draft_invoice_count"])[0]
    card = screen.text(".o_kanban_record").splitlines()
    assert business["name"] in card, card
    for line in ("%d to invoice" % figures["ready_count"], "%d to review" % figures["review_count"],
                 "%d draft invoices" % figures["draft_invoice_count"],
                 "%d without customer" % figures["no_customer_count"]):
        assert line in card, (line, card)
    amounts = [money(line) for line in card if line.startswith("$")]  # ready to invoice, then without customer
    assert amounts == [Decimal(str(figures[name])).quantize(Decimal("0.01"))
                       for name in ("uninvoiced_amount", "no_customer_amount")], card
    screen.shot("dashboard")


def test_a_bookings_manager_pushes_tagged_customers_to_bookings(server, browser, rpc, peer):
    admin = rpc()
    tag = admin("ir.model.data", "xmlid_to_res_id", "bookings_invoicing.res_partner_category_bookings")
    admin("res.partner", "create", {"name": "Grace Hopper", "email": "grace.hopper@example.org",
                                    "phone": "+1 312 555 0142", "category_id": [(6, 0, [tag])]})
    business = rpc("bookings-manager", "bookings-manager")("bookings.business", "search_read", [], ["name"])[0]
    screen = Screen(browser, server)
    screen.open_business_as_manager(business["name"])
    screen.click(".o_form_button_edit")
    screen.click_containing(".o_notebook .nav-tabs a", "Push to Bookings")
    screen.click("div[name=push_customers] input")
    # the filter shows once the push is on, with the count of the partners it selects
    screen.wait(lambda driver: "1 record(s)" in screen.text("div[name=push_customer_domain]"))
    browser.execute_script("arguments[0].scrollIntoView(false)", screen.find("div[name=push_customer_domain]"))
    screen.shot("push-customers")
    screen.click(".o_form_button_save")
    screen.find(".o_form_button_edit")

    screen.press("Synchronize now")
    summary = screen.wait(lambda driver: [element.text for element in screen.all(".modal [name=summary]")
                                          if "Pushed to Bookings" in element.text])[0]
    assert "Pushed to Bookings: customers 1 new" in summary, summary
    screen.press("Close", scope="//div[contains(@class, 'modal')]")
    screen.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))

    url = "%s/_peer/businesses/%s/customers" % (peer["url"], peer["business_id"])
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=peer["ca_file"]), timeout=30) as answer:
        customers = json.load(answer)["value"]
    assert [(c["displayName"], c["phones"]) for c in customers if c["emailAddress"] == "grace.hopper@example.org"] == [
        ("Grace Hopper", [{"number": "+1 312 555 0142", "type": "home"}])]


def test_a_french_user_gets_french_screens(server, browser, rpc):
    admin = rpc()
    bea = rpc("bookings", "bookings")
    admin("res.users", "write", [bea.uid], {"lang": "fr_FR"})
    screen = Screen(browser, server)
    try:
        screen.log_in("bookings", "bookings", "Europe/Paris")
        screen.open_action("bookings_appointment_action_uninvoiced")
        screen.wait_view("bookings.appointment", "list")
        assert screen.breadcrumb() == "Réservations non facturées"
        headers = screen.texts(".o_list_view thead th")
        assert {"Début", "Client", "Service", "Montant à facturer", "Prix à confirmer"} <= set(headers), headers
        assert screen.texts(".o_searchview_facet .o_facet_values") == [], "no filter hides a booking that waits"
        screen.shot("french-uninvoiced-bookings")
    finally:
        admin("res.users", "write", [bea.uid], {"lang": "en_US"})
