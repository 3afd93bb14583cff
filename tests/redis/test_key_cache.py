"""``RedisKeyCache`` and ``TwoLevelKeyCache`` against a real redis-server."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from aauth_core.cache import CachedDocument, KeyCache, MemoryKeyCache
from aauth_core.cache_redis import RedisKeyCache, TwoLevelKeyCache
from aauth_core.errors import CacheUnavailable

from .conftest import RedisServer, free_port

pytestmark = pytest.mark.redis

JWKS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                  "kid": "key-1"}]}


def doc(now: float, *, fresh: float = 300, stale: float = 3600, value: dict[str, object] | None = None
        ) -> CachedDocument:
    return CachedDocument(value if value is not None else JWKS, now, now + fresh, now + stale)


def url() -> str:
    return f"https://{uuid.uuid4().hex}.example/jwks.json"


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class Clock:
    def __init__(self, now: float = 1_768_786_273.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_redis_key_cache_satisfies_the_protocol(redis_url: str) -> None:
    assert isinstance(RedisKeyCache(redis_url), KeyCache)
    assert isinstance(TwoLevelKeyCache(RedisKeyCache(redis_url)), KeyCache)


def test_round_trip_keeps_value_and_times(redis_url: str, raw: redis.Redis) -> None:
    clock = Clock()
    cache = RedisKeyCache(redis_url, clock=clock)
    key, original = url(), doc(clock.now)
    cache.set(key, original)
    assert cache.get(key) == original
    assert 3_599_000 <= raw.pttl("aauth:keys:" + key) <= 3_600_000  # TTL = stale_until - now
    cache.delete(key)
    assert cache.get(key) is None
    assert cache.get(url()) is None


def test_an_already_stale_document_is_not_stored(redis_url: str) -> None:
    clock = Clock()
    cache = RedisKeyCache(redis_url, clock=clock)
    key = url()
    cache.set(key, doc(clock.now))
    cache.set(key, doc(clock.now - 7200))  # stale_until in the past: removes the entry
    assert cache.get(key) is None


def test_real_expiry(redis_url: str) -> None:
    cache = RedisKeyCache(redis_url)
    key = url()
    cache.set(key, doc(time.time(), fresh=0.1, stale=0.3))
    assert cache.get(key) is not None
    time.sleep(0.5)
    assert cache.get(key) is None


@pytest.mark.parametrize("junk", [b"not json", b"[]", b'{"value": 1, "fetched_at": 1, "fresh_until": 2, '
                                  b'"stale_until": 3}', b'{"value": {}, "fetched_at": "x", "fresh_until": 2, '
                                  b'"stale_until": 3}', b'{"value": {}}'])
def test_a_corrupt_entry_reads_as_a_miss(redis_url: str, raw: redis.Redis, junk: bytes) -> None:
    cache = RedisKeyCache(redis_url)
    key = url()
    raw.set("aauth:keys:" + key, junk, ex=60)
    assert cache.get(key) is None


def test_redis_key_cache_alone_raises_cache_unavailable() -> None:
    cache = RedisKeyCache(f"redis://127.0.0.1:{free_port()}/0")
    calls: list[Callable[[], object]] = [
        lambda: cache.get("k"), lambda: cache.set("k", doc(time.time())), lambda: cache.delete("k"),
    ]
    for call in calls:
        with pytest.raises(CacheUnavailable) as info:
            call()
        assert info.value.code == "cache_unavailable"


def test_warm_lookup_is_served_locally(redis_url: str, raw: redis.Redis) -> None:
    clock = Clock()
    cache = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    key, d = url(), doc(clock.now)
    cache.set(key, d)
    raw.delete("aauth:keys:" + key)  # if a warm lookup went to Redis it would now miss
    assert cache.get(key) == d


def test_a_second_worker_gets_the_document_from_redis(redis_url: str) -> None:
    clock = Clock()
    worker_a = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    worker_b = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    key, d = url(), doc(clock.now)
    worker_a.set(key, d)
    assert worker_b.get(key) == d
    assert worker_b.local.get(key) == d  # now cached locally as well


def test_a_stale_local_copy_adopts_a_newer_shared_one(redis_url: str) -> None:
    clock = Clock()
    worker_a = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    worker_b = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    key = url()
    worker_a.set(key, doc(clock.now))
    assert worker_b.get(key) is not None
    clock.now += 400  # past fresh_until; worker A refreshes
    newer = doc(clock.now, value={"keys": []})
    worker_a.set(key, newer)
    assert worker_b.get(key) == newer


def test_delete_removes_both_levels(redis_url: str) -> None:
    clock = Clock()
    cache = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    other = TwoLevelKeyCache(RedisKeyCache(redis_url, clock=clock), clock=clock)
    key = url()
    cache.set(key, doc(clock.now))
    cache.delete(key)
    assert cache.get(key) is None
    assert other.get(key) is None


def test_degrades_to_the_local_level_when_redis_goes_away(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    ticks = [0.0]
    cache = TwoLevelKeyCache(RedisKeyCache(own_redis.url, clock=clock), MemoryKeyCache(), clock=clock,
                             retry_after=5.0, monotonic=lambda: ticks[0])
    key, d = url(), doc(clock.now)
    cache.set(key, d)
    own_redis.stop()
    clock.now += 400  # local copy no longer fresh: the shared level would be asked
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert cache.get(key) == d  # stale local copy, for discovery to fall back on
        assert cache.get(url()) is None  # a miss, not an error
        cache.set(key, doc(clock.now))  # writes keep working locally
        assert cache.get(key) == doc(clock.now)
        cache.delete(key)
    assert cache.degraded
    warnings = [r for r in caplog.records if "shared cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # logged once per outage

    own_redis.start()
    ticks[0] += 6  # past retry_after: the shared level is tried again
    again = url()
    cache.set(again, doc(clock.now))
    assert not cache.degraded
    fresh_worker = TwoLevelKeyCache(RedisKeyCache(own_redis.url, clock=clock), clock=clock)
    assert fresh_worker.get(again) == doc(clock.now)


def test_skips_redis_while_degraded(own_redis: RedisServer) -> None:
    """Inside retry_after the shared level is not asked at all, so no request pays a timeout."""
    clock = Clock()
    ticks = [0.0]
    cache = TwoLevelKeyCache(RedisKeyCache(own_redis.url, clock=clock), clock=clock, retry_after=5.0,
                             monotonic=lambda: ticks[0])
    own_redis.stop()
    assert cache.get(url()) is None
    assert cache.degraded
    own_redis.start()
    shared = RedisKeyCache(own_redis.url, clock=clock)
    key = url()
    shared.set(key, doc(clock.now))
    assert cache.get(key) is None  # still skipping Redis
    ticks[0] += 5
    assert cache.get(key) == doc(clock.now)
