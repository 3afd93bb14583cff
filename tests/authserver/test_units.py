"""The auth server's parts on their own: store, users, policies, config, the sync consent driver."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from aauth_core.authserver import (
    AllowAll,
    AuthServerConfig,
    ConsentError,
    Decision,
    DenyAll,
    Lifetimes,
    MemoryStore,
    MemoryUserStore,
    PolicyRequest,
    RequireConsent,
    ScopeLimits,
    User,
    hash_password,
    verify_password,
)
from aauth_core.keys import SigningKey
from aauth_core.settings import SettingsError

from ..conftest import AGENT, ISSUER, RESOURCE, FrozenClock, World
from .conftest import REDIRECT, MakeAS, assert_refused


def test_memory_store_expiry_and_atomic_take(clock: FrozenClock) -> None:
    store = MemoryStore(clock=clock)
    store.put("code", "k", {"a": 1}, clock() + 60)
    assert store.get("code", "k") == {"a": 1}
    assert store.get("pending", "k") is None  # kinds are separate
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(store.take("code", "k"))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r for r in results if r is not None] == [{"a": 1}]
    store.put("code", "k2", {"b": 2}, clock() + 60)
    clock.advance(60)
    assert store.get("code", "k2") is None and store.take("code", "k2") is None
    assert len(store) == 0


def test_memory_store_is_bounded(clock: FrozenClock) -> None:
    store = MemoryStore(clock=clock, max_entries=2)
    for i in range(3):
        store.put("session", str(i), {"i": i}, clock() + 60)
    assert len(store) == 2 and store.get("session", "0") is None


def test_passwords_are_hashed_and_checked() -> None:
    encoded = hash_password("s3cret")
    assert encoded.startswith("scrypt$") and "s3cret" not in encoded
    assert verify_password("s3cret", encoded) and not verify_password("s3cret!", encoded)
    assert not verify_password("x", "garbage")
    users = MemoryUserStore({"bob": "pw"}, names={"bob": "Bob"})
    assert users.authenticate("bob", "pw") == User("bob", "Bob")
    assert users.authenticate("bob", "PW") is None and users.authenticate("eve", "pw") is None


def test_builtin_policies() -> None:
    req = PolicyRequest("auth", AGENT, RESOURCE, frozenset({"a", "b"}))
    assert AllowAll().decide(req) == Decision("grant", None)
    assert RequireConsent().decide(req).outcome == "consent"
    assert RequireConsent().decide(PolicyRequest("exchange", AGENT, RESOURCE, frozenset())).outcome == "grant"
    assert DenyAll().decide(req).outcome == "deny"
    limited = AllowAll(ScopeLimits({RESOURCE + "/": ["a"]}, default=[]))
    assert limited.decide(req).scope == {"a"}
    assert limited.decide(PolicyRequest("auth", AGENT, "https://x.example", frozenset())).scope == frozenset()


def test_config_validation() -> None:
    key = SigningKey.generate(kid="k")
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer="not a url", keys=[key])
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer=ISSUER, keys=[])
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer=ISSUER, keys=[SigningKey.generate()])  # no kid
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer=ISSUER, keys=[key], settings={"trusted_issuers": ["https://x.example"]})
    with pytest.raises(SettingsError):
        Lifetimes(code=0)
    config = AuthServerConfig(issuer=ISSUER + "/", keys=[key], trusted_upstreams=("https://up.example/",),
                              settings={"created_max_age": 30})
    settings = config.verifier_settings()
    assert config.issuer == ISSUER and settings.resource_id == ISSUER
    assert settings.trusted_issuers == ("https://up.example",) and settings.created_max_age == 30


async def _pending(make_as: MakeAS, **kw: object) -> tuple[object, str]:
    env = make_as(**kw)
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT + "?app=1"})
    return env, response.json()["request_token"]


async def test_sync_consent_driver(make_as: MakeAS, world: World) -> None:
    env, request_token = await _pending(make_as, policy=RequireConsent())
    server = env.server  # type: ignore[attr-defined]
    consent = server.consent_request(request_token, REDIRECT + "?app=1")
    assert consent.agent == AGENT and consent.resource == RESOURCE
    assert [s for s, _ in consent.scopes] == ["data.read", "data.write"]
    with pytest.raises(ConsentError):
        server.consent_request(request_token, REDIRECT)
    session_id, session = server.new_session()
    assert server.session(session_id) == session and session.user is None
    new_id, logged_in = server.login(session_id, User("alice"))
    assert server.session(session_id) is None and server.session(new_id) == logged_in
    assert logged_in.user == "alice" and logged_in.csrf != session.csrf
    location = server.approve(request_token, User("alice"), state="st")
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert query["app"] == ["1"] and query["state"] == ["st"] and "code" in query  # the registered query is kept
    with pytest.raises(ConsentError):
        server.deny(request_token)  # already answered


async def test_policy_can_refuse_after_consent(make_as: MakeAS) -> None:
    class OnlyBob:
        def decide(self, request: PolicyRequest) -> Decision:
            if request.request_type == "auth":
                return Decision.consent()
            return Decision.grant() if request.user == "bob" else Decision.deny()

    env, request_token = await _pending(make_as, policy=OnlyBob())
    location = await env.server.aapprove(request_token, User("alice"))  # type: ignore[attr-defined]
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]

    class NarrowToNothing:
        def decide(self, request: PolicyRequest) -> Decision:
            return Decision.consent() if request.request_type == "auth" else Decision.grant({"other"})

    env, request_token = await _pending(make_as, policy=NarrowToNothing())
    location = await env.server.aapprove(request_token, User("alice"))  # type: ignore[attr-defined]
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    assert env.stored() == 0  # type: ignore[attr-defined]


async def test_unknown_upstream_kid_is_an_invalid_token(make_as: MakeAS, world: World) -> None:
    from aauth_core.tokens import mint_auth_token

    env = make_as()
    upstream = mint_auth_token(SigningKey.generate(kid="nope"), iss=env.upstream.id, aud=RESOURCE,
                               cnf_jwk=world.agent.key.public_jwk(), now=world.clock(), agent=AGENT, scope="a")
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, upstream))
    assert_refused(response, 401, "invalid_token", env)
