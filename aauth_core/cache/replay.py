"""The replay cache: a protocol, and the in-process default that never forgets an entry early.

A protocol so a deployment can plug in a shared store (Redis: :mod:`aauth_core.cache.redis`)
without subclassing.  A full replay cache refuses new requests (503) rather than forget an
entry early, which would make its request replayable.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NoReturn, Protocol, runtime_checkable

from ..errors import CacheUnavailable

__all__ = ["MemoryReplayCache", "ReplayCache"]

logger = logging.getLogger("aauth.core")


@runtime_checkable
class ReplayCache(Protocol):
    """Remembers signatures (or nonces) until their validity window closes."""

    def add(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (unix seconds), atomically.

        True if ``key`` was new; False if it is already present and unexpired.  A key
        must never be forgotten before ``expires_at``: a store that cannot record it
        raises :class:`~aauth_core.errors.CacheUnavailable` instead (fail closed).
        """
        ...

    async def aadd(self, key: str, expires_at: float) -> bool:
        """Async twin of :meth:`add`."""
        ...


#: While it keeps refusing, a full replay cache logs at most once per this many seconds.
_FULL_WARNING_INTERVAL = 60.0


class MemoryReplayCache:
    """In-process, thread-safe, bounded replay cache that never forgets an entry early.

    Entries are filed under the whole second they expire in, rounded up so that
    none leaves early: expiry drops a second's entries together, and a request
    costs a dictionary write and an append rather than a heap push.

    No entry is ever dropped before it expires, to make room or otherwise: anyone can
    sign requests with fresh ``hwk`` keys for free, and an evicted entry is a request
    that can be replayed.  When ``max_entries`` unexpired entries are held, :meth:`add`
    refuses every new key with :class:`~aauth_core.errors.CacheUnavailable` (503
    ``cache_unavailable``) carrying ``Retry-After``: the seconds until the oldest entry
    expires (at least 1).  A key it holds is still reported as seen.  The refusals are
    logged at WARNING on ``aauth.core`` at most once a minute, with counts only.  Size
    it for the peak rate of signed requests times the longest time an entry is kept
    (with the verifier: ``created_max_age + created_max_future + 1`` seconds).

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
        self._refused = 0  # refusals since the last warning
        self._warn_after = -math.inf

    # Each key in _expiry stands in exactly one second's deque (it is added only when absent,
    # and leaves _expiry only with its deque entry), so dropping either drops both.

    def _drop_second(self) -> None:
        for key in self._by_second.pop(heapq.heappop(self._seconds)):
            del self._expiry[key]

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
                retry_after, warn = self._refusal(now)
            else:
                keys = self._by_second.get(second)
                if keys is None:
                    keys = self._by_second[second] = deque()
                    heapq.heappush(seconds, second)
                keys.append(key)
                self._expiry[key] = second
                return True
        self._refuse(retry_after, warn)

    def _refusal(self, now: float) -> tuple[int, int]:
        """Under the lock, full: seconds until the oldest entry expires, and how many
        refusals to report now (0: a warning went out less than a minute ago)."""
        retry_after = max(1, math.ceil(self._seconds[0] - now))
        self._refused += 1
        if now < self._warn_after:
            return retry_after, 0
        refused, self._refused = self._refused, 0
        self._warn_after = now + _FULL_WARNING_INTERVAL
        return retry_after, refused

    def _refuse(self, retry_after: int, warn: int) -> NoReturn:
        if warn:
            logger.warning(
                "aauth replay cache is full (%d unexpired entries): refused %d signed request(s) with 503 "
                "cache_unavailable, the oldest entry expires in %d s; raise replay_cache_size to the peak "
                "requests per second times (created_max_age + created_max_future + 1), or use a shared "
                "cache_url", self._max, warn, retry_after,
            )
        raise CacheUnavailable("the replay cache is full; try again later",
                               extra_headers={"Retry-After": str(retry_after)})

    async def aadd(self, key: str | bytes, expires_at: float) -> bool:
        return self.add(key, expires_at)

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)
