"""Issue 14, the live rows at aauth 0.5.0's resource (docs/interop.md, "Live servers").

aauth 0.5.0's ``RequestVerifier`` and ``ChallengeBuilder`` run behind a small ASGI app under the
peer's own interpreter, as ``https://rs-peer.example`` on 127.0.0.1 (``peers/rs_server.py``); it
fetches our agent provider's documents (and introspection-aauth's person server's keys) through
the loopback host table (``peer_servers.py``).  Our side signs with our raw -11 signer
(``live11.py``).

The peer's deviation is named in test names, never absorbed: aauth-signing 0.2.0 reads only
unpadded base64url ``Signature`` values (protocol-current §5.1 bug 1), so for this peer only we
render the same signature bytes as base64url; standard base64, what -11 requires and what we
send everyone else, is refused by it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from aauth_core.keys import SigningKey, jwk_thumbprint
from aauth_core.tokens.mint_11 import mint_person_token_11
from aauth_core.wire.requirement import parse_requirement

from .live11 import (
    AGENT_SUB,
    AP_ID,
    PS_ID,
    RS_PEER_ID,
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

WHOAMI, DATA = f"{RS_PEER_ID}/whoami", f"{RS_PEER_ID}/data"


@pytest.fixture(scope="module")
def world() -> Iterator[LiveWorld]:
    with live_world(aauth_resource=True) as started:
        yield started


def assert_signature_error(response: httpx.Response, error: str) -> None:
    """A 401 whose ``Signature-Error`` carries ``error``; nothing served."""
    assert response.status_code == 401, said(response)
    assert response.headers["Signature-Error"] == f"error={error}"
    assert response.json() == {"error": error}
    assert "AAuth-Requirement" not in response.headers


# ---- row 3: our agent -> aauth 0.5.0's resource, agent-token mode -----------------------------

def test_our_agent_to_aauth_050_resource_200_with_base64url_signature_bug_5_1_1(world: LiveWorld) -> None:
    agent = world.agent(encoding="base64url")
    answer = agent("GET", WHOAMI)
    assert answer.status_code == 200, said(answer)
    assert answer.json() == {"agent": AGENT_SUB, "agent_provider": AP_ID, "ps": PS_ID,
                             "jkt": agent.key.thumbprint, "token_type": "aa-agent+jwt"}
    assert {f"{AP_ID}/.well-known/aauth-agent.json", f"{AP_ID}/.well-known/jwks.json"} <= set(world.docs.fetched)


def test_our_agent_post_to_aauth_050_resource_200_body_covered_base64url_bug_5_1_1(world: LiveWorld) -> None:
    answer = world.agent(encoding="base64url")("POST", WHOAMI, json={"q": "quarterly report"})
    assert answer.status_code == 200, said(answer)
    assert answer.json()["agent"] == AGENT_SUB


def test_aauth_050_resource_refuses_our_standard_base64_signature_bug_5_1_1(world: LiveWorld) -> None:
    """What -11 (RFC 9651 Byte Sequence) requires and every other peer reads."""
    assert_signature_error(world.agent(encoding="base64")("GET", WHOAMI), "invalid_signature")


# ---- row 4: the peer's refusals ---------------------------------------------------------------

def test_aauth_050_resource_challenges_an_unsigned_request_agent_token(world: LiveWorld) -> None:
    answer = world.client.get(WHOAMI)
    assert answer.status_code == 401 and answer.content == b""
    assert parse_requirement(answer.headers["AAuth-Requirement"]).requirement == "agent-token"
    assert "Signature-Error" not in answer.headers


def test_aauth_050_resource_refuses_a_tampered_signature(world: LiveWorld) -> None:
    agent = world.agent(encoding="base64url")
    tampered = Agent(agent.key, agent.agent_token, RawSigner(world.client, agent.key, encoding="base64url",
                                                             tamper=True))
    assert_signature_error(tampered("GET", WHOAMI), "invalid_signature")


def test_aauth_050_resource_refuses_an_agent_token_our_agent_provider_did_not_sign(world: LiveWorld) -> None:
    key = SigningKey.generate()
    forged = agent_token(agent_provider(), key)  # https://ap.example's kid, another key
    agent = Agent(key, forged, RawSigner(world.client, key, encoding="base64url"))
    assert_signature_error(agent("GET", WHOAMI), "invalid_jwt")


def test_aauth_050_resource_refuses_a_request_signed_by_another_key_than_the_tokens(world: LiveWorld) -> None:
    holder = world.agent(encoding="base64url")
    thief = SigningKey.generate()
    agent = Agent(thief, holder.agent_token, RawSigner(world.client, thief, encoding="base64url"))
    assert_signature_error(agent("GET", WHOAMI), "invalid_signature")


# ---- three implementations: our agent, aauth 0.5.0's resource, introspection-aauth's PS -------

def test_three_party_aauth_050_resource_and_introspection_ps_serve_our_agent_base64url_to_aauth_bug_5_1_1(
        world: LiveWorld) -> None:
    """Our agent, signing base64url for aauth's resource (bug 1) and standard base64 for the
    person server: mission, person token, the resource's ``auth-token`` challenge with a resource
    token aauth mints, the person server's auth token, then 200 at the resource."""
    agent = world.agent(encoding="base64url")
    to_ps = Agent(agent.key, agent.agent_token, RawSigner(world.client, agent.key))
    metadata = world.ps_metadata()
    proposed = to_ps("POST", metadata["mission_endpoint"],
                     json={"description": "# Read my documents", "resources": [RS_PEER_ID], "login_hint": "bob"})
    approved = to_ps.follow_pending(proposed).json()
    person = approved["person_tokens"][RS_PEER_ID]
    ps_keys = issuer_keys(world.client, PS_ID, "aauth-person.json")
    pt = verified_claims(person, "aa-person+jwt", ps_keys)

    assert parse_requirement(agent("GET", DATA).headers["AAuth-Requirement"]).requirement == "person-token"
    challenged = agent("GET", DATA, token=person)
    assert challenged.status_code == 401 and "Signature-Error" not in challenged.headers
    requirement = parse_requirement(challenged.headers["AAuth-Requirement"])
    assert requirement.requirement == "auth-token" and requirement.resource_token
    rt = verified_claims(requirement.resource_token, "aa-resource+jwt",
                         issuer_keys(world.client, RS_PEER_ID, "aauth-resource.json"))
    assert (rt["iss"], rt["aud"], rt["ps"], rt["sub"]) == (RS_PEER_ID, PS_ID, PS_ID, pt["sub"])
    assert (rt["presented_jti"], rt["agent_jkt"], rt["scope"]) == (pt["jti"], agent.key.thumbprint, SCOPE)
    assert (rt["tenant"], rt["mission_s256"]) == (TENANT, approved["s256"])  # copied (§6.7.1)

    issued = to_ps.follow_pending(to_ps("POST", metadata["auth_token_endpoint"],
                                        json={"resource_token": requirement.resource_token,
                                              "presented_token": person}))
    assert issued.status_code == 200, said(issued)
    auth = issued.json()["auth_token"]
    at = verified_claims(auth, "aa-auth+jwt", ps_keys)
    assert (at["aud"], at["sub"], jwk_thumbprint(at["cnf"]["jwk"])) == (RS_PEER_ID, pt["sub"], agent.key.thumbprint)

    served = agent("GET", DATA, token=auth)
    assert served.status_code == 200, said(served)
    assert served.json() == {"sub": pt["sub"], "ps": PS_ID, "scope": [SCOPE]}


def test_aauth_050_resource_refuses_a_person_token_the_person_server_did_not_sign(world: LiveWorld) -> None:
    """SK-09 §5.4: a ``kid`` the issuer does not publish is ``unknown_key``; its ``kid`` on a
    token another key signed is ``invalid_jwt``."""
    agent = world.agent(encoding="base64url")
    (published_kid,) = issuer_keys(world.client, PS_ID, "aauth-person.json")
    for kid, error in (("not-published", "unknown_key"), (published_kid, "invalid_jwt")):
        forged = mint_person_token_11(SigningKey.generate(kid=kid), iss=PS_ID, aud=RS_PEER_ID, sub="someone",
                                      cnf_jwk=agent.key.public_jwk(), now=time.time(), tenant=TENANT)
        assert_signature_error(agent("GET", DATA, token=forged), error)
