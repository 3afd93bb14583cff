"""The :class:`Discovery` client: metadata, JWKS, keys and x509 chains, blocking and async.

Each lookup is written once, as a flow (:mod:`aauth_core.effects`) that takes
each document it needs from the store: a fresh cached copy straight away (no lock,
no effect), anything else as the effect ``call(store.document, store.adocument,
need)``.  The blocking method runs the flow with :func:`~aauth_core.effects.run`,
the ``a``-prefixed twin awaits it with :func:`~aauth_core.effects.arun`.  Keys
found by ``kid`` are memoised, so the verifier's warm path
(:meth:`Discovery.cached_key_for`) is one dictionary lookup and never enters a flow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any

import httpx

from ..cache import BoundedCache, KeyCache, MemoryKeyCache
from ..effects import Flow, arun, call, run
from ..errors import DiscoveryError
from ..keys import PublicKey
from ..settings import AAuthSettings
from .documents import Got, Need, import_keys, metadata_need
from .fetch import Fetcher
from .ssrf import FAILED, Resolver, host_of, system_resolver
from .store import DocumentStore

__all__ = ["Discovery"]

_MemoKey = tuple[str | None, ...]
_KEY_MEMO_SIZE = 4096
_KEYSETS_SIZE = 1024


class Discovery:
    """Fetches and caches AAuth metadata, JWKS and x509 chains, sync and async.

    ``documents`` holds offline documents by exact URL (the CLI's envelopes); they
    are served without any network or SSRF check.  A text document (for
    :meth:`fetch_text`) is given there as ``{"text": "..."}``.  ``resolver`` maps a
    host name to IP address strings for the SSRF guard.  ``clock`` drives cache
    freshness, the unknown-``kid`` refetch rate limit and the per-host fetch budget.

    ``keys_version`` is an integer that only grows, starting at 0: it goes up by
    one each time a key document (a JWKS, or metadata, which names the JWKS) is
    stored with content different from what the cache held for its URL, or where
    the cache held none (so a document the cache dropped counts as changed when
    it comes back).  A refetch of the same content, an expiry or a text document
    leave it alone, so it says nothing about freshness: something derived from
    keys stores the version it saw and is current while the version is unchanged
    *and* its documents are fresh.  The memo behind :meth:`cached_key_for` works
    that way (it stores the key, the earliest ``fresh_until`` of the documents
    behind it and the version).  The imported keys of each JWKS are kept with the
    document they came from and reused while the cached document is equal to it.
    A document another process refreshes in a shared cache (Redis) does not move
    this process's ``keys_version``; memos still end with the documents' freshness.
    """

    def __init__(
        self,
        settings: AAuthSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        cache: KeyCache | None = None,
        resolver: Resolver | None = None,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.keys_version = 0
        self._version_lock = threading.Lock()
        self._clock = clock
        self._fetcher = Fetcher(settings, resolver or system_resolver, transport, async_transport)
        store = DocumentStore(settings, self._fetcher, clock=clock,
                              cache=cache if cache is not None else MemoryKeyCache(),
                              documents=documents or {}, on_keys_changed=self._keys_changed)
        self._peek, self._document, self._adocument = store.peek, store.document, store.adocument
        self._host_budget = store.host_budget
        # key memo: (route) -> (key, fresh until, keys_version); keysets: jwks URL -> (document, keys)
        self._key_memo: BoundedCache[_MemoKey, tuple[PublicKey, float, int]] = BoundedCache(_KEY_MEMO_SIZE)
        self._keysets: BoundedCache[str, tuple[Mapping[str, Any], tuple[PublicKey, ...]]] = BoundedCache(
            _KEYSETS_SIZE)

    def _keys_changed(self) -> None:
        with self._version_lock:
            self.keys_version += 1

    # ----------------------------------------------------------------- public API

    def metadata(self, identifier: str, well_known: str) -> Mapping[str, Any]:
        """The validated ``{identifier}/.well-known/{well_known}`` document."""
        return run(self._metadata_flow(identifier, well_known))

    async def ametadata(self, identifier: str, well_known: str) -> Mapping[str, Any]:
        return await arun(self._metadata_flow(identifier, well_known))

    def jwks(self, jwks_uri: str) -> tuple[PublicKey, ...]:
        """Every supported key of the JWKS at ``jwks_uri``."""
        return run(self._jwks_flow(jwks_uri))

    async def ajwks(self, jwks_uri: str) -> tuple[PublicKey, ...]:
        return await arun(self._jwks_flow(jwks_uri))

    def key_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey:
        """Key ``kid`` of ``identifier`` (jwks mode 2: via metadata, or ``identifier`` as a JWKS)."""
        key = self.cached_key_for(identifier, well_known, kid)
        return key if key is not None else run(self._kid_flow(identifier, well_known, kid))

    async def akey_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey:
        key = self.cached_key_for(identifier, well_known, kid)
        return key if key is not None else await arun(self._kid_flow(identifier, well_known, kid))

    def jwks_key(self, jwks_uri: str, kid: str) -> PublicKey:
        """Key ``kid`` of the JWKS at ``jwks_uri`` (jwks mode 1)."""
        return run(self._key_flow("", None, jwks_uri, lambda k: k.kid == kid))

    async def ajwks_key(self, jwks_uri: str, kid: str) -> PublicKey:
        return await arun(self._key_flow("", None, jwks_uri, lambda k: k.kid == kid))

    def key_by_thumbprint(self, identifier: str, well_known: str, thumbprint: str) -> PublicKey:
        """The key of ``identifier`` whose RFC 7638 thumbprint is ``thumbprint`` (protocol A7)."""
        return run(self._key_flow(identifier, well_known, None, lambda k: k.thumbprint == thumbprint))

    async def akey_by_thumbprint(self, identifier: str, well_known: str, thumbprint: str) -> PublicKey:
        return await arun(self._key_flow(identifier, well_known, None, lambda k: k.thumbprint == thumbprint))

    def fetch_text(self, url: str, max_bytes: int | None = None) -> str:
        """A text document (an ``x5u`` PEM chain), under the same guard, limits and cache."""
        return run(self._text_flow(url, max_bytes))

    async def afetch_text(self, url: str, max_bytes: int | None = None) -> str:
        return await arun(self._text_flow(url, max_bytes))

    def cached_key_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey | None:
        """:meth:`key_for`'s answer when it needs no I/O (every document still fresh), else ``None``.

        The verifier's warm path: one memo lookup, no lock, no flow.
        """
        hit = self._key_memo.get(("kid", identifier, well_known, kid))
        if hit is not None and hit[2] == self.keys_version and self._clock() < hit[1]:
            return hit[0]
        return None

    def close(self) -> None:
        self._fetcher.close()

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    def __enter__(self) -> Discovery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Discovery:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- lookups (one flow each)

    def _get(self, need: Need) -> Flow[Got]:
        """One document: the cached copy while fresh (no effect), else the store's fetch."""
        got = self._peek(need)
        if got is None:
            got = yield from call(self._document, self._adocument, need)
        return got

    def _metadata_flow(self, identifier: str, well_known: str) -> Flow[Mapping[str, Any]]:
        got = yield from self._get(metadata_need(identifier, well_known))
        return MappingProxyType(dict(got.doc.value))

    def _jwks_flow(self, url: str) -> Flow[tuple[PublicKey, ...]]:
        got = yield from self._get(Need(url, "jwks"))
        return self._keyset(url, got)

    def _text_flow(self, url: str, max_bytes: int | None) -> Flow[str]:
        limit = self.settings.discovery_max_bytes if max_bytes is None else max_bytes
        got = yield from self._get(Need(url, "text", max_bytes=limit))
        text = got.doc.value.get("text")
        if not isinstance(text, str):
            raise DiscoveryError(f"no text document for {host_of(url)}", code=FAILED)
        if len(text.encode()) > limit:
            raise DiscoveryError(f"document from {host_of(url)} exceeds {limit} bytes", code="document_too_large")
        return text

    def _kid_flow(self, identifier: str, well_known: str | None, kid: str) -> Flow[PublicKey]:
        return self._key_flow(identifier, well_known, None, lambda k: k.kid == kid,
                              memo_key=("kid", identifier, well_known, kid))

    def _key_flow(
        self,
        identifier: str,
        well_known: str | None,
        jwks_uri: str | None,
        match: Callable[[PublicKey], bool],
        memo_key: _MemoKey | None = None,
    ) -> Flow[PublicKey]:
        """Find a key, refetching the JWKS once if it is not there (key rotation).

        The refetch is skipped when the JWKS was just fetched, and rate limited
        per ``jwks_uri`` so a stream of made-up ``kid``s cannot make us hammer the
        issuer.  A memoised key records ``keys_version`` as read before the first
        document, plus the changes this lookup made itself: any other change in
        between leaves a memo that no longer matches, and the next call redoes
        the lookup (from the cache).
        """
        version = self.keys_version
        fresh_until = float("inf")
        if jwks_uri is None:
            if well_known is None:
                jwks_uri = identifier
            else:
                meta = yield from self._get(metadata_need(identifier, well_known))
                version += meta.changed
                jwks_uri = str(meta.doc.value["jwks_uri"])
                fresh_until = meta.doc.fresh_until
        got = yield from self._get(Need(jwks_uri, "jwks"))
        version += got.changed
        key = next((k for k in self._keyset(jwks_uri, got) if match(k)), None)
        if key is None and not got.from_network and not got.offline:
            got = yield from self._get(Need(jwks_uri, "jwks", refresh_seen=got.doc.fetched_at))
            version += got.changed
            key = next((k for k in self._keyset(jwks_uri, got) if match(k)), None)
        if key is None:
            raise DiscoveryError(f"no matching key in the JWKS from {host_of(jwks_uri)}", code="unknown_key")
        if memo_key is not None and not got.offline:
            self._key_memo.put(memo_key, (key, min(fresh_until, got.doc.fresh_until), version))
        return key

    def _keyset(self, url: str, got: Got) -> tuple[PublicKey, ...]:
        """Imported keys of a JWKS (import costs a key parse each), kept with the document
        they came from and reused while the document is equal to it: compared by value,
        so a copy read back from a shared cache reuses them and a changed one does not."""
        value = got.doc.value
        hit = self._keysets.get(url)
        if hit is not None and hit[0] == value:
            return hit[1]
        keys = import_keys(value)
        if not got.offline:
            self._keysets.put(url, (value, keys))
        return keys
