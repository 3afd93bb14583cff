"""User consent: the pluggable hand-off to a human (protocol B §1.2 flow 4, §5.3).

When the auth server answers ``{"request_token": ...}`` the agent must send the
user to ``agent_auth_endpoint?request_token=...&redirect_uri=...`` and wait for the
redirect back with ``code``.  How that happens (open a browser, print a link,
message a chat user) is the application's business, so it is a callback.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from ..errors import AAuthError

__all__ = [
    "InteractionHandler",
    "InteractionRequired",
    "consent_url",
    "parse_interaction_result",
    "raise_interaction_required",
]


class InteractionRequired(AAuthError):
    """The auth server needs the user's consent and no interaction handler was given.

    ``url`` is where to send the user; it contains no secret beyond the short-lived
    request token the auth server issued for exactly this purpose.
    """

    default_code = "interaction_required"
    default_status = 401

    def __init__(self, url: str) -> None:
        super().__init__(
            "the auth server requires user consent; send the user to `url` and pass an interaction "
            "handler that returns the authorization code",
        )
        self.url = url


class InteractionHandler(Protocol):
    """Receives the consent URL; returns the authorization ``code`` or the full redirect URL."""

    def __call__(self, url: str, /) -> str: ...


def raise_interaction_required(url: str, /) -> str:
    """The default handler: there is no user to ask, so say so clearly."""
    raise InteractionRequired(url)


def consent_url(endpoint: str, request_token: str, redirect_uri: str) -> str:
    """``agent_auth_endpoint?request_token=...&redirect_uri=...``."""
    sep = "&" if urlsplit(endpoint).query else "?"
    return f"{endpoint}{sep}{urlencode({'request_token': request_token, 'redirect_uri': redirect_uri})}"


def parse_interaction_result(value: str) -> str:
    """The authorization code from a handler's answer (a bare code or the redirect URL).

    A redirect carrying ``error`` (the user denied) becomes an ``access_denied``
    (or the given code) error.
    """
    if not isinstance(value, str) or not value:
        raise AAuthError("the interaction handler returned no authorization code", code="invalid_grant",
                         status_code=400)
    if "?" not in value and "=" not in value:
        return value
    query = parse_qs(urlsplit(value).query if "?" in value else value)
    if "error" in query:
        code = query["error"][0]
        raise AAuthError(f"the user did not grant consent ({code})", code=code or "access_denied", status_code=403)
    codes = query.get("code")
    if not codes or not codes[0]:
        raise AAuthError("the interaction result carries no 'code'", code="invalid_grant", status_code=400)
    return codes[0]
