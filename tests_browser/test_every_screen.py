"""Every screen a person meets in a month, in a real browser: each menu of the Bookings app as a Bookings user, a
manager and an administrator, in English and in French; each figure and button of the dashboard's card; a booking
without customer given one from its form; Invoice All with and without bookings to invoice; a draft that holds a
booking cancelled in Bookings; the calendar. A step fails on any error dialog of the web client (a server error or
a client error such as a kanban button's NameError) and on an empty screen where the server holds rows."""
import ast
import datetime
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from bookings_testing import wait_for
from conftest import ADMIN
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from test_accountant_day import Screen
from zoneinfo import ZoneInfo

USERS = {"user": ("bookings", "bookings"), "manager": ("bookings-manager", "bookings-manager"), "admin": ADMIN}
#: Each menu of the app with an action, and what it opens: a view of a model, or a dialog.
MENUS = {
    "bookings_dashboard_menu": ("bookings.business", "kanban"),
    "bookings_appointment_menu_uninvoiced": ("bookings.appointment", "list"),
    "bookings_appointment_menu": ("bookings.appointment", "list"),
    "bookings_appointment_event_menu": ("bookings.appointment.event", "calendar"),
    "bookings_appointment_menu_review": ("bookings.appointment", "list"),
    "bookings_invoice_wizard_menu": ("bookings.invoice.wizard", "dialog"),
    "bookings_invoice_draft_menu": ("account.invoice", "list"),
    "bookings_invoice_batch_menu": ("bookings.invoice.batch", "list"),
    "bookings_business_menu": ("bookings.business", "list"),
    "bookings_customer_menu": ("bookings.customer", "list"),
    "bookings_service_menu": ("bookings.service", "list"),
    "bookings_cancellation_policy_menu": ("bookings.cancellation.policy", "list"),
    "bookings_sync_run_menu": ("bookings.sync.run", "list"),
}
LIST_LIMIT = 80  # the rows a list shows on its first page


def local_date(day):
    """The day ``day`` (YYYY-MM-DD) as a date field shows it in English (United States)."""
    year, month, date = day.split("-")
    return "%s/%s/%s" % (month, date, year)


class Walk(Screen):
    """A screen that fails at once on an error dialog of the web client."""

    def click(self, css, timeout=30):
        """Click the element ``css``, found again if the web client renders it anew meanwhile."""
        def clicked(_driver):
            try:
                self.wait(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout).click()
            except StaleElementReferenceException:
                return False
            return True

        self.wait(clicked, timeout)

    def healthy(self):
        self.wait_idle()
        errors = [element.text for element in self.all(".modal .o_dialog_error, .o_error_detail")]
        assert not errors, errors

    def shown(self, model, view_type, action=None):
        """Until ``model`` shows in ``view_type`` (a list may show its help instead of rows), by the action of id
        ``action`` if given, with no error."""
        if view_type == "dialog":
            self.find(".modal .o_form_view")
        else:
            css = {"list": ".o_content .o_list_view, .o_content .oe_view_nocontent",
                   "kanban": ".o_content .o_kanban_view", "calendar": ".o_content .o_calendar_view .fc-view"}[view_type]
            parts = ["model=%s" % model, "view_type=%s" % view_type] + (["action=%d" % action] if action else [])
            self.wait(lambda driver: all(part in driver.current_url for part in parts) and self.all(css))
        self.healthy()

    def follow(self, css, model, view_type):
        """Click the link ``css`` of the screen on show until ``model`` shows in ``view_type``: a click that lands while
        the web client renders the screen anew is lost, and is made again once it is idle, still on that screen."""
        before = self.driver.current_url

        def followed(driver):
            if "model=%s" % model in driver.current_url and "view_type=%s" % view_type in driver.current_url:
                return True
            if driver.current_url == before and not self.all(".o_loading:not([style*='none'])"):
                links = [link for link in self.all(css) if link.is_displayed()]
                if links:
                    links[0].click()
            return False

        self.wait(followed, timeout=120)
        self.shown(model, view_type)

    def through_dialog(self, opener, model, field, text, confirm):
        """Press ``opener``, type ``text`` in the ``field`` of the dialog of ``model`` it opens, press ``confirm``
        there, and wait until the dialog has closed."""
        self.press(opener)
        self.shown(model, "dialog")
        self.find(".modal .o_field_widget[name=%s]" % field).send_keys(text)
        self.press(confirm, scope="//div[contains(@class, 'modal')]")
        self.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))

    def close_dialog(self):
        self.click(".modal .modal-footer .btn-default, .modal .modal-header .close")
        self.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))


