"""Numbers, audiences and issuers from untrusted parties (review defects 3, 8 and 9).

Defect 3: a NumericDate (``exp``/``iat``/``nbf``) or an ``expires_in`` beyond float
range (a 400-digit JSON integer), a boolean, NaN/Infinity, a negative value or a
string must be a clean refusal everywhere it is read: 401 ``malformed_token`` at a
resource, the token endpoint's 4xx at the auth server, an ``AAuthError`` in the
client, never ``OverflowError`` (a 500).

Defect 8: ``aud`` may be a JSON array (RFC 7519 §4.1.3); an array naming this
party is accepted wherever ``aud`` is checked, an empty array or one with a
non-string member is refused as malformed.

Defect 9: issuer identifiers are compared exactly (RFC 8414 §3.3, RFC 9207): a token
whose ``iss`` differs from a trusted issuer by a trailing slash is untrusted.
Configured identifiers are normalised once, at load: a bare origin written with a
trailing ``/`` is the origin; a path ending in ``/`` is ambiguous and refused.

Every hostile token is signed with the real key of the party it claims to come
from, so only the claim under test is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from starlette.testclient import TestClient

from aauth_core import dialect
from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, Lifetimes, MemoryUserStore
from aauth_core.client import ClientOptions, RequestSigner, TokenCache, agent_auth
from aauth_core.errors import AAuthError, TokenError
from aauth_core.keys import PublicKey, SigningKey, b64url_decode, b64url_encode
from aauth_core.settings import AAuthSettings, SettingsError
from aauth_core.tokens import check_token_times, jwt_algorithms_for, peek, validate_token
from aauth_starlette.authserver import build_auth_server_app

from ..authserver.conftest import AS as ASEnv
from ..authserver.conftest import USERS
from ..client.parties import Router, TinyAS, TinyResource
from ..conftest import AGENT, ISSUER, NOW, PUBLIC_IP, RESOURCE, World, signed_request
from .conftest import DOWNSTREAM, UPSTREAM, AttackWorld

HOSTILE = "__HOSTILE__"
HUGE = "1" + "0" * 400  # 10**400: a valid JSON integer that no float can hold
OTHER = "https://other.example"
REDIRECT = "https://agent.example/callback"

#: JSON literals a NumericDate must never be (each a distinct way to break float arithmetic or typing).
BAD_NUMERIC_DATES = {
    "huge-int": HUGE,
    "huge-negative-int": "-" + HUGE,
    "true": "true",
    "false": "false",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "float-overflow": "1e400",  # Python's json turns this into inf
    "beyond-year-9999": "1e300",
    "beyond-year-9999-int": str(10**15),
    "negative": "-1",
    "negative-float": "-0.5",
    "string": json.dumps(str(NOW + 3600)),
    "null": "null",
    "array": f"[{NOW + 3600}]",
    "object": '{"seconds": 1}',
}


# ----------------------------------------------------------------------------- hostile tokens


def jws(key: SigningKey, typ: str, claims: dict[str, Any], literal: str | None = None) -> str:
    """A compact JWS signed with ``key``; a claim whose value is :data:`HOSTILE` is written as
    the raw JSON ``literal`` (so literals json.dumps cannot produce, like 10**400, go out as is)."""
    header = {"alg": "EdDSA", "kid": key.kid, "typ": typ}
    text = json.dumps(claims)
    if literal is not None:
        assert f'"{HOSTILE}"' in text
        text = text.replace(f'"{HOSTILE}"', literal)
    h, p = b64url_encode(json.dumps(header).encode()), b64url_encode(text.encode())
    return f"{h}.{p}.{b64url_encode(key.sign(f'{h}.{p}'.encode()))}"


def auth_claims(world: World, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ISSUER, "aud": RESOURCE, "cnf": {"jwk": world.agent.key.public_jwk()},
                              "scope": "data.read data.write", "exp": NOW + 3600, "iat": NOW, "agent": AGENT}
    claims.update(changes)
    return claims


def agent_claims(delegate: SigningKey, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": AGENT, "sub": "delegate-1", "exp": NOW + 3600, "iat": NOW,
                              "cnf": {"jwk": delegate.public_jwk()}}
    claims.update(changes)
    return claims


def resource_claims(world: World, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": RESOURCE, "aud": ISSUER, "agent": AGENT,
                              "agent_jkt": world.agent.key.thumbprint, "scope": "data.read",
                              "exp": NOW + 600, "iat": NOW}
    claims.update(changes)
    return claims


def hostile_auth_token(world: AttackWorld, claim: str, literal: str) -> str:
    return jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, **{claim: HOSTILE}), literal)


def validate_auth(token: str, world: AttackWorld) -> Any:
    return validate_token(token, typ=dialect.TYP_AUTH, key=world.issuer.key.public, now=NOW, leeway=30,
                          algorithms=jwt_algorithms_for(["ed25519"]), audience=RESOURCE, issuer=ISSUER)


# ----------------------------------------------------------------------------- core: NumericDate


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("literal", list(BAD_NUMERIC_DATES.values()), ids=list(BAD_NUMERIC_DATES))
def test_a_hostile_numeric_date_is_malformed_not_a_crash(world: AttackWorld, claim: str, literal: str) -> None:
    token = hostile_auth_token(world, claim, literal)
    with pytest.raises(TokenError) as info:
        validate_auth(token, world)
    assert info.value.code == "malformed_token"


def test_check_token_times_refuses_a_huge_integer_without_overflow() -> None:
    for claims in ({"exp": 10**400}, {"exp": NOW + 60, "nbf": 10**400}, {"exp": NOW + 60, "iat": -(10**400)},
                   {"exp": True}, {"exp": float("nan")}, {"exp": float("inf")}):
        with pytest.raises(TokenError) as info:
            check_token_times(claims, now=NOW, leeway=30)
        assert info.value.code == "malformed_token", claims


def test_fractional_numeric_dates_within_range_are_accepted(world: AttackWorld) -> None:
    """RFC 7519 §2: a NumericDate may be non-integer."""
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, exp=NOW + 3600.5, iat=NOW - 0.25,
                                                                 nbf=NOW - 1.5))
    assert validate_auth(token, world).claims["exp"] == NOW + 3600.5


def test_numeric_date_bounds() -> None:
    from aauth_core.tokens import MAX_NUMERIC_DATE

    assert MAX_NUMERIC_DATE == 253_402_300_799  # 9999-12-31T23:59:59Z
    assert check_token_times({"exp": MAX_NUMERIC_DATE, "iat": 0}, now=NOW, leeway=0) == MAX_NUMERIC_DATE
    with pytest.raises(TokenError) as info:
        check_token_times({"exp": MAX_NUMERIC_DATE + 1}, now=NOW, leeway=0)
    assert info.value.code == "malformed_token"


@pytest.mark.parametrize("literal", ["1" + "0" * 5000, str(2**53), "-" + str(2**53), "1e400"],
                         ids=["beyond-int-digit-limit", "beyond-ijson", "beyond-ijson-negative", "float-overflow"])
def test_a_number_outside_ijson_range_anywhere_in_a_token_is_malformed(world: AttackWorld, literal: str) -> None:
    """RFC 7493 §2.2: numbers a double cannot hold exactly are refused at the JSON parse,
    whichever claim carries them (Python 3.11 raises ValueError beyond 4300 digits)."""
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, ext=HOSTILE), literal)
    with pytest.raises(TokenError) as info:
        peek(token)
    assert info.value.code == "malformed_token"


def test_a_nesting_bomb_in_the_payload_is_malformed(world: AttackWorld) -> None:
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, ext=HOSTILE), "[" * 5000 + "]" * 5000)
    with pytest.raises(TokenError) as info:
        validate_auth(token, world)
    assert info.value.code == "malformed_token"


@pytest.mark.parametrize("lifetime", [0, -1, True, 10**400, 1.5])
def test_minting_refuses_a_lifetime_out_of_range(lifetime: Any) -> None:
    key = SigningKey.generate(kid="k")
    with pytest.raises(ValueError):
        from aauth_core.tokens import mint_auth_token

        mint_auth_token(key, iss=ISSUER, aud=RESOURCE, cnf_jwk=key.public_jwk(), now=NOW, lifetime=lifetime)


# ----------------------------------------------------------------------------- through real adapters

Send = Callable[[str, dict[str, str]], tuple[int, dict[str, Any], bool]]


def _adapter(world: AttackWorld, adapter: str, **settings: Any) -> Send:
    """GET ``path`` through the adapter's own test client: (status, JSON body, handler ran)."""
    if adapter == "starlette":
        from ..starlette.apps import resource_settings, starlette_app

        app = starlette_app(world, resource_settings(**settings))
        client = TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)

        def send(path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
            before = len(app.state.calls)
            r = client.get(path, headers=headers)
            return r.status_code, _json(r.content), len(app.state.calls) > before

        return send
    from ..flask.apps import scenario_app

    flask_app = scenario_app(world, "decorators", {f"AAUTH_{k.upper()}": v for k, v in settings.items()})
    calls: list[str] = flask_app.extensions["test_calls"]
    flask_client: FlaskClient = flask_app.test_client()

    def send_flask(path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        before = len(calls)
        r = flask_client.open(path, method="GET", headers=headers, base_url=RESOURCE)
        return r.status_code, _json(r.get_data()), len(calls) > before

    return send_flask


def _json(content: bytes) -> dict[str, Any]:
    """The JSON error body, or the raw text (a 500 page) so a failure says what came back."""
    try:
        body = json.loads(content)
    except ValueError:
        return {"raw": content[:300].decode("utf-8", "replace")}
    return body if isinstance(body, dict) else {"raw": body}


def _present(token: str, key: SigningKey, path: str) -> dict[str, str]:
    headers, _ = signed_request("GET", RESOURCE + path, key=key, scheme="jwt", params={"jwt": token}, created=NOW)
    return headers


def _refused(result: tuple[int, dict[str, Any], bool], status: int, code: str) -> None:
    got_status, body, ran = result
    assert (got_status, body.get("error")) == (status, code), body
    assert not ran, "the protected handler ran"
    assert set(body) == {"error", "error_description"}


ADAPTERS = ["starlette", "flask"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("literal", [HUGE, "true", "NaN", "-1"], ids=["huge-int", "true", "NaN", "negative"])
def test_auth_token_with_hostile_time_claim_is_401_malformed_token(world: AttackWorld, adapter: str, claim: str,
                                                                   literal: str) -> None:
    send = _adapter(world, adapter)
    token = hostile_auth_token(world, claim, literal)
    _refused(send("/data-auth", _present(token, world.agent.key, "/data-auth")), 401, "malformed_token")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_agent_token_with_huge_time_claim_is_401_malformed_token(world: AttackWorld, adapter: str,
                                                                 claim: str) -> None:
    send = _adapter(world, adapter)
    delegate = SigningKey.generate(kid="delegate")
    token = jws(world.agent.key, dialect.TYP_AGENT, agent_claims(delegate, **{claim: HOSTILE}), HUGE)
    _refused(send("/data-jwks", _present(token, delegate, "/data-jwks")), 401, "malformed_token")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_agent_token_aud_array_naming_this_resource_is_accepted(world: AttackWorld, adapter: str) -> None:
    send = _adapter(world, adapter)
    delegate = SigningKey.generate(kid="delegate")
    token = jws(world.agent.key, dialect.TYP_AGENT, agent_claims(delegate, aud=[OTHER, RESOURCE]))
    status, body, ran = send("/data-jwks", _present(token, delegate, "/data-jwks"))
    assert (status, ran) == (200, True), body
    assert body["agent"] == AGENT and body["agent_delegate"] == "delegate-1"


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("aud", "code"), [
    ([OTHER], "invalid_audience"),
    ([], "malformed_token"),
    ([RESOURCE, 7], "malformed_token"),
    ([[RESOURCE]], "malformed_token"),
    (RESOURCE + "/", "invalid_audience"),  # exact comparison: no slash folding
    ([RESOURCE + "/"], "invalid_audience"),
], ids=["other-only", "empty", "non-string-member", "nested-array", "trailing-slash", "trailing-slash-in-array"])
def test_agent_token_aud_not_naming_this_resource_is_refused(world: AttackWorld, adapter: str, aud: Any,
                                                             code: str) -> None:
    send = _adapter(world, adapter)
    delegate = SigningKey.generate(kid="delegate")
    token = jws(world.agent.key, dialect.TYP_AGENT, agent_claims(delegate, aud=aud))
    _refused(send("/data-jwks", _present(token, delegate, "/data-jwks")), 401, code)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_auth_token_aud_array_naming_this_resource_is_accepted(world: AttackWorld, adapter: str) -> None:
    send = _adapter(world, adapter)
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, aud=[OTHER, RESOURCE]))
    status, body, ran = send("/data-auth", _present(token, world.agent.key, "/data-auth"))
    assert (status, ran) == (200, True), body


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_auth_token_iss_with_trailing_slash_is_untrusted(world: AttackWorld, adapter: str) -> None:
    """Signed with the trusted issuer's real key (discovery finds it under either spelling):
    only the string comparison of ``iss`` stands between this token and acceptance."""
    send = _adapter(world, adapter)
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, iss=ISSUER + "/"))
    _refused(send("/data-auth", _present(token, world.agent.key, "/data-auth")), 401, "untrusted_issuer")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_identifiers_configured_with_a_trailing_slash_are_normalised_at_load(world: AttackWorld,
                                                                            adapter: str) -> None:
    send = _adapter(world, adapter, resource_id=RESOURCE + "/", trusted_issuers=[ISSUER + "/"],
                    auth_server=ISSUER + "/")
    token = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world))
    status, body, ran = send("/data-auth", _present(token, world.agent.key, "/data-auth"))
    assert (status, ran) == (200, True), body
    slashed = jws(world.issuer.key, dialect.TYP_AUTH, auth_claims(world, iss=ISSUER + "/"))
    _refused(send("/data-auth", _present(slashed, world.agent.key, "/data-auth")), 401, "untrusted_issuer")


