"""The resource's list of revoked aauth-11 tokens (RS-43, RS-60): ``(issuer, jti)`` until the
token's own ``exp`` (plus the skew it could still be presented in), then forgotten.

Never evicts an entry that still matters: a revocation list that forgot an unexpired
entry would accept a revoked token again (fail-open).  When it is full of live entries a
new revocation is refused (:class:`RevocationListFull`, which the revocation endpoint
answers with 429 ``rate_limited``), never silently dropped.

:class:`RevocationList` lives in one process.  Several workers share
:class:`~aauth_core.cache.redis.RedisRevocationList` instead (``cache_url``), so a
revocation received by one worker is honoured by all; both have the same methods, with
async twins, and ``local`` tells the verifier whether a lookup is I/O.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

from ..effects import Call, call
from ..errors import TokenError

if TYPE_CHECKING:
    from .prepared import Identity

__all__ = ["RevocationList", "RevocationListFull", "RevocationStore", "check_revoked"]


class RevocationListFull(Exception):
    """Every slot holds a revocation that has not expired yet."""


class RevocationStore(Protocol):
    """Where revocations are kept: in the process, or shared (Redis)."""

    local: bool  # lookups are plain calls, not I/O

    def revoke(self, iss: str, jti: str, exp: float) -> None: ...
    async def arevoke(self, iss: str, jti: str, exp: float) -> None: ...
    def is_revoked(self, iss: str, jti: str) -> bool: ...
    async def ais_revoked(self, iss: str, jti: str) -> bool: ...


class RevocationList:
    """``(iss, jti)`` → the time after which the entry no longer matters."""

    local = True

    def __init__(self, *, maxsize: int = 100_000, skew: int = 60, clock: Callable[[], float] = time.time) -> None:
        self.maxsize = maxsize
        self.skew = skew
        self.clock = clock
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def revoke(self, iss: str, jti: str, exp: float) -> None:
        """Remember ``(iss, jti)`` until ``exp`` + skew; raise :class:`RevocationListFull`
        when no slot is free even after forgetting what expired."""
        now = self.clock()
        until = float(exp) + self.skew
        if until <= now:
            return  # the token can no longer be presented: nothing to remember
        with self._lock:
            if (iss, jti) not in self._until and len(self._until) >= self.maxsize:
                self._purge(now)
                if len(self._until) >= self.maxsize:
                    raise RevocationListFull("the revocation list is full of unexpired entries")
            self._until[(iss, jti)] = max(until, self._until.get((iss, jti), 0.0))

    async def arevoke(self, iss: str, jti: str, exp: float) -> None:
        self.revoke(iss, jti, exp)

    def is_revoked(self, iss: str, jti: str) -> bool:
        until = self._until.get((iss, jti))
        return until is not None and until > self.clock()

    async def ais_revoked(self, iss: str, jti: str) -> bool:
        return self.is_revoked(iss, jti)

    def __len__(self) -> int:
        return len(self._until)

    def _purge(self, now: float) -> None:
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]


def check_revoked(store: RevocationStore, identity: Identity) -> Generator[Call[Any], Any, None]:
    """RS-43: refuse a person or auth token its issuer revoked (``revoked_jwt``).  An
    in-process list is read directly; a shared one is I/O, and fails closed (503
    ``cache_unavailable``) like the replay cache."""
    iss, jti = identity.issuer or "", str(identity.claims.get("jti"))
    if store.local:
        revoked = store.is_revoked(iss, jti)
    else:
        revoked = yield from call(store.is_revoked, store.ais_revoked, iss, jti)
    if revoked:
        raise TokenError("this token was revoked by its issuer", code="revoked_jwt")