def visible_menus(rpc):
    """``{xml id: action id}`` of the Bookings menus with an action that ``rpc``'s user sees."""
    root = rpc("ir.model.data", "xmlid_to_res_id", "bookings_invoicing.bookings_menu_root")
    menus = rpc("ir.ui.menu", "search_read", [("id", "child_of", root), ("action", "!=", False)], ["action"])
    names = {item["res_id"]: item["name"] for item in rpc(
        "ir.model.data", "search_read", [("model", "=", "ir.ui.menu"), ("module", "=", "bookings_invoicing")],
        ["name", "res_id"])}
    return {names[menu["id"]]: int(menu["action"].split(",")[1]) for menu in menus}


@pytest.mark.parametrize("lang", ["en_US", "fr_FR"])
@pytest.mark.parametrize("role", ["user", "manager", "admin"])
def test_every_menu_opens_its_screen(server, browser, rpc, role, lang):
    admin = rpc()
    person = rpc(*USERS[role])
    admin("res.users", "write", [person.uid], {"lang": lang})
    screen = Walk(browser, server)
    try:
        screen.log_in(USERS[role][0], USERS[role][1], "America/Chicago")
        menus = visible_menus(person)
        assert set(menus) <= set(MENUS), "a menu this walk does not know: %s" % (set(menus) - set(MENUS))
        screen.menu("bookings_menu_root")
        screen.healthy()
        for xml_id, action in sorted(menus.items()):  # each in the app's menu bar, whatever its section
            model, view_type = MENUS[xml_id]
            screen.menu(xml_id)
            screen.shown(model, view_type, action)
            if view_type == "dialog":
                screen.close_dialog()
            elif model == "bookings.appointment":
                # the rows the server holds for this screen are on it
                domain = person("ir.actions.act_window", "read", [action], ["domain"])[0]["domain"]
                count = person("bookings.appointment", "search_count", ast.literal_eval(domain or "[]"))
                assert len(screen.list_rows()) == min(count, LIST_LIMIT) > 0, (xml_id, count)
        screen.shot("menus-%s-%s" % (role, lang))
    finally:
        admin("res.users", "write", [person.uid], {"lang": "en_US"})


