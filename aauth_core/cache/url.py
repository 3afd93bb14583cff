"""``cache_url`` → the replay cache and key cache a service uses.

``memory://`` (the default) keeps both in process memory: right for one worker.
``redis://host:6379/0``, ``rediss://...`` (TLS) or ``unix:///path/redis.sock``
shares them through Redis between every worker and host.  Query options belong to
the ``redis`` client (``socket_timeout=1.0``, ``password=...``), except one of ours:
``fail_open=true`` lets requests through when Redis is down (see
:mod:`aauth_core.cache.redis`; the default is to refuse them with 503
``cache_unavailable``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .documents import KeyCache, MemoryKeyCache
from .replay import MemoryReplayCache, ReplayCache

__all__ = ["MEMORY_URL", "REDIS_SCHEMES", "cache_from_url", "check_cache_url", "revocation_store_from_url"]

MEMORY_URL = "memory://"
REDIS_SCHEMES = ("redis", "rediss", "unix")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _split(url: str) -> tuple[str, bool]:
    """Validate ``url``; return it without our own options, and ``fail_open``."""
    if not isinstance(url, str):
        raise ValueError("cache_url must be a string")
    if url == MEMORY_URL:
        return url, False
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ValueError(f"cache_url must be {MEMORY_URL!r} or a redis://, rediss:// or unix:// URL")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError("a redis cache_url needs a host")
    if parts.scheme == "unix" and not parts.path:
        raise ValueError("a unix:// cache_url needs a socket path")
    fail_open = False
    kept: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "fail_open":
            if value.lower() not in _TRUE + _FALSE:
                raise ValueError("cache_url fail_open must be true or false")
            fail_open = value.lower() in _TRUE
        else:
            kept.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), fail_open


def check_cache_url(url: str) -> None:
    """Raise ``ValueError`` unless ``url`` is a usable ``cache_url`` (no connection is made)."""
    _split(url)


def cache_from_url(
    url: str,
    *,
    replay_cache_size: int = 100_000,
    key_cache_size: int = 10_000,
    clock: Callable[[], float] = time.time,
) -> tuple[ReplayCache, KeyCache]:
    """The ``(replay cache, key cache)`` pair for ``url``.

    Redis clients connect lazily: an unreachable server shows up per request (the
    replay cache fails closed, the key cache degrades), not here.
    """
    plain, fail_open = _split(url)
    if plain == MEMORY_URL:
        return MemoryReplayCache(max_entries=replay_cache_size, clock=clock), MemoryKeyCache(key_cache_size)
    from .redis import RedisKeyCache, RedisReplayCache, TwoLevelKeyCache

    replay = RedisReplayCache(plain, fail_open=fail_open, clock=clock)
    keys = TwoLevelKeyCache(RedisKeyCache(plain, clock=clock), MemoryKeyCache(min(key_cache_size, 1_000)),
                            clock=clock)
    return replay, keys


def revocation_store_from_url(url: str, *, clock: Callable[[], float] = time.time) -> Any:
    """aauth-11's revocation list for ``url``: in the process for ``memory://``, else shared
    through Redis with the replay cache's failure rule (``?fail_open=true`` opts out of
    failing closed).  A :class:`~aauth_core.resource.revocation.RevocationStore`."""
    plain, fail_open = _split(url)
    if plain == MEMORY_URL:
        from ..resource.revocation import RevocationList

        return RevocationList(clock=clock)
    from .redis_revocation import RedisRevocationList

    return RedisRevocationList(plain, fail_open=fail_open, clock=clock)
