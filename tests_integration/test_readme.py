"""Every name the README and the add-on's README.rst give, as an integrator or a user looks for it, exists as written
in the database with the add-on installed: a menu path as a user of its group sees it, an action, a scheduled action,
a field, a button, a tab, a filter, a choice of a selection, a group, a system parameter; and each of the add-on's own
names has its French translation. Names of other systems (Microsoft Entra ID, Power Automate, Graph's values) and
words set in italics for emphasis are listed below, each with what it is."""
import os
import re

import pytest
from conftest import Odoo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: What the documents set in italics that is not a name in Odoo: another system's name, a value, an example.
NOT_ODOO = {
    "App registrations > New registration": "Microsoft Entra ID",
    "API permissions > Add a permission > Microsoft Graph > Application permissions": "Microsoft Entra ID",
    "Certificates & secrets": "Microsoft Entra ID", "New client secret": "Microsoft Entra ID",
    "Grant admin consent": "Microsoft Entra ID", "Authentication": "Microsoft Entra ID",
    "When an appointment is created": "Power Automate's Bookings trigger", "HTTP": "Power Automate's action",
    "updated": "Power Automate's Bookings trigger", "cancelled": "Power Automate's Bookings trigger",
    "draft": "Graph beta's invoiceStatus", "reviewing": "Graph beta's invoiceStatus",
    "open": "Graph beta's invoiceStatus", "paid": "Graph beta's invoiceStatus",
    "canceled": "Graph beta's invoiceStatus",
    "corrective": "Graph beta's invoiceStatus", "fixed": "Bookings' price type", "hourly": "Bookings' price type",
    "Max Manager": "the local peer's signed-in user", "Fabrikam, Inc.": "the demo's corporate client",
    "Accounts Payable": "the demo's corporate client's invoice address", "FAB-": "the demo's purchase orders",
    "Purchase order": "the demo business's custom question", "Action": "the web client's menu of a selection",
    "Create": "the web client's button above a list",
    "20 min x 60.00 USD/h": "an invoice line's description", "Late cancellation: Men's cut - ...": "a fee's line",
    "before -> after": "how a change reads", "to review": "the dashboard's figure, after its count",
    "price to confirm": "the flag of a line", "Sign in with: Certificate": "a choice of the field Sign in with",
    "Act with: A signed-in user's permissions": "a choice of the field Act with",
}
NAMES = """
    import json
    from lxml import etree
    with api.Environment.manage(), registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        names, menus = set(), set()
        for login in ("admin", "bookings-readme-user", "bookings-readme-manager"):
            user = env["res.users"].search([("login", "=", login)]) or env["res.users"].create({
                "name": login, "login": login, "groups_id": [(6, 0, [env.ref("bookings_invoicing.group_bookings_"
                "invoicing_" + login.rsplit("-", 1)[1]).id])]})
            for menu in env["ir.ui.menu"].sudo(user).search([]):
                menus.add(" > ".join(menu.complete_name.split("/")))
                names.add(menu.name)
        for model in ("ir.actions.act_window", "ir.actions.server", "ir.cron", "res.partner.category"):
            names.update(env[model].with_context(active_test=False).search([]).mapped("name"))
        names.update(env["res.groups"].search([]).mapped("full_name"))
        own = set()  # the add-on's own: its menus, actions, views, fields and records
        for model_name in env.registry:
            if env[model_name]._abstract:
                continue
            for name, field in env[model_name].fields_get().items():
                labels = {field["string"]} | {label for _value, label in field.get("selection") or []}
                names.update(labels)
                if name in env[model_name]._fields and \
                        "bookings_invoicing" in (env[model_name]._fields[name]._module or ""):
                    own.update(labels)
        for view in env["ir.ui.view"].search([]):
            texts = set()
            for element in etree.fromstring(view.arch_db.encode()).iter():
                texts.update(value for key, value in element.attrib.items() if key in ("string", "sum"))
                if isinstance(element.tag, str) and element.text and 0 < len(element.text.strip()) < 60:
                    texts.add(element.text.strip())
            names.update(texts)
            if view.get_external_id().get(view.id, "").startswith("bookings_invoicing."):
                own.update(texts)
        for data in env["ir.model.data"].search([("module", "=", "bookings_invoicing")]):
            record = env[data.model].browse(data.res_id)
            if record.exists() and "name" in record._fields and data.model != "ir.ui.view":
                names.add(record.display_name)
                own.add(record.name)
        parameters = env["ir.config_parameter"].search([]).mapped("key")
        cr.rollback()  # the users made to see the menus
        print(json.dumps({"names": sorted(names), "menus": sorted(menus), "parameters": parameters,
                          "own": sorted(own)}))
"""


