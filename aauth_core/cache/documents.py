"""The key-document cache: fetched metadata and JWKS documents by URL, a protocol and its
in-process default (a :class:`~aauth_core.cache.bounded.BoundedCache`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .bounded import BoundedCache

__all__ = ["CachedDocument", "KeyCache", "MemoryKeyCache"]


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
    """In-process, thread-safe, bounded store of fetched documents (oldest evicted first).

    Entries are not expired here: the caller decides between fresh, stale and
    gone from the document's own timestamps, so a stale copy stays available as a
    fallback while its issuer is down.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._docs: BoundedCache[str, CachedDocument] = BoundedCache(max_entries)

    def get(self, key: str) -> CachedDocument | None:
        return self._docs.get(key)

    def set(self, key: str, doc: CachedDocument) -> None:
        self._docs.put(key, doc)

    def delete(self, key: str) -> None:
        self._docs.pop(key)

    def __len__(self) -> int:
        return len(self._docs)
