"""Where the auth server keeps state: pending consent requests, codes, refresh grants, sessions.

The store is a small keyed protocol so a shared backend (Redis) can replace the
in-memory default without touching the server.  Values are JSON-ready mappings
(the records below convert themselves), every entry has an absolute expiry, and
:meth:`AuthServerStore.take` is an atomic get-and-delete: it is what makes an
authorization code single-use even with several workers.

Keys handed to the store are SHA-256 digests of the secrets (codes, request and
refresh tokens, session ids), never the secrets themselves, so a dump of the store
holds nothing an attacker can present.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

__all__ = [
    "AuthServerStore",
    "AuthorizationCode",
    "Kind",
    "MemoryStore",
    "PendingRequest",
    "RefreshGrant",
    "Session",
    "secret_key",
]

log = logging.getLogger("aauth.authserver")

Kind = Literal["pending", "code", "refresh", "session"]
R = TypeVar("R", bound="_Record")


def secret_key(secret: str) -> str:
    """The store key for a secret: its SHA-256, hex (never store the secret itself)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@runtime_checkable
class AuthServerStore(Protocol):
    """Keyed, expiring storage for the auth server; sync and async twins."""

    def put(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        """Store ``value`` under (``kind``, ``key``) until ``expires_at`` (unix seconds)."""
        ...

    def get(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        """The unexpired value, or ``None``."""
        ...

    def take(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        """Atomically return and delete the unexpired value; ``None`` for every later caller."""
        ...

    def delete(self, kind: Kind, key: str) -> None: ...

    async def aput(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None: ...

    async def aget(self, kind: Kind, key: str) -> Mapping[str, Any] | None: ...

    async def atake(self, kind: Kind, key: str) -> Mapping[str, Any] | None: ...

    async def adelete(self, kind: Kind, key: str) -> None: ...


def store_from_url(url: str, *, clock: Callable[[], float] = time.time) -> AuthServerStore:
    """``memory://`` (one worker) or ``redis://`` / ``rediss://`` / ``unix://`` (shared).

    A store never fails open: a grant that could not be recorded is not issued.
    """
    if url == "memory://":
        return MemoryStore(clock=clock)
    from ..cache.url import check_cache_url

    check_cache_url(url)
    if "fail_open" in url:
        raise ValueError("the auth server store never fails open; remove fail_open from its URL")
    from .store_redis import RedisStore

    return RedisStore(url, clock=clock)


class MemoryStore:
    """In-process store (one worker, tests, samples).  Thread-safe, bounded, clock injected.

    Values are deep-copied through JSON on the way in, exactly as a networked store
    would serialise them, so nothing relies on sharing Python objects.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()

    def _purge(self, now: float) -> None:
        expired = [k for k, (exp, _) in self._entries.items() if exp <= now]
        for k in expired:
            del self._entries[k]

    def put(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        text = json.dumps(dict(value), separators=(",", ":"))
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self._max:
                self._purge(now)
            while len(self._entries) >= self._max:
                log.warning("auth server memory store is full; evicting the oldest entry")
                self._entries.popitem(last=False)
            self._entries[(kind, key)] = (float(expires_at), text)

    def _live(self, kind: Kind, key: str, *, remove: bool) -> Mapping[str, Any] | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get((kind, key))
            if entry is None:
                return None
            if entry[0] <= now or remove:
                del self._entries[(kind, key)]
            if entry[0] <= now:
                return None
        value: dict[str, Any] = json.loads(entry[1])
        return value

    def get(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        return self._live(kind, key, remove=False)

    def take(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        return self._live(kind, key, remove=True)

    def delete(self, kind: Kind, key: str) -> None:
        with self._lock:
            self._entries.pop((kind, key), None)

    async def aput(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        self.put(kind, key, value, expires_at)

    async def aget(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        return self.get(kind, key)

    async def atake(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        return self.take(kind, key)

    async def adelete(self, kind: Kind, key: str) -> None:
        self.delete(kind, key)

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)


# --------------------------------------------------------------------------- records


class _Record:
    """JSON round-trip for the frozen record dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(asdict(self))  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[R], value: Mapping[str, Any]) -> R:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in value.items() if k in names})


@dataclass(frozen=True, slots=True)
class _Grant(_Record):
    """What an auth token will say: to whom (agent, delegate, key), for what, for whom."""

    agent: str
    resource: str
    scope: str | None
    agent_delegate: str | None = None
    agent_claim: bool = True  # False when the agent is itself the resource (aud = agent)


@dataclass(frozen=True, slots=True)
class PendingRequest(_Grant):
    """An ``auth`` request waiting for a user's consent (keyed by its request token)."""

    redirect_uri: str = ""
    agent_name: str | None = None
    expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AuthorizationCode(_Grant):
    """A user's approval, redeemable once by the same agent with the same ``redirect_uri``."""

    redirect_uri: str = ""
    sub: str = ""
    expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class RefreshGrant(_Grant):
    """A refresh token's grant: bound to the agent (and delegate), not to a key (spec §2.5)."""

    sub: str | None = None
    expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Session(_Record):
    """A browser session at the consent endpoint: the CSRF secret, and the user once logged in
    (``user`` is their id, ``user_name`` what the pages call them)."""

    csrf: str
    user: str | None = None
    expires_at: float = 0.0
    user_name: str | None = None
