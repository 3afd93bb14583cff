"""Our person server end to end: metadata, person tokens, the three-party flow to 200 at our
resource, consent through the page, denial, ``Prefer: wait``, pending polls from another key."""

from __future__ import annotations

import json

import pytest

from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.personserver import directed_sub
from aauth_core.tokens import peek

from ..conftest import NOW, FrozenClock
from .raw import person_request
from .stack import AGENT, PS, RESOURCE, SECRET, Stack, approve, make_stack


def test_metadata_and_jwks(stack: Stack) -> None:
    browser = stack.browser()
    doc = browser.get("/.well-known/aauth-person.json").json()
    assert doc == {"issuer": PS, "jwks_uri": f"{PS}/jwks.json", "person_token_endpoint": f"{PS}/person",
                   "auth_token_endpoint": f"{PS}/token", "mission_endpoint": f"{PS}/mission"}
    keys = browser.get("/jwks.json").json()["keys"]
    assert [(k["kid"], k["alg"]) for k in keys] == [("ps-1", "Ed25519")]


def test_three_party_flow_to_200_with_autonomous_grants(open_stack: Stack) -> None:
    stack = open_stack
    with stack.client(stack.auth()) as client:
        response = client.get(f"{RESOURCE}/data")
    assert response.status_code == 200, response.text
    sub = directed_sub(SECRET, "alice", RESOURCE)
    assert response.json() == {"person": sub, "token": "aa-auth+jwt", "scope": ["data.read"], "mission": None}
    assert [u for m, u in stack.net.seen if u.startswith(PS) and m == "POST"] == [f"{PS}/person", f"{PS}/token"]


def test_person_token_claims(open_stack: Stack) -> None:
    stack = open_stack
    with stack.client(stack.auth()) as client:
        response = client.get(f"{RESOURCE}/whoami")
    assert response.status_code == 200, response.text
    sub = directed_sub(SECRET, "alice", RESOURCE)
    assert response.json() == {"person": [PS, sub], "token": "aa-person+jwt"}


def test_consent_through_the_page_then_200(stack: Stack) -> None:
    browser = stack.browser()
    answers: list[int] = []

    def user(url: str) -> None:
        stack.shown.append(url)
        answers.append(approve(browser, url).status_code)

    with stack.client(stack.auth(interaction=user)) as client:
        response = client.get(f"{RESOURCE}/data")
        assert response.status_code == 200, response.text
        assert len(stack.shown) == 2 and answers == [200, 200]  # the person token, then the scope
        assert all(u.startswith(f"{PS}/interaction?code=") for u in stack.shown)
        # remembered: a new agent key, same agent, asks again and needs nobody
    stack.shown.clear()
    with stack.client(stack.auth(interaction=user)) as client:
        assert client.get(f"{RESOURCE}/data").status_code == 200
    assert stack.shown == []


def test_denial_reaches_the_agent_as_denied(stack: Stack) -> None:
    browser = stack.browser()

    def user(url: str) -> None:
        page = approve(browser, url, action="deny")
        assert page.status_code == 200 and "Not approved" in page.text

    with stack.client(stack.auth(interaction=user)) as client, pytest.raises(AAuthError) as caught:
        client.get(f"{RESOURCE}/data")
    assert caught.value.code == "denied"  # the client raises the person server's code


def test_no_interaction_capability_is_user_unreachable(stack: Stack) -> None:
    with stack.client(stack.auth()) as client, pytest.raises(AAuthError) as caught:
        client.get(f"{RESOURCE}/data")
    assert caught.value.code == "user_unreachable"
    assert not [u for m, u in stack.net.seen if m == "POST" and u == f"{PS}/token"]


def test_issued_person_token(open_stack: Stack) -> None:
    stack = open_stack
    reply = person_request(stack, {"resource": RESOURCE})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    claims = peek(body["person_token"]).claims
    assert peek(body["person_token"]).typ == "aa-person+jwt"
    assert claims["iss"] == PS and claims["aud"] == RESOURCE and claims["dwk"] == "aauth-person.json"
    assert claims["sub"] == directed_sub(SECRET, "alice", RESOURCE)
    assert claims["cnf"]["jwk"]["x"] == stack.agent_key.public_jwk()["x"]
    assert claims["exp"] - claims["iat"] <= 3600 and body["expires_in"] == claims["exp"] - NOW
    assert "scope" not in claims and json.loads(reply.content) == body


def test_the_directed_sub_is_pairwise_and_independent_of_agent_and_key(open_stack: Stack) -> None:
    stack = open_stack
    subs = set()
    for resource in (RESOURCE, "https://other.example"):
        for key in (stack.agent_key, SigningKey.generate()):
            reply = person_request(stack, {"resource": resource}, key=key)
            subs.add((resource, peek(reply.json()["person_token"]).claims["sub"]))
    assert len(subs) == 2 and len({sub for _, sub in subs}) == 2
    assert (RESOURCE, directed_sub(SECRET, "alice", RESOURCE)) in subs
    assert directed_sub(SECRET, "alice", RESOURCE) != directed_sub(SECRET, "bob", RESOURCE)


def test_an_unregistered_agent_is_bound_to_the_user_who_approves(clock: FrozenClock) -> None:
    stack = make_stack(clock, agents={})
    browser = stack.browser()
    with stack.client(stack.auth(interaction=lambda url: approve(browser, url, user="bob",
                                                                 password="builder"))) as client:
        response = client.get(f"{RESOURCE}/whoami")
    assert response.status_code == 200, response.text
    assert response.json()["person"] == [PS, directed_sub(SECRET, "bob", RESOURCE)]
    assert AGENT not in stack.ps.config.agents