# ----------------------------------------------------------------------------- the auth server's token endpoint


@pytest.fixture
def as_env(world: AttackWorld) -> ASEnv:
    cfg = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], trusted_upstreams=(UPSTREAM,))
    server = AuthServer(cfg, policy=AllowAll(), users=MemoryUserStore(USERS),
                        discovery=world.discovery(cfg.verifier_settings()), clock=world.clock)
    assert world.upstream is not None and world.downstream is not None
    env = ASEnv(world=world, server=server, upstream=world.upstream, downstream=world.downstream)
    env.app = build_auth_server_app(server)
    return env


def _token_endpoint(env: ASEnv, form: dict[str, str], **sign: Any) -> tuple[int, dict[str, Any]]:
    headers, body = env.sign(form, **sign)
    client = TestClient(env.app, base_url=ISSUER, raise_server_exceptions=False)
    r = client.post("/agent/token", headers=headers, content=body)
    return r.status_code, _json(r.content)


def _as_refused(result: tuple[int, dict[str, Any]], env: ASEnv, status: int, code: str) -> None:
    got, body = result
    assert (got, body.get("error")) == (status, code), body
    assert set(body) == {"error", "error_description"}
    assert env.stored() == 0


def _resource_token(world: World, literal: str | None = None, **changes: Any) -> str:
    return jws(world.resource.key, dialect.TYP_RESOURCE, resource_claims(world, **changes), literal)


