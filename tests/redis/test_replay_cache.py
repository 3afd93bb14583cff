"""``RedisReplayCache`` against a real redis-server: semantics, expiry, races, outages."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from aauth_core.cache import ReplayCache
from aauth_core.cache_redis import RedisReplayCache
from aauth_core.errors import CacheUnavailable

from .conftest import RedisServer, free_port

pytestmark = pytest.mark.redis


def fresh_key() -> str:
    return f"aauth:replay:{uuid.uuid4().hex}"


@pytest.fixture
def cache(redis_url: str) -> Iterator[RedisReplayCache]:
    c = RedisReplayCache(redis_url)
    yield c
    c.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_satisfies_the_protocol(cache: RedisReplayCache) -> None:
    assert isinstance(cache, ReplayCache)


def test_add_is_true_once_then_false(cache: RedisReplayCache) -> None:
    key, other = fresh_key(), fresh_key()
    assert cache.add(key, time.time() + 60) is True
    assert cache.add(key, time.time() + 60) is False
    assert cache.add(other, time.time() + 60) is True


def test_entry_carries_the_window_as_ttl_and_is_not_double_prefixed(
    cache: RedisReplayCache, raw: redis.Redis
) -> None:
    key = fresh_key()
    cache.add(key, time.time() + 30)
    assert raw.exists(key) == 1
    assert not raw.exists("aauth:replay:" + key)
    assert 29_000 <= raw.pttl(key) <= 30_000


def test_custom_prefix_namespaces_keys(redis_url: str, raw: redis.Redis) -> None:
    tenant = f"tenant-{uuid.uuid4().hex}:"
    cache = RedisReplayCache(redis_url, prefix=tenant)
    assert cache.add("aauth:replay:abc", time.time() + 30) is True
    assert raw.exists(tenant + "aauth:replay:abc") == 1
    cache.close()


def test_ttl_follows_the_injected_clock(redis_url: str, raw: redis.Redis) -> None:
    # A frozen clock far in the past: the window is still 20 s, not "already expired".
    cache = RedisReplayCache(redis_url, clock=lambda: 1_000.0)
    key = fresh_key()
    assert cache.add(key, 1_020.0) is True
    assert 19_000 <= raw.pttl(key) <= 20_000
    assert cache.add(key, 1_020.0) is False
    cache.close()


def test_entry_expires_with_a_real_short_ttl(cache: RedisReplayCache) -> None:
    key = fresh_key()
    assert cache.add(key, time.time() + 0.3) is True
    assert cache.add(key, time.time() + 0.3) is False
    time.sleep(0.5)
    assert cache.add(key, time.time() + 0.3) is True


def test_an_already_closed_window_still_answers(cache: RedisReplayCache) -> None:
    key = fresh_key()
    assert cache.add(key, time.time() - 5) is True  # stored for the minimum TTL, never an error


async def test_aadd_semantics_and_shared_with_add(cache: RedisReplayCache) -> None:
    key = fresh_key()
    assert await cache.aadd(key, time.time() + 60) is True
    assert await cache.aadd(key, time.time() + 60) is False
    assert cache.add(key, time.time() + 60) is False
    other = fresh_key()
    assert cache.add(other, time.time() + 60) is True
    assert await cache.aadd(other, time.time() + 60) is False


async def test_aadd_with_only_a_blocking_client_runs_in_a_thread(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache = RedisReplayCache(client)
    key = fresh_key()
    assert await cache.aadd(key, time.time() + 60) is True
    assert await cache.aadd(key, time.time() + 60) is False
    client.close()


def test_fifty_threads_racing_on_one_key_exactly_one_wins(redis_url: str) -> None:
    key = fresh_key()
    caches = [RedisReplayCache(redis_url) for _ in range(5)]  # several pools, like several workers
    barrier = threading.Barrier(50)
    results: list[bool] = []
    lock = threading.Lock()

    def race(i: int) -> None:
        barrier.wait(timeout=10)
        won = caches[i % 5].add(key, time.time() + 60)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert len(results) == 50
    assert results.count(True) == 1
    for c in caches:
        c.close()


async def test_fifty_coroutines_racing_on_one_key_exactly_one_wins(cache: RedisReplayCache) -> None:
    key = fresh_key()
    results = await asyncio.gather(*(cache.aadd(key, time.time() + 60) for _ in range(50)))
    assert results.count(True) == 1


# ----------------------------------------------------------------------------- outages


def test_unreachable_server_fails_closed() -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(CacheUnavailable) as info:
        cache.add(fresh_key(), time.time() + 60)
    assert info.value.code == "cache_unavailable"
    assert info.value.status_code == 503
    assert time.monotonic() - started < 3


async def test_unreachable_server_fails_closed_async() -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(CacheUnavailable) as info:
        await cache.aadd(fresh_key(), time.time() + 60)
    assert info.value.code == "cache_unavailable"


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never answers: every read times out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield int(sock.getsockname()[1])
    sock.close()


def test_a_server_that_never_answers_times_out_and_fails_closed(silent_listener: int) -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{silent_listener}/0", timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CacheUnavailable):
        cache.add(fresh_key(), time.time() + 60)
    assert time.monotonic() - started < 2


async def test_a_server_that_never_answers_times_out_async(silent_listener: int) -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{silent_listener}/0", timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CacheUnavailable):
        await cache.aadd(fresh_key(), time.time() + 60)
    assert time.monotonic() - started < 2


def test_fail_open_warns_again_after_a_recovery(own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisReplayCache(own_redis.url, fail_open=True)
    key = fresh_key()
    assert cache.add(key, time.time() + 60) is True
    assert cache.add(key, time.time() + 60) is False  # while up, replays are still caught
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        own_redis.stop()
        assert cache.add(key, time.time() + 60) is True  # accepted: the documented price of fail_open
        own_redis.start()
        assert cache.add(fresh_key(), time.time() + 60) is True
        own_redis.stop()
        assert cache.add(fresh_key(), time.time() + 60) is True
    messages = [r.getMessage() for r in caplog.records]
    assert sum("fail_open" in m for m in messages) == 2
    assert any("reachable again" in m for m in messages)


def test_stopped_server_fails_closed_and_recovers(own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisReplayCache(own_redis.url)
    key = fresh_key()
    assert cache.add(key, time.time() + 60) is True
    own_redis.stop()
    with caplog.at_level(logging.ERROR, logger="aauth.core"):
        for _ in range(3):
            with pytest.raises(CacheUnavailable):
                cache.add(fresh_key(), time.time() + 60)
    assert sum("fail closed" in r.getMessage() for r in caplog.records) == 1  # once per outage
    own_redis.start()  # same port, empty (nothing persisted)
    assert cache.add(fresh_key(), time.time() + 60) is True
    assert cache.ping() is True


async def test_stopped_server_fails_closed_async(own_redis: RedisServer) -> None:
    cache = RedisReplayCache(own_redis.url)
    assert await cache.aadd(fresh_key(), time.time() + 60) is True
    own_redis.stop()
    with pytest.raises(CacheUnavailable):
        await cache.aadd(fresh_key(), time.time() + 60)
    assert cache.ping() is False


def test_fail_open_accepts_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{free_port()}/0", fail_open=True)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        for _ in range(3):
            assert cache.add(fresh_key(), time.time() + 60) is True
    warnings = [r for r in caplog.records if "fail_open" in r.getMessage()]
    assert len(warnings) == 1  # once per outage
    assert warnings[0].levelno == logging.WARNING


async def test_fail_open_async() -> None:
    cache = RedisReplayCache(f"redis://127.0.0.1:{free_port()}/0", fail_open=True)
    assert await cache.aadd(fresh_key(), time.time() + 60) is True
