"""``RedisStore``: the auth server's pending consents, codes, sessions and refresh
tokens, shared by every worker (and host) of one auth server.

``take`` is ``GETDEL``, atomic on the server, so a code is redeemed at most once
whichever worker gets the request.  Every Redis failure raises
:class:`~aauth_core.errors.CacheUnavailable` (503): the token endpoint then issues
nothing, because a token whose grant could not be recorded must not exist.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
import redis.asyncio as aredis
from redis.exceptions import RedisError

from ..cache import BoundedCache
from ..cache.redis import DEFAULT_TIMEOUT, async_redis_client, redis_client
from ..errors import CacheUnavailable
from .store import Kind

__all__ = ["RedisStore"]

#: Event loops whose asyncio client is kept (one per loop; the oldest is dropped beyond this).
_MAX_LOOPS = 64


class RedisStore:
    """:class:`~aauth_core.authserver.store.AuthServerStore` on Redis.

    Keys are ``<prefix><kind>:<key>``; ``key`` is already a hash of the secret
    (:func:`~aauth_core.authserver.store.secret_key`), so Redis never holds a
    usable code or token.  Entries expire with their ``expires_at`` (a Redis TTL
    computed from the injected clock).
    """

    def __init__(self, url: str, *, prefix: str = "aauth:as:", clock: Callable[[], float] = time.time,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._url = url
        self._prefix = prefix
        self._clock = clock
        self._timeout = timeout
        self._client: redis.Redis = redis_client(url, timeout=timeout)
        # An asyncio client belongs to one event loop: one per loop, bounded (see docs/architecture.md).
        self._aclients: BoundedCache[int, aredis.Redis] = BoundedCache(_MAX_LOOPS)

    def _name(self, kind: Kind, key: str) -> str:
        return f"{self._prefix}{kind}:{key}"

    def _ttl(self, expires_at: float) -> int:
        return max(1, int((expires_at - self._clock()) * 1000))

    def _aclient(self) -> aredis.Redis:
        import asyncio

        loop = id(asyncio.get_running_loop())
        client = self._aclients.get(loop)
        if client is None:
            client = self._aclients.put(loop, async_redis_client(self._url, timeout=self._timeout))
        return client

    # ------------------------------------------------------------------ blocking

    def put(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        try:
            self._client.set(self._name(kind, key), json.dumps(dict(value), separators=(",", ":")),
                             px=self._ttl(expires_at))
        except RedisError as exc:
            raise _unavailable(exc) from None

    def get(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        try:
            raw = self._client.get(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None
        return _decode(raw)

    def take(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        try:
            raw = self._client.getdel(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None
        return _decode(raw)

    def delete(self, kind: Kind, key: str) -> None:
        try:
            self._client.delete(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None

    # ------------------------------------------------------------------ awaited

    async def aput(self, kind: Kind, key: str, value: Mapping[str, Any], expires_at: float) -> None:
        try:
            await self._aclient().set(self._name(kind, key), json.dumps(dict(value), separators=(",", ":")),
                                      px=self._ttl(expires_at))
        except RedisError as exc:
            raise _unavailable(exc) from None

    async def aget(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        try:
            raw = await self._aclient().get(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None
        return _decode(raw)

    async def atake(self, kind: Kind, key: str) -> Mapping[str, Any] | None:
        try:
            raw = await self._aclient().getdel(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None
        return _decode(raw)

    async def adelete(self, kind: Kind, key: str) -> None:
        try:
            await self._aclient().delete(self._name(kind, key))
        except RedisError as exc:
            raise _unavailable(exc) from None

    def close(self) -> None:
        self._client.close()


def _decode(raw: Any) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return None  # not ours, or corrupt: as good as absent
    return value if isinstance(value, dict) else None


def _unavailable(exc: RedisError) -> CacheUnavailable:
    return CacheUnavailable(f"the auth server store is unavailable ({type(exc).__name__})")
