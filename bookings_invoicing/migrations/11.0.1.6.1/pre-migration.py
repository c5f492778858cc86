"""11.0.1.6.1: the add-on's system parameters are records of its data, made with their defaults. A parameter an
administrator made before keeps its value: it becomes that record, which the update then leaves alone, instead of
a second parameter of the same key that the database refuses."""
from odoo import SUPERUSER_ID, api

PARAMETERS = {
    "parameter_invoice_batch_threshold": "bookings_invoicing.invoice_batch_threshold",
    "parameter_sync_foreground_limit": "bookings_invoicing.sync_foreground_limit",
    "parameter_notification_interval": "bookings_invoicing.notification_interval",
    "parameter_notification_max_body": "bookings_invoicing.notification_max_body",
    "parameter_graph_max_answer_bytes": "bookings_invoicing.graph_max_answer_bytes",
}


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for name, key in PARAMETERS.items():
        parameter = env["ir.config_parameter"].search([("key", "=", key)])
        if parameter and not env["ir.model.data"].search([("module", "=", "bookings_invoicing"), ("name", "=", name)]):
            env["ir.model.data"].create({"module": "bookings_invoicing", "name": name, "noupdate": True,
                                         "model": "ir.config_parameter", "res_id": parameter.id})