def _auth_form(rt: str) -> dict[str, str]:
    return {"request_type": "auth", "resource_token": rt, "redirect_uri": REDIRECT}


def _exchange_form(env: ASEnv) -> dict[str, str]:
    return {"request_type": "exchange", "resource_token": env.downstream_rt()}


def _upstream(world: World, literal: str | None = None, **changes: Any) -> str:
    assert isinstance(world, AttackWorld) and world.upstream is not None
    # The upstream grant covers the downstream scope, so no exchange-scope policy stands in the way.
    claims = auth_claims(world, **{"iss": UPSTREAM, "scope": "data.read files.read", **changes})
    return jws(world.upstream.key, dialect.TYP_AUTH, claims, literal)


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("literal", [HUGE, "true", "Infinity", "-5"], ids=["huge-int", "true", "Infinity", "negative"])
def test_resource_token_with_hostile_time_claim_is_400_invalid_resource_token(as_env: ASEnv, claim: str,
                                                                              literal: str) -> None:
    rt = _resource_token(as_env.world, literal, **{claim: HOSTILE})
    _as_refused(_token_endpoint(as_env, _auth_form(rt)), as_env, 400, "invalid_resource_token")


def test_agent_token_with_huge_exp_signing_a_token_request_is_401(as_env: ASEnv) -> None:
    world = as_env.world
    delegate = SigningKey.generate(kid="delegate")
    token = jws(world.agent.key, dialect.TYP_AGENT, agent_claims(delegate, exp=HOSTILE), HUGE)
    rt = _resource_token(world, agent_jkt=delegate.thumbprint)
    result = _token_endpoint(as_env, _auth_form(rt), key=delegate, scheme="jwt", params={"jwt": token})
    _as_refused(result, as_env, 401, "invalid_request")


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_exchange_upstream_token_with_huge_time_claim_is_401_invalid_token(as_env: ASEnv, claim: str) -> None:
    upstream = _upstream(as_env.world, HUGE, **{claim: HOSTILE})
    result = _token_endpoint(as_env, _exchange_form(as_env), key=as_env.world.resource.key, scheme="jwt",
                             params={"jwt": upstream})
    _as_refused(result, as_env, 401, "invalid_token")


