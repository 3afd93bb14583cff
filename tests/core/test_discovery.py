"""Discovery: SSRF guard, limits, caching, serve-stale, single flight, key lookup.

No test sends a packet: every HTTP exchange goes through an in-process
``httpx.MockTransport`` and every DNS answer comes from a fake resolver.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from aauth_core.discovery import Discovery, check_url
from aauth_core.errors import DiscoveryError
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.settings import AAuthSettings

AGENT = "https://agent.example"
AGENT_META = f"{AGENT}/.well-known/aauth-agent"
AGENT_JWKS = f"{AGENT}/jwks.json"

# ---------------------------------------------------------------- test doubles


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeDNS:
    """host -> addresses; unknown hosts fail like NXDOMAIN."""

    def __init__(self, table: Mapping[str, list[str]] | None = None) -> None:
        self.table = {
            "agent.example": ["93.184.216.34"],
            "agent2.example": ["93.184.216.35"],
            "issuer.example": ["93.184.216.36"],
            "resource.example": ["2606:4700::1", "93.184.216.37"],
            **(table or {}),
        }
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError("name does not resolve")
        return self.table[host]


class FailTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that fails the test if any request ever reaches it."""

    def __init__(self) -> None:
        self.called = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.called = True
        pytest.fail(f"unexpected network request to {request.url.host}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.called = True
        pytest.fail(f"unexpected network request to {request.url.host}")


Route = tuple[int, bytes, dict[str, str]] | Callable[[httpx.Request], httpx.Response]


class Web:
    """An in-process web of parties: URL -> response; counts every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.calls: Counter[str] = Counter()
        self.accept: list[str] = []
        self.delay = 0.0
        self._lock = threading.Lock()

    def json(self, url: str, doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[url] = (status, json.dumps(doc).encode(), headers or {})

    def party(
        self,
        identifier: str,
        *keys: SigningKey,
        well_known: str = "aauth-agent",
        field: str = "agent",
        headers: dict[str, str] | None = None,
    ) -> None:
        jwks_uri = f"{identifier}/jwks.json"
        self.json(f"{identifier}/.well-known/{well_known}", {field: identifier, "jwks_uri": jwks_uri})
        self.json(jwks_uri, jwks_document(keys), headers=headers)

    def _respond(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        with self._lock:
            self.calls[url] += 1
            self.accept.append(request.headers.get("accept", ""))
        route = self.routes.get(url)
        if route is None:
            return httpx.Response(404)
        if callable(route):
            return route(request)
        status, body, headers = route
        return httpx.Response(status, content=body, headers=headers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            time.sleep(self.delay)
        return self._respond(request)

    async def ahandler(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._respond(request)


def make(
    web: Web | None = None,
    *,
    clock: FakeClock | None = None,
    dns: FakeDNS | None = None,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    **settings: Any,
) -> Discovery:
    transport: Any = FailTransport() if web is None else httpx.MockTransport(web.handler)
    atransport: Any = transport if web is None else httpx.MockTransport(web.ahandler)
    return Discovery(
        AAuthSettings(**settings),
        transport=transport,
        async_transport=atransport,
        clock=clock or FakeClock(),
        resolver=dns or FakeDNS(),
        documents=documents,
    )


def code_of(exc_info: pytest.ExceptionInfo[DiscoveryError]) -> str:
    return exc_info.value.code


@pytest.fixture
def key1() -> SigningKey:
    return SigningKey.generate(kid="key-1")


@pytest.fixture
def web(key1: SigningKey) -> Web:
    w = Web()
    w.party(AGENT, key1)
    return w


# ---------------------------------------------------------------- SSRF guard

BLOCKED = [
    "https://10.0.0.1/jwks.json",
    "https://169.254.169.254/latest/meta-data",
    "https://localhost/jwks.json",
    "https://app.localhost/jwks.json",
    "https://[::1]/jwks.json",
    "https://127.0.0.1/jwks.json",
    "http://example.com/jwks.json",
    "https://2130706433/jwks.json",
    "https://0x7f000001/jwks.json",
    "https://0177.0.0.1/jwks.json",
    "https://127.1/jwks.json",
    "https://0x7f.1/jwks.json",
    "https://0x7g.1/jwks.json",
    "https://1.2.3.4.5/jwks.json",
    "https://[::ffff:10.0.0.1]/jwks.json",
    "https://[::ffff:7f00:1]/jwks.json",
    "https://[2002:a00:1::]/jwks.json",
    "https://[64:ff9b::a00:1]/jwks.json",
    "https://100.64.0.1/jwks.json",
    "https://[fd00::1]/jwks.json",
    "https://[fe80::1]/jwks.json",
    "https://0.0.0.0/jwks.json",
    "https://224.0.0.1/jwks.json",
    "https://240.0.0.1/jwks.json",
    "https://user:pw@agent.example/jwks.json",
    "https://@agent.example/jwks.json",
    "https://agent.example/jwks.json#frag",
    "https://agent.example/jwks.json#",
    "ftp://agent.example/jwks.json",
    "https:///jwks.json",
    "https://agent.example\\@10.0.0.1/jwks.json",
    "https://internal.example/jwks.json",  # resolves to 10.1.2.3
    "https://mixed.example/jwks.json",  # one public and one private address
]

BAD_DNS = {"internal.example": ["10.1.2.3"], "mixed.example": ["93.184.216.34", "192.168.1.1"]}


@pytest.mark.parametrize("url", BLOCKED)
def test_blocked_urls_never_reach_the_transport(url: str) -> None:
    transport = FailTransport()
    d = Discovery(AAuthSettings(), transport=transport, resolver=FakeDNS(BAD_DNS))
    with pytest.raises(DiscoveryError) as exc:
        d.jwks(url)
    assert code_of(exc) == "blocked_url"
    assert exc.value.status_code == 401
    assert not transport.called
    with pytest.raises(DiscoveryError) as exc2:
        check_url(url, allow_insecure_loopback=False, resolver=FakeDNS(BAD_DNS))
    assert code_of(exc2) == "blocked_url"


@pytest.mark.parametrize("url", BLOCKED[:8] + BLOCKED[-2:])
async def test_blocked_urls_async(url: str) -> None:
    transport = FailTransport()
    d = Discovery(AAuthSettings(), async_transport=transport, resolver=FakeDNS(BAD_DNS))
    with pytest.raises(DiscoveryError) as exc:
        await d.ajwks(url)
    assert code_of(exc) == "blocked_url"
    assert not transport.called


@pytest.mark.parametrize(
    "identifier",
    ["https://10.0.0.1", "https://localhost", "http://agent.example", "https://agent.example#x"],
)
def test_blocked_identifiers_in_metadata_and_key_lookup(identifier: str) -> None:
    transport = FailTransport()
    d = Discovery(AAuthSettings(), transport=transport, resolver=FakeDNS())
    for call in (
        lambda: d.metadata(identifier, "aauth-agent"),
        lambda: d.key_for(identifier, "aauth-agent", "key-1"),
        lambda: d.key_for(identifier, None, "key-1"),
    ):
        with pytest.raises(DiscoveryError) as exc:
            call()
        assert code_of(exc) == "blocked_url"
    assert not transport.called


def test_jwks_uri_from_a_good_document_is_guarded_too(key1: SigningKey) -> None:
    calls: list[str] = []

    def agent_only(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if request.url.host != "agent.example":
            pytest.fail("the jwks fetch must never reach the transport")
        return httpx.Response(200, json={"agent": AGENT, "jwks_uri": "https://169.254.169.254/jwks"})

    d = Discovery(AAuthSettings(), transport=httpx.MockTransport(agent_only), resolver=FakeDNS())
    with pytest.raises(DiscoveryError) as exc:
        d.key_for(AGENT, "aauth-agent", "key-1")
    assert code_of(exc) == "blocked_url"
    assert calls == [AGENT_META]


def test_unresolvable_host_is_discovery_failed() -> None:
    transport = FailTransport()
    d = Discovery(AAuthSettings(), transport=transport, resolver=FakeDNS())
    with pytest.raises(DiscoveryError) as exc:
        d.jwks("https://nowhere.example/jwks.json")
    assert code_of(exc) == "discovery_failed"
    assert not transport.called


def test_loopback_allowed_only_with_dev_switch() -> None:
    for url in ("http://127.0.0.1:8001", "https://127.0.0.1", "https://[::1]:8443/x", "http://localhost:8000"):
        check_url(url, allow_insecure_loopback=True, resolver=FakeDNS())
    for url in ("http://10.0.0.1", "http://agent.example", "https://169.254.169.254"):
        with pytest.raises(DiscoveryError) as exc:
            check_url(url, allow_insecure_loopback=True, resolver=FakeDNS())
        assert code_of(exc) == "blocked_url"


def test_public_addresses_allowed() -> None:
    dns = FakeDNS()
    check_url("https://agent.example", allow_insecure_loopback=False, resolver=dns)
    check_url("https://resource.example:8443/jwks", allow_insecure_loopback=False, resolver=dns)
    check_url("https://93.184.216.34/jwks", allow_insecure_loopback=False, resolver=dns)
    check_url("https://[::ffff:93.184.216.34]/jwks", allow_insecure_loopback=False, resolver=dns)
    assert dns.calls == ["agent.example", "resource.example"]  # IP literals need no DNS


def test_demo_loopback_party_works_end_to_end() -> None:
    """The transcript's parties live on http://127.0.0.1:800x (dev switch on)."""
    key = SigningKey.generate(kid="key-1")
    web = Web()
    web.party("http://127.0.0.1:8001", key)
    dns = FakeDNS()
    d = make(web, dns=dns, allow_insecure_loopback=True)
    assert d.key_for("http://127.0.0.1:8001", "aauth-agent", "key-1").thumbprint == key.thumbprint
    assert dns.calls == []


# ---------------------------------------------------------------- documents and errors


def test_metadata_is_fetched_and_validated(web: Web) -> None:
    d = make(web)
    meta = d.metadata(AGENT, "aauth-agent")
    assert meta["jwks_uri"] == AGENT_JWKS
    assert d.metadata(AGENT + "/", "aauth-agent")["agent"] == AGENT  # one trailing slash ignored
    assert web.calls[AGENT_META] == 1
    assert set(web.accept) == {"application/json"}


def test_metadata_identity_mismatch(web: Web) -> None:
    web.json(AGENT_META, {"agent": "https://evil.example", "jwks_uri": AGENT_JWKS})
    d = make(web)
    with pytest.raises(DiscoveryError) as exc:
        d.metadata(AGENT, "aauth-agent")
    assert code_of(exc) == "metadata_mismatch"
    assert "evil" not in exc.value.description  # never echo document contents
    assert "agent.example" in exc.value.description


def test_resource_and_issuer_documents_use_their_own_identity_field() -> None:
    key = SigningKey.generate(kid="k")
    web = Web()
    web.party("https://resource.example", key, well_known="aauth-resource", field="resource")
    web.party("https://issuer.example", key, well_known="aauth-issuer", field="agent")  # wrong field
    d = make(web)
    assert d.metadata("https://resource.example", "aauth-resource")["resource"] == "https://resource.example"
    with pytest.raises(DiscoveryError) as exc:
        d.metadata("https://issuer.example", "aauth-issuer")
    assert code_of(exc) == "metadata_mismatch"


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        (["not", "an", "object"], "invalid_metadata"),
        ("a string", "invalid_metadata"),
        ({"agent": AGENT}, "invalid_metadata"),
        ({"agent": AGENT, "jwks_uri": 42}, "invalid_metadata"),
        ({"agent": AGENT, "jwks_uri": "not a url"}, "invalid_metadata"),
        ({"jwks_uri": AGENT_JWKS}, "metadata_mismatch"),
    ],
)
def test_invalid_metadata(web: Web, doc: Any, code: str) -> None:
    web.json(AGENT_META, doc)
    with pytest.raises(DiscoveryError) as exc:
        make(web).metadata(AGENT, "aauth-agent")
    assert code_of(exc) == code


