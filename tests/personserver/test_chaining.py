"""Call chaining: the agent calls resource 1 (three-party, our person server), whose handler
calls resource 2 as an agent of its own (its own agent provider at its own host) with
``upstream_token`` = the auth token it was called with; our person server issues the
downstream tokens for the upstream person.  And every upstream token it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.authserver import AllowAll
from aauth_core.client import AgentProvider, ClientOptions, agent_auth_11
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.personserver import directed_sub
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import mint_person_token_11
from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

from ..conftest import NOW, FrozenClock
from .raw import person_request, post
from .stack import PS, RESOURCE, SECRET, Stack, make_stack, resolver
from .test_token_endpoint import refused, resource_token

R1 = "https://r1.example"
INTERMEDIARY = "aauth:r1@r1.example"


def add_intermediary(stack: Stack) -> tuple[AgentProvider, SigningKey]:
    """Resource 1: a three-party resource whose ``/chain`` calls resource 2 (api.example) as
    the agent ``aauth:r1@r1.example``; it serves its own agent provider's documents too."""
    provider = AgentProvider(R1, [SigningKey.generate(kid="r1-ap-1")], clock=stack.clock)
    key = SigningKey.generate()

    @aauth_required("authorization", scopes=["data.read"])
    async def chain(request: Request) -> JSONResponse:
        context = get_aauth(request)
        assert context is not None
        upstream = context.token
        auth = agent_auth_11(provider.token_source("r1", key, ps=PS), key, upstream_token=upstream,
                             options=ClientOptions(clock=stack.clock, resolver=resolver), polling=stack.polling())
        async with auth.async_client(transport=stack.net) as client:
            downstream = await client.get(f"{RESOURCE}/data")
        return JSONResponse({"status": downstream.status_code, "downstream": downstream.json()})

    async def ap_metadata(request: Request) -> JSONResponse:
        return JSONResponse(provider.metadata())

    async def ap_jwks(request: Request) -> JSONResponse:
        return JSONResponse(provider.jwks())

    settings = AAuthSettings(resource_id=R1, profiles=("aauth-11",), person_servers=(PS,),
                             resource_scopes=("data.read",))
    discovery = Discovery(settings, transport=stack.net, async_transport=stack.net, clock=stack.clock,
                          resolver=resolver)
    app = Starlette(routes=[Route("/chain", chain), Route("/.well-known/aauth-agent.json", ap_metadata),
                            Route("/.well-known/jwks.json", ap_jwks)])
    stack.net.asgi("r1.example", AAuthMiddleware(app, settings=settings, keys=[SigningKey.generate(kid="r1-1")],
                                                 discovery=discovery, clock=stack.clock))
    return provider, key


def issued(stack: Stack, endpoint: str, token: str) -> list[dict[str, Any]]:
    """The claims of every token our person server answered at ``endpoint``."""
    return [dict(peek(r.json()[token]).claims) for m, u, r in stack.net.answers
            if u == f"{PS}{endpoint}" and r.status_code == 200]


def test_call_chaining_end_to_end(open_stack: Stack) -> None:
    stack = open_stack
    add_intermediary(stack)
    with stack.client(stack.auth()) as client:
        first = client.get(f"{R1}/chain")
        assert first.status_code == 200, first.text
        stack.clock.advance(1000)  # the upstream auth token now has 2600 s left
        response = client.get(f"{R1}/chain")
    assert response.status_code == 200, response.text
    downstream_sub = directed_sub(SECRET, "alice", RESOURCE)
    assert response.json() == {"status": 200, "downstream": {"person": downstream_sub, "token": "aa-auth+jwt",
                                                             "scope": ["data.read"], "mission": None}}
    auth_tokens = issued(stack, "/token", "auth_token")
    upstream = next(c for c in auth_tokens if c["aud"] == R1)
    downstream = [c for c in auth_tokens if c["aud"] == RESOURCE]
    assert len(downstream) == 2 and upstream["sub"] == directed_sub(SECRET, "alice", R1)
    assert all(c["sub"] == downstream_sub != upstream["sub"] for c in downstream)
    assert downstream[-1]["exp"] == upstream["exp"] < NOW + 1000 + 3600  # capped at the upstream token
    persons = issued(stack, "/person", "person_token")
    assert {c["aud"] for c in persons} == {R1, RESOURCE}
    assert all(c["exp"] <= upstream["exp"] for c in persons if c["aud"] == RESOURCE)
    assert not any("act" in c for c in auth_tokens + persons)
    assert stack.ps.config.agents.get(INTERMEDIARY) is None  # the intermediary is bound to nobody


# ------------------------------------------------------------------ refusals, by hand


def intermediary(stack: Stack) -> tuple[SigningKey, str]:
    provider, key = add_intermediary(stack)
    return key, provider.issue_agent_token("r1", key.public_jwk(), ps=PS)


def upstream_person_token(stack: Stack, resource: str = R1) -> str:
    reply = person_request(stack, {"resource": resource})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["person_token"])


