"""Where the verified context lives in Flask: ``current_aauth`` (and ``g.aauth``, a mirror).

The outcome of verification is kept in the WSGI environ of the request itself,
not only on ``g``: ``g`` belongs to the app context, which Flask reuses across
requests made inside an outer ``app.app_context()`` (tests, CLI scripts), so a
context kept only there could outlive its request.
"""

from __future__ import annotations

from flask import has_request_context, request
from werkzeug.local import LocalProxy

from aauth_core.context import VerifiedRequest

__all__ = ["current_aauth", "get_current_aauth"]

G_CONTEXT = "aauth"  # g.aauth: the VerifiedRequest, or None for an unsigned request
ENVIRON_OUTCOME = "aauth.outcome"  # the context or the AAuthError, once verification ran: it never runs twice


def get_current_aauth() -> VerifiedRequest | None:
    """The current request's :class:`VerifiedRequest`, or ``None`` (unsigned, or outside a request).

    Use this for ``is None`` checks; :data:`current_aauth` is a proxy, so test it
    for truth (``if current_aauth:``) instead.
    """
    if not has_request_context():
        return None
    value = request.environ.get(ENVIRON_OUTCOME)
    return value if isinstance(value, VerifiedRequest) else None


current_aauth: LocalProxy[VerifiedRequest | None] = LocalProxy(get_current_aauth)
"""Proxy to the current request's verified context; falsy when there is none."""
