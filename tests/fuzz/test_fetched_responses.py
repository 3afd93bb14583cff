"""Everything discovery reads from a fetched response, fed hostile input, fails only with ``AAuthError``.

A fetched document is attacker-controlled: the resource fetches it from a URL an
unauthenticated peer named.  Its status, its headers (``Cache-Control``,
``Content-Length``, ``Content-Encoding``, ``Age``, ``Expires``, ...) and its body
(JSON of any shape and depth, huge numbers, a ``jwks_uri`` that is barely a URL,
bytes that are not JSON at all) must end in a result or an ``AAuthError``, never in
a ``ValueError`` or ``RecursionError`` that an adapter turns into a 500.

Responses are served by an ``httpx.MockTransport``; documents are stored through a
cache that round-trips them as the Redis key cache does, so a document that cannot
be stored shows up here too.

Long run: ``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz -q`` (see conftest).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth_core.cache import CachedDocument
from aauth_core.cache.redis import _decode_document, _encode_document
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.settings import AAuthSettings

from ..conftest import PUBLIC_IP, FrozenClock

AGENT = "https://agent.example"
META = f"{AGENT}/.well-known/aauth-agent"
JWKS = f"{AGENT}/jwks.json"
KEY = SigningKey.generate(kid="key-1")

# ----------------------------------------------------------------------------- responses

#: Characters that matter to header and URL syntax, plus digits str.isdigit accepts and int does not.
TRICKY = '0123456789=,;"\' -+.\\/?#@[]:%\t\x00\x7f\u00b2\u0660\uff10\u00a0\u2028eE'
NAMES = ["max-age", "s-maxage", "no-store", "no-cache", "private", "public", "must-revalidate", "immutable"]


@st.composite
def cache_control(draw: st.DrawFn) -> str:
    def directive() -> st.SearchStrategy[str]:
        value = st.one_of(st.text(TRICKY, max_size=12), st.integers(-10, 10**30).map(str),
                          st.just("9" * 5000), st.text(TRICKY, max_size=8).map(lambda t: f'"{t}"'))
        return st.tuples(st.sampled_from([*NAMES, "MAX-AGE", "max-age "]), st.none() | value).map(
            lambda nv: nv[0] if nv[1] is None else f"{nv[0]}={nv[1]}")

    parts = draw(st.lists(directive(), max_size=5))
    return draw(st.sampled_from([", ", ",", " , ", ";"])).join(parts) if parts else draw(st.text(TRICKY, max_size=20))


def header_value(name: str) -> st.SearchStrategy[str]:
    if name == "cache-control":
        return cache_control()
    return st.one_of(st.text(TRICKY, max_size=20), st.integers(-5, 10**20).map(str), st.just("1" * 5000),
                     st.sampled_from(["gzip", "br", "deflate, gzip", "identity", "application/json",
                                      "Thu, 01 Jan 1970 00:00:00 GMT", "\u00b2"]))


HEADER_NAMES = ["cache-control", "content-length", "content-type", "age", "expires", "retry-after",
                "content-encoding", "etag", "last-modified", "date"]


@st.composite
def headers(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    names = draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=5))
    out = []
    for name in names:
        value = draw(header_value(name))
        out.append((name.encode(), value.encode(draw(st.sampled_from(["utf-8", "latin-1"])), "replace")))
    return out


URL_TAILS = st.text(TRICKY + "abc", max_size=20)
URLS = st.one_of(
    st.tuples(st.sampled_from([AGENT, "https://other.example", "https://[::1", "https://10.0.0.1", "http://agent.example",
                               "https://user@agent.example", "https://agent.example:99999", "javascript:", ""]),
              URL_TAILS).map("".join),
    st.text(max_size=30),
    st.integers() | st.none() | st.lists(st.text(max_size=5), max_size=2),
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)

JWK_VALUES = st.one_of(JSON, st.sampled_from(["OKP", "EC", "Ed25519", "P-256", "sig", "enc", "key-1"]))
JWKS_DOCS = st.one_of(
    st.just(jwks_document([KEY])),
    st.fixed_dictionaries({"keys": st.lists(st.one_of(
        st.just(KEY.public_jwk()),
        st.dictionaries(st.sampled_from(["kty", "crv", "x", "y", "kid", "use", "alg"]), JWK_VALUES, max_size=7),
        JSON), max_size=4)}),
)
METADATA_DOCS = st.fixed_dictionaries(
    {"agent": st.one_of(st.just(AGENT), st.just(AGENT + "/"), JSON), "jwks_uri": st.one_of(st.just(JWKS), URLS)},
    optional={"redirect_uris": JSON, "name": JSON},
)


def _nested(depth: int) -> bytes:
    return b'{"keys": [], "agent": "' + AGENT.encode() + b'", "jwks_uri": "' + JWKS.encode() + b'", "x": ' \
        + b"[" * depth + b"]" * depth + b"}"


BODIES = st.one_of(
    JWKS_DOCS.map(lambda d: json.dumps(d).encode()),
    METADATA_DOCS.map(lambda d: json.dumps(d).encode()),
    JSON.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=64),
    st.integers(1, 3000).map(_nested),
    st.sampled_from([b'{"keys": [' + b"1" * 5000 + b"]}", b'{"keys": [NaN, Infinity]}', b"\xef\xbb\xbf{}",
                     b'{"keys": []}\x00', b'{"keys": "\\ud800"}', "{\"agent\": \"\u00b2\"}".encode("utf-16")]),
)

STATUSES = st.one_of(st.sampled_from([200, 200, 200, 200, 204, 206, 301, 304, 404, 410, 429, 500, 503]),
                     st.integers(100, 599))


@st.composite
def responses(draw: st.DrawFn) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return draw(STATUSES), draw(headers()), draw(BODIES)


# ----------------------------------------------------------------------------- the system under test


class RoundTripCache:
    """A key cache storing documents the way the Redis key cache does (JSON encoded)."""

    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}

    def get(self, key: str) -> CachedDocument | None:
        raw = self.docs.get(key)
        return None if raw is None else _decode_document(raw)

    def set(self, key: str, doc: CachedDocument) -> None:
        self.docs[key] = _encode_document(doc)

    def delete(self, key: str) -> None:
        self.docs.pop(key, None)


Response = tuple[int, list[tuple[bytes, bytes]], bytes]


def serve(by_url: dict[str, Response], default: Response) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        status, hdrs, body = by_url.get(str(request.url), default)
        return httpx.Response(status, headers=hdrs, content=body)

    return handler


LOOKUPS: list[tuple[str, tuple[Any, ...]]] = [
    ("key_for", (AGENT, "aauth-agent", "key-1")),
    ("jwks_key", (JWKS, "key-1")),
    ("jwks", (JWKS,)),
    ("metadata", (AGENT, "aauth-agent")),
    ("key_by_thumbprint", (AGENT, "aauth-agent", KEY.thumbprint)),
    ("fetch_text", (JWKS,)),
]


def run_lookups(handler: Callable[[httpx.Request], httpx.Response], is_async: bool, shared_cache: bool) -> None:
    clock = FrozenClock()
    transport = httpx.MockTransport(handler)
    settings = AAuthSettings(discovery_failed_host_budget=1000)  # every lookup reaches the response
    d = Discovery(settings, transport=transport, async_transport=transport, clock=clock,
                  resolver=lambda host: [PUBLIC_IP], cache=RoundTripCache() if shared_cache else None)

    async def alookup(method: str, args: tuple[Any, ...]) -> Any:
        return await getattr(d, "a" + method)(*args)

    for step in range(3):  # cold, warm, then after expiry (cached, stale and refreshed paths)
        for method, args in LOOKUPS:
            try:
                if is_async:
                    asyncio.run(alookup(method, args))
                else:
                    getattr(d, method)(*args)
            except AAuthError as exc:
                assert exc.status_code == 401, exc
        clock.advance([0, 86_401, 0][step])
    d.close()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@given(meta=responses(), jwks=responses(), shared=st.booleans())
def test_hostile_responses_fail_only_with_aauth_error(is_async: bool, meta: Response, jwks: Response,
                                                      shared: bool) -> None:
    run_lookups(serve({META: meta}, jwks), is_async, shared)


@given(cc=cache_control(), length=header_value("content-length"), shared=st.booleans())
def test_hostile_headers_on_a_good_document_never_escape(cc: str, length: str, shared: bool) -> None:
    """A good metadata / JWKS pair with hostile freshness and length headers: a key or an AAuthError."""
    hdrs = [(b"cache-control", cc.encode("utf-8", "replace")), (b"content-length", length.encode("utf-8", "replace"))]
    meta = json.dumps({"agent": AGENT, "jwks_uri": JWKS}).encode()
    good_jwks = json.dumps(jwks_document([KEY])).encode()
    run_lookups(serve({META: (200, hdrs, meta)}, (200, hdrs, good_jwks)), False, shared)


@given(jwks_uri=URLS)
def test_hostile_jwks_uri_in_metadata_is_refused_without_fetching_a_query(jwks_uri: Any) -> None:
    """Whatever ``jwks_uri`` a fetched metadata document names: a key or an AAuthError, and a URL
    with a query, fragment or userinfo is never fetched."""
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        if str(request.url) == META:
            return httpx.Response(200, json={"agent": AGENT, "jwks_uri": jwks_uri})
        return httpx.Response(200, json=jwks_document([KEY]))

    run_lookups(handler, False, False)
    for url in fetched:
        assert "?" not in url and "#" not in url and "@" not in url.split("/")[2], url
