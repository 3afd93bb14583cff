"""How often discovery may fetch: a per-host budget for failing fetches, and the
minimum interval between forced refreshes of one document (unknown ``kid``s).

Both tables are rate-limit state, not caches: an entry is a penalty, and forgetting
it early would forgive a host, so each keeps its own bound and pruning rule
instead of the bounded cache's oldest-first eviction.
"""

from __future__ import annotations

import threading

__all__ = ["HostBudget", "RefreshLimit"]


class HostBudget:
    """Fetches per host, as a token bucket of ``size`` that refills over ``window`` seconds.

    A fetch takes a token and a good document gives it back, so only failed fetches
    (and ones still in flight) spend the budget: a flood of distinct URLs on a host
    that answers 404 costs ``size`` fetches, then ``size`` a window, while a host
    serving many good documents (many agents on one platform) is never limited.
    Keyed by host, not origin, so other ports do not buy more.  Memory is bounded:
    full buckets are dropped when the table fills, then the oldest quarter.
    """

    def __init__(self, size: int, window: float = 60.0, max_hosts: int = 4096) -> None:
        self._size, self._rate, self._max = float(size), size / window, max_hosts
        self._lock = threading.Lock()
        self._hosts: dict[str, list[float]] = {}  # host -> [tokens, as of]

    def __len__(self) -> int:
        return len(self._hosts)

    def _tokens(self, entry: list[float], now: float) -> float:
        return min(self._size, entry[0] + max(0.0, now - entry[1]) * self._rate)

    def take(self, host: str, now: float) -> bool:
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None:
                if len(self._hosts) >= self._max:
                    self._prune(now)
                self._hosts[host] = [self._size - 1, now]
                return True
            tokens = self._tokens(entry, now)
            allowed = tokens >= 1
            entry[0], entry[1] = tokens - 1 if allowed else tokens, now
            return allowed

    def give_back(self, host: str, now: float) -> None:
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None:
                return
            tokens = self._tokens(entry, now) + 1
            if tokens >= self._size:
                del self._hosts[host]
            else:
                entry[0], entry[1] = tokens, now

    def _prune(self, now: float) -> None:
        for host in [h for h, e in self._hosts.items() if self._tokens(e, now) >= self._size]:
            del self._hosts[host]
        if len(self._hosts) >= self._max:
            for host in list(self._hosts)[: max(1, self._max // 4)]:
                del self._hosts[host]


class RefreshLimit:
    """At most one forced refresh of a document per ``interval`` seconds.

    When the table reaches ``max_keys`` it drops the entries whose interval has
    passed (they no longer limit anything).
    """

    def __init__(self, interval: float, max_keys: int = 4096) -> None:
        self._interval, self._max = interval, max_keys
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def claim(self, key: str, now: float) -> bool:
        """Record and allow a forced refresh of ``key``, unless one happened within the interval."""
        interval = self._interval
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < interval:
                return False
            if len(self._last) >= self._max:  # keep the table bounded
                self._last = {k: t for k, t in self._last.items() if now - t < interval}
            self._last[key] = now
            return True
