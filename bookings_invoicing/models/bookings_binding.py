"""The binding mixin: an Odoo record that mirrors one Bookings record of one business.

A binding is found by its Bookings key within its business (the binder, ``_bookings_bound``), and its values come
from the typed Graph record by one hook (``_bookings_to_odoo_values``). The key is unique per business in the
database, so a synchronization that runs twice, or crashes and runs again, never duplicates a binding.

To synchronize one more value, an integrator inherits the binding model, adds the field and extends
``_bookings_to_odoo_values``: the importer compares every stored field that the hook returns and writes only what
changed.

What a binding mirrors is changed by the synchronization (and, for appointments, the invoicing) only: they work in an
environment made by ``mirror_context``; whoever else creates or deletes a binding, or writes one of its
``_bookings_mirrored_fields``, through a form, RPC or an import, is refused.
"""
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..mirror import is_mirroring, mirror_context


def same_value(old, new):
    """Whether a stored value and a synchronized one are equal, as the database keeps them."""
    if isinstance(old, float) or isinstance(new, float):
        return round(old or 0.0, 6) == round(new or 0.0, 6)
    return (old or False) == (new or False)


class BookingsBinding(models.AbstractModel):
    _name = "bookings.binding"
    _description = "Bookings Binding"

    #: The fields that identify a binding within its business, beside ``business_id``: each binding model declares
    #: them unique with ``business_id`` in its ``_sql_constraints`` (``bookings_key_uniq``).
    _bookings_key_fields = ("bookings_id",)
    #: The fields only the synchronization changes: extend it with a field added to ``_bookings_to_odoo_values``.
    _bookings_mirrored_fields = ("business_id", "company_id", "bookings_id", "needs_review", "review_reason")
    #: The model of the Odoo records a binding links to (and the push writes to Bookings), and the link's field.
    _bookings_odoo_model = None
    _bookings_link_field = None

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade", index=True,
                                  readonly=True)
    company_id = fields.Many2one(related="business_id.company_id", store=True, readonly=True, index=True)
    bookings_id = fields.Char(string="Bookings Id", required=True, readonly=True, index=True)
    needs_review = fields.Boolean(readonly=True, index=True)
    review_reason = fields.Char(readonly=True)

    # --- mirrored values are the synchronization's ----------------------------------------------------------------
    @api.model
    def _bookings_mirroring(self):
        """Whether this environment may change mirrored values (see ``mirror_context``)."""
        return is_mirroring(self.env.context)

    @api.multi
    def _bookings_as_mirror(self):
        """These records in an environment that may change their mirrored values."""
        return self.with_context(**mirror_context())

    def _bookings_model_name(self):
        return self.env["ir.model"]._get(self._name).name  # in the user's language

    @api.model
    def create(self, values):
        if not self._bookings_mirroring():
            raise UserError(_("%(model)s records come from Microsoft Bookings: only the synchronization creates "
                              "them.") % {"model": self._bookings_model_name()})
        return super(BookingsBinding, self).create(values)

    @api.multi
    def write(self, values):
        mirrored = set(values) & set(self._bookings_mirrored_fields)
        if mirrored and not self._bookings_mirroring():
            labels = sorted(self._fields[name].get_description(self.env)["string"] for name in mirrored)
            raise UserError(_("%(model)s records come from Microsoft Bookings: %(fields)s cannot be changed by "
                              "hand.") % {"model": self._bookings_model_name(), "fields": ", ".join(labels)})
        return super(BookingsBinding, self).write(values)

    @api.multi
    def unlink(self):
        if not self._bookings_mirroring():
            raise UserError(_("%(model)s records come from Microsoft Bookings: they are deleted with their business "
                              "only.") % {"model": self._bookings_model_name()})
        return super(BookingsBinding, self).unlink()

    # --- the binder -------------------------------------------------------------------------------------------
    def _bookings_key(self, values):
        """The key of a binding within its business, from its stored values (a dict)."""
        key = tuple(values[name] for name in self._bookings_key_fields)
        return key[0] if len(key) == 1 else key

    @api.model
    def _bookings_bound(self, business, bookings_ids=None):
        """``{key: stored values}`` of the business's bindings of this model, optionally only those of
        ``bookings_ids``. The values are every stored column as the database keeps it, read in one query: comparing
        them with Bookings costs no ORM read, and a dict read here is what ``_bookings_write_changes`` takes."""
        if bookings_ids is not None and not bookings_ids:
            return {}
        columns = [name for name, field in self._fields.items() if field.store and field.column_type]
        if bookings_ids is None:
            condition, param = "business_id = %s", business.id
        else:
            # By the Bookings ids alone, whose index finds them whatever PostgreSQL's statistics know of the
            # business: one synchronized for the first time is unknown to them until the table is next analyzed,
            # and a condition on it would have the planner scan every row of the business for each page. Rows of
            # another business with the same ids are left out below.
            condition, param = "bookings_id IN %s", tuple(bookings_ids)
        selected = ", ".join('"%s"' % column for column in columns)
        query = 'SELECT %s FROM "%s" WHERE %s' % (selected, self._table, condition)  # nosec B608  # the model's names
        self.env.cr.execute(query, [param])
        names = [description[0] for description in self.env.cr.description]
        rows = (dict(zip(names, row)) for row in self.env.cr.fetchall())
        return {self._bookings_key(row): row for row in rows if row["business_id"] == business.id}

    # --- the mapping ------------------------------------------------------------------------------------------
    @api.model
    def _bookings_to_odoo_values(self, record):
        """The values a binding takes from its typed Graph record (``graph.records``): the hook to extend."""
        raise NotImplementedError()

    @api.model
    def _bookings_changes(self, old, values):
        """The values that differ from the stored ones ``old`` (as the binder reads them)."""
        return {name: value for name, value in values.items() if not same_value(old.get(name), value)}

    @api.model
    def _bookings_computed_values(self, values):
        """The stored computed values of a new binding of ``values``, computed by their own compute methods on a
        record in memory (``new``) that holds ``values``: ``_bookings_create`` gives them with its INSERT."""
        names = [name for name, field in self._fields.items() if field.store and field.compute]
        # a field related through a link that is not computed and that the values leave empty is empty: given, not
        # computed through the link
        empty = {name: False for name, field in self._fields.items() if field.related
                 and not self._fields[field.related[0]].compute and not values.get(field.related[0])}
        record = self.new(dict(empty, **values))
        return record._convert_to_write({name: record[name] for name in names})

    @api.model
    def _bookings_create(self, business, key, values):
        """Create the binding of ``key`` in ``business``; returns its stored values as the binder would read them
        (what the synchronization keeps to compare the next Graph record of the same key).

        The binding is inserted with its stored computed values (``_bookings_computed_values``), which Odoo then
        does not compute again (``_recompute_done``): a page of appointments is written with one INSERT a row, not
        an INSERT and an UPDATE per computed field (``make bench``'s first synchronization measures it)."""
        key_values = dict(zip(self._bookings_key_fields, key if isinstance(key, tuple) else (key,)))
        values = dict(values, business_id=business.id, **key_values)
        computed = self._bookings_computed_values(values)
        with self.env.norecompute():
            record = self.create(dict(values, **computed))
            for name in computed:
                record._recompute_done(self._fields[name])
        if self.env.recompute and self.env.context.get("recompute", True):
            record.recompute()  # what the hook does not give, as create() would
        return dict(values, id=record.id, **computed)

    @api.model
    def _bookings_write_changes(self, old, values):
        """Write the values that differ from the stored ones ``old`` and keep ``old`` up to date; returns the
        changes (empty when nothing was written)."""
        changes = self._bookings_changes(old, values)
        if changes:
            self.browse(old["id"]).write(changes)
            old.update(changes)
        return changes


class BookingsDirectoryBinding(models.AbstractModel):
    """A binding of a business's directory, a customer or a service: named, and possibly pushed to Bookings from
    its Odoo record (``sync.exporter``)."""

    _name = "bookings.directory.binding"
    _inherit = "bookings.binding"
    _description = "Bookings Directory Binding"
    _order = "name"
    _bookings_mirrored_fields = ("business_id", "company_id", "bookings_id", "name", "pushed", "removed_in_bookings")

    name = fields.Char(readonly=True)
    pushed = fields.Boolean(
        string="Pushed from Odoo", readonly=True,
        help="Created in Bookings from its Odoo record, which the synchronization keeps it up to date with. A record "
             "born in Bookings is never written by Odoo.")
    removed_in_bookings = fields.Boolean(string="Deleted in Bookings", readonly=True,
                                         help="Pushed from Odoo, then deleted in Bookings: no longer pushed.")
