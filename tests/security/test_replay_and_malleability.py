"""Replay protection against two bypasses: ECDSA malleability and replay-cache flooding.

* **Malleability.**  For an ECDSA P-256 signature ``(r, s)``, ``(r, n - s)`` is a second
  valid signature over the same base.  A replay cache keyed on signature bytes would see
  it as new.  Both forms verify (RFC 9421 does not require low-S and WebCrypto signers do
  not normalise), but the replay cache is keyed on the low-S form, so the twin of a seen
  signature is 401 ``replayed_request``; our own signer always emits low-S.
* **Flooding.**  Anyone can sign with a fresh ``hwk`` key for free.  The in-memory replay
  cache must never forget an unexpired entry to make room: when it is full it refuses
  new requests with 503 ``cache_unavailable`` and a ``Retry-After``, and a captured
  request stays a replay until its ``created`` window has closed.

Real keys, real signatures, real tokens; a frozen clock; adapters through their own
test clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient

from aauth_core.cache import MemoryReplayCache
from aauth_core.errors import AAuthError, CacheUnavailable, ReplayError
from aauth_core.headers import format_signature, parse_signature
from aauth_core.keys import PublicKey, SigningKey, canonical_signature
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import mint_auth_token
from aauth_core.verifier import Verifier

from ..conftest import AGENT, ISSUER, NOW, RESOURCE, FrozenClock, signed_request
from .conftest import AttackWorld

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256 = ("ed25519", "ecdsa-p256-sha256")
URL = f"{RESOURCE}/data"
WINDOW = 60 + 1  # created_max_age (default) + 1: how long the verifier files a signature


# ----------------------------------------------------------------------------- helpers


def _split(signature: bytes) -> tuple[int, int]:
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")


def _join(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _low_and_high(headers: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The request in its low-S form and its malleated high-S twin (same base, same key)."""
    label, signature = parse_signature(headers["Signature"])
    r, s = _split(signature)
    low, high = min(s, P256_N - s), max(s, P256_N - s)
    assert low != high
    return ({**headers, "Signature": format_signature(label, _join(r, low))},
            {**headers, "Signature": format_signature(label, _join(r, high))})


def _p256_request(key: SigningKey, *, url: str = URL, created: int = NOW, **kw: Any) -> dict[str, str]:
    headers, _ = signed_request("GET", url, key=key, scheme="hwk", created=created, **kw)
    return headers


def _view(headers: dict[str, str], url: str = URL) -> RequestView:
    return RequestView.from_url("GET", url, headers)


def _verifier(world: AttackWorld, **overrides: Any) -> Verifier:
    values: dict[str, Any] = dict(resource_id=RESOURCE, trusted_issuers=(ISSUER,), algorithms=P256)
    values.update(overrides)
    settings = AAuthSettings(**values)
    return Verifier(settings, discovery=world.discovery(settings), clock=world.clock)


def _refused(call: Callable[[], object]) -> AAuthError:
    with pytest.raises(AAuthError) as err:
        call()
    return err.value