def test_resource_token_aud_array_naming_this_auth_server_is_accepted(as_env: ASEnv) -> None:
    rt = _resource_token(as_env.world, aud=[OTHER, ISSUER])
    status, body = _token_endpoint(as_env, _auth_form(rt))
    assert status == 200 and "auth_token" in body, body


@pytest.mark.parametrize(("aud", "status", "code"), [
    ([], 400, "invalid_resource_token"),
    ([ISSUER, 1], 400, "invalid_resource_token"),
    ([OTHER], 400, "invalid_resource_token"),
    (ISSUER + "/", 400, "invalid_resource_token"),
])
def test_resource_token_aud_not_naming_this_auth_server_is_refused(as_env: ASEnv, aud: Any, status: int,
                                                                   code: str) -> None:
    rt = _resource_token(as_env.world, aud=aud)
    _as_refused(_token_endpoint(as_env, _auth_form(rt)), as_env, status, code)


def test_agent_token_aud_array_naming_this_auth_server_is_accepted(as_env: ASEnv) -> None:
    world = as_env.world
    delegate = SigningKey.generate(kid="delegate")
    token = jws(world.agent.key, dialect.TYP_AGENT, agent_claims(delegate, aud=[OTHER, ISSUER]))
    rt = _resource_token(world, agent_jkt=delegate.thumbprint)
    status, body = _token_endpoint(as_env, _auth_form(rt), key=delegate, scheme="jwt", params={"jwt": token})
    assert status == 200 and "auth_token" in body, body


