"""Issue 14, row 1 with OUR -11 client and OUR resource around introspection-aauth 0.1.0's person
and access servers (docs/interop.md, "Our client and our resource").

Our agent is :func:`agent_auth_11` (``FlowEngine11``) on an httpx client, holding an agent token
from our :class:`AgentProvider` whose ``ps`` is introspection-aauth's person server.  Our resource
is :class:`AAuthService` behind the Starlette middleware, the Flask extension and the Django
middleware, each served on 127.0.0.1 (``ours11.py``): the person server fetches its
``aauth-resource.json`` and JWKS, and it fetches the person server's, the access server's and our
agent provider's documents, all through the loopback host table.

The flow is the agent's own: ``requirement=person-token`` → a person token from the person
server → ``requirement=auth-token; resource-token=…`` (minted by our resource, ``tenant`` and
``mission_s256`` copied) → an auth token from the person server (or, four-party, from the access
server the person server redeems it at) → 200, the route's code seeing the person, the scope and
``profile == "aauth-11"``.  introspection-aauth issues auth tokens only within a mission
(protocol-current §5.1 bug 3) and names the person by ``login_hint`` on a key's first request:
our client, which creates no missions and sends no ``login_hint`` in a person-token request,
first proposes one through the same signed client (the driver approves it, test policy; that
also binds the key to the person) and is then given its ``mission_s256``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aauth_core.client import ClientOptions
from aauth_core.errors import TokenEndpointError
from aauth_core.keys import SigningKey
from aauth_core.wire.requirement import AAuthRequirement, parse_requirement
from aauth_core.wire.signature_key import parse_signature_key

from .live11 import (
    AGENT_SUB,
    AP_ID,
    AS_ID,
    PS_ID,
    SCOPE,
    TENANT,
    LiveWorld,
    issuer_keys,
    live_world,
    said,
    verified_claims,
)
from .ours11 import Exchange, OurResource11, Recorder, our_client, polling, presented, propose_mission, public

API = "https://api.example"  # ours, Starlette, three-party
API4 = "https://api4.example"  # ours, Starlette, four-party (access_server = introspection-aauth's)
FLASK = "https://flask.example"  # ours, Flask, three-party
DJANGO = "https://django.example"  # ours, Django, three-party
OURS = {API: OurResource11(API), API4: OurResource11(API4, access_server=AS_ID),
        FLASK: OurResource11(FLASK, "flask"), DJANGO: OurResource11(DJANGO, "django")}
THREE_PARTY = pytest.mark.parametrize("resource", [API, FLASK, DJANGO], ids=["starlette", "flask", "django"])


@pytest.fixture(scope="module")
def world() -> Iterator[LiveWorld]:
    with live_world(ours={identifier: resource.serve for identifier, resource in OURS.items()}) as started:
        yield started


def requirement(exchange: Exchange) -> AAuthRequirement:
    assert exchange.status == 401, exchange.status
    return parse_requirement(exchange.answer["aauth-requirement"])


def on_mission(world: LiveWorld, resource: str) -> tuple[SigningKey, httpx.Client, Recorder, dict[str, Any]]:
    """An agent key, our client bound to a mission covering ``resource``, and its recorder."""
    key = SigningKey.generate()
    approved = propose_mission(world, key, [resource])
    client, recorder = our_client(world, key, mission_s256=approved["s256"])
    return key, client, recorder, approved


def resource_token_claims(world: LiveWorld, resource: str, challenge: AAuthRequirement) -> dict[str, Any]:
    """The resource token of ``challenge``, verified with the key ``resource`` publishes."""
    assert challenge.requirement == "auth-token" and challenge.resource_token
    return verified_claims(challenge.resource_token, "aa-resource+jwt",
                           issuer_keys(world.client, resource, "aauth-resource.json"))


# ---- agent-token mode ---------------------------------------------------------------------------

@THREE_PARTY
def test_our_client_to_our_resource_agent_token_200(world: LiveWorld, resource: str) -> None:
    key = SigningKey.generate()
    client, sent = our_client(world, key)
    with client:
        answer = client.get(f"{resource}/whoami")
    assert answer.status_code == 200, said(answer)
    seen = answer.json()
    assert (seen["profile"], seen["token_type"], seen["agent"]) == ("aauth-11", "aa-agent+jwt", AGENT_SUB)
    assert (seen["agent_provider"], seen["key"], seen["person"]) == (AP_ID, key.thumbprint, None)
    assert [e.status for e in sent.exchanges] == [200]  # signed once, answered at once


# ---- three-party: our client, our resource, introspection-aauth's person server --------------

@THREE_PARTY
def test_three_party_our_client_our_resource_introspection_person_server_200(world: LiveWorld, resource: str) -> None:
    key, client, sent, approved = on_mission(world, resource)
    with client:
        answer = client.get(f"{resource}/data")
        again = client.get(f"{resource}/data?page=2")  # the cached auth token, @query covered
    assert answer.status_code == 200, said(answer)
    seen = answer.json()
    assert (seen["profile"], seen["token_type"], seen["issuer"]) == ("aauth-11", "aa-auth+jwt", PS_ID)
    assert seen["person"] == [PS_ID, seen["sub"]] and seen["sub"]
    assert (seen["scope"], seen["tenant"], seen["mission_s256"]) == ([SCOPE], TENANT, approved["s256"])
    assert seen["key"] == key.thumbprint and seen["agent"] is None  # RS-41: an auth token names no agent
    assert again.status_code == 200 and again.json() == seen

    to_data = sent.to(f"{resource}/data")
    assert [presented(e) for e in to_data] == ["aa-agent+jwt", "aa-person+jwt", "aa-auth+jwt", "aa-auth+jwt"]
    assert requirement(to_data[0]) == AAuthRequirement("person-token")
    assert '"@query"' in to_data[-1].headers["signature-input"] and to_data[-1].status == 200
    assert {f"{resource}/.well-known/aauth-resource.json", f"{resource}/jwks.json"} <= set(world.docs.fetched)
    rt = resource_token_claims(world, resource, requirement(to_data[1]))
    assert (rt["iss"], rt["aud"], rt["ps"], rt["sub"]) == (resource, PS_ID, PS_ID, seen["sub"])
    assert (rt["agent_jkt"], rt["scope"]) == (key.thumbprint, SCOPE)
    assert (rt["tenant"], rt["mission_s256"]) == (TENANT, approved["s256"])  # copied (§6.7.1, §5.1 bug 3)
    ps = [e for e in sent.exchanges if e.url.startswith(f"{PS_ID}/aauth/")]
    assert [(e.method, e.url.rsplit("/", 1)[-1], e.status) for e in ps] == [
        ("POST", "person-token", 200), ("POST", "token", 200)]
    assert all(presented(e) == "aa-agent+jwt" for e in ps)  # the person server sees the agent token


def test_three_party_our_async_client_our_resource_introspection_person_server_200(world: LiveWorld) -> None:
    """The same flow awaited: ``agent_auth_11`` on an ``httpx.AsyncClient``."""
    key = SigningKey.generate()
    approved = propose_mission(world, key, [API])
    auth = world.ap.agent_auth("assistant", key, ps=PS_ID, options=ClientOptions(resolver=public),
                               polling=polling(), mission_s256=approved["s256"])

    async def run() -> httpx.Response:
        async with auth.async_client(transport=world.net.transport(), timeout=30) as client:
            response: httpx.Response = await client.get(f"{API}/data")
            return response

    answer = asyncio.run(run())
    assert answer.status_code == 200, said(answer)
    seen = answer.json()
    assert (seen["profile"], seen["token_type"], seen["scope"]) == ("aauth-11", "aa-auth+jwt", [SCOPE])
    assert (seen["person"], seen["mission_s256"], seen["key"]) == ([PS_ID, seen["sub"]], approved["s256"],
                                                                    key.thumbprint)


def test_four_party_our_client_our_resource_introspection_access_server_200(world: LiveWorld) -> None:
    """``access_server`` set: our resource's token names introspection-aauth's access server, the
    person server redeems it there (202), and our client polls for the access server's token."""
    key, client, sent, approved = on_mission(world, API4)
    with client:
        answer = client.get(f"{API4}/data")
    assert answer.status_code == 200, said(answer)
    seen = answer.json()
    assert (seen["profile"], seen["token_type"], seen["issuer"]) == ("aauth-11", "aa-auth+jwt", AS_ID)
    assert seen["person"] == [PS_ID, seen["sub"]] and seen["key"] == key.thumbprint
    assert (seen["scope"], seen["tenant"], seen["mission_s256"]) == ([SCOPE], TENANT, approved["s256"])

    to_data = sent.to(f"{API4}/data")
    rt = resource_token_claims(world, API4, requirement(to_data[1]))
    assert (rt["iss"], rt["aud"], rt["ps"], rt["tenant"]) == (API4, AS_ID, PS_ID, TENANT)
    auth = parse_signature_key(to_data[-1].headers["signature-key"]).jwt
    assert auth is not None
    at = verified_claims(auth, "aa-auth+jwt", issuer_keys(world.client, AS_ID, "aauth-access.json"))
    assert (at["iss"], at["dwk"], at["aud"], at["ps"], at["sub"]) == (AS_ID, "aauth-access.json", API4, PS_ID,
                                                                      seen["sub"])
    token_calls = [e for e in sent.exchanges if e.url.startswith(f"{PS_ID}/aauth/") and "person-token" not in e.url]
    assert token_calls[0].status == 202 and token_calls[-1].status == 200  # federated: polled


