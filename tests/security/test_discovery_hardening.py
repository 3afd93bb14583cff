"""Discovery hardening: strict reading of fetched responses, and no blind GETs through key discovery.

Two findings of an outside review:

* a fetched document's ``Cache-Control: max-age=²`` (``str.isdigit`` says yes,
  ``int`` says no) escaped as a ``ValueError``, a 500 on every request; every other
  value read from a fetched response (``Content-Length``, ``jwks_uri``, nesting
  depth) must likewise be refused or defaulted as an ``AAuthError``;
* any ``jwks`` / identifier / ``jwks_uri`` / ``x5u`` URL with any query made the
  resource send a GET there before a signature check, so key discovery was a blind
  GET proxy; queries, fragments and userinfo are refused before any fetch, and a
  host whose fetches fail gets a few fetches a minute, not one per request.

Every exchange goes through ``httpx.MockTransport`` (no packet leaves the process);
tests of refused URLs use a transport that fails the test if it is ever called.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError, DiscoveryError
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.settings import AAuthSettings

from ..conftest import AGENT, PUBLIC_IP, RESOURCE, FrozenClock
from .conftest import AttackWorld

JWKS = "https://publisher.example/jwks.json"
VICTIM = "https://victim.example"

Handler = Callable[[httpx.Request], httpx.Response]


class NoNetwork(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that fails the test if any request reaches it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pytest.fail(f"unexpected fetch of {request.url.host}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pytest.fail(f"unexpected fetch of {request.url.host}")


class Counting:
    """Wraps a handler and counts the requests it answers, per URL."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls[str(request.url)] += 1
        return self.handler(request)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def discovery(handler: Handler | None, clock: FrozenClock, **settings: Any) -> Discovery:
    transport: Any = NoNetwork() if handler is None else httpx.MockTransport(handler)
    return Discovery(AAuthSettings(**settings), transport=transport, async_transport=transport, clock=clock,
                     resolver=lambda host: [PUBLIC_IP])


def call(d: Discovery, mode: str, method: str, *args: Any) -> Any:
    """``d.method(*args)``, or its async twin run to completion."""
    if mode == "sync":
        return getattr(d, method)(*args)

    async def go() -> Any:
        return await getattr(d, "a" + method)(*args)

    return asyncio.run(go())


def raw_response(body: bytes, headers: list[tuple[bytes, bytes]], status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, content=body, headers=headers)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate(kid="key-1")


def jwks_body(key: SigningKey) -> bytes:
    return json.dumps(jwks_document([key])).encode()


def fetches_for_ttl(key: SigningKey, mode: str, clock: FrozenClock, cache_control: bytes) -> Callable[[float], int]:
    """Fetch once with ``cache_control``; the returned probe says how many fetches a lookup
    ``seconds`` later has cost in all (2 once the document went stale)."""
    handler = Counting(raw_response(jwks_body(key), [(b"cache-control", cache_control)]))
    d = discovery(handler, clock)
    start = clock.now
    call(d, mode, "jwks", JWKS)

    def probe(seconds: float) -> int:
        clock.now = start + seconds
        call(d, mode, "jwks", JWKS)
        return handler.total

    return probe


# ----------------------------------------------------------------------------- defect 4: Cache-Control


