"""Starlette's ``request.user`` / ``request.auth`` for a verified AAuth request.

Filled by :class:`~aauth_starlette.middleware.AAuthMiddleware` only when no other
authentication middleware set them first, so Starlette's own ``requires`` and any
code reading ``request.user`` see the agent without knowing about AAuth.
"""

from __future__ import annotations

from starlette.authentication import AuthCredentials, BaseUser

from aauth_core.context import VerifiedRequest

__all__ = ["AAuthUser", "AUTHENTICATED_SCOPE", "credentials_for"]

AUTHENTICATED_SCOPE = "authenticated"
"""The scope every verified request carries in ``request.auth.scopes`` (Starlette's convention)."""


class AAuthUser(BaseUser):
    """A verified agent: named by its identifier, or by key thumbprint when pseudonymous (``hwk``)."""

    def __init__(self, verified: VerifiedRequest) -> None:
        self.verified = verified

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.verified.agent or self.verified.key_thumbprint

    @property
    def identity(self) -> str:
        return self.display_name

    def __repr__(self) -> str:
        return f"AAuthUser({self.display_name!r}, level={self.verified.level!r})"


def credentials_for(verified: VerifiedRequest) -> AuthCredentials:
    """``authenticated`` plus the auth token's scopes (sorted, for stable output)."""
    scope = verified.scope
    names = _SORTED_SCOPES.get(scope)
    if names is None:
        names = (AUTHENTICATED_SCOPE, *sorted(scope))
        if len(_SORTED_SCOPES) < _SORTED_SCOPES_SIZE:
            _SORTED_SCOPES[scope] = names
    return AuthCredentials(names)  # copies into a fresh list: each request may change its own


#: The sorted scope list per scope set, memoised: every request with the same token scopes
#: needs the same list (bounded; past the bound, lists are simply sorted per request).
_SORTED_SCOPES_SIZE = 256
_SORTED_SCOPES: dict[frozenset[str], tuple[str, ...]] = {}
