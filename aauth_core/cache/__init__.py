"""The engine's caches: the replay cache and the key-document cache (protocols and in-process
defaults), the one bounded-cache helper every memo uses, and the Redis backends
(:mod:`aauth_core.cache.redis`, imported only when a ``redis://`` URL is configured).
docs/architecture.md maps every cache: what it holds, keyed by what, bounded how,
invalidated when."""

from .bounded import BoundedCache, memoize
from .documents import CachedDocument, KeyCache, MemoryKeyCache
from .replay import MemoryReplayCache, ReplayCache

__all__ = [
    "BoundedCache",
    "CachedDocument",
    "KeyCache",
    "MemoryKeyCache",
    "MemoryReplayCache",
    "ReplayCache",
    "memoize",
]