def test_invalid_json_and_unknown_well_known(web: Web) -> None:
    web.routes[AGENT_META] = (200, b"{not json", {})
    d = make(web)
    with pytest.raises(DiscoveryError) as exc:
        d.metadata(AGENT, "aauth-agent")
    assert code_of(exc) == "invalid_metadata"
    with pytest.raises(DiscoveryError) as exc:
        d.metadata(AGENT, "openid-configuration")
    assert code_of(exc) == "invalid_metadata"
    assert sum(web.calls.values()) == 1


@pytest.mark.parametrize("doc", [[], {"keys": "nope"}, {"no": "keys"}])
def test_invalid_jwks(web: Web, doc: Any) -> None:
    web.json(AGENT_JWKS, doc)
    with pytest.raises(DiscoveryError) as exc:
        make(web).jwks(AGENT_JWKS)
    assert code_of(exc) == "invalid_jwks"


def test_unsupported_and_malformed_jwks_entries_are_skipped(key1: SigningKey) -> None:
    p256 = SigningKey.generate("p256", kid="ec")
    web = Web()
    web.json(
        AGENT_JWKS,
        {
            "keys": [
                {"kty": "RSA", "n": "abc", "e": "AQAB", "kid": "rsa"},
                {"kty": "OKP", "crv": "Ed25519", "x": "!!", "kid": "bad"},
                "not an object",
                {**key1.public_jwk(), "kid": "enc", "use": "enc"},
                key1.public_jwk(),
                p256.public_jwk(),
            ]
        },
    )
    keys = make(web).jwks(AGENT_JWKS)
    assert [k.kid for k in keys] == ["key-1", "ec"]


