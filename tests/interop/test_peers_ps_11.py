"""Issue 14, the live rows at introspection-aauth 0.1.0's person server and access server
(docs/interop.md, "Live servers").

The peer runs under its own interpreter (``.interop/py``) as a real HTTP server on 127.0.0.1
(``peers/ps_server.py``), as ``https://ps.example`` and ``https://as.example``; our agent
provider and our resource's documents are served from 127.0.0.1 too, and the peer fetches them
through the loopback host table (``peer_servers.py``).  Our side signs with our raw -11 signer
and mints with ``aauth_core/tokens/mint_11.py`` (``live11.py``); every token the peer issues
is checked against the keys it publishes.  Mission approvals are granted at once by the driver
(test policy).  The peer's deviations are named in test names, never absorbed:
protocol-current §5.1 bug 2 (no ``Signature-Error`` header on a 401) and bug 3 (auth tokens only
within a mission, and only for a resource token that copies the tenant).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aauth_core.keys import SigningKey, b64url_decode, b64url_encode, jwk_thumbprint

from .live11 import (
    AP_ID,
    AS_ID,
    PS_ID,
    RS_ID,
    SCOPE,
    TENANT,
    Agent,
    LiveWorld,
    RawSigner,
    agent_provider,
    agent_token,
    issuer_keys,
    live_world,
    said,
    verified_claims,
)


@pytest.fixture(scope="module")
def world() -> Iterator[LiveWorld]:
    with live_world() as started:
        yield started


OnMission = tuple[Agent, dict[str, Any]]


@pytest.fixture(scope="module")
def on_mission(world: LiveWorld) -> OnMission:
    """One agent with one approved mission covering rs.example, shared by the refusals (which
    change nothing at the peer)."""
    agent = world.agent()
    return agent, mission(world, agent, [RS_ID])


def person_token(world: LiveWorld, agent: Agent, resource: str = RS_ID) -> httpx.Response:
    return agent("POST", world.ps_metadata()["person_token_endpoint"],
                 json={"resource": resource, "login_hint": "alice"})


def mission(world: LiveWorld, agent: Agent, resources: list[str]) -> dict[str, Any]:
    """A mission proposed, approved by the driver (test policy), and collected by polling."""
    proposed = agent("POST", world.ps_metadata()["mission_endpoint"],
                     json={"description": "# Read the quarterly report", "resources": resources, "login_hint": "alice"})
    assert proposed.status_code == 202 and proposed.json() == {"status": "pending"}
    assert proposed.headers["AAuth-Requirement"] == "requirement=approval"
    answer = agent.follow_pending(proposed)
    assert answer.status_code == 200, said(answer)
    approved: dict[str, Any] = answer.json()
    blob = b64url_decode(approved["mission"])
    assert approved["s256"] == b64url_encode(hashlib.sha256(blob).digest())  # §8: s256 over the blob's bytes
    return approved


def ps_claims(world: LiveWorld, token: str, typ: str) -> dict[str, Any]:
    return verified_claims(token, typ, issuer_keys(world.client, PS_ID, "aauth-person.json"))


def assert_problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """A refusal as the peer sends it: problem+json, nothing issued."""
    assert response.status_code == status, said(response)
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert not {"person_token", "auth_token"} & set(body)
    return body


# ---- row 1: our agent token -> the peer's person token endpoint -----------------------------

def test_our_agent_token_gets_an_introspection_person_token(world: LiveWorld) -> None:
    agent = world.agent()
    answer = person_token(world, agent)
    assert answer.status_code == 200, said(answer)
    body = answer.json()
    claims = ps_claims(world, body["person_token"], "aa-person+jwt")
    assert (claims["iss"], claims["dwk"], claims["aud"]) == (PS_ID, "aauth-person.json", RS_ID)
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519"
    assert jwk_thumbprint(claims["cnf"]["jwk"]) == agent.key.thumbprint
    assert claims["tenant"] == TENANT and claims["sub"] and claims["jti"]
    assert "mission_s256" not in claims and "scope" not in claims  # §7.1.2: no scope in a person token
    assert 0 < claims["exp"] - claims["iat"] <= 3600 and body["expires_in"] == claims["exp"] - claims["iat"]
    assert {f"{AP_ID}/.well-known/aauth-agent.json", f"{AP_ID}/.well-known/jwks.json"} <= set(world.docs.fetched)


def test_introspection_person_token_sub_is_directed_per_resource(world: LiveWorld) -> None:
    agent = world.agent()
    first, again = (ps_claims(world, person_token(world, agent).json()["person_token"], "aa-person+jwt")
                    for _ in range(2))
    other = ps_claims(world, person_token(world, agent, "https://other.example").json()["person_token"],
                      "aa-person+jwt")
    assert first["sub"] == again["sub"] and first["jti"] != again["jti"]
    assert other["aud"] == "https://other.example" and other["sub"] != first["sub"]  # §7.1.4: pairwise


# ---- row 2: three-party at the peer's person server ----------------------------------------

def test_three_party_our_resource_token_gets_an_introspection_auth_token(world: LiveWorld) -> None:
    agent = world.agent()
    approved = mission(world, agent, [RS_ID])
    person = approved["person_tokens"][RS_ID]
    pt = ps_claims(world, person, "aa-person+jwt")
    assert pt["mission_s256"] == approved["s256"] and pt["aud"] == RS_ID
    resource_token = world.rs.resource_token(pt, agent.key)
    answer = agent.follow_pending(agent("POST", world.ps_metadata()["auth_token_endpoint"],
                                        json={"resource_token": resource_token, "presented_token": person}))
    assert answer.status_code == 200, said(answer)
    at = ps_claims(world, answer.json()["auth_token"], "aa-auth+jwt")
    assert (at["iss"], at["dwk"], at["aud"], at["ps"]) == (PS_ID, "aauth-person.json", RS_ID, PS_ID)
    assert (at["sub"], at["scope"], at["tenant"], at["mission_s256"]) == (pt["sub"], SCOPE, TENANT, approved["s256"])
    assert jwk_thumbprint(at["cnf"]["jwk"]) == agent.key.thumbprint and "act" not in at and "agent" not in at
    assert 0 < at["exp"] - at["iat"] <= 3600
    assert {f"{RS_ID}/.well-known/aauth-resource.json", f"{RS_ID}/.well-known/jwks.json"} <= set(world.docs.fetched)


def test_four_party_introspection_ps_federates_to_its_access_server(world: LiveWorld) -> None:
    """The resource token names the resource's own access server (``aud`` = as.example): the
    peer's person server answers 202, redeems it at the peer's access server (signed as itself,
    ``jwks_uri``), and the agent collects the access server's auth token by polling."""
    agent = world.agent()
    approved = mission(world, agent, [RS_ID])
    person = approved["person_tokens"][RS_ID]
    pt = ps_claims(world, person, "aa-person+jwt")
    resource_token = world.rs.resource_token(pt, agent.key, aud=AS_ID)
    first = agent("POST", world.ps_metadata()["auth_token_endpoint"],
                  json={"resource_token": resource_token, "presented_token": person})
    assert first.status_code == 202 and first.headers["Location"].startswith(f"{PS_ID}/aauth/pending/")
    answer = agent.follow_pending(first)
    assert answer.status_code == 200, said(answer)
    at = verified_claims(answer.json()["auth_token"], "aa-auth+jwt",
                         issuer_keys(world.client, AS_ID, "aauth-access.json"))
    assert (at["iss"], at["dwk"], at["aud"], at["ps"]) == (AS_ID, "aauth-access.json", RS_ID, PS_ID)
    assert (at["sub"], at["scope"], at["tenant"], at["mission_s256"]) == (pt["sub"], SCOPE, TENANT, approved["s256"])
    assert jwk_thumbprint(at["cnf"]["jwk"]) == agent.key.thumbprint
    assert agent("GET", first.headers["Location"]).status_code == 410  # collected once (§11.8)