def chained_person(stack: Stack, upstream: str) -> Any:
    key, token = intermediary(stack)
    return post(stack, "/person", {"resource": RESOURCE, "upstream_token": upstream}, key=key, token=token)


def test_a_chained_person_token_is_for_the_upstream_person(open_stack: Stack) -> None:
    upstream = upstream_person_token(open_stack)
    reply = chained_person(open_stack, upstream)
    assert reply.status_code == 200, reply.text
    claims = peek(reply.json()["person_token"]).claims
    assert claims["sub"] == directed_sub(SECRET, "alice", RESOURCE) != peek(upstream).claims["sub"]
    assert claims["exp"] <= peek(upstream).claims["exp"] and "act" not in claims


def test_an_upstream_token_not_ours(open_stack: Stack) -> None:
    forged = mint_person_token_11(SigningKey.generate(kid="ps-1"), iss=PS, aud=R1, sub="x" * 32,
                                  cnf_jwk=open_stack.agent_key.public_jwk(), now=NOW)
    refused(chained_person(open_stack, forged), 400, "invalid_upstream_token")
    other = mint_person_token_11(SigningKey.generate(kid="ps-1"), iss="https://other-ps.example", aud=R1,
                                 sub="x" * 32, cnf_jwk=open_stack.agent_key.public_jwk(), now=NOW)
    refused(chained_person(make_stack(open_stack.clock, policy=AllowAll()), other), 400, "invalid_upstream_token")


def test_an_upstream_token_we_never_recorded(open_stack: Stack) -> None:
    unknown = mint_person_token_11(open_stack.ps._keys[0], iss=PS, aud=R1, sub="x" * 32,
                                   cnf_jwk=open_stack.agent_key.public_jwk(), now=NOW)
    refused(chained_person(open_stack, unknown), 400, "invalid_upstream_token")


def test_an_expired_upstream_token(open_stack: Stack) -> None:
    old = mint_person_token_11(open_stack.ps._keys[0], iss=PS, aud=R1, sub="x" * 32,
                               cnf_jwk=open_stack.agent_key.public_jwk(), now=NOW - 4000, lifetime=3600)
    refused(chained_person(open_stack, old), 400, "expired_upstream_token")


def test_an_upstream_token_for_another_audience(open_stack: Stack) -> None:
    refused(chained_person(open_stack, upstream_person_token(open_stack, RESOURCE)), 400, "invalid_upstream_token")


def test_a_revoked_upstream_token(open_stack: Stack) -> None:
    upstream = upstream_person_token(open_stack)
    open_stack.ps.revoke(peek(upstream).claims["jti"])
    refused(chained_person(open_stack, upstream), 400, "revoked_upstream_token")


def _chained_token_request(stack: Stack, upstream: str, scope: str,
                           who: tuple[SigningKey, str] | None = None) -> Any:
    key, token = who or intermediary(stack)
    reply = post(stack, "/person", {"resource": RESOURCE, "upstream_token": upstream}, key=key, token=token)
    assert reply.status_code == 200, reply.text
    pt = reply.json()["person_token"]
    saved, stack.agent_key = stack.agent_key, key  # the resource token names the intermediary's key
    try:
        rt = resource_token(stack, pt, scope=scope)
    finally:
        stack.agent_key = saved
    return post(stack, "/token", {"resource_token": rt, "presented_token": pt, "upstream_token": upstream},
                key=key, token=token)


def test_scope_never_widens_past_the_upstream_token(open_stack: Stack) -> None:
    refused(_chained_token_request(open_stack, upstream_person_token(open_stack), "data.read"), 403, "denied")


def test_a_chain_scopes_policy_may_allow_more(clock: FrozenClock) -> None:
    def allow_read(upstream: frozenset[str], **_: Any) -> frozenset[str]:
        return upstream | {"data.read"}

    stack = make_stack(clock, policy=AllowAll(), chain_scopes=allow_read)
    who = intermediary(stack)
    reply = _chained_token_request(stack, upstream_person_token(stack), "data.read", who)
    assert reply.status_code == 200, reply.text
    assert peek(reply.json()["auth_token"]).claims["scope"] == "data.read"
    stack.clock.advance(1)
    refused(_chained_token_request(stack, upstream_person_token(stack), "data.read data.write", who), 403, "denied")


@pytest.mark.parametrize("ps", [None, "https://other-ps.example"])
def test_an_intermediary_may_have_another_person_server(open_stack: Stack, ps: str | None) -> None:
    provider, key = add_intermediary(open_stack)
    token = provider.issue_agent_token("r1", key.public_jwk(), ps=ps)
    upstream = upstream_person_token(open_stack)
    assert post(open_stack, "/person", {"resource": RESOURCE, "upstream_token": upstream}, key=key,
                token=token).status_code == 200
    refused(post(open_stack, "/person", {"resource": RESOURCE}, key=key, token=token), 403, "invalid_request")