def test_oversized_document_with_content_length(web: Web) -> None:
    web.routes[AGENT_JWKS] = (200, b" " * 70_000 + b"{}", {})
    with pytest.raises(DiscoveryError) as exc:
        make(web).jwks(AGENT_JWKS)
    assert code_of(exc) == "document_too_large"


def test_oversized_document_without_content_length_stops_reading() -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b" " * 10_000

    web = Web()
    web.routes[AGENT_JWKS] = lambda request: httpx.Response(200, content=chunks())
    with pytest.raises(DiscoveryError) as exc:
        make(web, discovery_max_bytes=50_000).jwks(AGENT_JWKS)
    assert code_of(exc) == "document_too_large"
    assert len(pulled) <= 6


async def test_oversized_document_without_content_length_async() -> None:
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b" " * 10_000

    web = Web()
    web.routes[AGENT_JWKS] = lambda request: httpx.Response(200, content=chunks())
    with pytest.raises(DiscoveryError) as exc:
        await make(web, discovery_max_bytes=50_000).ajwks(AGENT_JWKS)
    assert code_of(exc) == "document_too_large"
    assert len(pulled) <= 6


@pytest.mark.parametrize("status", [500, 503, 404, 401])
def test_non_200_is_discovery_failed(web: Web, status: int) -> None:
    web.json(AGENT_META, {"error": "x"}, status=status)
    with pytest.raises(DiscoveryError) as exc:
        make(web).metadata(AGENT, "aauth-agent")
    assert code_of(exc) == "discovery_failed"
    assert str(status) in exc.value.description
    assert exc.value.status_code == 401


