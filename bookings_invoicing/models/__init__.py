from . import bookings_business
from . import bookings_customer
from . import bookings_service
from . import bookings_appointment
from . import bookings_sync_run
from . import account_invoice
from . import res_partner
from . import product_template
