"""The Redis replay cache never lets Redis forget an entry early without saying so.

An entry's TTL is the rest of its window (tests/redis/test_replay_cache.py); the only
other way Redis drops a key is eviction under ``maxmemory``.  With ``noeviction`` a
full Redis refuses the write and the cache fails closed; any other policy is reported.
"""

from __future__ import annotations

import logging
import time

import pytest
import redis

from aauth_core.cache_redis import RedisReplayCache
from aauth_core.errors import CacheUnavailable

from .conftest import RedisServer

pytestmark = pytest.mark.redis


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aauth.core" and r.levelno == logging.WARNING]


def _configure(server: RedisServer, **config: str) -> None:
    raw = redis.Redis.from_url(server.url)
    for name, value in config.items():
        raw.config_set(name.replace("_", "-"), value)
    raw.close()


def test_an_evicting_redis_is_reported_once(own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    _configure(own_redis, maxmemory="100mb", maxmemory_policy="volatile-lru")
    cache = RedisReplayCache(own_redis.url)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert cache.add("a", time.time() + 30)
        assert cache.add("b", time.time() + 30)
    (warning,) = _warnings(caplog)
    assert "volatile-lru" in warning and "noeviction" in warning
    cache.close()


async def test_an_evicting_redis_is_reported_by_the_async_path(own_redis: RedisServer,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    _configure(own_redis, maxmemory="100mb", maxmemory_policy="allkeys-lru")
    cache = RedisReplayCache(own_redis.url)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert await cache.aadd("a", time.time() + 30)
        assert await cache.aadd("b", time.time() + 30)
    (warning,) = _warnings(caplog)
    assert "allkeys-lru" in warning


def test_a_redis_without_a_memory_limit_or_with_noeviction_is_not_reported(
        own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisReplayCache(own_redis.url)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert cache.add("a", time.time() + 30)  # the default: maxmemory 0
    _configure(own_redis, maxmemory="100mb", maxmemory_policy="noeviction")
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert RedisReplayCache(own_redis.url).add("b", time.time() + 30)
    assert _warnings(caplog) == []
    cache.close()


def test_a_full_noeviction_redis_fails_closed_and_keeps_what_it_holds(own_redis: RedisServer) -> None:
    cache = RedisReplayCache(own_redis.url)
    assert cache.add("captured", time.time() + 30)
    _configure(own_redis, maxmemory="1", maxmemory_policy="noeviction")  # already over the limit
    with pytest.raises(CacheUnavailable) as err:
        cache.add("flood", time.time() + 30)
    assert err.value.status_code == 503
    with pytest.raises(CacheUnavailable):  # every write is refused while full: never accepted
        cache.add("captured", time.time() + 30)
    _configure(own_redis, maxmemory="0")
    assert cache.add("captured", time.time() + 30) is False  # still held: nothing was evicted
    cache.close()