def test_redirect_is_not_followed(web: Web) -> None:
    web.routes[AGENT_META] = lambda request: httpx.Response(
        302, headers={"Location": "https://agent2.example/.well-known/aauth-agent"}
    )
    with pytest.raises(DiscoveryError) as exc:
        make(web).metadata(AGENT, "aauth-agent")
    assert code_of(exc) == "discovery_failed"
    assert "302" in exc.value.description
    assert list(web.calls) == [AGENT_META]


def test_timeout_is_discovery_failed(web: Web) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    web.routes[AGENT_META] = slow
    with pytest.raises(DiscoveryError) as exc:
        make(web).metadata(AGENT, "aauth-agent")
    assert code_of(exc) == "discovery_failed"
    assert "timed out" in exc.value.description


async def test_connection_error_is_discovery_failed_async(web: Web) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    web.routes[AGENT_META] = refused
    with pytest.raises(DiscoveryError) as exc:
        await make(web).ametadata(AGENT, "aauth-agent")
    assert code_of(exc) == "discovery_failed"


# ---------------------------------------------------------------- caching


@pytest.mark.parametrize(
    ("cache_control", "ttl"),
    [
        ("max-age=600", 600),
        ("public, max-age=600, s-maxage=900", 900),
        ("max-age=1", 30),  # clamped to discovery_min_ttl
        ("max-age=999999999", 86_400),  # clamped to discovery_max_ttl
        ("no-store", 30),  # minimum, not zero (see discovery._ttl)
        ("no-cache, max-age=600", 30),
        (None, 300),  # discovery_default_ttl
        ("max-age=banana", 300),
    ],
)
def test_cache_control_freshness(key1: SigningKey, cache_control: str | None, ttl: int) -> None:
    web = Web()
    web.party(AGENT, key1, headers={"Cache-Control": cache_control} if cache_control else None)
    clock = FakeClock()
    d = make(web, clock=clock)
    start = clock.now
    d.jwks(AGENT_JWKS)
    clock.now = start + ttl - 1
    d.jwks(AGENT_JWKS)
    assert web.calls[AGENT_JWKS] == 1
    clock.now = start + ttl
    d.jwks(AGENT_JWKS)
    assert web.calls[AGENT_JWKS] == 2


