"""The agent's auth-token cache: one token per (partition, resource, scope).

Tokens are reused until ``margin`` seconds before they expire, so a request is
never sent with a token about to lapse in flight.  An expired token is kept while
it carries a ``refresh_token``, so the flow can refresh before falling back to a
new challenge.  ``partition`` separates tokens obtained for different upstream
requests in a token exchange (their ``act`` and ``sub`` differ).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["CachedToken", "TokenCache"]


@dataclass(frozen=True, slots=True)
class CachedToken:
    """An auth token and what is needed to use, refresh or replace it.  Never printed."""

    auth_token: str = field(repr=False)
    expires_at: float
    resource: str
    scope: str | None = None
    partition: str = ""
    auth_server: str | None = None
    token_endpoint: str | None = None
    refresh_token: str | None = field(default=None, repr=False)

    def fresh(self, now: float, margin: float) -> bool:
        return now < self.expires_at - margin


class TokenCache:
    """In-memory, thread-safe.  A lookup without a scope returns the newest token for
    the resource (the agent learns scopes only from challenges)."""

    def __init__(self, margin: float = 60.0) -> None:
        if margin < 0:
            raise ValueError("margin must not be negative")
        self.margin = margin
        self._tokens: dict[tuple[str, str, str | None], CachedToken] = {}
        self._lock = threading.Lock()

    def _candidates(self, partition: str, resource: str, scope: str | None) -> list[CachedToken]:
        with self._lock:
            if scope is not None:
                token = self._tokens.get((partition, resource, scope))
                return [token] if token is not None else []
            found = [t for (p, r, _s), t in self._tokens.items() if p == partition and r == resource]
        return sorted(found, key=lambda t: t.expires_at, reverse=True)

    def get(self, resource: str, scope: str | None = None, *, now: float, partition: str = "") -> CachedToken | None:
        """A token usable now (not within ``margin`` of expiry), or ``None``."""
        for token in self._candidates(partition, resource, scope):
            if token.fresh(now, self.margin):
                return token
        return None

    def refreshable(self, resource: str, scope: str | None = None, *, partition: str = "") -> CachedToken | None:
        """A stale token that still carries a refresh token, or ``None``."""
        for token in self._candidates(partition, resource, scope):
            if token.refresh_token and token.token_endpoint:
                return token
        return None

    def put(self, token: CachedToken) -> None:
        with self._lock:
            self._tokens[(token.partition, token.resource, token.scope)] = token

    def drop(self, token: CachedToken) -> None:
        """Forget ``token`` (only if it is still the cached one for its key)."""
        with self._lock:
            key = (token.partition, token.resource, token.scope)
            if self._tokens.get(key) is token:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)
