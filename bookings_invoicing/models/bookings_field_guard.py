"""A field's ``groups`` on every path of the ORM, not only ``read`` and ``write``.

Odoo 11 applies a field's ``groups`` to ``read``, ``write`` and the views, but not to a search domain, an order, a
``read_group`` (its values, its groups and its order), an export, ``copy_data`` or an onchange: any user who may read
a record could search a restricted field letter by letter, group by it to read it, or export it. A model that
inherits ``bookings.field.guard`` refuses each of them for a field whose groups the user lacks, wherever the field
is met: on the model itself or at the end of a path from another model (``business_id.tenant_id``).
"""
from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError
from odoo.osv import expression


class BookingsFieldGuard(models.AbstractModel):
    _name = "bookings.field.guard"
    _description = "Bookings Restricted Fields"

    def _bookings_refused_path(self, path):
        """The first field of the dotted ``path`` (from this model) whose groups the user lacks, else None."""
        model = self
        for name in path:
            field = model._fields.get(name)
            if field is None:
                return None
            if field.groups and not self.user_has_groups(field.groups):
                return field
            if not field.relational:
                return None
            model = self.env[field.comodel_name]
        return None

    def _bookings_check_paths(self, paths, operation):
        """Refuse ``operation`` when one of ``paths`` (lists of field names) reaches a field the user may not read."""
        if self._uid == SUPERUSER_ID:
            return
        refused = sorted({field.name for field in map(self._bookings_refused_path, paths) if field})
        if refused:
            raise AccessError(_("The requested operation cannot be completed due to security restrictions: only "
                                "some users may read %(fields)s.\n\n(Document type: %(model)s, Operation: %(op)s)")
                              % {"fields": ", ".join(refused), "model": self._description, "op": operation})

    @staticmethod
    def _bookings_names(spec):
        """The field names of an order or groupby specification (``"name desc, date:month"`` or a list)."""
        if not spec:
            return []
        parts = spec.split(",") if isinstance(spec, str) else spec
        return [part.strip().split(" ")[0].split(":")[0].strip('"') for part in parts if part and part.strip()]

    @api.model
    def _where_calc(self, domain, active_test=True):
        # every search, count, name_search and read_group, and each sub-search of a path from another model
        leaves = [leaf for leaf in domain or [] if expression.is_leaf(leaf) and isinstance(leaf[0], str)]
        self._bookings_check_paths([leaf[0].split(".") for leaf in leaves], "search")
        return super(BookingsFieldGuard, self)._where_calc(domain, active_test)

    @api.model
    def _generate_order_by(self, order_spec, query):
        self._bookings_check_paths([[name] for name in self._bookings_names(order_spec)], "order")
        return super(BookingsFieldGuard, self)._generate_order_by(order_spec, query)

    @api.model
    def _read_group_raw(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        names = self._bookings_names(fields) + self._bookings_names(groupby) + self._bookings_names(orderby)
        self._bookings_check_paths([[name] for name in names], "read_group")
        return super(BookingsFieldGuard, self)._read_group_raw(domain, fields, groupby, offset=offset, limit=limit,
                                                               orderby=orderby, lazy=lazy)

    @api.multi
    def _export_rows(self, fields, batch_invalidate=True):
        self._bookings_check_paths([path for path in fields if path], "export")
        return super(BookingsFieldGuard, self)._export_rows(fields, batch_invalidate=batch_invalidate)

    @api.multi
    def copy_data(self, default=None):
        """What a copy takes holds no value the user may not read (a manager copies what a manager reads)."""
        result = super(BookingsFieldGuard, self).copy_data(default)
        if self._uid != SUPERUSER_ID:
            for values in result or []:
                for name in [name for name in values if self._bookings_refused_path([name])]:
                    del values[name]
        return result

    @api.multi
    def onchange(self, values, field_name, field_onchange):
        result = super(BookingsFieldGuard, self).onchange(values, field_name, field_onchange)
        if self._uid != SUPERUSER_ID:
            for name in [name for name in result.get("value", {}) if self._bookings_refused_path([name])]:
                del result["value"][name]
        return result