def documents():
    texts = {}
    for path in ("README.md", os.path.join("bookings_invoicing", "README.rst")):
        with open(os.path.join(ROOT, path)) as handle:
            texts[path] = handle.read()
    return texts


def named(text):
    """The names a document sets in italics (``*...*``) or bold (``**...**``), and the add-on's system parameters
    it quotes."""
    italics = re.findall(r"(?<![*\w])\*([^*\n]+?)\*(?![*\w])", text)
    bold = [name for name in re.findall(r"\*\*([^*\n]+?)\*\*", text) if ">" in name]
    parameters = re.findall(r"`(bookings_invoicing\.[a-z_]+)`", text)
    return italics + bold, parameters


@pytest.fixture(scope="module")
def odoo_names(database):
    return Odoo(database).run(NAMES)


def data_values(folder, field_name):
    """The values of the fields ``field_name`` of the add-on's data files in ``folder`` (``data``, ``demo``)."""
    from lxml import etree

    folder = os.path.join(ROOT, "bookings_invoicing", folder)
    return {field.text.strip() for name in os.listdir(folder) if name.endswith(".xml")
            for field in etree.parse(os.path.join(folder, name)).iter("field")
            if field.get("name") == field_name and field.text}


def translations():
    from babel.messages.pofile import read_po

    with open(os.path.join(ROOT, "bookings_invoicing", "i18n", "fr.po"), "rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


@pytest.mark.parametrize("path", ["README.md", os.path.join("bookings_invoicing", "README.rst")])
def test_every_name_the_documents_give_exists_as_written(odoo_names, path):
    text = documents()[path]
    headings = set(re.findall(r"^#+ (.+)$", text, re.M))
    # the demo salon's names, which a database made without demo data has not
    known = {name.lower() for name in set(odoo_names["names"]) | data_values("demo", "name")}
    menus = set(odoo_names["menus"])
    names, parameters = named(text)
    missing = []
    for name in names:
        if name in NOT_ODOO or name in headings:
            continue
        if " > " in name:  # a menu path, or a choice under the web client's Action menu
            if not (name in menus or name.startswith("Action > ") and name[len("Action > "):].lower() in known):
                missing.append(name)
        elif name.lower() not in known:
            missing.append(name)
    assert missing == [], "named in %s, absent from Odoo" % path
    # the add-on's settings, which its data makes with their defaults (a test of the suite may have removed one
    # since); bookings_invoicing.allowed_hosts is empty unless set
    made = set(odoo_names["parameters"]) | data_values("data", "key")
    absent = set(parameters) - made - {"bookings_invoicing.allowed_hosts"}
    assert absent == set(), "system parameters named in %s" % path


def test_the_add_ons_own_names_are_in_french(odoo_names):
    """A French user looks for the same menus, fields and buttons in French: each of the add-on's own names the
    documents give is translated."""
    french = translations()
    own = set(odoo_names["own"])
    given = {name for text in documents().values() for name in named(text)[0] for name in name.split(" > ")
             if name not in NOT_ODOO} & own
    assert len(given) > 30
    assert sorted(name for name in given if not french.get(name, "").strip()) == []