def test_exchange_upstream_aud_array_naming_the_intermediary_is_accepted(as_env: ASEnv) -> None:
    upstream = _upstream(as_env.world, aud=[OTHER, RESOURCE])
    status, body = _token_endpoint(as_env, _exchange_form(as_env), key=as_env.world.resource.key, scheme="jwt",
                                   params={"jwt": upstream})
    assert status == 200 and "auth_token" in body, body
    assert as_env.decode(body["auth_token"], aud=DOWNSTREAM).claims["agent"] == RESOURCE


def test_exchange_upstream_iss_with_trailing_slash_is_untrusted(as_env: ASEnv) -> None:
    upstream = _upstream(as_env.world, iss=UPSTREAM + "/")
    result = _token_endpoint(as_env, _exchange_form(as_env), key=as_env.world.resource.key, scheme="jwt",
                             params={"jwt": upstream})
    _as_refused(result, as_env, 401, "invalid_token")


def test_resource_token_agent_with_trailing_slash_is_another_agent(as_env: ASEnv) -> None:
    rt = _resource_token(as_env.world, agent=AGENT + "/")
    _as_refused(_token_endpoint(as_env, _auth_form(rt)), as_env, 400, "invalid_resource_token")


# ----------------------------------------------------------------------------- the client


def _client_net(world: AttackWorld) -> tuple[Router, TinyAS, TinyResource]:
    router = Router(httpx, world)
    resource = TinyResource(world, world.resource, auth_server=ISSUER, trusted=(ISSUER,))
    auth_server = TinyAS(world, world.issuer)
    router.routes[RESOURCE] = resource
    router.routes[ISSUER] = auth_server
    return router, auth_server, resource


