import datetime

import pytz

from odoo import fields, models


class BookingsLocalTime(models.AbstractModel):
    """Stored moments (UTC) given where the user is, in the formats of the user's language, and days where the user
    is given as stored moments."""

    _name = "bookings.local.time"
    _description = "Bookings Local Time"

    def _local(self, moment):
        """The stored datetime ``moment`` in the time zone of the user (or of the context), as an aware datetime."""
        return moment and fields.Datetime.context_timestamp(self, fields.Datetime.from_string(moment)) or None

    def _local_text(self, moment):
        """The stored datetime ``moment`` where the user is, in the formats of the user's language (to the minute)."""
        local = self._local(moment)
        if not local:
            return ""
        lang = self.env["res.lang"]._lang_get(self.env.context.get("lang") or "en_US")
        date_format = lang.date_format or "%m/%d/%Y"
        time_format = (lang.time_format or "%H:%M:%S").replace(":%S", "")
        return local.strftime("%s %s" % (date_format, time_format))

    def _stored_moment(self, day, time=datetime.time()):
        """The moment ``time`` of the date ``day`` where the user (or the context) is, as Odoo stores it: a naive
        UTC string (the start of the day by default)."""
        zone = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        local = zone.localize(datetime.datetime.combine(day, time))
        return fields.Datetime.to_string(local.astimezone(pytz.utc))
