"""Cache extension points: the replay cache and the key-document cache.

Both are ``typing.Protocol``s so a deployment can plug in a shared store (Redis,
memcached) without subclassing anything; the in-memory versions here are the
defaults for a single process.  Both are bounded: an attacker must not be able to
grow them without limit.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CachedDocument",
    "KeyCache",
    "MemoryKeyCache",
    "MemoryReplayCache",
    "ReplayCache",
]

logger = logging.getLogger("aauth.core")


@runtime_checkable
class ReplayCache(Protocol):
    """Remembers signatures (or nonces) until their validity window closes."""

    def add(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (unix seconds), atomically.

        True if ``key`` was new; False if it is already present and unexpired.
        """
        ...

    async def aadd(self, key: str, expires_at: float) -> bool:
        """Async twin of :meth:`add`."""
        ...


_evict_warned = False
_evict_warned_lock = threading.Lock()


def _warn_evicting_once() -> None:
    global _evict_warned
    with _evict_warned_lock:
        if _evict_warned:
            return
        _evict_warned = True
    logger.warning(
        "aauth replay cache is full of unexpired entries; evicting the oldest "
        "(raise replay_cache_size or use a shared cache)"
    )


class MemoryReplayCache:
    """In-process, thread-safe, bounded replay cache.

    Entries are filed under the whole second they expire in, rounded up so that
    none leaves early: expiry drops a second's entries together, and a request
    costs a dictionary write and an append rather than a heap push.  When the
    cache is full of unexpired entries, the entries closest to expiry (with equal
    windows: the oldest) are evicted, which re-opens a small replay window for
    them; that is logged once per process because it means the cache is undersized.

    Keys are strings or bytes (the verifier files signatures by their bytes).
    """

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str | bytes, int] = {}  # key -> the second it expires in
        self._by_second: dict[int, deque[str | bytes]] = {}  # in insertion order
        self._seconds: list[int] = []  # heap of _by_second's keys

    # Each key in _expiry stands in exactly one second's deque (it is added only when absent,
    # and leaves _expiry only with its deque entry), so dropping either drops both.

    def _drop_second(self) -> None:
        for key in self._by_second.pop(heapq.heappop(self._seconds)):
            del self._expiry[key]

    def _evict(self) -> None:
        _warn_evicting_once()
        while len(self._expiry) >= self._max and self._seconds:
            second = self._seconds[0]
            keys = self._by_second[second]
            while keys and len(self._expiry) >= self._max:
                del self._expiry[keys.popleft()]
            if not keys:
                heapq.heappop(self._seconds)
                del self._by_second[second]

    def add(self, key: str | bytes, expires_at: float) -> bool:
        now = self._clock()
        second = expires_at if type(expires_at) is int else math.ceil(expires_at)
        with self._lock:
            seconds = self._seconds
            while seconds and seconds[0] <= now:
                self._drop_second()
            if key in self._expiry:
                return False
            if len(self._expiry) >= self._max:
                self._evict()
            keys = self._by_second.get(second)
            if keys is None:
                keys = self._by_second[second] = deque()
                heapq.heappush(seconds, second)
            keys.append(key)
            self._expiry[key] = second
            return True

    async def aadd(self, key: str | bytes, expires_at: float) -> bool:
        return self.add(key, expires_at)

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """A fetched JSON document with its freshness window.

    Fresh until ``fresh_until``; usable as a fallback, when a refresh fails,
    until ``stale_until``.
    """

    value: Mapping[str, Any]
    fetched_at: float
    fresh_until: float
    stale_until: float


@runtime_checkable
class KeyCache(Protocol):
    """Stores fetched metadata / JWKS documents by URL."""

    def get(self, key: str) -> CachedDocument | None: ...

    def set(self, key: str, doc: CachedDocument) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryKeyCache:
    """In-process, thread-safe LRU of fetched documents.

    Entries are not expired here: the caller decides between fresh, stale and
    gone from the document's own timestamps, so a stale copy stays available as a
    fallback while its issuer is down.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._lock = threading.Lock()
        self._docs: OrderedDict[str, CachedDocument] = OrderedDict()

    def get(self, key: str) -> CachedDocument | None:
        with self._lock:
            doc = self._docs.get(key)
            if doc is not None:
                self._docs.move_to_end(key)
            return doc

    def set(self, key: str, doc: CachedDocument) -> None:
        with self._lock:
            self._docs[key] = doc
            self._docs.move_to_end(key)
            while len(self._docs) > self._max:
                self._docs.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._docs.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._docs)