def test_unicode_digit_max_age_uses_default_ttl(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    probe = fetches_for_ttl(key, mode, clock, "max-age=²".encode())
    assert probe(299) == 1  # discovery_default_ttl is 300
    assert probe(300) == 2


@pytest.mark.parametrize("value", [
    "max-age=٦٠٠",  # Arabic-Indic digits: int() reads 600
    "max-age=\uff16\uff10\uff10",  # full-width digits
    "max-age=-1",
    "max-age=",
    "max-age",
    'max-age="6x0"',
    'max-age="600',
    "max-age=+600",
    "max-age=0x258",
    "max-age=6e2",
    "max-age=600.0",
    "max-age =600",
    "max-age=600, max-age=900",  # repeated directive: neither is trusted
    "max-age=900, max-age=900",
    "s-maxage=²",
    "max-age=\u00a0600",
    "max-age=600\x00",
    "=600",
    ",,,",
    "max-age=600; foo",
], ids=repr)
def test_odd_max_age_uses_default_ttl(key: SigningKey, mode: str, clock: FrozenClock, value: str) -> None:
    probe = fetches_for_ttl(key, mode, clock, value.encode())
    assert probe(299) == 1
    assert probe(300) == 2


@pytest.mark.parametrize("digits", ["1" + "0" * 400, "9" * 5000, "0" * 5000 + "600000"], ids=["10**400", "5000 nines", "padded"])
def test_huge_max_age_is_clamped_to_max_ttl(key: SigningKey, mode: str, clock: FrozenClock, digits: str) -> None:
    probe = fetches_for_ttl(key, mode, clock, b"max-age=" + digits.encode())
    assert probe(86_399) == 1  # discovery_max_ttl is 86400
    assert probe(86_400) == 2


@pytest.mark.parametrize(("value", "ttl"), [
    ('max-age="600"', 600),  # the quoted form recipients ought to accept (RFC 9111 5.2)
    ("MAX-AGE=600", 600),
    ("public, max-age=600", 600),
    ("max-age=0600", 600),
    ("max-age=600, s-maxage=900", 900),
    ("max-age=600, s-maxage=²", 600),  # a bad s-maxage falls back to a good max-age
    ("no-store, max-age=²", 30),  # no-store still honoured (the minimum TTL)
    ('no-cache="set-cookie", max-age=600', 30),
    ('private="a, b", max-age=600', 600),  # a comma inside a quoted argument
], ids=repr)
def test_well_formed_cache_control_is_still_honoured(key: SigningKey, mode: str, clock: FrozenClock,
                                                     value: str, ttl: int) -> None:
    probe = fetches_for_ttl(key, mode, clock, value.encode())
    assert probe(ttl - 1) == 1
    assert probe(ttl) == 2


# ----------------------------------------------------------------------------- defect 4: siblings


@pytest.mark.parametrize("length", ["²", "-1", "1,1", "0x10", "", "\uff11\uff12"], ids=repr)
def test_malformed_content_length_is_not_trusted(key: SigningKey, mode: str, clock: FrozenClock,
                                                 length: str) -> None:
    body = jwks_body(key)
    d = discovery(raw_response(body, [(b"content-length", length.encode())]), clock)
    keys = call(d, mode, "jwks", JWKS)  # ignored: the body is still counted as it arrives
    assert [k.thumbprint for k in keys] == [key.thumbprint]


def test_huge_declared_content_length_is_document_too_large(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    d = discovery(raw_response(jwks_body(key), [(b"content-length", b"9" * 5000)]), clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "jwks", JWKS)
    assert exc.value.code == "document_too_large"


@pytest.mark.parametrize("jwks_uri", ["https://[::1", "https://[v7.x]/jwks.json", "https://publisher.example:99999/j",
                                      "https://publisher.example:x/j", "https://%zz/j"], ids=repr)
def test_unparseable_jwks_uri_in_metadata_is_a_clean_401(mode: str, clock: FrozenClock, jwks_uri: str) -> None:
    meta = json.dumps({"agent": AGENT, "jwks_uri": jwks_uri}).encode()
    d = discovery(raw_response(meta, []), clock)
    with pytest.raises(AAuthError) as exc:
        call(d, mode, "key_for", AGENT, "aauth-agent", "key-1")
    assert exc.value.code in ("invalid_metadata", "blocked_url")
    assert exc.value.status_code == 401


def test_deeply_nested_document_is_refused(mode: str, clock: FrozenClock) -> None:
    body = b'{"keys": [], "x": ' + b"[" * 500 + b"]" * 500 + b"}"
    d = discovery(raw_response(body, []), clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "jwks", JWKS)
    assert exc.value.code == "invalid_jwks"


# ----------------------------------------------------------------------------- defect 7: URL shape


QUERY_URLS = [
    "https://victim.example/jwks.json?x=1",
    "https://victim.example/admin/delete?id=7",
    "https://victim.example/jwks.json?",
    "https://victim.example/jwks.json#frag",
    "https://user@victim.example/jwks.json",
]


@pytest.mark.parametrize("url", QUERY_URLS)
def test_query_fragment_or_userinfo_in_jwks_url_is_refused_before_any_fetch(mode: str, clock: FrozenClock,
                                                                           url: str) -> None:
    d = discovery(None, clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "jwks_key", url, "key-1")
    assert exc.value.code == "blocked_url"
    assert exc.value.status_code == 401


@pytest.mark.parametrize("url", QUERY_URLS)
def test_query_in_identifier_used_as_jwks_is_refused_before_any_fetch(mode: str, clock: FrozenClock,
                                                                     url: str) -> None:
    d = discovery(None, clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "key_for", url, None, "key-1")
    assert exc.value.code == "blocked_url"


@pytest.mark.parametrize("url", QUERY_URLS)
def test_query_in_x5u_is_refused_before_any_fetch(mode: str, clock: FrozenClock, url: str) -> None:
    d = discovery(None, clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "fetch_text", url)
    assert exc.value.code == "blocked_url"


@pytest.mark.parametrize("jwks_uri", QUERY_URLS)
def test_query_in_jwks_uri_of_fetched_metadata_is_refused_before_fetching_it(mode: str, clock: FrozenClock,
                                                                            jwks_uri: str) -> None:
    meta_url = f"{AGENT}/.well-known/aauth-agent"

    def only_metadata(request: httpx.Request) -> httpx.Response:
        if str(request.url) != meta_url:
            pytest.fail(f"unexpected fetch of {request.url}")
        return httpx.Response(200, json={"agent": AGENT, "jwks_uri": jwks_uri})

    d = discovery(only_metadata, clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "key_for", AGENT, "aauth-agent", "key-1")
    assert exc.value.code == "blocked_url"


@pytest.mark.parametrize("url", ["https://victim.example:99999/jwks.json", "https://victim.example:0/jwks.json",
                                 "https://victim.example:\uff11/jwks.json", "https://victim.example:+443/jwks.json"])
def test_malformed_port_is_refused_before_any_fetch(mode: str, clock: FrozenClock, url: str) -> None:
    d = discovery(None, clock)
    with pytest.raises(DiscoveryError) as exc:
        call(d, mode, "jwks_key", url, "key-1")
    assert exc.value.code == "blocked_url"


def test_paths_without_query_still_work(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    d = discovery(raw_response(jwks_body(key), []), clock)
    assert call(d, mode, "jwks_key", "https://publisher.example/a/b/jwks.json", "key-1").thumbprint == key.thumbprint


# ----------------------------------------------------------------------------- defect 7: per-host budget


def not_found(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404)


def flood(d: Discovery, mode: str, urls: list[str]) -> list[DiscoveryError]:
    errors: list[DiscoveryError] = []
    for url in urls:
        with pytest.raises(DiscoveryError) as exc:
            call(d, mode, "jwks_key", url, "key-1")
        errors.append(exc.value)
    return errors


def test_flood_of_distinct_urls_on_a_failing_host_costs_a_few_fetches(mode: str, clock: FrozenClock) -> None:
    handler = Counting(not_found)
    d = discovery(handler, clock)
    errors = flood(d, mode, [f"{VICTIM}/p{i}" for i in range(100)])
    assert handler.total == 5  # discovery_failed_host_budget
    assert {e.code for e in errors} == {"discovery_failed"}
    assert all(e.status_code == 401 for e in errors)
    assert "rate-limited" in errors[-1].description


def test_repeating_one_failing_url_is_limited_too(mode: str, clock: FrozenClock) -> None:
    handler = Counting(not_found)
    d = discovery(handler, clock)
    flood(d, mode, [f"{VICTIM}/jwks.json"] * 50)
    assert handler.total == 5


@pytest.mark.parametrize("failure", ["refused", "timeout", "not-json", "500"])
def test_every_kind_of_failure_starts_the_budget(mode: str, clock: FrozenClock, failure: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        if failure == "refused":
            raise httpx.ConnectError("refused", request=request)
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "not-json":
            return httpx.Response(200, content=b"<html>")
        return httpx.Response(500)

    handler = Counting(fail)
    d = discovery(handler, clock)
    errors = flood(d, mode, [f"{VICTIM}/p{i}" for i in range(30)])
    assert handler.total == 5
    assert errors[-1].code == "discovery_failed"


def test_budget_refills_with_the_injected_clock(mode: str, clock: FrozenClock) -> None:
    handler = Counting(not_found)
    d = discovery(handler, clock)
    flood(d, mode, [f"{VICTIM}/a{i}" for i in range(20)])
    assert handler.total == 5
    clock.advance(12)  # one fetch back (5 a minute)
    flood(d, mode, [f"{VICTIM}/b{i}" for i in range(20)])
    assert handler.total == 6
    clock.advance(120)  # quiet for two minutes: the whole budget is back, no more
    flood(d, mode, [f"{VICTIM}/c{i}" for i in range(20)])
    assert handler.total == 6 + 5


def test_budget_is_per_host(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    body = jwks_body(key)

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "victim.example":
            return httpx.Response(404)
        return httpx.Response(200, content=body)

    handler = Counting(respond)
    d = discovery(handler, clock)
    flood(d, mode, [f"{VICTIM}/p{i}" for i in range(20)])
    assert call(d, mode, "jwks_key", JWKS, "key-1").thumbprint == key.thumbprint
    flood(d, mode, [f"{VICTIM}:8443/p{i}" for i in range(5)])  # another port is the same host
    assert handler.calls[JWKS] == 1
    assert handler.total == 5 + 1


def test_successful_fetches_do_not_use_up_the_budget(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    handler = Counting(raw_response(jwks_body(key), []))
    d = discovery(handler, clock)
    for i in range(50):  # a host serving many good documents (many agents on one platform) is not limited
        assert call(d, mode, "jwks_key", f"https://platform.example/u{i}/jwks.json", "key-1")
    assert handler.total == 50


def test_budget_setting_is_configurable_and_must_be_positive(mode: str, clock: FrozenClock) -> None:
    handler = Counting(not_found)
    d = discovery(handler, clock, discovery_failed_host_budget=2)
    flood(d, mode, [f"{VICTIM}/p{i}" for i in range(20)])
    assert handler.total == 2
    with pytest.raises(AAuthError) as exc:
        AAuthSettings(discovery_failed_host_budget=0)
    assert exc.value.code == "invalid_settings"


def test_rate_limited_refresh_serves_the_stale_copy(key: SigningKey, mode: str, clock: FrozenClock) -> None:
    body = jwks_body(key)
    state = {"up": True}

    def respond(request: httpx.Request) -> httpx.Response:
        if state["up"] and str(request.url) == JWKS:
            return httpx.Response(200, content=body)
        return httpx.Response(503)

    handler = Counting(respond)
    d = discovery(handler, clock)
    call(d, mode, "jwks", JWKS)
    state["up"] = False
    clock.advance(301)
    for _ in range(20):  # the publisher is down: the cached copy is served, the host is asked rarely
        assert len(call(d, mode, "jwks", JWKS)) == 1
    assert handler.calls[JWKS] == 1 + 5


def test_failed_host_table_is_bounded(mode: str, clock: FrozenClock) -> None:
    d = discovery(not_found, clock)
    flood(d, mode, [f"https://h{i}.example/jwks.json" for i in range(5000)])
    assert len(d._host_budget) <= 4096


def test_concurrent_flood_async_is_limited(clock: FrozenClock) -> None:
    handler = Counting(not_found)
    d = discovery(handler, clock)

    async def go() -> list[BaseException | Any]:
        return await asyncio.gather(*(d.ajwks_key(f"{VICTIM}/p{i}", "k") for i in range(200)), return_exceptions=True)

    results = asyncio.run(go())
    assert all(isinstance(r, DiscoveryError) and r.code == "discovery_failed" for r in results)
    assert handler.total == 5


# ----------------------------------------------------------------------------- through an adapter


def _starlette(world: AttackWorld) -> TestClient:
    from ..starlette.apps import resource_settings, starlette_app

    return TestClient(starlette_app(world, resource_settings()), base_url=RESOURCE, raise_server_exceptions=False)


def _signed(world: AttackWorld, params: dict[str, str]) -> dict[str, str]:
    from ..conftest import signed_request

    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key, params=params,
                                created=int(world.clock()))
    return headers


def test_starlette_jwks_url_with_query_is_401_blocked_url_without_a_fetch(world: AttackWorld) -> None:
    client = _starlette(world)
    r = client.get("/data", headers=_signed(world, {"jwks": f"{VICTIM}/admin?delete=1", "kid": "key-1"}))
    assert r.status_code == 401
    assert r.json()["error"] == "blocked_url"
    assert "victim.example" not in world.net.hosts_seen()


def test_starlette_unicode_max_age_is_not_a_500(world: AttackWorld) -> None:
    body = json.dumps(jwks_document([world.agent.key])).encode()
    world.net.respond(f"{AGENT}/jwks.json", lambda request, is_async: httpx.Response(
        200, content=body, headers=[(b"cache-control", "max-age=²".encode())]))
    client = _starlette(world)
    r = client.get("/data", headers=_signed(world, {"id": AGENT, "kid": "key-1", "well-known": "aauth-agent"}))
    assert r.status_code == 200, r.text


def test_starlette_flood_on_one_host_is_401_rate_limited(world: AttackWorld) -> None:
    client = _starlette(world)
    codes = []
    for i in range(30):
        r = client.get("/data", headers=_signed(world, {"jwks": f"{VICTIM}/p{i}", "kid": "key-1"}))
        codes.append((r.status_code, r.json()["error"]))
    assert set(codes) == {(401, "discovery_failed")}
    assert sum(n for url, n in world.net.calls.items() if "victim.example" in url) == 5