def test_each_figure_and_button_of_the_dashboard_card(server, browser, rpc):
    max_ = rpc(*USERS["manager"])
    business = max_("bookings.business", "search_read", [], ["name"])[0]
    figures = max_("bookings.business", "read", [business["id"]],
                   ["ready_count", "no_customer_count", "review_count", "draft_invoice_count", "fee_count"])[0]
    assert figures["no_customer_count"] > 0 and figures["draft_invoice_count"] > 0, figures  # the demo's month
    assert figures["fee_count"] > 0, figures  # the demo's late cancellations and no-show
    screen = Walk(browser, server)
    screen.log_in(*USERS["manager"], "America/Chicago")
    links = {"action_open_ready": ("bookings.appointment", figures["ready_count"]),
             "action_open_no_customer": ("bookings.appointment", figures["no_customer_count"]),
             "action_open_review": ("bookings.appointment", figures["review_count"]),
             "action_open_fees": ("bookings.appointment", figures["fee_count"]),
             "action_open_draft_invoices": ("account.invoice", figures["draft_invoice_count"])}
    for method, (model, count) in links.items():
        screen.menu("bookings_menu_root", "bookings_dashboard_menu")
        screen.shown("bookings.business", "kanban")
        screen.follow(".o_kanban_record a[data-name=%s]" % method, model, "list")  # a kanban link's name

        assert len(screen.list_rows()) == min(count, LIST_LIMIT), (method, count)
        if method == "action_open_no_customer":
            screen.shot("dashboard-without-customer")

    screen.menu("bookings_menu_root", "bookings_dashboard_menu")
    screen.shown("bookings.business", "kanban")
    screen.click(".o_kanban_record button[data-name=action_invoice_all]")  # crashed with a NameError before
    screen.shown("bookings.invoice.wizard", "dialog")
    chosen = screen.find(".modal .o_field_widget[name=business_id] input")
    screen.wait(lambda driver: chosen.get_attribute("value") == business["name"])  # the card's business
    # the bookings that wait for a customer are named, with a way to them
    assert screen.find(".modal .o_bookings_waiting").is_displayed()
    screen.shot("invoice-all-waiting")
    # as many as the dialog says are left out of the days it invoices (last month's, during a month's first days)
    waiting = int(screen.text(".modal .o_bookings_waiting [name=waiting_count]"))
    wizard = max_("bookings.invoice.wizard", "create", {"business_id": business["id"]})
    assert waiting == max_("bookings.invoice.wizard", "read", [wizard], ["waiting_count"])[0]["waiting_count"]
    screen.click(".modal .o_bookings_waiting button[name=action_open_waiting]")
    screen.shown("bookings.appointment", "list")
    assert len(screen.list_rows()) == min(waiting, LIST_LIMIT) > 0

    screen.menu("bookings_menu_root", "bookings_invoice_wizard_menu")
    screen.shown("bookings.invoice.wizard", "dialog")
    date = screen.find(".modal .o_field_widget[name=date_until] input")
    date.clear()
    date.send_keys("01/01/2000" + Keys.TAB)
    # nothing to invoice then: it says so and offers no button to create
    screen.wait(lambda driver: screen.find(".modal .o_bookings_nothing").is_displayed())
    assert not [button for button in screen.all(".modal-footer button")
                if button.is_displayed() and button.text.strip() == "Create draft invoices"]
    screen.shot("invoice-all-nothing")
    screen.close_dialog()


def test_a_bookings_user_gives_a_booking_without_customer_its_partner(server, browser, rpc):
    bea = rpc(*USERS["user"])
    row = bea("bookings.appointment", "search_read", [("invoice_status", "=", "no_customer"),
                                                      ("bookings_customer_id", "!=", False)],
              ["bookings_customer_id", "customer_name"], limit=1)[0]
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    screen.driver.get("%s/web#id=%d&model=bookings.appointment&view_type=form" % (server, row["id"]))
    screen.find(".o_form_view .o_bookings_no_customer")
    screen.healthy()
    screen.click(".o_form_button_edit")
    name = "%s (by hand)" % row["customer_name"]
    field = screen.find(".o_form_view .o_field_widget[name=partner_id] input")
    field.send_keys(name)
    screen.click_containing(".ui-autocomplete li a", "Create")  # a new partner, made from the booking
    screen.wait(lambda driver: field.get_attribute("value") == name)
    screen.click(".o_form_button_save")
    screen.find(".o_form_button_edit")
    screen.healthy()
    screen.shot("partner-set-by-hand")
    customer = bea("bookings.customer", "read", [row["bookings_customer_id"][0]], ["partner_id"])[0]
    assert customer["partner_id"] and customer["partner_id"][1] == name
    left = bea("bookings.appointment", "search_count", [("bookings_customer_id", "=", customer["id"]),
                                                        ("invoice_status", "=", "no_customer")])
    assert left == 0, "every booking of that Bookings customer has its partner"


