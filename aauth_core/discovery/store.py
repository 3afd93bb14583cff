"""The document store: one document by URL, from the offline set, the cache or the network.

A lookup is a cache read; only a missing or expired document (or a forced refresh
for an unknown ``kid``) takes the URL's lock (single flight: one fetch per URL,
waiters reuse it) and runs :meth:`DocumentStore._refresh_flow`, which checks the
URL, spends the host's budget, fetches, validates and stores, and falls back to
the last good copy while its publisher is down.  That flow is written once and run
by :func:`aauth_core.effects.run` or :func:`~aauth_core.effects.arun`.

Storing a key document whose content changed calls ``on_keys_changed``: that is
what moves :attr:`Discovery.keys_version <aauth_core.discovery.Discovery>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..cache import CachedDocument, KeyCache
from ..effects import Flow, arun, call, run
from ..errors import DiscoveryError
from ..settings import AAuthSettings
from .budget import HostBudget, RefreshLimit
from .documents import Got, Need, decode, ttl, validate
from .fetch import Fetcher, Response
from .locks import LockTable
from .ssrf import BLOCKED, FAILED, blocked, check_addresses, precheck

__all__ = ["DocumentStore"]

logger = logging.getLogger("aauth.core")


class DocumentStore:
    """Serves :class:`Need` s as :class:`Got` s: :meth:`peek` without I/O or locks, else
    :meth:`document` blocking or :meth:`adocument` awaiting.

    ``on_keys_changed`` is called each time a key document (a JWKS, or metadata,
    which names the JWKS) is stored with a value different from the one the cache
    held for its URL, or where the cache held none (a document the cache dropped
    may come back different).  A refetch that finds the same document, or a text
    document, does not call it.
    """

    def __init__(
        self,
        settings: AAuthSettings,
        fetcher: Fetcher,
        *,
        clock: Callable[[], float],
        cache: KeyCache,
        documents: Mapping[str, Mapping[str, Any]],
        on_keys_changed: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.host_budget = HostBudget(settings.discovery_failed_host_budget)
        self._fetcher = fetcher
        self._clock = clock
        self._cache = cache
        self._documents = dict(documents)
        self._locks = LockTable()
        self._refreshes = RefreshLimit(settings.unknown_kid_refetch_interval)
        self._on_keys_changed = on_keys_changed

    def peek(self, need: Need) -> Got | None:
        """The lock-free cache hit, or None: then :meth:`document` / :meth:`adocument`.

        Forced refreshes always take the URL's lock, so a caller that is rate
        limited still waits for a refresh already in flight."""
        return None if need.refresh_seen is not None else self._lookup(need)

    def document(self, need: Need) -> Got:
        """The document, fetched unless someone stored it while we waited for the URL's lock."""
        with self._locks.hold(need.key):  # single flight: one fetch per URL, waiters reuse it
            got = self._lookup(need)
            if got is not None:
                return got
            return run(self._refresh_flow(need))

    async def adocument(self, need: Need) -> Got:
        async with self._locks.ahold(need.key):
            got = self._lookup(need)
            if got is not None:
                return got
            return await arun(self._refresh_flow(need))

    def _lookup(self, need: Need) -> Got | None:
        """A usable document without I/O, or None when it must be fetched."""
        offline = self._documents.get(need.url)
        if offline is not None:
            now = self._clock()
            validate(need, offline)
            return Got(CachedDocument(offline, now, now, now), offline=True)
        entry = self._cache.get(need.key)
        if entry is None:
            return None
        now = self._clock()
        fresh = now < entry.fresh_until
        if need.refresh_seen is not None and entry.fetched_at <= need.refresh_seen:
            # A forced refresh, and nobody has refreshed since the caller looked.
            if not fresh or self._refreshes.claim(need.key, now):
                return None
        elif not fresh:
            return None
        validate(need, entry.value)
        return Got(entry)

    def _refresh_flow(self, need: Need) -> Flow[Got]:
        """Check, fetch, parse and store one document; fall back to a stale copy on failure.

        Runs only when no usable copy is cached, so the URL checks and the host
        budget cost nothing on the warm path.  A fetch spends a token of its host's
        budget (:class:`HostBudget`) and only a good document gives it back.
        """
        allow = self.settings.allow_insecure_loopback
        host, name = precheck(need.url, allow)
        if "?" in need.url:  # any path is the peer's to name, but not a GET with parameters
            raise blocked(host, "key discovery URLs must not carry a query")
        budget_key = host.rstrip(".")
        if not self.host_budget.take(budget_key, self._clock()):
            limited = DiscoveryError(f"fetching from {host} is rate-limited after failed fetches", code=FAILED)
            return self._stale_or_raise(need, host, limited)
        fetcher = self._fetcher
        try:
            if name is not None:
                addresses = yield from call(fetcher.resolve, fetcher.aresolve, name)
                check_addresses(name, addresses, allow)
            limit = need.max_bytes or self.settings.discovery_max_bytes
            response: Response = yield from call(fetcher.get, fetcher.aget, need.url, host, limit)
        except DiscoveryError as exc:
            if exc.code == BLOCKED:
                self.host_budget.give_back(budget_key, self._clock())  # no request was sent
                raise
            return self._stale_or_raise(need, host, exc)
        if response.status != 200:
            error = DiscoveryError(f"{host} answered HTTP {response.status}", code=FAILED)
            if 400 <= response.status < 500 and response.status not in (408, 429):
                raise error  # the issuer withdrew the document: no stale fallback
            return self._stale_or_raise(need, host, error)
        try:
            value = decode(need, response.body, host)
            validate(need, value)
        except DiscoveryError as exc:
            return self._stale_or_raise(need, host, exc)
        now = self._clock()
        self.host_budget.give_back(budget_key, now)
        fresh_until = now + ttl(response.cache_control, self.settings)
        stale_until = max(fresh_until, now + self.settings.discovery_stale_ttl)
        return self._keep(need, CachedDocument(value, now, fresh_until, stale_until))

    def _keep(self, need: Need, doc: CachedDocument) -> Got:
        """Store a fetched document, then report a key document whose content changed.

        Stored first, reported second: a lookup that read ``keys_version`` before
        the report is out of date afterwards, whichever copy it read.
        """
        previous = self._cache.get(need.key) if need.holds_keys else None
        self._cache.set(need.key, doc)
        changed = need.holds_keys and (previous is None or previous.value != doc.value)
        if changed:
            self._on_keys_changed()
        return Got(doc, from_network=True, changed=changed)

    def _stale_or_raise(self, need: Need, host: str, error: DiscoveryError) -> Got:
        """Keep serving the last good copy while its issuer is down, within ``discovery_stale_ttl``."""
        entry = self._cache.get(need.key)
        if entry is None or self._clock() >= entry.stale_until:
            raise error
        try:
            validate(need, entry.value)
        except DiscoveryError:
            raise error from None
        logger.warning("discovery: refresh from %s failed (%s); serving the cached copy", host, error.code)
        return Got(entry)
