from . import test_business
from . import test_sync
from . import test_invoicing
from . import test_access
from . import test_faults
from . import test_binding
from . import test_money
from . import test_invoice_batch
