"""Where the access server keeps state: pending requests (202) and the auth tokens it issued
(for revocation).

The January auth server's stores do the work (:class:`~aauth_core.authserver.store.MemoryStore`
in the process, :class:`~aauth_core.authserver.store_redis.RedisStore` shared by every worker):
the same keyed, expiring, JSON-valued entries with an atomic ``take``, under the access
server's own kinds and Redis prefix.  A pending id is a secret (whoever holds it, signed as the
right person server, collects the token), so it is stored by its SHA-256 only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, cast, runtime_checkable

from ..authserver.store import AuthServerStore, Kind, MemoryStore

__all__ = ["AccessKind", "AccessStore", "access_store_from_url"]

AccessKind = Literal["pending", "issued"]


@runtime_checkable
class AccessStore(Protocol):
    """Keyed, expiring storage; sync and async twins (as the auth server's)."""

    def put(self, kind: AccessKind, key: str, value: Mapping[str, Any], expires_at: float) -> None: ...

    def get(self, kind: AccessKind, key: str) -> Mapping[str, Any] | None: ...

    def delete(self, kind: AccessKind, key: str) -> None: ...

    async def aput(self, kind: AccessKind, key: str, value: Mapping[str, Any], expires_at: float) -> None: ...

    async def aget(self, kind: AccessKind, key: str) -> Mapping[str, Any] | None: ...

    async def adelete(self, kind: AccessKind, key: str) -> None: ...


class _OnAuthServerStore:
    """An :class:`AccessStore` over an auth server store: the kinds are only key prefixes."""

    def __init__(self, inner: AuthServerStore) -> None:
        self.inner = inner

    def put(self, kind: AccessKind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        self.inner.put(cast(Kind, kind), key, value, expires_at)

    def get(self, kind: AccessKind, key: str) -> Mapping[str, Any] | None:
        return self.inner.get(cast(Kind, kind), key)

    def delete(self, kind: AccessKind, key: str) -> None:
        self.inner.delete(cast(Kind, kind), key)

    async def aput(self, kind: AccessKind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        await self.inner.aput(cast(Kind, kind), key, value, expires_at)

    async def aget(self, kind: AccessKind, key: str) -> Mapping[str, Any] | None:
        return await self.inner.aget(cast(Kind, kind), key)

    async def adelete(self, kind: AccessKind, key: str) -> None:
        await self.inner.adelete(cast(Kind, kind), key)


def access_store_from_url(url: str, *, clock: Callable[[], float] = time.time) -> AccessStore:
    """``memory://`` (one worker) or ``redis://`` / ``rediss://`` / ``unix://`` (shared); a Redis
    failure is 503 ``cache_unavailable`` and nothing is issued (fail closed)."""
    if url == "memory://":
        return _OnAuthServerStore(MemoryStore(clock=clock))
    from ..cache.url import check_cache_url

    check_cache_url(url)
    if "fail_open" in url:
        raise ValueError("the access server store never fails open; remove fail_open from its URL")
    from ..authserver.store_redis import RedisStore

    return _OnAuthServerStore(RedisStore(url, prefix="aauth:access:", clock=clock))