# ---- row 4: the peer's refusals ---------------------------------------------------------------

def test_ps_answers_an_unsigned_request_unsupported_scheme_without_signature_error_bug_5_1_2(
        world: LiveWorld) -> None:
    """-11 §11.3.4 step 1 says ``invalid_signature`` in a ``Signature-Error`` header; the peer
    answers ``unsupported_scheme`` (+ ``Accept-Signature-Scheme: jwt``) in the body only."""
    answer = world.client.post(world.ps_metadata()["person_token_endpoint"],
                               json={"resource": RS_ID, "login_hint": "alice"})
    assert_problem(answer, 401, "unsupported_scheme")
    assert answer.headers["Accept-Signature-Scheme"] == "jwt"
    assert "Signature-Error" not in answer.headers


def test_ps_refuses_a_tampered_signature_invalid_signature_without_signature_error_bug_5_1_2(
        world: LiveWorld) -> None:
    agent = world.agent()
    tampered = Agent(agent.key, agent.agent_token, RawSigner(world.client, agent.key, tamper=True))
    answer = person_token(world, tampered)
    assert_problem(answer, 401, "invalid_signature")
    assert "Signature-Error" not in answer.headers


def test_ps_refuses_an_agent_token_from_an_agent_provider_it_does_not_trust(world: LiveWorld) -> None:
    key = SigningKey.generate()
    stranger = agent_provider("https://stranger.example")  # not on the host table: never fetched
    agent = Agent(key, agent_token(stranger, key), RawSigner(world.client, key))
    answer = person_token(world, agent)
    assert_problem(answer, 401, "invalid_jwt")
    assert "Signature-Error" not in answer.headers  # bug 5.1.2


