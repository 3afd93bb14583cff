"""The verifier pipeline, driven through the shared scenario table, sync and async."""

from __future__ import annotations

import hashlib

import pytest

from aauth_core import dialect
from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.headers import parse_agent_auth
from aauth_core.request import RequestView
from aauth_core.resource import ResourceIdentity
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.verifier import Verifier

from ..conftest import AGENT, ISSUER, RESOURCE, World
from ..scenarios import SCENARIOS, Request, Scenario, requirement_for


def resource_settings(**overrides) -> AAuthSettings:
    values = dict(resource_id=RESOURCE, auth_server=ISSUER, trusted_issuers=(ISSUER,),
                  resource_scopes=("data.read", "data.write"))
    values.update(overrides)
    return AAuthSettings(**values)


def make_verifier(world: World, **overrides) -> Verifier:
    settings = resource_settings(**overrides)
    resource = ResourceIdentity.from_settings(settings, [world.resource.key], clock=world.clock)
    return Verifier(settings, discovery=world.discovery(settings), resource=resource, clock=world.clock)


def context_of(v: VerifiedRequest, req: Request) -> dict:
    out = v.to_dict()
    out["scope"] = v.scope_text
    if req.body is not None:
        out["body_length"] = len(req.body)
    if req.path.startswith("/files/"):
        from urllib.parse import unquote

        out["name"] = unquote(req.path[len("/files/"):])
    return out


def _view(req: Request) -> RequestView:
    return RequestView.from_url(req.method, req.url, req.headers, req.body)


def _check(s: Scenario, req: Request, outcome: VerifiedRequest | AAuthError) -> None:
    if s.status == 200:
        assert isinstance(outcome, VerifiedRequest), f"{s.name}: {outcome!r}"
        ctx = context_of(outcome, req)
        for k, v in s.context.items():
            assert ctx[k] == v, (s.name, k, ctx[k])
        return
    assert isinstance(outcome, AAuthError), f"{s.name} was accepted"
    assert (outcome.status_code, outcome.code) == (s.status, s.code), f"{s.name}: {outcome!r}"
    assert outcome.challenge is not None and outcome.challenge.startswith(s.challenge or ""), outcome.challenge
    assert "eyJ" not in outcome.description  # never echo tokens


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
def test_scenario_sync(world: World, s: Scenario) -> None:
    verifier = make_verifier(world)
    req = s.build(world)
    requirement = requirement_for(req.path) or Requirement("signature")
    outcome: VerifiedRequest | AAuthError | None = None
    for _ in range(s.repeat):
        try:
            outcome = verifier.authorize(_view(req), requirement)
        except AAuthError as exc:
            outcome = exc
    assert outcome is not None
    _check(s, req, outcome)


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
async def test_scenario_async(world: World, s: Scenario) -> None:
    verifier = make_verifier(world)
    req = s.build(world)
    requirement = requirement_for(req.path) or Requirement("signature")
    outcome: VerifiedRequest | AAuthError | None = None
    for _ in range(s.repeat):
        try:
            outcome = await verifier.aauthorize(_view(req), requirement)
        except AAuthError as exc:
            outcome = exc
    assert outcome is not None
    _check(s, req, outcome)


def test_unsigned_request_yields_no_context(world: World) -> None:
    assert make_verifier(world).verify(RequestView.from_url("GET", RESOURCE + "/data")) is None


def test_resource_token_in_challenge_is_bound_to_the_verified_agent_key(world: World) -> None:
    from ..scenarios import _sign

    req = _sign(world, "GET", "/data-auth")
    with pytest.raises(AAuthError) as err:
        make_verifier(world).authorize(_view(req), Requirement("authorization", frozenset({"data.read"})))
    challenge = parse_agent_auth(err.value.challenge or "")
    assert challenge.auth_server == ISSUER
    token = peek(challenge.resource_token or "")
    assert token.header["typ"] == dialect.TYP_RESOURCE
    assert token.claims["iss"] == RESOURCE and token.claims["aud"] == ISSUER
    assert token.claims["agent"] == AGENT
    assert token.claims["agent_jkt"] == world.agent.key.thumbprint
    assert token.claims["scope"] == "data.read"