class DictReplayCache:
    """A shared-store stand-in (not a MemoryReplayCache): the verifier takes the I/O path,
    under the hashed ``aauth:replay:`` names a Redis cache would store."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.entries: dict[str, float] = {}

    def add(self, key: str, expires_at: float) -> bool:
        if key in self.entries and self.entries[key] > self.clock():
            return False
        self.entries[key] = expires_at
        return True

    async def aadd(self, key: str, expires_at: float) -> bool:
        return self.add(key, expires_at)


# ----------------------------------------------------------------------------- ECDSA malleability


def test_our_p256_signer_always_emits_low_s() -> None:
    key = SigningKey.generate("p256", kid="p")
    for i in range(64):  # cryptography's ECDSA is randomised: half of raw signatures are high-S
        _, s = _split(key.sign(f"message {i}".encode()))
        assert s <= P256_N // 2


def test_high_s_twin_of_a_seen_signature_is_not_a_new_request(world: AttackWorld) -> None:
    """Both S forms verify (WebCrypto signers do not normalise), but the replay cache is keyed
    on the low-S form: the twin of a seen signature is a replay."""
    verifier = _verifier(world)
    low, high = _low_and_high(_p256_request(SigningKey.generate("p256")))
    assert verifier.verify(_view(low)) is not None
    err = _refused(lambda: verifier.verify(_view(high)))
    assert isinstance(err, ReplayError)
    assert (err.status_code, err.code) == (401, "replayed_request")
    assert err.headers.get("Agent-Auth")  # a 401 carries its challenge
    assert _refused(lambda: verifier.verify(_view(low))).code == "replayed_request"


def test_high_s_seen_first_verifies_and_its_low_s_twin_is_the_replay(world: AttackWorld) -> None:
    verifier = _verifier(world)
    low, high = _low_and_high(_p256_request(SigningKey.generate("p256")))
    assert verifier.verify(_view(high)) is not None
    assert _refused(lambda: verifier.verify(_view(low))).code == "replayed_request"


async def test_high_s_twin_is_refused_on_the_shared_cache_path(world: AttackWorld) -> None:
    """With a shared (Redis-like) replay cache the key is a hash of thumbprint and the
    canonical (low-S) signature: the twin hashes to the same entry."""
    shared = DictReplayCache(world.clock)
    settings = AAuthSettings(resource_id=RESOURCE, trusted_issuers=(ISSUER,), algorithms=P256)
    verifier = Verifier(settings, discovery=world.discovery(settings), replay_cache=shared, clock=world.clock)
    low, high = _low_and_high(_p256_request(SigningKey.generate("p256")))
    assert await verifier.averify(_view(low)) is not None
    with pytest.raises(ReplayError) as err:
        await verifier.averify(_view(high))
    assert err.value.code == "replayed_request"
    assert len(shared.entries) == 1
    with pytest.raises(ReplayError):
        verifier.verify(_view(low))


def test_high_s_twin_through_the_starlette_adapter(world: AttackWorld) -> None:
    from ..starlette.apps import resource_settings, starlette_app

    app = starlette_app(world, resource_settings(algorithms=P256))
    client = TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)
    low, high = _low_and_high(_p256_request(SigningKey.generate("p256")))
    assert client.get("/data", headers=low).status_code == 200
    twin = client.get("/data", headers=high)
    assert (twin.status_code, twin.json()["error"]) == (401, "replayed_request")
    assert "agent-auth" in twin.headers
    assert app.state.calls == ["/data"]  # the handler ran for the original only


def test_p256_jwks_agent_low_s_signatures_verify_every_time(world: AttackWorld) -> None:
    """The normalised signer interoperates with the strict verifier, for a published key too."""
    from aauth_core import dialect

    from ..conftest import Party

    agent = Party(AGENT, SigningKey.generate("p256", kid="ec-1"), dialect.WELL_KNOWN_AGENT)
    agent.publish(world.network)
    verifier = _verifier(world)
    for i in range(24):
        headers, _ = signed_request("GET", f"{URL}/{i}", key=agent.key)
        verified = verifier.verify(_view(headers, f"{URL}/{i}"))
        assert verified is not None and verified.agent == AGENT


def test_public_key_verify_takes_either_s_form_and_refuses_other_lengths() -> None:
    key = SigningKey.generate("p256")
    message = b"base"
    signature = key.sign(message)
    r, s = _split(signature)
    assert key.public.verify(signature, message)
    assert key.public.verify(_join(r, P256_N - s), message)  # the twin: valid ECDSA (replay-keyed as one)
    assert canonical_signature(_join(r, P256_N - s)) == signature == canonical_signature(signature)
    assert not key.public.verify(signature + b"\0", message)
    assert not key.public.verify(_join(r, s ^ 1), message)
    # An independent low-S signature from cryptography itself (normalised by hand) verifies.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    assert isinstance(key.private, ec.EllipticCurvePrivateKey)
    r2, s2 = decode_dss_signature(key.private.sign(message, ec.ECDSA(hashes.SHA256())))
    assert key.public.verify(_join(r2, min(s2, P256_N - s2)), message)
    assert key.public.verify(_join(r2, max(s2, P256_N - s2)), message)


def test_malleated_es256_token_does_not_revive_a_captured_request(world: AttackWorld) -> None:
    """Sibling check (tokens are not replay-keyed, they are meant to be presented again):
    swapping a captured request's ES256 auth token for its high-S twin changes the
    covered Signature-Key, so the captured HTTP signature no longer verifies."""
    issuer = SigningKey.generate("p256", kid="as-ec")
    world.network.publish(f"{ISSUER}/jwks.json", {"keys": [issuer.public_jwk()]})
    token = mint_auth_token(issuer, iss=ISSUER, aud=RESOURCE, cnf_jwk=world.agent.key.public_jwk(),
                            now=world.clock(), agent=AGENT, scope="data.read")
    head, payload, sig = token.split(".")
    from aauth_core.keys import b64url_decode, b64url_encode

    r, s = _split(b64url_decode(sig))
    twin_token = f"{head}.{payload}.{b64url_encode(_join(r, P256_N - s))}"
    verifier = _verifier(world)
    headers, _ = signed_request("GET", URL, key=world.agent.key, scheme="jwt", params={"jwt": token})
    assert verifier.verify(_view(headers)) is not None
    replay = {**headers, "Signature-Key": headers["Signature-Key"].replace(token, twin_token)}
    assert replay != headers
    err = _refused(lambda: verifier.verify(_view(replay)))
    assert err.code in ("invalid_signature", "replayed_request")


# ----------------------------------------------------------------------------- replay-cache flooding


def _junk(created: int = NOW, url: str = URL) -> dict[str, str]:
    """A request signed with a brand-new ``hwk`` key: what a flooder sends for free."""
    headers, _ = signed_request("GET", url, key=SigningKey.generate(), scheme="hwk", created=created)
    return headers


def _captured(world: AttackWorld, created: int = NOW) -> dict[str, str]:
    headers, _ = signed_request("GET", URL, key=world.agent.key, created=created)
    return headers


def test_memory_cache_never_evicts_an_unexpired_entry() -> None:
    clock = FrozenClock()
    cache = MemoryReplayCache(max_entries=8, clock=clock)
    assert cache.add(b"captured", clock() + WINDOW)
    for i in range(7):
        assert cache.add(f"junk-{i}".encode(), clock() + WINDOW + 1 + i)
    for i in range(100):
        with pytest.raises(CacheUnavailable) as err:
            cache.add(f"flood-{i}".encode(), clock() + WINDOW)
        assert err.value.status_code == 503 and err.value.code == "cache_unavailable"
        assert err.value.headers["Retry-After"] == str(WINDOW)
    assert len(cache) == 8
    assert cache.add(b"captured", clock() + WINDOW) is False  # still a replay
    clock.advance(WINDOW)  # the captured entry (the oldest) expires: purged to make room
    assert cache.add(b"captured", clock() + WINDOW) is True
    with pytest.raises(CacheUnavailable) as err:
        cache.add(b"one-more", clock() + WINDOW)
    assert err.value.headers["Retry-After"] == "1"  # junk-1 expires a second later


async def test_memory_cache_async_twin_refuses_when_full() -> None:
    clock = FrozenClock()
    cache = MemoryReplayCache(max_entries=2, clock=clock)
    assert await cache.aadd("a", clock() + 10)
    assert await cache.aadd("b", clock() + 10.5)
    with pytest.raises(CacheUnavailable) as err:
        await cache.aadd("c", clock() + 10)
    assert err.value.headers["Retry-After"] == "10"
    assert await cache.aadd("a", clock() + 10) is False


def test_retry_after_is_at_least_one_second() -> None:
    clock = FrozenClock(NOW + 0.75)
    cache = MemoryReplayCache(max_entries=1, clock=clock)
    assert cache.add("a", NOW + 1)  # expires 0.25 s from now
    with pytest.raises(CacheUnavailable) as err:
        cache.add("b", NOW + 30)
    assert err.value.headers["Retry-After"] == "1"


def test_flooding_cannot_make_a_captured_request_replayable(world: AttackWorld,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    verifier = _verifier(world, replay_cache_size=8)
    captured = _captured(world)
    assert verifier.verify(_view(captured)) is not None
    accepted = refused = 0
    with caplog.at_level(logging.WARNING, logger="aauth.core"):
        for i in range(200):  # far more than the capacity: the flood the review describes, scaled down
            try:
                verifier.verify(_view(_junk(url=f"{URL}/{i}"), f"{URL}/{i}"))
                accepted += 1
            except CacheUnavailable as exc:
                refused += 1
                assert exc.status_code == 503 and exc.headers["Retry-After"] == str(WINDOW)
    assert (accepted, refused) == (7, 193)
    err = _refused(lambda: verifier.verify(_view(captured)))
    assert (err.status_code, err.code) == (401, "replayed_request")
    warnings = [r for r in caplog.records if r.name == "aauth.core" and r.levelno == logging.WARNING]
    assert warnings and "replay cache is full" in warnings[0].getMessage()
    assert len(warnings) == 1  # not once per refused request
    signature = captured["Signature"].split(":")[1]
    assert signature not in caplog.text and "eyJ" not in caplog.text


def test_requests_are_accepted_again_once_the_window_has_passed(world: AttackWorld) -> None:
    verifier = _verifier(world, replay_cache_size=8)
    captured = _captured(world)
    verifier.verify(_view(captured))
    for i in range(7):
        verifier.verify(_view(_junk(url=f"{URL}/{i}"), f"{URL}/{i}"))
    world.clock.advance(30)
    with pytest.raises(CacheUnavailable) as err:
        verifier.verify(_view(_junk(created=NOW + 30)))
    assert err.value.headers["Retry-After"] == str(WINDOW - 30)
    world.clock.advance(WINDOW - 30)
    for i in range(8):
        fresh = _junk(created=NOW + WINDOW, url=f"{URL}/later/{i}")
        assert verifier.verify(_view(fresh, f"{URL}/later/{i}")) is not None
    # The captured request is refused for what it now is: stale, not a replay.
    assert _refused(lambda: verifier.verify(_view(captured))).code == "signature_expired"


def test_a_signature_dated_in_the_future_is_remembered_for_its_whole_window(world: AttackWorld) -> None:
    """The entry outlives ``created + created_max_age``, whatever ``created`` the signer chose."""
    verifier = _verifier(world, replay_cache_size=2, created_max_future=60)
    future = _captured(world, created=NOW + 60)
    verifier.verify(_view(future))
    verifier.verify(_view(_junk()))
    world.clock.advance(WINDOW + 59)  # the junk entry is gone, the future-dated one is not
    verifier.verify(_view(_junk(created=NOW + WINDOW + 59)))
    assert _refused(lambda: verifier.verify(_view(future))).code == "replayed_request"
    world.clock.advance(1)
    assert _refused(lambda: verifier.verify(_view(future))).code == "signature_expired"


async def test_flooding_through_averify(world: AttackWorld) -> None:
    verifier = _verifier(world, replay_cache_size=4)
    captured = _captured(world)
    assert await verifier.averify(_view(captured)) is not None
    for i in range(3):
        await verifier.averify(_view(_junk(url=f"{URL}/{i}"), f"{URL}/{i}"))
    results = await asyncio.gather(*(verifier.averify(_view(_junk(url=f"{URL}/x{i}"), f"{URL}/x{i}"))
                                     for i in range(20)), return_exceptions=True)
    assert all(isinstance(r, CacheUnavailable) for r in results)
    with pytest.raises(ReplayError):
        await verifier.averify(_view(captured))


# ----------------------------------------------------------------------------- through every adapter

ADAPTERS = ["starlette", "fastapi", "flask", "django-wsgi", "django-asgi"]
Send = Callable[[dict[str, str], str], tuple[int, dict[str, str], bytes]]


def _adapter(request: pytest.FixtureRequest, world: AttackWorld, adapter: str) -> Send:
    settings = {"replay_cache_size": 8}
    if adapter in ("starlette", "fastapi"):
        from ..starlette.apps import fastapi_app, resource_settings, starlette_app

        build = starlette_app if adapter == "starlette" else fastapi_app
        client = TestClient(build(world, resource_settings(**settings)), base_url=RESOURCE,
                            raise_server_exceptions=False)

        def send_starlette(headers: dict[str, str], path: str) -> tuple[int, dict[str, str], bytes]:
            r = client.get(path, headers=headers)
            return r.status_code, dict(r.headers), r.content

        return send_starlette
    if adapter == "flask":
        from ..flask.apps import scenario_app

        flask_client = scenario_app(world, "decorators", {"AAUTH_REPLAY_CACHE_SIZE": 8}).test_client()

        def send_flask(headers: dict[str, str], path: str) -> tuple[int, dict[str, str], bytes]:
            r = flask_client.get(path, headers=headers, base_url=RESOURCE)
            return r.status_code, dict(r.headers), r.get_data()

        return send_flask
    from django.test import Client

    from ..django.clients import RawPathAsyncClient
    from ..django.conftest import AAUTH

    request.getfixturevalue("django_service")
    django_settings = request.getfixturevalue("settings")
    is_async = adapter == "django-asgi"
    django_settings.ROOT_URLCONF = "tests.security.django_urls_async" if is_async else "tests.security.django_urls"
    django_settings.AAUTH = {**AAUTH, "REPLAY_CACHE_SIZE": 8}

    def send_django(headers: dict[str, str], path: str) -> tuple[int, dict[str, str], bytes]:
        if is_async:
            async def go() -> Any:
                return await RawPathAsyncClient().get(path, headers=headers)

            r = async_to_sync(go)()
        else:
            r = Client(raise_request_exception=False).get(path, headers=headers)
        return r.status_code, dict(r.headers), r.content

    return send_django


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_full_replay_cache_is_a_503_with_retry_after_through_every_adapter(
        request: pytest.FixtureRequest, world: AttackWorld, adapter: str) -> None:
    import json

    send = _adapter(request, world, adapter)
    captured = _captured(world)
    assert send(captured, "/data")[0] == 200
    for _ in range(7):
        assert send(_junk(), "/data")[0] == 200
    status, headers, body = send(_junk(), "/data")
    assert status == 503, body
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["retry-after"] == str(WINDOW)
    assert lower["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "cache_unavailable"
    status, _, body = send(captured, "/data")
    assert (status, json.loads(body)["error"]) == (401, "replayed_request")
    world.clock.advance(WINDOW)
    assert send(_junk(created=NOW + WINDOW), "/data")[0] == 200


def test_direct_public_key_import_follows_the_same_rule() -> None:
    """A key imported from a JWK (how agents' keys arrive) verifies the same way."""
    key = SigningKey.generate("p256")
    public = PublicKey.from_jwk(key.public_jwk())
    signature = key.sign(b"m")
    r, s = _split(signature)
    assert public.verify(signature, b"m") and public.verify(_join(r, P256_N - s), b"m")
    assert not public.verify(_join(r, (s + 1) % P256_N), b"m")



async def test_full_replay_cache_at_the_auth_server_is_503_with_retry_after(world: AttackWorld) -> None:
    """The token endpoint keeps the cache's Retry-After (it was dropped: a bare 503)."""
    from aauth_core import dialect
    from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, Lifetimes, MemoryUserStore
    from aauth_starlette.authserver import build_auth_server_app

    from ..authserver.conftest import AS, DOWNSTREAM, UPSTREAM, USERS
    from ..conftest import Party

    upstream = Party(UPSTREAM, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER)
    downstream = Party(DOWNSTREAM, SigningKey.generate(kid="resource-key-1"), dialect.WELL_KNOWN_RESOURCE)
    cfg = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], trusted_upstreams=(UPSTREAM,),
                           lifetimes=Lifetimes())
    server = AuthServer(cfg, policy=AllowAll(), users=MemoryUserStore(USERS),
                        discovery=world.discovery(cfg.verifier_settings()), clock=world.clock,
                        replay_cache=MemoryReplayCache(max_entries=1, clock=world.clock))
    env = AS(world=world, server=server, upstream=upstream, downstream=downstream)
    env.app = build_auth_server_app(server)
    form = {"request_type": "auth", "redirect_uri": "https://agent.example/callback"}
    first = await env.post({**form, "resource_token": env.resource_token()})
    assert first.status_code == 200, first.text
    full = await env.post({**form, "resource_token": env.resource_token()})
    assert (full.status_code, full.json()["error"]) == (503, "server_error")
    assert int(full.headers["retry-after"]) >= 1 and full.headers["cache-control"] == "no-store"
    assert "auth_token" not in full.json()