def _client_get(world: AttackWorld, router: Router, cache: TokenCache, mode: str = "sync") -> httpx.Response:
    options = ClientOptions(clock=world.clock, resolver=lambda host: [PUBLIC_IP])
    auth = agent_auth(RequestSigner.jwks(world.agent.key, AGENT), library="httpx", options=options, cache=cache)
    if mode == "sync":
        with auth.client(transport=router.transport) as client:
            return client.get(RESOURCE + "/data-auth")  # type: ignore[no-any-return]

    import asyncio

    async def run() -> httpx.Response:
        async with auth.async_client(transport=router.transport) as client:
            return await client.get(RESOURCE + "/data-auth")  # type: ignore[no-any-return]

    return asyncio.run(run())


def _rewrite_token_response(auth_server: TinyAS, rewrite: Callable[[dict[str, Any]], bytes]) -> Callable[[Any], Any]:
    """The tiny AS answers for real; ``rewrite`` then replaces the token response body."""
    def handle(request: Any) -> Any:
        status, headers, body = auth_server(request)
        if request.url.path == "/agent/token" and status == 200:
            body = rewrite(json.loads(body))
        return status, headers, body

    return handle


BAD_EXPIRES_IN = {
    "huge-int": HUGE,
    "float-overflow": "1e400",
    "beyond-any-lifetime": "1e300",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "true": "true",
    "zero": "0",
    "negative": "-5",
    "string": '"3600"',
    "array": "[3600]",
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("literal", list(BAD_EXPIRES_IN.values()), ids=list(BAD_EXPIRES_IN))
def test_client_refuses_a_hostile_expires_in_with_an_aauth_error(world: AttackWorld, literal: str,
                                                                 mode: str) -> None:
    router, auth_server, resource = _client_net(world)

    def rewrite(doc: dict[str, Any]) -> bytes:
        doc["expires_in"] = HOSTILE
        return json.dumps(doc).replace(f'"{HOSTILE}"', literal).encode()

    router.routes[ISSUER] = _rewrite_token_response(auth_server, rewrite)
    cache = TokenCache()
    with pytest.raises(AAuthError) as info:
        _client_get(world, router, cache, mode)
    assert info.value.code == "invalid_token_response"
    assert len(cache) == 0 and resource.seen == []


@pytest.mark.parametrize("literal", [HUGE, "true", "-1", '"soon"'], ids=["huge-int", "true", "negative", "string"])
def test_client_refuses_an_auth_token_with_a_hostile_exp(world: AttackWorld, literal: str) -> None:
    router, auth_server, resource = _client_net(world)

    def rewrite(doc: dict[str, Any]) -> bytes:
        claims = json.loads(b64url_decode(doc["auth_token"].split(".")[1]))
        claims["exp"] = HOSTILE
        doc["auth_token"] = jws(world.issuer.key, dialect.TYP_AUTH, claims, literal)
        return json.dumps(doc).encode()

    router.routes[ISSUER] = _rewrite_token_response(auth_server, rewrite)
    cache = TokenCache()
    with pytest.raises(AAuthError) as info:
        _client_get(world, router, cache)
    assert info.value.code == "invalid_token_response"
    assert len(cache) == 0 and resource.seen == []


def test_client_accepts_a_fractional_expires_in(world: AttackWorld) -> None:
    router, auth_server, resource = _client_net(world)

    def rewrite(doc: dict[str, Any]) -> bytes:
        doc["expires_in"] = 1800.5
        return json.dumps(doc).encode()

    router.routes[ISSUER] = _rewrite_token_response(auth_server, rewrite)
    cache = TokenCache()
    assert _client_get(world, router, cache).status_code == 200
    assert len(cache) == 1 and len(resource.seen) == 1


@pytest.mark.parametrize("issuer", [ISSUER + "/", ISSUER.upper()])
def test_client_compares_the_metadata_issuer_exactly(world: AttackWorld, issuer: str) -> None:
    router, _, resource = _client_net(world)
    world.network.documents[f"{ISSUER}/.well-known/aauth-issuer"]["issuer"] = issuer
    with pytest.raises(AAuthError) as info:
        _client_get(world, router, TokenCache())
    assert info.value.code == "issuer_mismatch"
    assert resource.seen == []


# ----------------------------------------------------------------------------- settings: normalise once, at load


def test_configured_identifiers_with_a_trailing_slash_on_a_bare_origin_are_normalised() -> None:
    listed: Any = [ISSUER + "/", "https://b.example:8443/", ISSUER]  # lists are accepted, as from config files
    s = AAuthSettings(resource_id=RESOURCE + "/", auth_server=ISSUER + "/", trusted_issuers=listed)
    assert s.resource_id == RESOURCE and s.auth_server == ISSUER
    assert s.trusted_issuers == (ISSUER, "https://b.example:8443")  # duplicates folded, order kept
    assert s.canonical_authority == "api.example"
    key = SigningKey.generate(kid="k")
    config = AuthServerConfig(issuer=ISSUER + "/", keys=[key], trusted_upstreams=(UPSTREAM + "/",))
    assert config.issuer == ISSUER and config.trusted_upstreams == (UPSTREAM,)
    assert config.verifier_settings().trusted_issuers == (UPSTREAM,)


@pytest.mark.parametrize("field", ["resource_id", "auth_server", "trusted_issuers"])
def test_an_identifier_with_a_path_ending_in_slash_is_refused_as_ambiguous(field: str) -> None:
    def settings(value: str) -> AAuthSettings:
        kwargs: dict[str, Any] = {field: (value,) if field == "trusted_issuers" else value}
        return AAuthSettings(**kwargs)

    with pytest.raises(SettingsError) as info:
        settings("https://host.example/tenant/")
    assert "ambiguous" in info.value.description and "/tenant" in info.value.description
    kept = settings("https://host.example/tenant")  # without the slash: fine, kept as is
    assert "https://host.example/tenant" in (kept.resource_id, kept.auth_server, *kept.trusted_issuers)


def test_auth_server_config_refuses_ambiguous_identifiers() -> None:
    key = SigningKey.generate(kid="k")
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer="https://as.example/tenant/", keys=[key])
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer=ISSUER, keys=[key], trusted_upstreams=("https://up.example/t/",))


