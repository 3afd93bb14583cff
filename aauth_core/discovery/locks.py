"""Single flight: per-URL locks, so concurrent cold lookups of one document cost one fetch."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

__all__ = ["LockTable"]


class LockTable:
    """Per-key locks that disappear when nobody holds or waits for them (bounded memory)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._sync: dict[str, tuple[threading.Lock, list[int]]] = {}
        self._async: dict[tuple[int, str], tuple[asyncio.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._sync.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._sync[key]

    @asynccontextmanager
    async def ahold(self, key: str) -> AsyncIterator[None]:
        slot = (id(asyncio.get_running_loop()), key)  # asyncio locks belong to one loop
        with self._guard:
            lock, users = self._async.setdefault(slot, (asyncio.Lock(), [0]))
            users[0] += 1
        try:
            async with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._async[slot]
