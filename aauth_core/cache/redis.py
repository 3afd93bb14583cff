"""Redis backends for the replay cache and the key-document cache.

Several workers (uvicorn/gunicorn processes, several hosts) must share one replay
cache, or a signature accepted by worker A can be replayed against worker B inside
its ``created`` window.  :class:`RedisReplayCache` is that shared store: one atomic
``SET key 1 NX PX <ttl>`` per verified request.

The two caches fail differently, on purpose:

* **Replay cache: fail closed.**  When Redis cannot be reached (refused, timed out,
  any Redis error) :meth:`RedisReplayCache.add` raises
  :class:`~aauth_core.errors.CacheUnavailable` (``cache_unavailable``, HTTP 503):
  without the shared store a replay cannot be ruled out, so the request is not
  accepted.  ``fail_open=True`` (``?fail_open=true`` in ``cache_url``) is the
  explicit opt-out: requests are then accepted, with a warning on ``aauth.core``
  (once per outage, so an outage cannot flood the log), and replays are possible
  while Redis is down.
* **Key cache: degrade.**  Metadata and JWKS documents are public data that any
  worker can fetch again, so availability wins: :class:`TwoLevelKeyCache` keeps an
  in-process LRU in front of :class:`RedisKeyCache`, serves warm lookups without a
  round trip, and on a Redis error carries on with the local level alone (logging
  once per outage, retrying Redis after ``retry_after`` seconds).

**Nothing leaves early.**  Each entry's TTL is exactly the rest of its signature's
window, so Redis forgets it only once a replay would be refused as stale anyway.
Redis itself can drop keys earlier only by eviction: when ``maxmemory`` is set and a
``maxmemory-policy`` other than ``noeviction`` is configured (``volatile-*`` policies
pick exactly keys with a TTL, like these).  Use ``noeviction`` (Redis's default) for
the replay database: a full Redis then refuses the ``SET``, and the cache fails closed
like any other Redis error.  The first successful write reads the server's
``maxmemory`` settings and logs a warning on ``aauth.core`` if eviction is possible
(servers that disable ``CONFIG`` are not checked).

The TTL is computed from the injected clock (``expires_at - clock()``) rather than
sent as an absolute ``PXAT``: the window then follows the same clock that checked
``created``, and a Redis host whose clock is ahead cannot silently expire entries
early.  Socket timeouts are short (0.5 s connect and read by default) so an
unreachable Redis costs a request at most about a second (one immediate retry for a
pooled connection that went stale).  ``redis`` is an optional dependency (the
``redis`` extra); only this module imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ..errors import CacheUnavailable
from .documents import CachedDocument, KeyCache, MemoryKeyCache

__all__ = [
    "DEFAULT_TIMEOUT",
    "RedisKeyCache",
    "RedisReplayCache",
    "TwoLevelKeyCache",
    "redis_client",
    "async_redis_client",
]

logger = logging.getLogger("aauth.core")

DEFAULT_TIMEOUT = 0.5
"""Seconds for both connecting to and reading from Redis."""


def redis_client(url: str, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float | None = None) -> redis.Redis:
    """A blocking client with short timeouts and one immediate retry.

    Options given in the URL's query (``socket_timeout=...``) take precedence.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout if connect_timeout is None else connect_timeout,
        retry=Retry(NoBackoff(), 1),
    )


def async_redis_client(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float | None = None
) -> aredis.Redis:
    """The ``redis.asyncio`` twin of :func:`redis_client`."""
    return aredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout if connect_timeout is None else connect_timeout,
        retry=AsyncRetry(NoBackoff(), 1),
    )


def _ttl_ms(until: float, now: float) -> int:
    return max(1, math.ceil((until - now) * 1000))


