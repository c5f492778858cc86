"""Errors of the Graph Bookings client, each one a user can act on.

Messages are English templates with named placeholders. They are marked with ``_`` so that Odoo's translation
export collects them; the Odoo layer translates them at display time (see ``GraphError.template``), while this
module stays free of any Odoo import.
"""


def _(message):
    """Mark a message for translation; the Odoo layer looks it up in the user's language."""
    return message


class GraphMessage:
    """What the client tells its reader: ``template % params``, in English until the Odoo layer translates it."""

    template = None

    def __init__(self, template=None, **params):
        self.template = template or self.template
        self.params = params

    @property
    def message(self):
        return self.template % self.params


class GraphError(GraphMessage, Exception):
    """Base class of the errors: a read or a write that failed."""

    template = _("Microsoft Graph answered with an error.")

    def __init__(self, template=None, **params):
        GraphMessage.__init__(self, template, **params)
        Exception.__init__(self, self.message)


class GraphNotice(GraphMessage):
    """Base class of the notices: a read that succeeded, another way than asked (``BookingsClient.notices``)."""


class ConnectionFailed(GraphError):
    template = _("Cannot reach %(url)s: %(reason)s")


class UntrustedCertificate(ConnectionFailed):
    template = _("The TLS certificate of %(url)s is not trusted: %(reason)s")


class AuthenticationError(GraphError):
    """Microsoft Entra ID refused to issue a token."""

    template = _("Microsoft Entra ID refused the sign-in (%(error)s): %(description)s")


class InvalidCredentials(AuthenticationError):
    template = _(
        "The client id, or the client secret or certificate, is wrong (%(error)s). Check them against the "
        "application registered in Microsoft Entra ID: %(description)s"
    )


class CertificateUnreadable(GraphError):
    template = _(
        "The certificate cannot be read (%(detail)s). Upload a PEM file holding the certificate and its private "
        "key, or a PKCS#12 (.pfx) file with its password."
    )


class CertificateExpired(AuthenticationError):
    template = _(
        "The application's certificate %(thumbprint)s expired on %(date)s: create a new one, add it to the "
        "application in Microsoft Entra ID, and upload it on the business."
    )


class SignInExpired(AuthenticationError):
    """The signed-in user's refresh token was revoked or expired: the synchronization cannot act as them."""

    template = _(
        "The sign-in of %(user)s to Microsoft has expired or was revoked: %(user)s, or another user allowed in "
        "Bookings, must sign in again with Microsoft on the business (Microsoft Entra ID said: %(description)s)"
    )


class UnknownTenant(AuthenticationError):
    template = _(
        "The tenant %(tenant)s is unknown to %(authority)s. Check the tenant id and the authority URL "
        "(national clouds use their own login host)."
    )


class PermissionDenied(GraphError):
    template = _(
        "The application may not read %(what)s: grant it the Microsoft Graph application permission "
        "%(permission)s and give admin consent. Graph said: %(detail)s"
    )


class TokenRefused(PermissionDenied):
    """Graph answered 401 to a token Microsoft Entra ID had just issued: a permission is missing, not the sign-in."""

    template = _(
        "Microsoft Graph refused the application's token for %(what)s (HTTP 401) although Microsoft Entra ID issued "
        "it: grant the application the Microsoft Graph application permission %(permission)s and give admin "
        "consent. Graph said: %(detail)s"
    )


class WriteDenied(PermissionDenied):
    template = _(
        "The application may not write %(what)s in Bookings: grant it the Microsoft Graph application permission "
        "%(permission)s and give admin consent. Graph said: %(detail)s"
    )


class WriteRefused(GraphError):
    """Bookings refused the values written (HTTP 400), with its reason."""

    template = _("Bookings refused to write %(what)s: %(detail)s")


class ItemNotFound(GraphError):
    template = _("Bookings no longer has %(what)s %(item)s (Graph answered 404).")


class BusinessNotFound(GraphError):
    template = _(
        "The Bookings business %(business)s cannot be reached (Graph answered %(code)s): check its e-mail address, "
        "that the business belongs to this tenant, and that no application access policy keeps the application out "
        "of its mailbox."
    )


class Throttled(GraphError):
    template = _(
        "Microsoft Graph kept throttling the requests (HTTP 429) after %(attempts)s attempts; "
        "try again later."
    )


class ThrottleBudgetSpent(GraphError):
    template = _(
        "Microsoft Graph asked to wait %(wait)s seconds before the next request (Retry-After), more than is left of "
        "this synchronization's throttling budget (%(budget)s seconds in all). It stopped without cancelling "
        "anything; the next synchronization goes on, or raise the budget on the business."
    )


class ServiceFailure(GraphError):
    template = _("Microsoft Graph failed with HTTP %(status)s on %(url)s after retrying: %(detail)s")


class SignInFailure(ServiceFailure):
    """The token endpoint kept failing (5xx): the sign-in, not Graph, is out of service."""

    template = _("Microsoft Entra ID failed with HTTP %(status)s on %(url)s after retrying: %(detail)s")


class ProtocolError(GraphError):
    """The answer is not what the Graph protocol promises (not JSON, wrong shape, a paging loop)."""

    template = _("Microsoft Graph sent an answer that cannot be read from %(url)s: %(detail)s")


class HostNotAllowed(ConnectionFailed):
    """A request to a host that is not Microsoft's nor allowed by an administrator: the secret never goes there."""

    template = _(
        "%(url)s is not a Microsoft sign-in or Graph host: nothing was sent there. An administrator can allow another "
        "host in the system parameter bookings_invoicing.allowed_hosts."
    )


class Redirected(ProtocolError):
    template = _("%(url)s answered with a redirection to %(location)s, which is not followed: nothing was read.")


class AnswerTooLarge(ProtocolError):
    template = _("%(url)s sent an answer larger than %(limit)s bytes; the read was stopped.")


class AnswerTooSlow(ProtocolError):
    template = _("%(url)s did not send its whole answer within %(seconds)s seconds; the read was stopped.")


class PagingLoop(ProtocolError):
    template = _("Microsoft Graph sent the same next page twice for %(url)s; the read was stopped.")


class ResultTooLarge(ProtocolError):
    template = _("%(url)s returned more than %(limit)s items; the read was stopped.")


class MalformedItem(GraphError):
    """One item of a collection cannot be read; it is skipped and reported, its page goes on."""

    template = _("%(kind)s %(item)s was skipped: %(detail)s")


class RequestRefused(GraphError):
    template = _("Microsoft Graph refused %(url)s with HTTP %(status)s: %(detail)s")


class CalendarViewNotice(GraphNotice):
    template = _(
        "Microsoft Graph refused calendarView to this application (%(detail)s): the appointments were read from the "
        "whole appointments collection, and those of the synchronization window kept. This is slower on a large "
        "business."
    )