@pytest.mark.parametrize("value", [10**400, True, -1, 1.5, "30"])
def test_time_settings_out_of_range_are_refused_at_load(value: Any) -> None:
    for name in ("token_leeway", "created_max_age", "created_max_future", "resource_token_lifetime"):
        with pytest.raises(SettingsError):
            AAuthSettings(**{name: value})


@pytest.mark.parametrize("value", [10**400, True, 0, -1, 1.5])
def test_auth_server_lifetimes_out_of_range_are_refused_at_load(value: Any) -> None:
    for name in ("auth_token", "request_token", "code", "refresh_token", "session"):
        with pytest.raises(SettingsError):
            Lifetimes(**{name: value})


def test_the_hostile_token_helper_signs_with_real_keys() -> None:
    """Sanity: the hostile-token helper signs with real keys the verifier accepts."""
    world_key = SigningKey.generate(kid="k")
    token = jws(world_key, dialect.TYP_AUTH, {"iss": ISSUER, "aud": RESOURCE, "exp": NOW + 60,
                                              "cnf": {"jwk": world_key.public_jwk()}, "agent": AGENT})
    valid = validate_token(token, typ=dialect.TYP_AUTH, key=PublicKey.from_jwk(world_key.public_jwk()), now=NOW,
                           leeway=0, algorithms=("EdDSA",), audience=RESOURCE)
    assert valid.claims["iss"] == ISSUER
