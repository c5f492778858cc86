odoo.define('bookings_invoicing.datetime_minutes', function (require) {
"use strict";
/**
 * A date and time to the minute, in the user's time zone and language format: bookings start and end on the
 * minute, so the seconds of the language's format only add noise to a list of bookings.
 * Usage: <field name="start" widget="datetime_minutes"/>
 */
var basicFields = require('web.basic_fields');
var fieldRegistry = require('web.field_registry');
var time = require('web.time');

var FieldDateTimeMinutes = basicFields.FieldDateTime.extend({
    /**
     * @override
     * @private
     */
    _formatValue: function (value) {
        if (!value) {
            return "";
        }
        var local = value.clone().add(this.getSession().getTZOffset(value), 'minutes');
        return local.format(time.getLangDatetimeFormat().replace(/:ss/, ''));
    },
});

fieldRegistry.add('datetime_minutes', FieldDateTimeMinutes);

return FieldDateTimeMinutes;
});