def test_ps_refuses_an_agent_token_our_agent_provider_did_not_sign(world: LiveWorld) -> None:
    key = SigningKey.generate()
    forged = agent_token(agent_provider(), key)  # https://ap.example's kid, another key
    answer = person_token(world, Agent(key, forged, RawSigner(world.client, key)))
    assert_problem(answer, 401, "invalid_jwt")
    assert "Signature-Error" not in answer.headers  # bug 5.1.2


def test_ps_refuses_a_person_it_does_not_speak_for_403_access_denied(world: LiveWorld) -> None:
    answer = world.agent()("POST", world.ps_metadata()["person_token_endpoint"],
                           json={"resource": RS_ID, "login_hint": "mallory"})
    assert_problem(answer, 403, "access_denied")


def test_ps_refuses_an_auth_token_outside_a_mission_403_access_denied_bug_5_1_3(world: LiveWorld) -> None:
    """-11 lets a person server issue without a mission; this peer answers 403 ``access_denied``,
    which is not one of -11's token-endpoint codes."""
    agent = world.agent()
    person = person_token(world, agent).json()["person_token"]
    resource_token = world.rs.resource_token(ps_claims(world, person, "aa-person+jwt"), agent.key)
    answer = agent("POST", world.ps_metadata()["auth_token_endpoint"],
                   json={"resource_token": resource_token, "presented_token": person})
    assert_problem(answer, 403, "access_denied")


def test_ps_refuses_a_resource_token_without_the_tenant_invalid_resource_token_bug_5_1_3(
        world: LiveWorld, on_mission: OnMission) -> None:
    agent, approved = on_mission
    person = approved["person_tokens"][RS_ID]
    resource_token = world.rs.resource_token(ps_claims(world, person, "aa-person+jwt"), agent.key,
                                             copy=("mission_s256",))
    answer = agent("POST", world.ps_metadata()["auth_token_endpoint"],
                   json={"resource_token": resource_token, "presented_token": person})
    assert_problem(answer, 400, "invalid_resource_token")


def test_ps_refuses_a_resource_token_the_resource_did_not_sign(world: LiveWorld, on_mission: OnMission) -> None:
    agent, approved = on_mission
    person = approved["person_tokens"][RS_ID]
    forged = world.rs.resource_token(ps_claims(world, person, "aa-person+jwt"), agent.key,
                                     signer=SigningKey.generate(kid="rs-key-1"))
    answer = agent("POST", world.ps_metadata()["auth_token_endpoint"],
                   json={"resource_token": forged, "presented_token": person})
    assert_problem(answer, 400, "invalid_resource_token")


def test_ps_refuses_a_resource_token_for_another_agent_key(world: LiveWorld, on_mission: OnMission) -> None:
    agent, approved = on_mission
    person = approved["person_tokens"][RS_ID]
    resource_token = world.rs.resource_token(ps_claims(world, person, "aa-person+jwt"), SigningKey.generate())
    answer = agent("POST", world.ps_metadata()["auth_token_endpoint"],
                   json={"resource_token": resource_token, "presented_token": person})
    assert_problem(answer, 400, "invalid_resource_token")
