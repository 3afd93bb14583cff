"""Issue 15, row 1: aauth 0.5.0's agent obtains tokens from OUR person server and reaches OUR
resource (docs/interop.md, "Our person server and the peers").

aauth 0.5.0 is the agent and its own agent provider (``https://agents.example``, its
``aa-agent+jwt`` naming ``ps``); ``peers/aauth_agent_flow.py`` sequences its agent API
(``AgentRequestSigner``, ``ChallengeHandler``, ``request_person_token``,
``exchange_resource_token``), which also verifies every token our person server returns and the
resource token our resource minted.  Our person server (``ourps11.ours_world``, the Starlette
app on 127.0.0.1) verifies the peer's signed requests, whose ``Signature`` is unpadded
base64url (protocol-current §5.1 bug 1; -11 open point 2 lets us read it), and our resource
(Starlette, three-party, ``person_servers=("https://ps.example",)``) challenges and serves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aauth_core.keys import PublicKey, SigningKey

from .live11 import PS_ID, SCOPE
from .ourps11 import API_ID, PEER_AGENT, PEER_AP_ID, PEER_STRANGER, OurPersonServerWorld, ours_world
from .peer_runner import run_driver

DATA = f"{API_ID}/data"
PS_METADATA, PERSON, TOKEN = f"{PS_ID}/.well-known/aauth-person.json", f"{PS_ID}/person", f"{PS_ID}/token"


@pytest.fixture(scope="module")
def world() -> Iterator[OurPersonServerWorld]:
    with ours_world(aauth_resource=False) as started:
        yield started


def aauth_agent(world: OurPersonServerWorld, key: SigningKey, *, sub: str = PEER_AGENT,
                **options: Any) -> dict[str, Any]:
    """aauth's agent ``sub`` (``key``) runs the flow to our resource's ``/data``; what it saw
    (exchanges without bodies, token claims, never a token)."""
    return run_driver("aauth_agent_flow.py", {**world.peer_agent(key, sub=sub), "resource": API_ID,
                                              "url": DATA, **options})


def steps(answer: dict[str, Any]) -> list[tuple[str, str, int, str | None]]:
    """(method, URL, status, requirement) of every exchange the peer had, in order."""
    return [(e["method"], e["url"], e["status"], e["requirement"]) for e in answer["exchanges"]]


def thumbprint(jwk: dict[str, Any]) -> str:
    return PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "alg"}).thumbprint


def test_aauth_050_agent_our_person_server_our_resource_three_party_200_base64url_signatures_bug_5_1_1(
        world: OurPersonServerWorld) -> None:
    key = SigningKey.generate()
    answer = aauth_agent(world, key)
    assert answer["error"] is None, answer["error"]
    assert steps(answer) == [("GET", DATA, 401, "person-token"), ("GET", PS_METADATA, 200, None),
                             ("POST", PERSON, 200, None), ("GET", DATA, 401, "auth-token"),
                             ("GET", PS_METADATA, 200, None), ("POST", TOKEN, 200, None), ("GET", DATA, 200, None)]
    # every signature the peer sent, to our PS and our resource alike, was base64url (bug 1), and read
    assert all(e["signature_base64url"] for e in answer["exchanges"] if e["signed"])
    person, rt, auth = answer["person"], answer["resource_token"], answer["auth"]
    assert (person["iss"], person["dwk"], person["aud"]) == (PS_ID, "aauth-person.json", API_ID)
    assert thumbprint(person["cnf"]["jwk"]) == key.thumbprint and person["cnf"]["jwk"]["alg"] == "Ed25519"
    assert 0 < person["exp"] - person["iat"] <= 3600
    assert (rt["iss"], rt["aud"], rt["ps"], rt["sub"]) == (API_ID, PS_ID, PS_ID, person["sub"])
    assert (rt["presented_jti"], rt["agent_jkt"], rt["scope"]) == (person["jti"], key.thumbprint, SCOPE)
    assert (auth["iss"], auth["dwk"], auth["aud"], auth["ps"]) == (PS_ID, "aauth-person.json", API_ID, PS_ID)
    assert (auth["sub"], auth["scope"], thumbprint(auth["cnf"]["jwk"])) == (person["sub"], SCOPE, key.thumbprint)
    assert answer["answer"] == {"profile": "aauth-11", "token_type": "aa-auth+jwt", "issuer": PS_ID, "agent": None,
                                "agent_provider": None, "person": [PS_ID, person["sub"]], "sub": person["sub"],
                                "scope": [SCOPE], "tenant": None, "mission_s256": None, "key": key.thumbprint}
    # our person server found aauth's agent provider through its documents, our resource too
    assert {f"{PEER_AP_ID}/.well-known/aauth-agent.json", f"{PEER_AP_ID}/jwks.json",
            f"{API_ID}/.well-known/aauth-resource.json"} <= set(world.fetched)


def test_aauth_050_agent_same_person_same_sub_at_our_resource(world: OurPersonServerWorld) -> None:
    """The directed ``sub`` is the person's at this resource, whichever key or run asks."""
    first, second = aauth_agent(world, SigningKey.generate()), aauth_agent(world, SigningKey.generate())
    assert first["error"] is None and second["error"] is None
    assert first["person"]["sub"] == second["person"]["sub"] == second["auth"]["sub"]
    assert first["person"]["jti"] != second["person"]["jti"]