# ---- refusals: nothing is served ----------------------------------------------------------------

def test_our_client_outside_a_mission_refused_access_denied_by_introspection_ps_bug_5_1_3(world: LiveWorld) -> None:
    """The key is bound to alice (a mission for another resource), but our client names no
    mission: the person token has none, our resource's token copies none, and the person server
    refuses the auth token 403 ``access_denied``; our client raises that code."""
    key = SigningKey.generate()
    propose_mission(world, key, ["https://other.example"])
    client, sent = our_client(world, key)
    with client, pytest.raises(TokenEndpointError) as refused:
        client.get(f"{API}/data")
    assert (refused.value.code, refused.value.status_code) == ("access_denied", 403)
    assert [e.status for e in sent.to(f"{API}/data")] == [401, 401]


def test_our_client_naming_no_person_refused_invalid_request_by_introspection_ps(world: LiveWorld) -> None:
    """A fresh key that never named its person: introspection-aauth wants ``login_hint`` on a
    key's first request, and our client's person-token request has none; the refusal's code
    reaches the caller and the resource is never asked again."""
    client, sent = our_client(world, SigningKey.generate())
    with client, pytest.raises(TokenEndpointError) as refused:
        client.get(f"{API}/data")
    assert (refused.value.code, refused.value.status_code) == ("invalid_request", 400)
    assert [e.status for e in sent.to(f"{API}/data")] == [401]
