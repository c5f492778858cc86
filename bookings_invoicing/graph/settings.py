"""Where and how the client reaches Microsoft: the clouds' hosts, the Bookings permissions, and the settings of one
business's connection (``GraphSettings``). Plain data, no I/O."""
from dataclasses import dataclass, field
from typing import FrozenSet, Optional, Tuple

from .credentials import Certificate

GLOBAL_AUTHORITY_URL = "https://login.microsoftonline.com"
GLOBAL_GRAPH_URL = "https://graph.microsoft.com"
#: Microsoft's sign-in and Graph hosts: the global cloud, US Government and China. No request goes elsewhere unless
#: the settings allow another host.
MICROSOFT_HOSTS = frozenset([
    "login.microsoftonline.com", "graph.microsoft.com",
    "login.microsoftonline.us", "graph.microsoft.us",
    "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn",
])
READ_PERMISSION = "Bookings.Read.All"
#: What a tenant whose Graph answers 401 to a token with the read permission had to grant (a June 2025 Q&A: an
#: application with Bookings.ReadWrite.All only got 401 on appointments, services and staff until it was added).
APPOINTMENT_PERMISSION = "BookingsAppointment.ReadWrite.All"
#: The application permissions that allow writing customers (the first one is the least) and services.
CUSTOMER_WRITE_PERMISSIONS = ("BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All")
SERVICE_WRITE_PERMISSIONS = ("Bookings.ReadWrite.All", "Bookings.Manage.All")
#: Writing an appointment (its invoice properties, in beta).
APPOINTMENT_WRITE_PERMISSIONS = ("BookingsAppointment.ReadWrite.All", "Bookings.Manage.All")
#: The delegated permissions a signed-in user is asked for: reading, and the pushes of customers and services.
DELEGATED_PERMISSIONS = ("Bookings.ReadWrite.All", "BookingsAppointment.ReadWrite.All")


@dataclass(frozen=True)
class GraphSettings:
    """Where and how to reach one Bookings business; the secret never appears in ``repr``."""

    tenant_id: str
    client_id: str
    client_secret: Optional[str] = field(default=None, repr=False)
    client_certificate: Optional[Certificate] = None  # signs the sign-in instead of the secret
    account: Optional[str] = None  # the msal account (home account id) of a signed-in user: delegated access
    account_name: Optional[str] = None  # who that user is, for messages
    token_cache: Optional[str] = field(default=None, repr=False)  # that user's msal token cache, serialized
    authority_url: str = GLOBAL_AUTHORITY_URL
    graph_url: str = GLOBAL_GRAPH_URL
    timeout: Tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
    max_attempts: int = 6  # per request, the first one included
    backoff_factor: float = 0.5  # seconds: 0, 2x, 4x, 8x ... between attempts without Retry-After
    throttle_budget: float = 600.0  # seconds a client waits in all for Graph's Retry-After before it gives up
    max_items: int = 500000  # per collection read
    allowed_hosts: FrozenSet[str] = MICROSOFT_HOSTS  # host names, or host:port, that requests may go to
    max_answer_bytes: int = 32 * 1024 * 1024  # the largest answer read (a page of Graph is a few hundred KB)
    deadline: float = 120.0  # seconds for one request and its whole answer, waits for Retry-After not counted

    @property
    def authority(self):
        return "%s/%s" % (self.authority_url.rstrip("/"), self.tenant_id)

    @property
    def scope(self):
        return "%s/.default" % self.graph_url.rstrip("/")

    @property
    def delegated_scopes(self):
        return ["%s/%s" % (self.graph_url.rstrip("/"), permission) for permission in DELEGATED_PERMISSIONS]


@dataclass(frozen=True)
class SignedIn:
    """A user signed in through the authorization code flow: their msal account, and the token cache to keep."""

    account: str
    username: str
    name: str
    token_cache: str = field(repr=False)

