from . import bookings_invoice_wizard
from . import bookings_exclude_wizard
from . import bookings_message
from . import bookings_certificate_upload
from . import bookings_review_wizard
from . import bookings_no_show_wizard
from . import bookings_customer_wizard
from . import bookings_month_close