def test_step_up_challenge_asks_for_the_needed_scope(world: World) -> None:
    from ..scenarios import _jwt

    req = _jwt(world, "GET", "/data-admin", world.auth_token(scope="data.read"))
    with pytest.raises(AAuthError) as err:
        make_verifier(world).authorize(_view(req), Requirement("authorization", frozenset({"data.admin"})))
    assert err.value.status_code == 403
    token = peek(parse_agent_auth(err.value.challenge or "").resource_token or "")
    assert set(token.claims["scope"].split()) == {"data.read", "data.admin"}


def test_compat_base_verifies_when_enabled(world: World) -> None:
    from ..scenarios import _sign

    req = _sign(world, "GET", "/data", base="demo-2026-01")
    v = make_verifier(world, signature_bases=("rfc9421", "demo-2026-01"))
    assert v.verify(_view(req)) is not None


def test_warm_requests_fetch_each_document_once(world: World) -> None:
    from ..scenarios import _jwt

    v = make_verifier(world, replay_protection=False)
    req = _jwt(world, "GET", "/data-auth", world.auth_token())
    for _ in range(5):
        assert v.verify(_view(req)) is not None
    assert world.network.calls[f"{ISSUER}/.well-known/aauth-issuer"] == 1
    assert world.network.calls[f"{ISSUER}/jwks.json"] == 1
    assert v.token_cache.misses == 1  # the token's JWS was verified once, for the first request


def test_a_warm_token_still_expires(world: World) -> None:
    from ..scenarios import _jwt

    v = make_verifier(world, replay_protection=False)
    token = world.auth_token(lifetime=120)
    assert v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock())))) is not None
    world.clock.advance(90)
    assert v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock())))) is not None
    world.clock.advance(200)  # past exp and the leeway; the request itself is freshly signed
    with pytest.raises(AAuthError) as err:
        v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock()))))
    assert err.value.code == "token_expired"


def test_a_warm_token_is_checked_again_once_its_issuer_rotated_keys(world: World) -> None:
    from aauth_core.keys import SigningKey, jwks_document

    from ..scenarios import _jwt

    v = make_verifier(world, replay_protection=False)
    token = world.auth_token()
    assert v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock())))) is not None
    # The issuer drops the key that signed the token (same kid, new material); once
    # its documents go stale the verifier must not keep trusting what it validated.
    world.network.publish(world.issuer.jwks_uri, jwks_document([SigningKey.generate(kid=world.issuer.key.kid)]))
    world.clock.advance(400)  # documents are served with max-age=300
    with pytest.raises(AAuthError) as err:
        v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock()))))
    assert err.value.code == "invalid_token_signature"
    assert world.network.calls[f"{ISSUER}/jwks.json"] == 2


def test_ssrf_identifier_never_reaches_the_network(world: World) -> None:
    from ..scenarios import _sign

    req = _sign(world, "GET", "/data-jwks", params={"id": "https://10.0.0.1", "kid": "k", "well-known": "aauth-agent"})
    with pytest.raises(AAuthError) as err:
        make_verifier(world).verify(_view(req))
    assert err.value.code == "blocked_url"
    assert not any("10.0.0.1" in url for url in world.network.calls)


def test_canonical_authority_comes_from_settings_not_host(world: World) -> None:
    from ..scenarios import _sign

    req = _sign(world, "GET", "/data")
    view = RequestView.from_url("GET", "https://internal-host:8080/data", req.headers, authority="internal-host:8080")
    assert make_verifier(world).verify(view) is not None