def test_aauth_050_agent_no_user_registered_refused_user_unreachable_by_our_person_server(
        world: OurPersonServerWorld) -> None:
    """An agent no user is registered for, asking without the ``interaction`` capability: our PS
    cannot ask anybody, answers 403 ``user_unreachable`` and issues nothing; aauth raises it."""
    answer = aauth_agent(world, SigningKey.generate(), sub=PEER_STRANGER)
    assert answer["error"] == {"stage": "person token", "type": "TokenError", "code": "user_unreachable"}
    assert steps(answer)[-1] == ("POST", PERSON, 403, None)
    assert answer["person"] is None and answer["auth"] is None and answer["answer"] is None


def test_aauth_050_agent_token_naming_another_person_server_refused_by_our_person_server(
        world: OurPersonServerWorld) -> None:
    """The agent token's ``ps`` is another person server: our PS refuses the agent (403)."""
    answer = aauth_agent(world, SigningKey.generate(), agent_token_ps="https://other-ps.example")
    assert answer["error"] == {"stage": "person token", "type": "TokenError", "code": "invalid_request"}
    assert steps(answer)[-1] == ("POST", PERSON, 403, None)
    assert answer["person"] is None


def test_aauth_050_agent_tampered_signature_refused_invalid_signature_by_our_person_server(
        world: OurPersonServerWorld) -> None:
    """One character of the peer's signature changed in flight to our PS: 401 with the -11
    ``Signature-Error``; nothing issued, and the resource never saw a person token."""
    answer = aauth_agent(world, SigningKey.generate(), tamper_hosts=["ps.example"])
    assert answer["error"] == {"stage": "person token", "type": "TokenError", "code": "invalid_signature"}
    last = answer["exchanges"][-1]
    assert (last["url"], last["status"], last["signature-error"]) == (PERSON, 401, "error=invalid_signature")
    assert answer["person"] is None


def test_aauth_050_agent_person_token_for_another_resource_refused_by_our_resource(
        world: OurPersonServerWorld) -> None:
    """Our PS issues a person token for the resource asked (``https://other.example``); our
    resource refuses it (its ``aud`` is not this resource) and the route never runs."""
    answer = aauth_agent(world, SigningKey.generate(), person_token_for="https://other.example")
    assert answer["person"]["aud"] == "https://other.example"
    assert answer["error"] == {"stage": "person-token request", "type": "Unexpected", "code": 401}
    last = answer["exchanges"][-1]
    assert (last["url"], last["status"], last["signature-error"]) == (DATA, 401, "error=invalid_jwt")
    assert answer["auth"] is None and answer["answer"] is None
