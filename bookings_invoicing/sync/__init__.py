"""The synchronization of a Bookings business with Odoo: the read (``importer``, with the matching of customers to
partners in ``matching`` and the run's units of work in ``run``), the push (``exporter``) and the invoice status
written back (``invoice_status``). The business makes them (``bookings.business._bookings_importer``,
``_bookings_exporter``), so that an add-on extends them with a subclass; the invoice status is handed the
synchronization window.

The synchronization is below the models in the import graph, but at run time it calls them through ``env``: this
is its contract with them, each a hook of the model it names.

* ``bookings.business``: ``_sync_window`` and ``_graph_client``, read and made in the run's own environment, on its
  own cursor (the business cannot hand them over beforehand: reading them would begin the caller's transaction
  before the run commits, and the caller would not see the run), ``_bookings_currency``, ``_invoice_answers`` (what
  a customer's answers give an invoice), ``_push_domain`` and ``_bookings_exporter``;
* every binding model (``bookings.binding``): ``_bookings_bound``, ``_bookings_to_odoo_values``,
  ``_bookings_create``, ``_bookings_write_changes``, ``_bookings_changes``, ``_prepare_bookings_payload``;
* ``bookings.service._find_or_create_product``; ``bookings.customer._find_or_create_partner`` and
  ``_partner_index``; ``bookings.appointment._bookings_update`` (a change of what was billed raised for review).
"""
from .exporter import DirectoryExporter  # noqa: F401
from .importer import BusinessImporter, SynchronizationRunning  # noqa: F401
from .invoice_status import InvoiceStatusWriter  # noqa: F401
from .run import RunContext  # noqa: F401
