"""Microsoft Bookings invoicing for Odoo 11.0.

How a booking becomes an invoice line; each layer imports only those below it (the models import ``sync``, which
imports ``graph``, ``rules``, ``locks``, ``mirror`` and ``messages``, none of which imports the models):

1. ``graph/``: the Graph client reads Graph JSON page by page and parses each item into a typed record
   (``records.Service``, ``Customer``, ``Appointment`` with its ``Attendee`` list), and writes customers and
   services back. Plain Python, no Odoo import.
2. ``sync/importer.py``: ``BusinessImporter`` runs one synchronization on a cursor of its own (where it also makes
   the business's Graph client), in an environment that may change mirrored values (``mirror.mirror_context``); a Graph
   error is worded for the user by ``messages.graph_error_message``. It hands each typed record to its binding model,
   turns an appointment into one row per attendee (``rules.attendee_rows``), links the bindings to each other (a
   customer to its partner in ``sync/matching.py``), and records the run on ``bookings.sync.run``; each unit of work
   is a transaction of its own (``sync/run.py``).
3. ``models/bookings_binding.py`` and the binding models ``bookings.service``, ``bookings.customer`` and
   ``bookings.appointment``: each finds its records by their Bookings keys (``_bookings_bound``, unique by
   ``_sql_constraints``) and maps a typed record to its values (``_bookings_to_odoo_values``). A service is linked
   to a product, a customer to a partner.
4. ``rules.py``: what a row puts on an invoice for its price type (``invoice_terms``), and, by a cancellation policy
   (``bookings.cancellation.policy``), whether a cancellation was late (``cancellation_timing``) and what a late
   cancellation or a no-show bills (``fee_terms``). Plain Python.
5. ``models/bookings_appointment_invoicing.py``: rows grouped into draft invoices (``_prepare_invoice``) with one
   line per row (``_prepare_invoice_line``), each line linked back to its row; ``bookings_appointment_review.py``:
   the settlement of rows that Bookings changed after they were invoiced.

The other direction, when a manager turns it on: ``sync/exporter.py`` (``DirectoryExporter``), called by the
importer before it mirrors the directory, writes the selected partners and service products to Bookings through the
client, from the payloads of ``graph/payloads.py`` that the binding models prepare (``_prepare_bookings_payload``).

The screens are in ``views/`` and ``wizards/``; who may do what in ``security/``; the address a Power Automate flow
calls to have a business synchronized at once in ``controllers/``.
"""
from odoo.tools import sql

from . import controllers
from . import models
from . import wizards


def uninstall_hook(cr, registry):
    """What the add-on put on Odoo's own tables goes with it: the index on the partners' e-mail addresses."""
    sql.drop_index(cr, models.res_partner.EMAIL_INDEX, "res_partner")
