odoo.define('bookings_invoicing.progress_live', function (require) {
"use strict";
/**
 * A progress bar of work done in the background: while the record's state is "running", its form reads the record
 * again every few seconds (keeping what the user is typing), and stops once the work has ended.
 * Usage: <field name="progress" widget="bookings_progress_live" options="{'state_field': 'state'}"/>
 */
var basicFields = require('web.basic_fields');
var fieldRegistry = require('web.field_registry');

var RELOAD_INTERVAL = 2000;  // milliseconds

var FieldProgressLive = basicFields.FieldProgressBar.extend({
    /**
     * @override
     */
    start: function () {
        var stateField = this.nodeOptions.state_field || 'state';
        if (this.record.res_id && this.record.data[stateField] === 'running') {
            this._reloadTimer = setTimeout(this._reload.bind(this), RELOAD_INTERVAL);
        }
        return this._super.apply(this, arguments);
    },
    /**
     * @override
     */
    destroy: function () {
        clearTimeout(this._reloadTimer);
        this._super.apply(this, arguments);
    },
    /**
     * @private
     */
    _reload: function () {
        this.trigger_up('reload', {keepChanges: true});
    },
});

fieldRegistry.add('bookings_progress_live', FieldProgressLive);

return FieldProgressLive;
});
