"""Replay cache and key-document cache: atomic, bounded, thread-safe."""

from __future__ import annotations

import logging
import threading

import pytest

from aauth_core.cache import (
    CachedDocument,
    KeyCache,
    MemoryKeyCache,
    MemoryReplayCache,
    ReplayCache,
)
from aauth_core.errors import CacheUnavailable


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def doc(n: int) -> CachedDocument:
    return CachedDocument({"n": n}, fetched_at=0.0, fresh_until=1.0, stale_until=2.0)


# ---------------------------------------------------------------- ReplayCache


def test_memory_replay_cache_satisfies_protocol() -> None:
    assert isinstance(MemoryReplayCache(), ReplayCache)


def test_add_reports_new_then_duplicate() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(clock=clock)
    assert c.add("sig-a", clock.now + 60) is True
    assert c.add("sig-a", clock.now + 60) is False
    assert c.add("sig-b", clock.now + 60) is True
    assert len(c) == 2


def test_entry_is_forgotten_once_expired() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(clock=clock)
    assert c.add("k", clock.now + 60)
    clock.advance(59)
    assert not c.add("k", clock.now + 60)
    clock.advance(1)  # exactly at expires_at: expired
    assert c.add("k", clock.now + 60)
    assert not c.add("k", clock.now + 60)


def test_expired_entries_are_purged_lazily() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(clock=clock)
    for i in range(100):
        c.add(f"k{i}", clock.now + 10)
    clock.advance(11)
    c.add("fresh", clock.now + 10)
    assert len(c) == 1


def test_full_cache_refuses_without_evicting_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    c = MemoryReplayCache(max_entries=3, clock=clock)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        for i in range(3):
            clock.advance(1)
            assert c.add(f"secret-key-{i}", clock.now + 60)
        for i in (3, 4):  # full of unexpired entries: refused, nothing evicted, one warning
            with pytest.raises(CacheUnavailable) as err:
                c.add(f"secret-key-{i}", clock.now + 60)
            assert err.value.status_code == 503 and err.value.code == "cache_unavailable"
            assert err.value.headers["Retry-After"] == "58"  # secret-key-0 expires in 58 s
    assert len(c) == 3
    assert not c.add("secret-key-0", clock.now + 60)  # still remembered
    warnings = [r for r in caplog.records if r.name == "aauth.core"]
    assert len(warnings) == 1
    assert "secret-key" not in caplog.text


def test_full_cache_warns_again_after_a_minute_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    c = MemoryReplayCache(max_entries=1, clock=clock)
    c.add("k", clock.now + 3600)
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        for _ in range(5):
            with pytest.raises(CacheUnavailable):
                c.add("other", clock.now + 60)
            clock.advance(20)  # the 4th refusal comes 60 s after the 1st
    warnings = [r.getMessage() for r in caplog.records if r.name == "aauth.core"]
    assert len(warnings) == 2
    assert "refused 1 " in warnings[0] and "refused 3 " in warnings[1]


def test_add_is_atomic_across_threads() -> None:
    c = MemoryReplayCache()
    results: list[bool] = []
    barrier = threading.Barrier(32)

    def worker() -> None:
        barrier.wait()
        results.append(c.add("same", 2e9))

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert results.count(False) == 31


async def test_aadd_shares_state_with_add() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(clock=clock)
    assert await c.aadd("k", clock.now + 5)
    assert not c.add("k", clock.now + 5)
    assert not await c.aadd("k", clock.now + 5)


def test_invalid_size_rejected() -> None:
    with pytest.raises(ValueError):
        MemoryReplayCache(max_entries=0)
    with pytest.raises(ValueError):
        MemoryKeyCache(max_entries=0)


# ---------------------------------------------------------------- KeyCache


def test_memory_key_cache_satisfies_protocol() -> None:
    assert isinstance(MemoryKeyCache(), KeyCache)


def test_key_cache_get_set_delete() -> None:
    c = MemoryKeyCache()
    assert c.get("u") is None
    c.set("u", doc(1))
    got = c.get("u")
    assert got is not None and got.value == {"n": 1}
    c.set("u", doc(2))
    assert c.get("u") == doc(2)
    c.delete("u")
    c.delete("u")  # deleting a missing key is fine
    assert c.get("u") is None


def test_key_cache_is_bounded_oldest_first() -> None:
    """The engine's one eviction policy (aauth_core.cache.bounded): a hit does not reorder."""
    c = MemoryKeyCache(max_entries=2)
    c.set("a", doc(1))
    c.set("b", doc(2))
    assert c.get("a") is not None
    c.set("c", doc(3))  # evicts a, the oldest
    assert c.get("a") is None
    assert c.get("b") is not None and c.get("c") is not None
    c.set("b", doc(4))  # replacing a key keeps the size
    assert len(c) == 2


def test_cached_document_is_frozen() -> None:
    d = doc(1)
    with pytest.raises(AttributeError):
        d.fetched_at = 5.0  # type: ignore[misc]


def test_an_entry_never_leaves_before_its_expiry_even_mid_second() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(clock=clock)
    assert c.add(b"sig-bytes", clock.now + 10.25)  # filed under the whole second it falls in, rounded up
    clock.advance(10.2)
    assert not c.add(b"sig-bytes", clock.now + 10)
    clock.advance(1)  # past the rounded-up second: gone
    assert c.add(b"sig-bytes", clock.now + 10)


def test_a_key_refused_while_full_is_remembered_once_room_appears() -> None:
    clock = FakeClock()
    c = MemoryReplayCache(max_entries=2, clock=clock)
    assert c.add("k", clock.now + 5)
    assert c.add("x", clock.now + 6)
    with pytest.raises(CacheUnavailable) as err:
        c.add("y", clock.now + 7)  # full: "k" is not evicted
    assert err.value.headers["Retry-After"] == "5"
    assert not c.add("k", clock.now + 60)
    clock.advance(5)  # "k" expires: purged, which makes room
    assert c.add("y", clock.now + 60)
    clock.advance(1.5)  # "x" expires too; "y" is kept under its own second
    assert not c.add("y", clock.now + 60)


def test_bounded_cache_and_memoize() -> None:
    from aauth_core.cache import BoundedCache, memoize

    cache: BoundedCache[str, int] = BoundedCache(3)
    for i, key in enumerate("abcd"):
        cache.put(key, i)
    assert len(cache) == 3 and "a" not in cache and cache.get("d") == 3
    assert cache.pop("d") == 3 and cache.pop("d") is None
    with pytest.raises(ValueError):
        BoundedCache(0)
    calls: list[str] = []

    @memoize(2)
    def parse(text: str) -> int:
        calls.append(text)
        return len(text)

    assert [parse("x"), parse("x"), parse("yy"), parse("zzz"), parse("x")] == [1, 1, 2, 3, 1]
    assert calls == ["x", "yy", "zzz", "x"] and len(parse.cache) == 2  # type: ignore[attr-defined]
