"""The one bounded cache: a mapping with a capacity that drops its oldest entry when full.

Every in-process memo of the engine is one of these (docs/architecture.md has the
map): one eviction policy, oldest first, so an attacker who floods a cache with
distinct keys costs us its capacity and no more.  Hits do not reorder entries: a
lookup is one dictionary ``get``, which the warm verification path relies on.
Entries that go stale are the caller's business (store the deadline or a version
with the value and compare on read); nothing here runs a clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["BoundedCache", "memoize"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
A = TypeVar("A", bound=Hashable)


class BoundedCache(Generic[K, V]):
    """At most ``maxsize`` entries; a new key in a full cache evicts the oldest one.

    ``get`` is the underlying dictionary's own method (no Python frame per lookup).
    Writes take a lock, so threads never see the size exceed ``maxsize``.
    """

    __slots__ = ("_data", "_lock", "get", "maxsize")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.get: Callable[[K], V | None] = self._data.get

    def put(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` (evicting the oldest entry if full); returns ``value``."""
        with self._lock:
            data = self._data
            if key not in data and len(data) >= self.maxsize:
                data.popitem(last=False)
            data[key] = value
        return value

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


def memoize(maxsize: int) -> Callable[[Callable[[A], V]], Callable[[A], V]]:
    """Memoise a pure function of one hashable argument in a :class:`BoundedCache`.

    For parsers of header text: the same few header values recur on every request.
    The wrapped function keeps its cache as ``.cache`` (tests and the cache map use it).
    """

    def decorate(function: Callable[[A], V]) -> Callable[[A], V]:
        cache: BoundedCache[A, V] = BoundedCache(maxsize)
        get, put = cache.get, cache.put
        missing = object()

        def memoised(argument: A) -> V:
            hit = get(argument, missing)  # type: ignore[call-arg]
            if hit is not missing:
                return hit  # type: ignore[return-value]
            return put(argument, function(argument))

        memoised.cache = cache  # type: ignore[attr-defined]
        memoised.__wrapped__ = function  # type: ignore[attr-defined]
        memoised.__doc__ = function.__doc__
        memoised.__name__ = getattr(function, "__name__", "memoised")
        memoised.__qualname__ = getattr(function, "__qualname__", "memoised")
        return memoised

    return decorate
