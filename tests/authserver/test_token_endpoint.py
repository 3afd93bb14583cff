"""The token endpoint through the ASGI app: every request_type, every refusal (B §5.2, §7.3, §9.2)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from aauth_core import dialect
from aauth_core.authserver import (
    AllowAll,
    Decision,
    DenyAll,
    Lifetimes,
    PolicyRequest,
    RequireConsent,
    ScopeLimits,
    User,
)
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView

from ..conftest import AGENT, ISSUER, OTHER_ISSUER, RESOURCE, World, signed_request
from .conftest import AS, DOWNSTREAM, FORM, REDIRECT, UPSTREAM, MakeAS, assert_refused

# --------------------------------------------------------------------------- documents


async def test_metadata_and_jwks(make_as: MakeAS, world: World) -> None:
    env = make_as()
    async with env.client() as client:
        meta = (await client.get("/.well-known/aauth-issuer")).json()
        jwks = (await client.get("/jwks.json")).json()
    assert meta == {
        "issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks.json", "agent_token_endpoint": f"{ISSUER}/agent/token",
        "agent_auth_endpoint": f"{ISSUER}/agent/auth", "agent_signing_algs_supported": ["ed25519"],
        "request_types_supported": ["auth", "code", "exchange"],
    }
    assert jwks == {"keys": [world.issuer.key.public_jwk()]}
    with_refresh = make_as(lifetimes=Lifetimes(refresh_token=86400), scopes_supported=("data.read",))
    meta = with_refresh.server.metadata()
    assert meta["request_types_supported"] == ["auth", "code", "exchange", "refresh"]
    assert meta["scopes_supported"] == ["data.read"]


async def test_key_rotation_keeps_old_key_until_its_tokens_expire(env: AS, world: World) -> None:
    old = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                          "redirect_uri": REDIRECT})
    old_token = old.json()["auth_token"]
    new_key = SigningKey.generate(kid="auth-key-2")
    env.server.rotate_key(new_key)
    kids = [k["kid"] for k in env.server.jwks()["keys"]]
    assert kids == ["auth-key-2", "auth-key-1"]
    new = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                          "redirect_uri": REDIRECT})
    new_token = new.json()["auth_token"]
    assert env.decode(new_token).header["kid"] == "auth-key-2"
    assert env.decode(old_token).header["kid"] == "auth-key-1"
    world.clock.advance(3600 + 31)
    assert [k["kid"] for k in env.server.jwks()["keys"]] == ["auth-key-2"]
    with pytest.raises(ValueError):
        env.server.rotate_key(SigningKey.generate(kid="auth-key-2"))


# --------------------------------------------------------------------------- auth


async def test_auth_direct_grant_matches_the_transcript_shape(env: AS, world: World) -> None:
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth_token", "expires_in", "token_type"}
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert response.headers["cache-control"] == "no-store"
    claims = env.decode(body["auth_token"]).claims
    assert claims["iss"] == ISSUER and claims["aud"] == RESOURCE and claims["agent"] == AGENT
    assert claims["scope"] == "data.read data.write"
    assert dict(claims["cnf"]["jwk"]) == world.agent.key.public_jwk()  # the JWKS entry, kid included
    assert claims["exp"] == int(world.clock()) + 3600
    assert "sub" not in claims and "agent_delegate" not in claims
    verified = env.use_at_resource(body["auth_token"])
    assert verified.agent == AGENT and verified.scope == {"data.read", "data.write"}


async def test_auth_demo_body_with_unencoded_redirect_uri(env: AS) -> None:
    raw = f"request_type=auth&resource_token={env.resource_token()}&redirect_uri=http://127.0.0.1:8001/callback"
    response = await env.post(raw)
    assert response.status_code == 200, response.text


async def test_auth_with_scope_when_the_agent_is_the_resource(env: AS) -> None:
    response = await env.post({"request_type": "auth", "scope": "profile.read", "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    claims = env.decode(response.json()["auth_token"], aud=AGENT, require_agent=False).claims
    assert claims["aud"] == AGENT and "agent" not in claims and claims["scope"] == "profile.read"


async def test_auth_by_a_delegate_with_an_agent_token(env: AS, world: World) -> None:
    delegate = SigningKey.generate(kid="delegate-key-1")
    agent_token = world.agent_token(delegate, sub="delegate-1")
    rt = env.resource_token(agent_jkt=delegate.thumbprint)
    response = await env.post({"request_type": "auth", "resource_token": rt, "redirect_uri": REDIRECT},
                              key=delegate, scheme="jwt", params={"jwt": agent_token})
    assert response.status_code == 200, response.text
    token = response.json()["auth_token"]
    claims = env.decode(token).claims
    assert claims["agent"] == AGENT and claims["agent_delegate"] == "delegate-1"
    assert dict(claims["cnf"]["jwk"]) == delegate.public_jwk()
    assert env.use_at_resource(token, key=delegate).agent_delegate == "delegate-1"


async def test_auth_needing_consent_returns_a_request_token(make_as: MakeAS) -> None:
    env = make_as(policy=RequireConsent())
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"request_token", "expires_in"} and body["expires_in"] == 600
    assert env.stored() == 1


async def test_policy_sees_the_request_and_narrows_scope(make_as: MakeAS) -> None:
    seen: list[PolicyRequest] = []

    class Recorder:
        def decide(self, request: PolicyRequest) -> Decision:
            seen.append(request)
            return Decision.grant({"data.read", "other"})

    env = make_as(policy=Recorder())
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert env.decode(response.json()["auth_token"]).claims["scope"] == "data.read"
    assert seen[0].request_type == "auth" and seen[0].agent == AGENT and seen[0].resource == RESOURCE
    assert seen[0].scope == {"data.read", "data.write"} and seen[0].user is None


async def test_scope_limits_per_resource(make_as: MakeAS) -> None:
    env = make_as(policy=AllowAll(ScopeLimits({RESOURCE: ["data.read"]})))
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert env.decode(response.json()["auth_token"]).claims["scope"] == "data.read"
    env2 = make_as(policy=AllowAll(ScopeLimits({RESOURCE: ["admin"]})))
    assert_refused(await env2.post({"request_type": "auth", "resource_token": env2.resource_token(),
                                    "redirect_uri": REDIRECT}), 403, "access_denied", env2)


async def test_sync_driver_gives_the_same_answers(env: AS, world: World) -> None:
    headers, body = env.sign({"request_type": "auth", "resource_token": env.resource_token(),
                              "redirect_uri": REDIRECT})
    view = RequestView.from_url("POST", f"{ISSUER}/agent/token", headers, body)
    result = env.server.token(view)
    assert result.status == 200 and set(result.body) == {"auth_token", "expires_in", "token_type"}
    again = env.server.token(view)
    assert (again.status, again.body["error"]) == (401, "invalid_signature")  # replay


# --------------------------------------------------------------------------- auth refusals


@pytest.mark.parametrize("form, status, code", [
    ({"resource_token": "x", "redirect_uri": REDIRECT}, 400, "invalid_request"),  # no request_type
    ({"request_type": "device_code"}, 400, "unsupported_request_type"),
    ({"request_type": "refresh", "refresh_token": "x"}, 400, "unsupported_request_type"),  # refresh off
    ({"request_type": "auth", "scope": "a"}, 400, "invalid_request"),  # no redirect_uri
    ({"request_type": "auth", "redirect_uri": REDIRECT}, 400, "invalid_request"),  # none of the three
    ({"request_type": "auth", "scope": "a", "auth_request_url": "https://x.example/r", "redirect_uri": REDIRECT},
     400, "invalid_request"),
    ({"request_type": "auth", "auth_request_url": "https://x.example/r", "redirect_uri": REDIRECT},
     400, "invalid_request"),
    ({"request_type": "auth", "scope": "  ", "redirect_uri": REDIRECT}, 400, "invalid_request"),
    ({"request_type": "auth", "scope": "a", "redirect_uri": "javascript:alert(1)"}, 400, "invalid_request"),
    ({"request_type": "auth", "scope": "a", "redirect_uri": "https://agent.example/cb#frag"}, 400,
     "invalid_request"),
    ({"request_type": "code", "redirect_uri": REDIRECT}, 400, "invalid_request"),  # no code
    ({"request_type": "code", "code": "abc"}, 400, "invalid_request"),  # no redirect_uri
    ({"request_type": "exchange"}, 400, "invalid_request"),  # no resource_token
], ids=lambda v: None)
async def test_malformed_requests(env: AS, form: dict[str, str], status: int, code: str) -> None:
    assert_refused(await env.post(form), status, code, env)


async def test_repeated_parameter_is_refused(env: AS) -> None:
    raw = "request_type=auth&scope=a&scope=b&redirect_uri=" + REDIRECT
    assert_refused(await env.post(raw), 400, "invalid_request", env)


async def test_wrong_content_type_is_refused(env: AS) -> None:
    body = b'{"request_type": "auth"}'
    headers, _ = signed_request("POST", f"{ISSUER}/agent/token", key=env.world.agent.key, body=body,
                                headers={"Content-Type": "application/json"})
    assert_refused(await env.send(headers, body), 400, "invalid_request", env)


async def test_missing_signature_headers(env: AS) -> None:
    body = urlencode({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT}).encode()
    assert_refused(await env.send(FORM, body), 401, "invalid_request", env)
    headers, body = env.sign({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT})
    del headers["Signature"]
    assert_refused(await env.send(headers, body), 401, "invalid_request", env)


async def test_unparseable_signature_key(env: AS) -> None:
    headers, body = env.sign({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT})
    headers["Signature-Key"] = "sig1=(scheme=nonsense)"
    assert_refused(await env.send(headers, body), 401, "invalid_request", env)


async def test_hwk_carries_no_agent_identity(env: AS) -> None:
    response = await env.post({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT}, scheme="hwk")
    assert_refused(response, 401, "invalid_request", env)
    assert "identify an agent" in response.json()["error_description"]


async def test_bad_signature_and_tampered_body(env: AS) -> None:
    headers, body = env.sign({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT},
                             key=SigningKey.generate(kid="key-1"))  # not the published key-1
    assert_refused(await env.send(headers, body), 401, "invalid_signature", env)
    headers, body = env.sign({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT})
    assert_refused(await env.send(headers, body.replace(b"scope=a", b"scope=b")), 401, "invalid_signature", env)


async def test_auth_token_cannot_request_an_auth_token(env: AS, world: World) -> None:
    # An auth token this very AS would accept (aud = the AS) is still no agent identity (A8, B §9.2).
    upstream = env.upstream_token(aud=ISSUER)
    for request_type in ("auth", "code"):
        response = await env.post({"request_type": request_type, "scope": "a", "code": "c",
                                   "redirect_uri": REDIRECT}, scheme="jwt", params={"jwt": upstream})
        assert_refused(response, 401, "invalid_request", env)
        assert "auth token" in response.json()["error_description"]


async def test_other_jwt_types_in_signature_key(env: AS) -> None:
    rt = env.resource_token()
    response = await env.post({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT}, scheme="jwt",
                              params={"jwt": rt})
    assert_refused(response, 401, "invalid_request", env)


async def test_agent_token_for_another_server_or_expired(env: AS, world: World) -> None:
    delegate = SigningKey.generate(kid="d")
    form = {"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT}
    wrong_aud = world.agent_token(delegate, aud=OTHER_ISSUER)
    assert_refused(await env.post(form, key=delegate, scheme="jwt", params={"jwt": wrong_aud}),
                   401, "invalid_token", env)
    expired = world.agent_token(delegate, lifetime=10)
    world.clock.advance(100)
    assert_refused(await env.post(form, key=delegate, scheme="jwt", params={"jwt": expired}),
                   401, "invalid_token", env)


async def test_unknown_agent_key(env: AS) -> None:
    response = await env.post({"request_type": "auth", "scope": "a", "redirect_uri": REDIRECT},
                              params={"id": "https://nobody.example", "kid": "k", "well-known": "aauth-agent"})
    assert_refused(response, 401, "invalid_request", env)


@pytest.mark.parametrize("case", ["other_as", "other_agent", "jkt", "expired", "typ", "garbage", "unsigned_by_iss"])
async def test_resource_token_refusals(env: AS, world: World, case: str) -> None:
    if case == "other_as":
        rt = env.resource_token(aud=OTHER_ISSUER)
    elif case == "other_agent":
        rt = env.resource_token(agent="https://other-agent.example")
    elif case == "jkt":
        rt = env.resource_token(agent_jkt=SigningKey.generate().thumbprint)
    elif case == "expired":
        rt = env.resource_token(lifetime=60, now=world.clock() - 200)
    elif case == "typ":
        rt = env.upstream_token(aud=ISSUER)
    elif case == "garbage":
        rt = "not-a-jwt"
    else:  # minted with a key the resource does not publish
        from aauth_core.tokens import mint_resource_token

        rt = mint_resource_token(SigningKey.generate(kid="resource-key-1"), iss=RESOURCE, aud=ISSUER, agent=AGENT,
                                 agent_jkt=world.agent.key.thumbprint, now=world.clock(), scope="data.read")
    response = await env.post({"request_type": "auth", "resource_token": rt, "redirect_uri": REDIRECT})
    assert_refused(response, 400, "invalid_resource_token", env)


async def test_policy_denies(make_as: MakeAS) -> None:
    env = make_as(policy=DenyAll())
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert_refused(response, 403, "access_denied", env)


# --------------------------------------------------------------------------- code


async def _code(env: AS, *, redirect_uri: str = REDIRECT, user: str = "alice") -> str:
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": redirect_uri})
    request_token = response.json()["request_token"]
    location = await env.server.aapprove(request_token, User(user))
    assert location.startswith(redirect_uri + "?code=")
    return location.split("code=", 1)[1]


async def test_code_grant_carries_the_user(make_as: MakeAS) -> None:
    env = make_as(policy=RequireConsent())
    code = await _code(env)
    response = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth_token", "expires_in", "token_type"}
    claims = env.decode(body["auth_token"]).claims
    assert claims["sub"] == "alice" and claims["agent"] == AGENT and claims["aud"] == RESOURCE
    assert env.use_at_resource(body["auth_token"]).sub == "alice"
    # single use
    again = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT})
    assert_refused(again, 400, "invalid_grant", env)


async def test_code_refusals(make_as: MakeAS, world: World) -> None:
    env = make_as(policy=RequireConsent())
    code = await _code(env)
    assert_refused(await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT + "x"}),
                   400, "invalid_grant", env)
    # a mismatched redirect_uri burns the code: the right one no longer works either
    assert_refused(await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}),
                   400, "invalid_grant", env)
    assert_refused(await env.post({"request_type": "code", "code": "unknown", "redirect_uri": REDIRECT}),
                   400, "invalid_grant", env)
    # expired (60 s)
    code = await _code(env)
    world.clock.advance(61)
    assert_refused(await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}),
                   400, "invalid_grant", env)


async def test_code_redeemed_by_another_agent(make_as: MakeAS, world: World) -> None:
    env = make_as(policy=RequireConsent())
    code = await _code(env)
    delegate = SigningKey.generate(kid="d")  # same agent server, but a delegate: not the agent the code names
    response = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}, key=delegate,
                              scheme="jwt", params={"jwt": world.agent_token(delegate)})
    assert_refused(response, 400, "invalid_grant", env)


async def test_consent_redirect_uri_must_be_registered(make_as: MakeAS, world: World) -> None:
    world.network.publish(f"{AGENT}/.well-known/aauth-agent",
                          {"agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "redirect_uris": [REDIRECT]})
    env = make_as(policy=RequireConsent())
    bad = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                          "redirect_uri": "https://evil.example/callback"})
    assert_refused(bad, 400, "invalid_request", env)
    ok = await env.post({"request_type": "auth", "resource_token": env.resource_token(), "redirect_uri": REDIRECT})
    assert "request_token" in ok.json()


async def test_unregistered_redirect_uris_refused_when_required(make_as: MakeAS) -> None:
    env = make_as(policy=RequireConsent(), require_registered_redirect_uris=True)
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    assert_refused(response, 400, "invalid_request", env)


# --------------------------------------------------------------------------- refresh


async def test_refresh_survives_agent_key_rotation(make_as: MakeAS, world: World) -> None:
    env = make_as(lifetimes=Lifetimes(refresh_token=86400))
    first = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                            "redirect_uri": REDIRECT})
    body = first.json()
    assert set(body) == {"auth_token", "expires_in", "token_type", "refresh_token"}
    refresh = body["refresh_token"]
    # the agent rotates: key-2 replaces key-1 in its JWKS
    new_key = SigningKey.generate(kid="key-2")
    world.network.publish(f"{AGENT}/jwks.json", {"keys": [new_key.public_jwk()]})
    world.clock.advance(3700)  # the first auth token has expired
    response = await env.post({"request_type": "refresh", "refresh_token": refresh}, key=new_key,
                              params={"id": AGENT, "kid": "key-2", "well-known": "aauth-agent"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth_token", "expires_in"}  # not rotated, no token_type (spec)
    claims = env.decode(body["auth_token"]).claims
    assert dict(claims["cnf"]["jwk"]) == new_key.public_jwk()
    assert claims["scope"] == "data.read data.write" and claims["agent"] == AGENT
    env.use_at_resource(body["auth_token"], key=new_key)
    # the refresh token is not single-use
    again = await env.post({"request_type": "refresh", "refresh_token": refresh}, key=new_key,
                           params={"id": AGENT, "kid": "key-2", "well-known": "aauth-agent"})
    assert again.status_code == 200


async def test_refresh_for_a_delegate_survives_delegate_key_rotation(make_as: MakeAS, world: World) -> None:
    env = make_as(lifetimes=Lifetimes(refresh_token=86400), policy=RequireConsent())
    old = SigningKey.generate(kid="delegate-key-1")
    rt = env.resource_token(agent_jkt=old.thumbprint)
    pending = await env.post({"request_type": "auth", "resource_token": rt, "redirect_uri": REDIRECT}, key=old,
                             scheme="jwt", params={"jwt": world.agent_token(old)})
    location = await env.server.aapprove(pending.json()["request_token"], User("alice"))
    code = location.split("code=", 1)[1]
    granted = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}, key=old,
                             scheme="jwt", params={"jwt": world.agent_token(old)})
    refresh = granted.json()["refresh_token"]
    new = SigningKey.generate(kid="delegate-key-2")
    response = await env.post({"request_type": "refresh", "refresh_token": refresh}, key=new, scheme="jwt",
                              params={"jwt": world.agent_token(new, sub="delegate-1")})
    assert response.status_code == 200, response.text
    claims = env.decode(response.json()["auth_token"]).claims
    assert claims["sub"] == "alice" and claims["agent_delegate"] == "delegate-1"
    assert dict(claims["cnf"]["jwk"]) == new.public_jwk()
    # another delegate of the same agent cannot use it
    other = SigningKey.generate(kid="x")
    stored = env.stored()
    refused = await env.post({"request_type": "refresh", "refresh_token": refresh}, key=other, scheme="jwt",
                             params={"jwt": world.agent_token(other, sub="delegate-2")})
    assert_refused(refused, 400, "invalid_grant", env, stored=stored)


async def test_refresh_refusals(make_as: MakeAS, world: World) -> None:
    env = make_as(lifetimes=Lifetimes(refresh_token=100))
    first = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                            "redirect_uri": REDIRECT})
    refresh = first.json()["refresh_token"]
    assert_refused(await env.post({"request_type": "refresh"}), 400, "invalid_request", env, stored=1)
    assert_refused(await env.post({"request_type": "refresh", "refresh_token": "nope"}), 400, "invalid_grant",
                   env, stored=1)
    # an auth token is no credential for refresh either
    upstream = env.upstream_token(aud=ISSUER)
    assert_refused(await env.post({"request_type": "refresh", "refresh_token": refresh}, scheme="jwt",
                                  params={"jwt": upstream}), 401, "invalid_request", env, stored=1)
    world.clock.advance(101)
    assert_refused(await env.post({"request_type": "refresh", "refresh_token": refresh}), 400, "invalid_grant",
                   env)


async def test_refresh_rechecks_policy(make_as: MakeAS, world: World) -> None:
    class Switch:
        allow = True

        def decide(self, request: PolicyRequest) -> Decision:
            return Decision.grant() if self.allow else Decision.deny("revoked")

    policy = Switch()
    env = make_as(lifetimes=Lifetimes(refresh_token=1000), policy=policy)
    first = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                            "redirect_uri": REDIRECT})
    policy.allow = False
    response = await env.post({"request_type": "refresh", "refresh_token": first.json()["refresh_token"]})
    assert_refused(response, 403, "access_denied")


async def test_refresh_refused_when_policy_wants_the_user_again(make_as: MakeAS, world: World) -> None:
    """A refresh has nobody to ask: a policy that wants consent again gets a denial, not a silent grant."""
    class AskAgain:
        def decide(self, request: PolicyRequest) -> Decision:
            if request.request_type == "refresh":
                return Decision.consent()
            return Decision.grant()

    env = make_as(lifetimes=Lifetimes(refresh_token=1000), policy=AskAgain())
    first = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                            "redirect_uri": REDIRECT})
    response = await env.post({"request_type": "refresh", "refresh_token": first.json()["refresh_token"]})
    assert_refused(response, 403, "access_denied")


# --------------------------------------------------------------------------- exchange


async def test_exchange_issues_a_chained_token(env: AS, world: World) -> None:
    upstream = env.upstream_token(sub="alice")
    headers, body = env.sign_as_intermediary({"request_type": "exchange", "resource_token": env.downstream_rt()},
                                             upstream)
    response = await env.send(headers, body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert set(out) == {"auth_token", "expires_in"} and out["expires_in"] == 3600
    claims = env.decode(out["auth_token"], aud=DOWNSTREAM).claims
    assert claims["agent"] == RESOURCE and claims["aud"] == DOWNSTREAM and claims["sub"] == "alice"
    assert dict(claims["cnf"]["jwk"]) == world.resource.key.public_jwk()
    assert claims["act"] == {"agent": AGENT, "sub": "alice"}
    assert claims["scope"] == "data.read"
    verified = env.use_at_resource(out["auth_token"], key=world.resource.key, resource=DOWNSTREAM)
    assert verified.agent == RESOURCE and [a.agent for a in verified.act] == [AGENT]
    # replaying the very same signed exchange request is refused
    assert_refused(await env.send(headers, body), 401, "invalid_signature", env)


async def test_exchange_nests_act(env: AS) -> None:
    upstream = env.upstream_token(act={"agent": "https://first.example"})
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, upstream))
    claims = env.decode(response.json()["auth_token"], aud=DOWNSTREAM).claims
    assert claims["act"] == {"agent": AGENT, "act": {"agent": "https://first.example"}}


async def test_exchange_act_depth_limit(make_as: MakeAS) -> None:
    env = make_as(max_act_depth=2)
    upstream = env.upstream_token(act={"agent": "https://a.example", "act": {"agent": "https://b.example"}})
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, upstream))
    assert_refused(response, 401, "invalid_token", env)


@pytest.mark.parametrize("case", ["untrusted", "aud", "expired", "not_auth_token", "bad_signature"])
async def test_exchange_upstream_refusals(env: AS, world: World, case: str) -> None:
    if case == "untrusted":
        upstream = env.upstream_token(issuer=world.rogue)
    elif case == "aud":
        upstream = env.upstream_token(aud="https://someone-else.example")
    elif case == "expired":
        upstream = env.upstream_token(lifetime=60, now=world.clock() - 200)
    elif case == "not_auth_token":
        upstream = world.agent_token(world.resource.key)
    else:
        from aauth_core.tokens import mint_auth_token

        upstream = mint_auth_token(SigningKey.generate(kid="auth-key-1"), iss=UPSTREAM, aud=RESOURCE,
                                   cnf_jwk=world.agent.key.public_jwk(), now=world.clock(), agent=AGENT,
                                   scope="data.read")
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, upstream))
    assert_refused(response, 401, "invalid_token", env)


async def test_exchange_request_refusals(env: AS, world: World) -> None:
    form = {"request_type": "exchange", "resource_token": env.downstream_rt()}
    # not scheme=jwt
    assert_refused(await env.post(form, key=world.resource.key,
                                  params={"id": RESOURCE, "kid": "resource-key-1", "well-known": "aauth-resource"}),
                   401, "invalid_request", env)
    # signed by someone other than the intermediary the resource token names (agent_jkt)
    upstream = env.upstream_token()
    assert_refused(await env.post(form, key=world.agent.key, scheme="jwt", params={"jwt": upstream}),
                   401, "invalid_signature", env)
    # the downstream resource token names a key the intermediary does not publish
    other = {"request_type": "exchange",
             "resource_token": env.downstream_rt(agent_jkt=SigningKey.generate().thumbprint)}
    assert_refused(await env.send(*env.sign_as_intermediary(other, upstream)), 401, "invalid_request", env)
    # a downstream resource token for another auth server
    foreign = {"request_type": "exchange", "resource_token": env.downstream_rt(aud=OTHER_ISSUER)}
    assert_refused(await env.send(*env.sign_as_intermediary(foreign, upstream)), 400, "invalid_resource_token",
                   env)
    # missing signature headers
    body = urlencode(form).encode()
    assert_refused(await env.send(FORM, body), 401, "invalid_request", env)


async def test_exchange_with_no_trusted_upstreams(make_as: MakeAS) -> None:
    env = make_as(trusted=())
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, env.upstream_token()))
    assert_refused(response, 401, "invalid_token", env)


async def test_exchange_scope_narrowing(make_as: MakeAS) -> None:
    env = make_as(policy=AllowAll(ScopeLimits({DOWNSTREAM: ["files.read"]})))
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt(scope="files.read files.delete")},
        env.upstream_token(scope="files.read files.delete")))
    assert env.decode(response.json()["auth_token"], aud=DOWNSTREAM).claims["scope"] == "files.read"

    narrow = make_as(narrow_to_upstream_scope=True)
    response = await narrow.send(*narrow.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": narrow.downstream_rt(scope="data.read data.write")},
        narrow.upstream_token(scope="data.read")))
    assert narrow.decode(response.json()["auth_token"], aud=DOWNSTREAM).claims["scope"] == "data.read"
    response = await narrow.send(*narrow.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": narrow.downstream_rt(scope="files.read")},
        narrow.upstream_token(scope="data.read")))
    assert_refused(response, 403, "access_denied", narrow)


async def test_exchange_policy_consent_or_deny(make_as: MakeAS) -> None:
    class Consent:
        def decide(self, request: PolicyRequest) -> Decision:
            assert request.request_type == "exchange" and request.agent == RESOURCE
            assert request.upstream_issuer == UPSTREAM and [a.agent for a in request.act] == []
            return Decision.consent()

    for policy in (Consent(), DenyAll()):
        env = make_as(policy=policy)
        response = await env.send(*env.sign_as_intermediary(
            {"request_type": "exchange", "resource_token": env.downstream_rt()}, env.upstream_token()))
        assert_refused(response, 403, "access_denied", env)


async def test_require_consent_grants_exchange(make_as: MakeAS) -> None:
    env = make_as(policy=RequireConsent())
    response = await env.send(*env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt()}, env.upstream_token()))
    assert response.status_code == 200, response.text


def test_dialect_request_types_are_all_handled() -> None:
    assert set(dialect.REQUEST_TYPES) == {"auth", "code", "exchange", "refresh"}


async def test_oversized_body_is_refused(env: AS) -> None:
    body = b"request_type=auth&scope=" + b"a" * (70 * 1024)
    headers, _ = signed_request("POST", f"{ISSUER}/agent/token", key=env.world.agent.key, body=body, headers=FORM)
    response = await env.send(headers, body)
    assert response.status_code == 413 and response.json()["error"] == "invalid_request"
    assert env.stored() == 0


async def test_token_endpoint_only_accepts_post(env: AS) -> None:
    async with env.client() as client:
        assert (await client.get("/agent/token")).status_code == 405
