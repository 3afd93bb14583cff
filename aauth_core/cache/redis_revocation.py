"""The aauth-11 revocation list shared by every worker through Redis (RS-43, RS-60).

A person or access server revokes a token at *one* worker's revocation endpoint; every
worker must then refuse it.  Each revocation is ``SET aauth:revoked:<sha256(iss, jti)> 1
PX <ms until exp + skew>`` and each use of a person or auth token one ``EXISTS``.

It rides on :class:`~aauth_core.cache.redis.RedisReplayCache`'s clients and its failure
rule: Redis unreachable is 503 ``cache_unavailable`` (fail closed: a revoked token must
not pass because the list could not be read), unless ``cache_url`` says
``?fail_open=true``, the explicit opt-out (then a lookup answers "not revoked" and a
revocation is lost, with the replay cache's warning).  Entries leave only by TTL; use
``noeviction`` as for the replay cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from .redis import RedisReplayCache

__all__ = ["RedisRevocationList"]


class RedisRevocationList:
    """:class:`~aauth_core.resource.revocation.RevocationStore` in Redis."""

    local = False

    def __init__(self, url: str, *, fail_open: bool = False, skew: int = 60,
                 clock: Callable[[], float] = time.time, prefix: str = "aauth:revoked:") -> None:
        self._redis = RedisReplayCache(url, prefix=prefix, fail_open=fail_open, clock=clock)
        self.skew = skew
        self.clock = clock
        self.prefix = prefix

    def _name(self, iss: str, jti: str) -> str:
        return self.prefix + hashlib.sha256(iss.encode() + b"\0" + jti.encode()).hexdigest()

    def _ttl_ms(self, exp: float) -> int | None:
        left = float(exp) + self.skew - self.clock()
        return None if left <= 0 else max(1, math.ceil(left * 1000))

    def revoke(self, iss: str, jti: str, exp: float) -> None:
        ttl = self._ttl_ms(exp)
        if ttl is None:
            return
        try:
            self._redis._client.set(self._name(iss, jti), b"1", px=ttl)
        except RedisError as exc:
            self._redis._unavailable(exc)
            return
        self._redis._up()

    async def arevoke(self, iss: str, jti: str, exp: float) -> None:
        ttl = self._ttl_ms(exp)
        if ttl is None:
            return
        client = self._redis._aclient()
        if client is None:
            await asyncio.to_thread(self.revoke, iss, jti, exp)
            return
        try:
            await client.set(self._name(iss, jti), b"1", px=ttl)
        except RedisError as exc:
            self._redis._unavailable(exc)
            return
        self._redis._up()

    def is_revoked(self, iss: str, jti: str) -> bool:
        try:
            found = self._redis._client.exists(self._name(iss, jti))
        except RedisError as exc:
            self._redis._unavailable(exc)  # raises CacheUnavailable unless fail_open
            return False
        self._redis._up()
        return bool(found)

    async def ais_revoked(self, iss: str, jti: str) -> bool:
        client = self._redis._aclient()
        if client is None:
            return await asyncio.to_thread(self.is_revoked, iss, jti)
        try:
            found = await client.exists(self._name(iss, jti))
        except RedisError as exc:
            self._redis._unavailable(exc)
            return False
        self._redis._up()
        return bool(found)

    def close(self) -> None:
        self._redis.close()