def test_serve_stale_while_issuer_is_down(web: Web, key1: SigningKey, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    d = make(web, clock=clock)
    assert d.key_for(AGENT, "aauth-agent", "key-1").thumbprint == key1.thumbprint

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    web.routes[AGENT_META] = down
    web.json(AGENT_JWKS, {"error": "oops"}, status=503)
    clock.advance(301)  # both documents expired
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        assert d.key_for(AGENT, "aauth-agent", "key-1").thumbprint == key1.thumbprint
    records = [r for r in caplog.records if r.name == "aauth.core"]
    assert len(records) == 2
    assert all("agent.example" in r.getMessage() for r in records)
    assert key1.public_jwk()["x"] not in caplog.text and "jwks_uri" not in caplog.text

    clock.advance(86_400)  # past stale_until
    with pytest.raises(DiscoveryError) as exc:
        d.key_for(AGENT, "aauth-agent", "key-1")
    assert code_of(exc) == "discovery_failed"


def test_garbage_refresh_serves_stale_but_404_does_not(web: Web) -> None:
    clock = FakeClock()
    d = make(web, clock=clock)
    d.jwks(AGENT_JWKS)
    clock.advance(301)
    web.routes[AGENT_JWKS] = (200, b"<html>maintenance</html>", {})
    assert len(d.jwks(AGENT_JWKS)) == 1
    web.json(AGENT_JWKS, {}, status=404)  # withdrawn: no stale fallback
    with pytest.raises(DiscoveryError) as exc:
        d.jwks(AGENT_JWKS)
    assert code_of(exc) == "discovery_failed"


def test_unknown_kid_refetches_once_then_is_rate_limited(web: Web) -> None:
    clock = FakeClock()
    d = make(web, clock=clock)
    d.key_for(AGENT, "aauth-agent", "key-1")  # warm
    assert web.calls[AGENT_JWKS] == 1
    clock.advance(5)
    with pytest.raises(DiscoveryError) as exc:
        d.key_for(AGENT, "aauth-agent", "unknown")
    assert code_of(exc) == "unknown_key"
    assert web.calls[AGENT_JWKS] == 2  # one refetch
    clock.advance(10)  # within unknown_kid_refetch_interval (30 s)
    with pytest.raises(DiscoveryError) as exc:
        d.key_for(AGENT, "aauth-agent", "another-unknown")
    assert code_of(exc) == "unknown_key"
    assert web.calls[AGENT_JWKS] == 2  # no extra fetch
    clock.advance(30)
    with pytest.raises(DiscoveryError):
        d.key_for(AGENT, "aauth-agent", "unknown")
    assert web.calls[AGENT_JWKS] == 3
    assert web.calls[AGENT_META] == 1


def test_unknown_kid_in_a_just_fetched_jwks_is_not_refetched(web: Web) -> None:
    with pytest.raises(DiscoveryError) as exc:
        make(web).key_for(AGENT, "aauth-agent", "unknown")
    assert code_of(exc) == "unknown_key"
    assert web.calls[AGENT_JWKS] == 1


def test_key_rotation_is_picked_up_after_one_refetch(web: Web, key1: SigningKey) -> None:
    clock = FakeClock()
    d = make(web, clock=clock)
    d.key_for(AGENT, "aauth-agent", "key-1")
    key2 = SigningKey.generate(kid="key-2")
    web.party(AGENT, key1, key2)  # the agent publishes a new key
    assert d.key_for(AGENT, "aauth-agent", "key-2").thumbprint == key2.thumbprint
    assert d.key_for(AGENT, "aauth-agent", "key-1").thumbprint == key1.thumbprint
    assert web.calls[AGENT_JWKS] == 2


def test_forced_refetch_is_single_flight_across_threads(web: Web, key1: SigningKey) -> None:
    d = make(web)
    d.key_for(AGENT, "aauth-agent", "key-1")
    key2 = SigningKey.generate(kid="key-2")
    web.party(AGENT, key1, key2)
    web.delay = 0.05
    barrier = threading.Barrier(20)
    found: list[str] = []

    def worker() -> None:
        barrier.wait()
        found.append(d.key_for(AGENT, "aauth-agent", "key-2").thumbprint)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == [key2.thumbprint] * 20
    assert web.calls[AGENT_JWKS] == 2


def test_kid_collisions_are_scoped_per_identifier() -> None:
    a, b = SigningKey.generate(kid="key-1"), SigningKey.generate(kid="key-1")
    web = Web()
    web.party(AGENT, a)
    web.party("https://agent2.example", b)
    d = make(web)
    assert d.key_for(AGENT, "aauth-agent", "key-1").thumbprint == a.thumbprint
    assert d.key_for("https://agent2.example", "aauth-agent", "key-1").thumbprint == b.thumbprint
    assert d.jwks_key(AGENT_JWKS, "key-1").thumbprint == a.thumbprint


def test_key_by_thumbprint(web: Web, key1: SigningKey) -> None:
    other = SigningKey.generate(kid="key-2")
    web.party("https://resource.example", key1, other, well_known="aauth-resource", field="resource")
    d = make(web)
    got = d.key_by_thumbprint("https://resource.example", "aauth-resource", other.thumbprint)
    assert got.kid == "key-2"
    with pytest.raises(DiscoveryError) as exc:
        d.key_by_thumbprint("https://resource.example", "aauth-resource", "A" * 43)
    assert code_of(exc) == "unknown_key"


def test_identifier_as_jwks_and_direct_jwks_uri(key1: SigningKey) -> None:
    web = Web()
    web.json("https://agent.example/keys", jwks_document([key1]))
    d = make(web)
    assert d.key_for("https://agent.example/keys", None, "key-1").thumbprint == key1.thumbprint  # mode 2
    assert d.jwks_key("https://agent.example/keys", "key-1").thumbprint == key1.thumbprint  # mode 1
    assert web.calls["https://agent.example/keys"] == 1
    assert [k.kid for k in d.jwks("https://agent.example/keys")] == ["key-1"]


def test_offline_documents_need_no_network(key1: SigningKey) -> None:
    ident = "http://127.0.0.1:8001"  # no dev switch either: offline documents skip the guard
    documents = {
        f"{ident}/.well-known/aauth-agent": {"agent": ident, "jwks_uri": f"{ident}/jwks.json"},
        f"{ident}/jwks.json": jwks_document([key1]),
        "https://pki.example/chain.pem": {"text": "-----BEGIN CERTIFICATE-----\n"},
    }
    d = make(documents=documents)
    assert d.key_for(ident, "aauth-agent", "key-1").thumbprint == key1.thumbprint
    assert d.fetch_text("https://pki.example/chain.pem").startswith("-----BEGIN")
    with pytest.raises(DiscoveryError) as exc:
        d.key_for(ident, "aauth-agent", "key-9")
    assert code_of(exc) == "unknown_key"
    documents_bad = {f"{ident}/.well-known/aauth-agent": {"agent": "http://other", "jwks_uri": "x"}}
    with pytest.raises(DiscoveryError) as exc:
        make(documents=documents_bad).metadata(ident, "aauth-agent")
    assert code_of(exc) == "metadata_mismatch"


def test_fetch_text(web: Web) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    web.routes["https://agent.example/chain.pem"] = (200, pem.encode(), {})
    d = make(web)
    assert d.fetch_text("https://agent.example/chain.pem") == pem
    assert d.fetch_text("https://agent.example/chain.pem") == pem
    assert web.calls["https://agent.example/chain.pem"] == 1
    with pytest.raises(DiscoveryError) as exc:
        d.fetch_text("https://agent.example/chain.pem", max_bytes=10)
    assert code_of(exc) == "document_too_large"
    with pytest.raises(DiscoveryError) as exc:
        make(web).fetch_text("https://agent.example/chain.pem", max_bytes=10)
    assert code_of(exc) == "document_too_large"


def test_close_is_idempotent(web: Web) -> None:
    d = make(web)
    d.metadata(AGENT, "aauth-agent")
    d.close()
    d.close()
    d.metadata(AGENT, "aauth-agent")  # cached; a new client would be created if needed
    with make(web) as d2:
        d2.jwks(AGENT_JWKS)


# ---------------------------------------------------------------- single flight


def test_single_flight_sync_50_threads(web: Web, key1: SigningKey) -> None:
    web.delay = 0.05
    d = make(web)
    barrier = threading.Barrier(50)
    found: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            found.append(d.key_for(AGENT, "aauth-agent", "key-1").thumbprint)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert found == [key1.thumbprint] * 50
    assert web.calls[AGENT_META] == 1
    assert web.calls[AGENT_JWKS] == 1


async def test_single_flight_async_200_tasks(web: Web, key1: SigningKey) -> None:
    web.delay = 0.05
    d = make(web)
    results = await asyncio.gather(*(d.akey_for(AGENT, "aauth-agent", "key-1") for _ in range(200)))
    assert {k.thumbprint for k in results} == {key1.thumbprint}
    assert web.calls[AGENT_META] == 1
    assert web.calls[AGENT_JWKS] == 1
    await d.aclose()


# ---------------------------------------------------------------- async twins


async def test_async_twins(web: Web, key1: SigningKey) -> None:
    pem = "-----BEGIN CERTIFICATE-----\n"
    web.routes["https://agent.example/chain.pem"] = (200, pem.encode(), {})
    async with make(web) as d:
        meta = await d.ametadata(AGENT, "aauth-agent")
        assert meta["agent"] == AGENT
        assert (await d.akey_for(AGENT, "aauth-agent", "key-1")).thumbprint == key1.thumbprint
        assert (await d.ajwks_key(AGENT_JWKS, "key-1")).thumbprint == key1.thumbprint
        assert [k.kid for k in await d.ajwks(AGENT_JWKS)] == ["key-1"]
        got = await d.akey_by_thumbprint(AGENT, "aauth-agent", key1.thumbprint)
        assert got.kid == "key-1"
        assert await d.afetch_text("https://agent.example/chain.pem") == pem
    assert web.calls[AGENT_META] == 1
    assert web.calls[AGENT_JWKS] == 1


async def test_async_errors_and_rotation(web: Web, key1: SigningKey) -> None:
    clock = FakeClock()
    d = make(web, clock=clock)
    await d.akey_for(AGENT, "aauth-agent", "key-1")
    key2 = SigningKey.generate(kid="key-2")
    web.party(AGENT, key1, key2)
    assert (await d.akey_for(AGENT, "aauth-agent", "key-2")).thumbprint == key2.thumbprint
    with pytest.raises(DiscoveryError) as exc:
        await d.akey_for(AGENT, "aauth-agent", "nope")
    assert code_of(exc) == "unknown_key"
    assert web.calls[AGENT_JWKS] == 2

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    web.routes[AGENT_JWKS] = slow
    clock.advance(301)
    assert len(await d.ajwks(AGENT_JWKS)) == 2  # stale copy
    web.json("https://agent2.example/.well-known/aauth-agent", {"agent": AGENT, "jwks_uri": AGENT_JWKS})
    with pytest.raises(DiscoveryError) as exc:
        await d.ametadata("https://agent2.example", "aauth-agent")
    assert code_of(exc) == "metadata_mismatch"


@pytest.mark.parametrize(("url", "origin", "same"), [
    ("https://api.example/aauth/revoke", "https://api.example", True),
    ("https://API.example:443/x", "https://api.example", True),
    ("http://127.0.0.1:8001/x", "http://127.0.0.1:8001", True),
    ("https://api.example.evil.example/x", "https://api.example", False),
    ("https://api.example:8443/x", "https://api.example", False),
    ("http://api.example/x", "https://api.example", False),
    ("https://user@api.example/x", "https://api.example", False),
    ("https://api.example:99999/x", "https://api.example", False),
    ("https://evil.example/x", "https://api.example", False),
])
def test_same_origin(url: str, origin: str, same: bool) -> None:
    """Where a server sends a signed request or follows a Location: RFC 6454 origins only."""
    from aauth_core.discovery import same_origin

    assert same_origin(url, origin) is same