class RedisReplayCache:
    """A :class:`~aauth_core.cache.ReplayCache` shared by every worker through Redis.

    ``url_or_client`` is a ``redis://`` / ``rediss://`` / ``unix://`` URL or a ready
    ``redis.Redis``.  :meth:`aadd` uses a ``redis.asyncio`` client (``async_client``,
    or one made lazily from the URL, one per event loop); given only a blocking
    client, it runs that in a worker thread, so the event loop never blocks.
    Keys are ``prefix + key`` (a key that already starts with ``prefix``, as the
    verifier's do, is not prefixed twice).
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        prefix: str = "aauth:replay:",
        fail_open: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        async_client: aredis.Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefix = prefix
        self.fail_open = fail_open
        self._clock = clock
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        if isinstance(url_or_client, str):
            self._url: str | None = url_or_client
            self._client = redis_client(url_or_client, timeout=timeout, connect_timeout=connect_timeout)
        else:
            self._url = None
            self._client = url_or_client
        self._async_client = async_client
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._down = False
        self._policy_checked = False

    def _name(self, key: str) -> str:
        return key if key.startswith(self.prefix) else self.prefix + key

    def add(self, key: str, expires_at: float) -> bool:
        try:
            stored = self._client.set(self._name(key), b"1", nx=True, px=_ttl_ms(expires_at, self._clock()))
        except RedisError as exc:
            return self._unavailable(exc)
        self._up()
        if not self._policy_checked:
            self._check_eviction_policy()
        return bool(stored)

    async def aadd(self, key: str, expires_at: float) -> bool:
        client = self._aclient()
        if client is None:
            return await asyncio.to_thread(self.add, key, expires_at)
        try:
            stored = await client.set(self._name(key), b"1", nx=True, px=_ttl_ms(expires_at, self._clock()))
        except RedisError as exc:
            return self._unavailable(exc)
        self._up()
        if not self._policy_checked:
            self._policy_checked = True
            with contextlib.suppress(RedisError):  # CONFIG is often disabled on managed Redis
                _warn_if_evicting(await client.config_get("maxmemory*"))
        return bool(stored)

    def _aclient(self) -> aredis.Redis | None:
        if self._async_client is not None:
            return self._async_client
        if self._url is None:
            return None
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = async_redis_client(self._url, timeout=self._timeout, connect_timeout=self._connect_timeout)
                self._async_clients[loop] = client
            return client

    def _check_eviction_policy(self) -> None:
        self._policy_checked = True
        with contextlib.suppress(RedisError):  # CONFIG is often disabled on managed Redis
            _warn_if_evicting(self._client.config_get("maxmemory*"))

    def _unavailable(self, exc: RedisError) -> bool:
        with self._lock:
            first, self._down = not self._down, True
        if self.fail_open:
            if first:
                logger.warning("replay cache: Redis unavailable (%s); accepting requests because fail_open "
                               "is set: replays are NOT being detected until it is back", type(exc).__name__)
            return True
        if first:
            logger.error("replay cache: Redis unavailable (%s); refusing signed requests (fail closed)",
                         type(exc).__name__)
        raise CacheUnavailable("the replay cache is unavailable; try again later") from None

    def _up(self) -> None:
        if self._down:
            with self._lock:
                was_down, self._down = self._down, False
            if was_down:
                logger.warning("replay cache: Redis reachable again")

    def ping(self) -> bool:
        """True when Redis answers (for health checks); never raises."""
        try:
            return bool(self._client.ping())
        except RedisError:
            return False

    def close(self) -> None:
        """Close the blocking client (async clients close with their event loops)."""
        self._client.close()


def _warn_if_evicting(config: Mapping[Any, Any]) -> None:
    """Warn when this Redis may evict replay entries before their TTL (see the module notes)."""
    values = {(k.decode() if isinstance(k, bytes) else str(k)): (v.decode() if isinstance(v, bytes) else str(v))
              for k, v in config.items()}
    policy, limit = values.get("maxmemory-policy", "noeviction"), values.get("maxmemory", "0")
    if policy != "noeviction" and limit != "0":
        logger.warning("replay cache: Redis has maxmemory-policy %s with maxmemory set, so it may evict replay "
                       "entries before they expire (a replay window); use maxmemory-policy noeviction for "
                       "this database", policy)


class RedisKeyCache:
    """A :class:`~aauth_core.cache.KeyCache` in Redis, JSON with its timestamps.

    Entries live until the document's ``stale_until``.  Every Redis error is raised
    as :class:`~aauth_core.errors.CacheUnavailable`; put a :class:`TwoLevelKeyCache`
    in front to keep serving from process memory instead (what ``cache_url`` does).
    A corrupt entry reads as a miss.
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        prefix: str = "aauth:keys:",
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefix = prefix
        self._clock = clock
        self._client = (
            redis_client(url_or_client, timeout=timeout, connect_timeout=connect_timeout)
            if isinstance(url_or_client, str)
            else url_or_client
        )

    def get(self, key: str) -> CachedDocument | None:
        try:
            raw = self._client.get(self.prefix + key)
        except RedisError as exc:
            raise CacheUnavailable(f"the key cache is unavailable ({type(exc).__name__})") from None
        return None if raw is None else _decode_document(raw)

    def set(self, key: str, doc: CachedDocument) -> None:
        now = self._clock()
        try:
            if doc.stale_until <= now:
                self._client.delete(self.prefix + key)
            else:
                self._client.set(self.prefix + key, _encode_document(doc), px=_ttl_ms(doc.stale_until, now))
        except RedisError as exc:
            raise CacheUnavailable(f"the key cache is unavailable ({type(exc).__name__})") from None

    def delete(self, key: str) -> None:
        try:
            self._client.delete(self.prefix + key)
        except RedisError as exc:
            raise CacheUnavailable(f"the key cache is unavailable ({type(exc).__name__})") from None

    def close(self) -> None:
        self._client.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _encode_document(doc: CachedDocument) -> bytes:
    return json.dumps(
        {"value": doc.value, "fetched_at": doc.fetched_at, "fresh_until": doc.fresh_until,
         "stale_until": doc.stale_until},
        default=_jsonable, separators=(",", ":"),
    ).encode()


