"""The right to change what the add-on mirrors from Bookings: only the synchronization and the invoicing have it.

The context key of the environments that may change mirrored values holds an object that no remote call can send: a
client cannot claim it through the context of an XML-RPC or JSON-RPC call. A module of its own, below both the
models that check it and the synchronization that claims it.
"""

_MIRROR_KEY = "bookings_mirror"
_MIRROR = object()


def mirror_context():
    """The context entry that gives the right to change mirrored values: for the synchronization and the invoicing
    only (``with_context(**mirror_context())``)."""
    return {_MIRROR_KEY: _MIRROR}


#: What a job or a synchronization keeps of its caller's context: how the user reads (language, time zone). Nothing
#: else (``default_*``, ``active_test``, ``tracking_disable``, ...) reaches what it creates.
KEPT_CONTEXT_KEYS = ("lang", "tz")


def run_context(context, mirroring=False):
    """A context built from scratch for a job or a synchronization started from ``context``: the caller's language
    and time zone, and, with ``mirroring``, the right to change mirrored values."""
    result = {key: context[key] for key in KEPT_CONTEXT_KEYS if context.get(key)}
    return dict(result, **mirror_context()) if mirroring else result


def is_mirroring(context):
    """Whether an environment of ``context`` may change mirrored values."""
    return context.get(_MIRROR_KEY) is _MIRROR