def test_a_draft_that_holds_a_cancelled_booking_says_so_and_asks_before_validation(server, browser, rpc):
    bea = rpc(*USERS["user"])
    # a booking raised for review: a late cancellation's fee invoiced by an earlier test is cancelled and on a draft
    rows = bea("bookings.appointment", "search_read", [("state", "=", "cancelled"), ("invoice_state", "=", "draft"),
                                                       ("needs_review", "=", True)], ["invoice_id"], limit=1)
    assert rows, "the demo's month cancels bookings already on a draft"
    invoice_id = rows[0]["invoice_id"][0]
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    drafts = bea("ir.model.data", "xmlid_to_res_id", "bookings_invoicing.account_invoice_action_bookings_drafts")
    screen.driver.get("%s/web#id=%d&model=account.invoice&view_type=form&action=%d" % (server, invoice_id, drafts))
    screen.find(".o_form_view .o_bookings_cancelled")
    screen.healthy()
    screen.shot("draft-with-a-cancelled-booking")
    # the draft's Validate (Odoo's own one is hidden beside it)
    screen.wait(lambda driver: [button for button in screen.all(".o_form_statusbar button.o_invoice_validate")
                                if button.is_displayed()])[0].click()
    screen.find(".modal .modal-body")  # the confirmation, before anything is validated
    screen.click(".modal .modal-footer .btn-default")
    screen.wait(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal")))
    assert bea("account.invoice", "read", [invoice_id], ["state"])[0]["state"] == "draft"


def test_a_bookings_user_keeps_a_draft_as_it_is_from_its_banner_and_the_booking_form(server, browser, rpc):
    bea = rpc(*USERS["user"])
    target = bea("bookings.appointment", "search_read", [("needs_review", "=", True), ("state", "=", "cancelled"),
                                                         ("invoice_state", "=", "draft")], ["invoice_id"], limit=1)
    assert target, "the demo's month cancels bookings already on a draft"
    target, invoice_id = target[0]["id"], target[0]["invoice_id"][0]
    raised = [row["id"] for row in bea("bookings.appointment", "search_read",
                                       [("invoice_id", "=", invoice_id), ("needs_review", "=", True)], ["id"])]
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    drafts = bea("ir.model.data", "xmlid_to_res_id", "bookings_invoicing.account_invoice_action_bookings_drafts")
    screen.driver.get("%s/web#id=%d&model=account.invoice&view_type=form&action=%d" % (server, invoice_id, drafts))
    screen.press("Review them", scope="//div[contains(@class, 'o_bookings_cancelled')]")
    screen.shown("bookings.appointment", "list")
    assert len(screen.list_rows()) == len(raised), "the draft's bookings to review"
    screen.list_rows()[raised.index(target)].click()
    screen.wait_view("bookings.appointment", "form")
    screen.through_dialog("Settle the review", "bookings.review.wizard", "reason", "Charged at the desk",
                          "Keep the invoices as they are")
    screen.healthy()
    row = bea("bookings.appointment", "read", [target], ["needs_review", "invoice_id", "invoice_line_id"])[0]
    assert not row["needs_review"] and row["invoice_id"][0] == invoice_id and row["invoice_line_id"], row
    # back on the draft, the red banner counts only the cancelled bookings still to review
    still = bea("bookings.appointment", "search_count", [("invoice_id", "=", invoice_id), ("needs_review", "=", True),
                                                         ("state", "=", "cancelled")])
    screen.click(".o_control_panel .breadcrumb li:nth-last-child(3) a")
    screen.wait_view("account.invoice", "form")
    screen.healthy()
    assert bool(still) == any(banner.is_displayed() for banner in screen.all(".o_form_view .o_bookings_cancelled"))


def test_a_bookings_user_marks_a_no_show_takes_it_back_then_invoices_its_fee(server, browser, rpc):
    bea = rpc(*USERS["user"])
    rows = bea("bookings.appointment", "search_read", [
        ("invoice_status", "=", "to_invoice"), ("is_completed", "=", True), ("fee_kind", "=", False),
        ("cancellation_policy_id", "!=", False)], ["amount", "cancellation_policy_id"], limit=1)
    assert rows, "the demo's business has a cancellation policy and completed bookings to invoice"
    row_id = rows[0]["id"]
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    screen.driver.get("%s/web#id=%d&model=bookings.appointment&view_type=form" % (server, row_id))
    screen.wait_view("bookings.appointment", "form")
    screen.through_dialog("Mark as no-show", "bookings.no.show.wizard", "note", "Did not come", "Mark as no-show")
    screen.wait(lambda driver: any(banner.is_displayed() for banner in screen.all(".o_form_view .o_bookings_fee")))
    screen.healthy()
    screen.shot("no-show")
    marked = bea("bookings.appointment", "read", [row_id], ["no_show", "no_show_note", "fee_kind", "status"])[0]
    assert (marked["no_show"], marked["no_show_note"], marked["fee_kind"], marked["status"]) == (
        True, "Did not come", "no_show", "no_show"), marked
    screen.press("Not a no-show")
    screen.wait(lambda driver: not any(banner.is_displayed() for banner in screen.all(".o_form_view .o_bookings_fee")))
    screen.healthy()
    back = bea("bookings.appointment", "read", [row_id], ["no_show", "fee_kind", "amount"])[0]
    assert (back["no_show"], back["fee_kind"], back["amount"]) == (False, False, rows[0]["amount"]), back
    # marked again, and invoiced from its form: the draft bills the policy's fee product
    screen.through_dialog("Mark as no-show", "bookings.no.show.wizard", "note", "Did not come", "Mark as no-show")
    screen.wait(lambda driver: any(banner.is_displayed() for banner in screen.all(".o_form_view .o_bookings_fee")))
    screen.press("Create draft invoice")
    screen.wait_view("account.invoice", "form")
    screen.healthy()
    screen.shot("no-show-invoice")
    invoiced = bea("bookings.appointment", "read", [row_id], ["invoice_line_id", "amount"])[0]
    line = bea("account.invoice.line", "read", [invoiced["invoice_line_id"][0]], ["product_id", "price_subtotal"])[0]
    policy = bea("bookings.cancellation.policy", "read", [rows[0]["cancellation_policy_id"][0]], ["product_id"])[0]
    assert (line["product_id"], line["price_subtotal"]) == (policy["product_id"], invoiced["amount"]), line


def test_a_late_cancellation_is_invoiced_at_its_policys_fee(server, browser, rpc):
    bea = rpc(*USERS["user"])
    rows = bea("bookings.appointment", "search_read", [
        ("fee_kind", "=", "late_cancellation"), ("invoice_status", "=", "to_invoice"), ("is_completed", "=", True)],
        ["amount", "price", "cancellation_policy_id", "cancellation_text"], limit=1)
    assert rows, "the demo's staff cancelled bookings of the last days after they were due"
    row = rows[0]
    policy = bea("bookings.cancellation.policy", "read", [row["cancellation_policy_id"][0]],
                 ["product_id", "late_fee_type", "late_fee"])[0]
    assert (policy["late_fee_type"], row["amount"]) == ("percent", round(row["price"] * policy["late_fee"] / 100, 2))
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    screen.driver.get("%s/web#id=%d&model=bookings.appointment&view_type=form" % (server, row["id"]))
    screen.wait_view("bookings.appointment", "form")
    screen.wait(lambda driver: any(banner.is_displayed() for banner in screen.all(".o_form_view .o_bookings_fee")))
    assert row["cancellation_text"] in screen.text(".o_form_view [name=cancellation_text]")
    screen.press("Create draft invoice")
    screen.wait_view("account.invoice", "form")
    screen.healthy()
    screen.shot("late-cancellation-invoice")
    invoiced = bea("bookings.appointment", "read", [row["id"]], ["invoice_line_id"])[0]
    line = bea("account.invoice.line", "read", [invoiced["invoice_line_id"][0]], ["product_id", "price_subtotal"])[0]
    assert (line["product_id"], line["price_subtotal"]) == (policy["product_id"], row["amount"]), line


def test_the_corporate_clients_invoice_bills_its_people_under_its_purchase_order(server, browser, rpc):
    bea = rpc(*USERS["user"])
    invoices = bea("account.invoice", "search_read", [("partner_id.commercial_partner_id.name", "=", "Fabrikam, Inc."),
                                                      ("name", "like", "FAB-")], ["name", "partner_id"], limit=1)
    assert invoices, "the demo's month invoiced the corporate client's people"
    invoice = invoices[0]
    rows = bea("bookings.appointment", "search_read", [("invoice_id", "=", invoice["id"])],
               ["partner_id", "customer_reference", "invoice_line_id"])
    payer = bea("res.partner", "read", [invoice["partner_id"][0]], ["type"])[0]
    assert payer["type"] == "invoice", "billed at the company's invoice address"
    assert {row["customer_reference"] for row in rows} == {invoice["name"]}, "one purchase order per invoice"
    lines = bea("account.invoice.line", "read", [row["invoice_line_id"][0] for row in rows], ["name"])
    people = {person["id"]: person["name"] for person in bea(
        "res.partner", "read", list({row["partner_id"][0] for row in rows}), ["name"])}
    assert all(line["name"].endswith(" - " + people[row["partner_id"][0]]) for line, row in zip(lines, rows)), \
        "each line names the person who came"
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    drafts = bea("ir.model.data", "xmlid_to_res_id", "bookings_invoicing.account_invoice_action_bookings_drafts")
    screen.driver.get("%s/web#id=%d&model=account.invoice&view_type=form&action=%d"
                      % (server, invoice["id"], drafts))
    screen.wait_view("account.invoice", "form")
    screen.healthy()
    screen.shot("company-invoice")


def test_an_accountant_credits_a_booking_cancelled_on_a_validated_invoice_from_the_dashboard(server, browser, rpc):
    max_ = rpc(*USERS["manager"])
    business = max_("bookings.business", "search_read", [], ["review_count"])[0]
    raised = [("business_id", "=", business["id"]), ("needs_review", "=", True)]
    target = max_("bookings.appointment", "search_read", raised + [
        ("state", "=", "cancelled"), ("invoice_state", "=", "open")], ["invoice_id"], limit=1)
    assert target, "the demo's month cancels a booking of a validated invoice"
    target = target[0]
    screen = Walk(browser, server)
    screen.log_in(*USERS["manager"], "America/Chicago")
    screen.menu("bookings_menu_root", "bookings_dashboard_menu")
    screen.shown("bookings.business", "kanban")
    screen.follow(".o_kanban_record a[data-name=action_open_review]", "bookings.appointment", "list")
    listed = [row["id"] for row in max_("bookings.appointment", "search_read", raised, ["id"])]
    assert len(screen.list_rows()) == len(listed) == business["review_count"] > 0
    screen.all("tbody tr.o_data_row td.o_list_record_selector input")[listed.index(target["id"])].click()
    screen.shot("bookings-to-review")
    screen.click_containing(".o_cp_sidebar .o_dropdown_toggler_btn", "Action")  # shown once rows are selected
    screen.wait(expected_conditions.element_to_be_clickable((By.LINK_TEXT, "Settle the review"))).click()
    screen.shown("bookings.review.wizard", "dialog")
    assert screen.lists_fit()
    screen.shot("settle-the-review")
    screen.press("Settle on the invoices", scope="//div[contains(@class, 'modal')]")
    # the draft credit note opens
    screen.wait(lambda driver: "model=account.invoice" in driver.current_url and "view_type=form" in driver.current_url)
    row = max_("bookings.appointment", "read", [target["id"]], ["needs_review", "credit_note_id", "invoice_status"])[0]
    assert (row["needs_review"], row["invoice_status"]) == (False, "cancelled") and row["credit_note_id"], row
    credit_note = max_("account.invoice", "read", [row["credit_note_id"][0]], ["type", "state", "refund_invoice_id"])[0]
    assert (credit_note["type"], credit_note["state"], credit_note["refund_invoice_id"][0]) == \
        ("out_refund", "draft", target["invoice_id"][0])
    assert "id=%d" % credit_note["id"] in browser.current_url
    screen.healthy()
    screen.shot("credit-note")
    # the count goes down
    screen.menu("bookings_menu_root", "bookings_dashboard_menu")
    screen.shown("bookings.business", "kanban")
    screen.wait(lambda driver: screen.text(".o_kanban_record a[data-name=action_open_review]")
                == "%d to review" % (business["review_count"] - 1))


def test_the_calendar_opens_a_booking_without_offering_what_is_refused(server, browser, rpc):
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    screen.open_action("bookings_appointment_event_action")
    screen.wait_view("bookings.appointment.event", "calendar")
    screen.click(".o_calendar_view .fc-event")
    screen.wait_view("bookings.appointment.event", "form")  # the appointment's form, not a dialog with Edit and Delete
    screen.healthy()
    assert not screen.all(".modal")
    assert not screen.all(".o_form_buttons_view .o_form_button_edit:not(.o_hidden)")  # read-only
    attendees = screen.list_rows()
    assert attendees, "the appointment lists its attendees"
    attendees[0].click()  # an attendee's booking, read in a dialog
    screen.wait(lambda driver: screen.find(".modal .o_form_view"))
    screen.healthy()
    screen.close_dialog()


def test_the_business_form_each_tab_and_button(server, browser, rpc):
    max_ = rpc(*USERS["manager"])
    business = max_("bookings.business", "search_read", [], ["name", "uninvoiced_count", "appointment_count",
                                                             "draft_invoice_count"])[0]
    screen = Walk(browser, server)
    screen.open_business_as_manager(business["name"])
    tabs = screen.texts(".o_form_view .o_notebook .nav-tabs a")
    assert len(tabs) >= 5, tabs
    for tab in tabs:
        screen.click_containing(".o_form_view .o_notebook .nav-tabs a", tab)
        screen.wait(lambda driver: screen.find(".o_form_view .o_notebook .tab-pane.active"))
        screen.healthy()
    buttons = {"Uninvoiced": ("bookings.appointment", business["uninvoiced_count"]),
               "Appointments": ("bookings.appointment", business["appointment_count"]),
               "Draft invoices": ("account.invoice", business["draft_invoice_count"])}
    for label, (model, count) in buttons.items():  # the web client gives a smart button no name
        screen.click_containing(".o_form_view .oe_button_box button.oe_stat_button", label)
        screen.shown(model, "list")
        assert len(screen.list_rows()) == min(count, LIST_LIMIT) > 0, (label, count)
        screen.click(".o_control_panel .breadcrumb li:nth-last-child(2) a")  # back to the business
        screen.wait_view("bookings.business", "form")
    screen.press("Invoice all")
    screen.shown("bookings.invoice.wizard", "dialog")
    screen.close_dialog()


def test_invoice_all_of_a_month_runs_as_a_batch_whose_form_follows_it(server, browser, rpc):
    """Last: it invoices every booking ready. Above the batch threshold, Invoice All opens the batch's form, which
    queue_job's runner (started with the server) works through, and which follows it until it has ended."""
    bea = rpc(*USERS["user"])
    ready = bea("bookings.appointment", "search_count", [("invoice_status", "=", "to_invoice"),
                                                         ("is_completed", "=", True)])
    assert ready > 20, "the demo's month has more bookings to invoice than are invoiced in the request"
    screen = Walk(browser, server)
    screen.log_in(*USERS["user"], "America/Chicago")
    screen.menu("bookings_menu_root", "bookings_invoice_wizard_menu")
    screen.shown("bookings.invoice.wizard", "dialog")
    # Up to: last month's last day during a month's first days, else today; the month's bookings are taken in
    until = screen.find(".modal .o_field_widget[name=date_until] input")
    default = bea("bookings.invoice.wizard", "default_get", ["date_until"])["date_until"]
    assert until.get_attribute("value") == local_date(default), (until.get_attribute("value"), default)
    until.clear()
    until.send_keys(local_date(datetime.datetime.now(ZoneInfo("America/Chicago")).date().isoformat()) + Keys.TAB)
    screen.wait(lambda driver: screen.text(".modal .o_field_widget[name=row_count]") == str(ready))
    screen.press("Create draft invoices", scope="//div[contains(@class, 'modal')]")
    screen.wait_view("bookings.invoice.batch", "form")
    screen.healthy()
    screen.shot("invoicing-batch")
    batch = bea("bookings.invoice.batch", "search_read", [], ["state", "row_count"], limit=1, order="id desc")[0]
    assert batch["row_count"] == ready

    # the form follows the batch by itself, with nothing to press, until its status bar says it has ended
    screen.wait(lambda driver: "btn-primary" in screen.find(
        ".o_form_statusbar .o_statusbar_status button[data-value=done]").get_attribute("class"), timeout=300)
    assert not [banner for banner in screen.all(".o_form_view .o_bookings_batch_running") if banner.is_displayed()]
    screen.healthy()
    assert bea("bookings.invoice.batch", "read", [batch["id"]], ["state"])[0]["state"] == "done"
    assert bea("bookings.appointment", "search_count", [("invoice_status", "=", "to_invoice"),
                                                        ("is_completed", "=", True)]) == 0
    screen.shot("invoicing-batch-ended")


def test_a_manager_signs_in_with_microsoft_and_the_business_acts_as_them(server, browser, rpc):
    max_ = rpc(*USERS["manager"])
    business = max_("bookings.business", "search_read", [], ["name"])[0]
    rpc()("ir.config_parameter", "set_param", "web.base.url", server)  # where Microsoft sends the browser back
    max_("bookings.business", "write", [business["id"]], {"graph_access": "delegated"})
    try:
        screen = Walk(browser, server)
        screen.open_business_as_manager(business["name"])
        screen.find(".o_form_view .o_bookings_not_signed_in")  # it says what is missing
        screen.click_containing(".o_form_view .o_notebook .nav-tabs a", "Connection")
        screen.press("Sign in with Microsoft")
        # Microsoft's sign-in page (the peer's), where the manager picks their account
        screen.wait(lambda driver: "/oauth2/v2.0/authorize" in driver.current_url)
        screen.shot("sign-in-with-microsoft")
        screen.click("button[name=login][value='manager@contoso.onmicrosoft.com']")
        # back to the business, which now acts as them
        screen.wait(lambda driver: driver.current_url.startswith(server) and "model=bookings.business" in
                    driver.current_url and "id=%d" % business["id"] in driver.current_url)
        screen.wait_view("bookings.business", "form")
        screen.healthy()
        # where they left: the business's form under its list's breadcrumb, the Bookings side menu beside it
        assert len(screen.all(".o_control_panel .breadcrumb li")) == 2
        menu = ".o_sub_menu a[data-menu-xmlid='bookings_invoicing.bookings_business_menu']"
        assert [link for link in screen.all(menu) if link.is_displayed()]
        values = max_("bookings.business", "read", [business["id"]], ["graph_access", "delegated_user"])[0]
        assert (values["graph_access"], values["delegated_user"]) == \
            ("delegated", "Max Manager (manager@contoso.onmicrosoft.com)")
        assert not [banner for banner in screen.all(".o_form_view .o_bookings_not_signed_in") if banner.is_displayed()]
        screen.press("Test connection")
        assert "Acting as Max Manager" in screen.text(".modal .modal-body")
        screen.shot("signed-in-with-microsoft")
        screen.close_dialog()
        screen.press("Forget the signed-in user")  # the business acts with the application's permissions again
        screen.wait(lambda driver: not [button for button in screen.all(".o_form_view button.o_bookings_sign_in")
                                        if button.is_displayed()])
        screen.healthy()
        values = max_("bookings.business", "read", [business["id"]], ["graph_access", "delegated_user"])[0]
        assert (values["graph_access"], values["delegated_user"]) == ("application", False), values
    finally:
        max_("bookings.business", "action_sign_out_microsoft", [business["id"]])


def test_a_flow_calling_the_notification_address_has_the_business_synchronized(server, browser, rpc):
    """After the batch: a Power Automate flow's call over HTTP queues a synchronization, which the job runner runs;
    a wrong address is not found and queues nothing."""
    admin = rpc()
    business = rpc(*USERS["manager"])("bookings.business", "search_read", [], ["name"])[0]
    screen = Walk(browser, server)
    screen.open_business_as_manager(business["name"])
    screen.click_containing(".o_form_view .o_notebook .nav-tabs a", "Synchronization")
    screen.press("Create the notification address")
    # shown once, in a dialog: only its hash is kept
    shown = screen.wait(lambda driver: re.findall(r"https?://\S+/bookings_invoicing/notify/\S+",
                                                  screen.text(".modal .o_form_view")))
    screen.healthy()
    screen.shot("notification-address")
    screen.close_dialog()
    path = urlsplit(shown[0]).path

    def call(address):
        # what Power Automate's HTTP action sends with a body: JSON
        request = urllib.request.Request(server + address, data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            return urllib.request.urlopen(request, timeout=60).status
        except urllib.error.HTTPError as error:
            return error.code

    def jobs():
        return admin("queue.job", "search_count", [("method_name", "=", "_synchronize_job")])

    def runs():
        return admin("bookings.sync.run", "search_read", [("business_id", "=", business["id"])], ["state"],
                     order="id desc")

    before, runs_before = jobs(), len(runs())
    assert [call(path + "x"), call(path.rsplit("/", 1)[0] + "/")] == [404] * 2
    assert jobs() == before
    assert call(path) == 202
    assert jobs() == before + 1
    wait_for(lambda: len(runs()) > runs_before and runs()[0]["state"] in ("done", "partial"),
             "the synchronization the flow asked for")
