"""One error tree for the whole protocol.

Every failure the engine can report is an :class:`AAuthError` carrying a stable
``code`` (what users branch on), an HTTP ``status_code`` and, for resources, the
``Agent-Auth`` challenge that tells the agent how to recover.  Adapters render
these as they are; they never invent codes of their own.

Descriptions name the failing check but never echo tokens, signatures or
signature bases.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .resource.explain import Explanation

__all__ = [
    "AAuthError",
    "HeaderError",
    "SignatureError",
    "DiscoveryError",
    "TokenError",
    "AuthorizationRequired",
    "InsufficientScope",
    "ReplayError",
    "CacheUnavailable",
    "TokenEndpointError",
    "SettingsError",
    "KeyError_",
]


class AAuthError(Exception):
    """Base of every error the engine raises.

    ``code`` is stable and documented; ``description`` is for humans and may change.
    ``challenge`` is the ``Agent-Auth`` header value to send with the response, if any.
    """

    default_code = "invalid_request"
    default_status = 401
    #: The wire profile the refused request was verified under: its error shape (body,
    #: ``Signature-Error`` or ``Agent-Auth``) is rendered by that profile.  Set on the
    #: instance only by the aauth-11 verifier (docs/profiles.md, decision P6).
    profile: str = "aauth-2026-01"

    def __init__(
        self,
        description: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        challenge: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.code: str = code or self.default_code
        self.description: str = description
        self.status_code: int = status_code if status_code is not None else self.default_status
        self.challenge: str | None = challenge
        self._extra_headers = dict(extra_headers or {})

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers to send with this error (the challenge among them)."""
        headers = dict(self._extra_headers)
        if self.challenge is not None:
            headers["Agent-Auth"] = self.challenge
        return MappingProxyType(headers)

    def with_challenge(self, challenge: str | None) -> AAuthError:
        """Return this error with ``challenge`` set (the error itself, mutated once)."""
        self.challenge = challenge
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON body protocol A9 prescribes: ``{"error", "error_description"}``."""
        return {"error": self.code, "error_description": self.description}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status_code}, {self.description!r})"


class HeaderError(AAuthError):
    """A signature or challenge header could not be parsed."""

    default_code = "invalid_header"


class SignatureError(AAuthError):
    """The HTTP message signature is missing, incomplete, stale or does not verify."""

    default_code = "invalid_signature"
    #: Set only in explicit debug mode (``AAuthSettings.debug``) when a signature did not
    #: verify: the :class:`~aauth_core.resource.explain.Explanation` (bases, what would have verified).
    #: It holds signature bases: never rendered into a response.
    explanation: Explanation | None = None


class ReplayError(SignatureError):
    """The same signature was already seen inside its validity window."""

    default_code = "replayed_request"


class DiscoveryError(AAuthError):
    """Metadata or keys could not be fetched, or are not what was asked for."""

    default_code = "discovery_failed"


class TokenError(AAuthError):
    """A JWT (agent, resource or auth token) failed validation."""

    default_code = "invalid_token"


class AuthorizationRequired(AAuthError):
    """The request is valid but does not meet the route's requirement level."""

    default_code = "authorization_required"


class InsufficientScope(AAuthError):
    """The request is authorised, but not for the scopes this route needs (403)."""

    default_code = "insufficient_scope"
    default_status = 403


class CacheUnavailable(AAuthError):
    """A shared cache (replay, keys) could not be reached; the verifier fails closed."""

    default_code = "cache_unavailable"
    default_status = 503


class TokenEndpointError(AAuthError):
    """An auth-server token endpoint error (protocol B §9.2), OAuth-style JSON."""

    default_code = "invalid_request"
    default_status = 400


class SettingsError(AAuthError, ValueError):
    """A setting is missing or invalid (raised at start-up, not per request).

    Also a ``ValueError``: code written against the Django adapter's earlier
    ``ValueError`` for a bad decorator argument still catches it."""

    default_code = "invalid_settings"
    default_status = 500


class KeyError_(AAuthError):  # noqa: N801 - avoid shadowing the builtin KeyError
    """A key or JWK is malformed or of an unsupported type."""

    default_code = "invalid_key"