def _decode_document(raw: bytes | str) -> CachedDocument | None:
    try:
        data = json.loads(raw)
        value = data["value"]
        times = [data[name] for name in ("fetched_at", "fresh_until", "stale_until")]
    except (ValueError, TypeError, KeyError, RecursionError):
        logger.warning("key cache: ignoring a corrupt Redis entry")
        return None
    if not isinstance(value, dict) or not all(
        isinstance(t, (int, float)) and not isinstance(t, bool) for t in times
    ):
        logger.warning("key cache: ignoring a corrupt Redis entry")
        return None
    return CachedDocument(value, float(times[0]), float(times[1]), float(times[2]))


class TwoLevelKeyCache:
    """An in-process LRU in front of a shared :class:`~aauth_core.cache.KeyCache`.

    A local entry that is still fresh is served without touching the shared level;
    otherwise the shared level is asked, and a newer copy there (another worker
    refreshed it) is adopted.  Writes go to both.  When the shared level raises
    :class:`~aauth_core.errors.CacheUnavailable` the cache keeps working from the
    local level alone, logs once, and skips the shared level for ``retry_after``
    seconds so requests do not each pay a timeout.
    """

    def __init__(
        self,
        shared: KeyCache,
        local: KeyCache | None = None,
        *,
        clock: Callable[[], float] = time.time,
        retry_after: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.local: KeyCache = local if local is not None else MemoryKeyCache(max_entries=1_000)
        self._clock = clock
        self._retry_after = retry_after
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._down_until: float | None = None

    @property
    def degraded(self) -> bool:
        """True while the shared level is being skipped after an error."""
        return self._down_until is not None

    def get(self, key: str) -> CachedDocument | None:
        doc = self.local.get(key)
        if doc is not None and self._clock() < doc.fresh_until:
            return doc
        if not self._shared_usable():
            return doc
        try:
            remote = self.shared.get(key)
        except CacheUnavailable:
            self._mark_down()
            return doc
        self._mark_up()
        if remote is not None and (doc is None or remote.fetched_at > doc.fetched_at):
            self.local.set(key, remote)
            return remote
        return doc

    def set(self, key: str, doc: CachedDocument) -> None:
        self.local.set(key, doc)
        self._shared_call(lambda: self.shared.set(key, doc))

    def delete(self, key: str) -> None:
        self.local.delete(key)
        self._shared_call(lambda: self.shared.delete(key))

    def _shared_call(self, call: Callable[[], None]) -> None:
        if not self._shared_usable():
            return
        try:
            call()
        except CacheUnavailable:
            self._mark_down()
            return
        self._mark_up()

    def _shared_usable(self) -> bool:
        down_until = self._down_until
        return down_until is None or self._monotonic() >= down_until

    def _mark_down(self) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self._monotonic() + self._retry_after
        if first:
            logger.warning("key cache: shared cache unavailable; serving from process memory only "
                           "(retrying every %.0f s)", self._retry_after)

    def _mark_up(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            logger.warning("key cache: shared cache reachable again")