def test_exchange_request_shape(world: World) -> None:
    """A7: upstream auth token in Signature-Key, signature by the intermediary's key."""
    from ..conftest import signed_request

    intermediary = world.resource  # a resource acting as agent
    upstream = world.auth_token(aud=intermediary.id)
    body = b"request_type=exchange&resource_token=x"
    headers, _ = signed_request("POST", f"{ISSUER}/agent/token", key=intermediary.key, scheme="jwt",
                                params={"jwt": upstream}, body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    settings = AAuthSettings(resource_id=ISSUER, trusted_issuers=(ISSUER,))
    v = Verifier(settings, discovery=world.discovery(settings), clock=world.clock)
    view = RequestView.from_url("POST", f"{ISSUER}/agent/token", headers, body)
    verified = v.verify_exchange(view, intermediary=intermediary.id, agent_jkt=intermediary.key.thumbprint)
    assert verified.key_thumbprint == intermediary.key.thumbprint
    assert verified.agent == world.agent.id  # the upstream token's agent
    # the same request signed by someone else's key does not verify
    with pytest.raises(AAuthError) as err:
        v2 = Verifier(settings, discovery=world.discovery(settings), clock=world.clock)
        v2.verify_exchange(view, intermediary=intermediary.id, agent_jkt=world.agent.key.thumbprint)
    assert err.value.code in ("unknown_key", "invalid_signature")
    # upstream aud must be the intermediary
    with pytest.raises(AAuthError) as err:
        v3 = Verifier(settings, discovery=world.discovery(settings), clock=world.clock)
        v3.verify_exchange(view, intermediary="https://someone-else.example", agent_jkt=intermediary.key.thumbprint)
    assert err.value.code == "invalid_audience"


def test_body_bytes_are_hashed_exactly(world: World) -> None:
    from ..scenarios import _sign

    body = b'{"a": 1}\r\n'
    req = _sign(world, "POST", "/upload", body=body)
    assert make_verifier(world).verify(_view(req)) is not None
    assert hashlib.sha256(body).digest()


def test_a_shared_token_cache_never_carries_a_decision_across_audiences(world: World) -> None:
    """The warm-path result cache is keyed by every check, so another resource still says no."""
    from ..scenarios import _jwt

    first = make_verifier(world, replay_protection=False)
    req = _jwt(world, "GET", "/data-auth", world.auth_token())
    assert first.verify(_view(req)) is not None
    settings = resource_settings(resource_id="https://other.example", replay_protection=False)
    other = Verifier(settings, discovery=world.discovery(settings), clock=world.clock, token_cache=first.token_cache)
    view = RequestView.from_url("GET", "https://other.example/data-auth", req.headers, None,
                                authority="api.example")
    with pytest.raises(AAuthError) as err:
        other.verify(view)
    assert err.value.code == "invalid_audience"


def test_cached_token_still_expires(world: World) -> None:
    from ..scenarios import _jwt

    v = make_verifier(world, replay_protection=False)
    token = world.auth_token(lifetime=120)
    assert v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock())))) is not None
    world.clock.advance(200)
    with pytest.raises(AAuthError) as err:
        v.verify(_view(_jwt(world, "GET", "/data-auth", token, created=int(world.clock()))))
    assert err.value.code == "token_expired"


def test_signature_bases_are_logged_only_in_debug_mode(world: World, caplog) -> None:
    """A rejected signature's base helps a developer compare with the signer's; it is
    sensitive, so it appears only with the explicit ``debug`` setting."""
    import logging

    from ..scenarios import _sign, _tamper

    req = _tamper(_sign(world, "GET", "/data"), path="/data-jwks")
    caplog.set_level(logging.DEBUG, logger="aauth.core")
    with pytest.raises(AAuthError):
        make_verifier(world).verify(_view(req))
    assert "@signature-params" not in caplog.text
    caplog.clear()
    with pytest.raises(AAuthError):
        make_verifier(world, debug=True).verify(_view(req))
    assert '"@path": /data-jwks' in caplog.text and "@signature-params" in caplog.text


def test_the_identity_tail_lines_up_with_the_verified_request() -> None:
    # The verifier builds a VerifiedRequest as the signature's five fields followed by an
    # _Identity: the two must name the same fields, in the same order, with the same defaults.
    from aauth_core.resource.prepared import Identity as _Identity

    tail = VerifiedRequest._fields[5:]
    assert _Identity._fields == tail
    assert tuple(_Identity()) == tuple(VerifiedRequest._field_defaults[name] for name in tail)


def test_a_refused_header_pair_is_refused_again_and_the_next_good_one_verifies(world: World) -> None:
    from ..scenarios import _sign

    v = make_verifier(world)
    bad = _sign(world, "GET", "/data-jwks",
                params={"id": AGENT, "kid": "key-1", "well-known": "oauth-authorization-server"})
    for _ in range(2):  # what _prepare refuses is never kept
        with pytest.raises(AAuthError) as err:
            v.verify(_view(bad))
        assert err.value.code == "invalid_signature_key"
    first = v.verify(_view(_sign(world, "GET", "/data-jwks")))
    second = v.verify(_view(_sign(world, "GET", "/data-jwks?again")))
    assert first is not None and second is not None and first.agent == second.agent == AGENT
