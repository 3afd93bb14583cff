"""The 202 answers of the auth token endpoint (-11 §2.4, §11.8): the policy wants claims or an
approval; only the person server that asked may poll or answer, with signed requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.wire.requirement import parse_requirement

from ..conftest import FrozenClock
from ..profile11.mint import publish_server
from .harness import AS, NOW, PERSON_SUB, FourParty, build, claims_of


class Careful:
    """Wants an email before data.read; a person approves anything else."""

    def __init__(self) -> None:
        self.seen: list[AccessRequest] = []

    def decide(self, request: AccessRequest) -> AccessDecision:
        self.seen.append(request)
        if request.scope == {"data.read"}:
            return AccessDecision.grant() if "email" in request.claims else AccessDecision.need_claims("email")
        if request.claims.get("email") == "mallory@example.com":
            return AccessDecision.deny("not this person")
        return AccessDecision.need_approval()


def pending(clock: FrozenClock) -> tuple[FourParty, Careful]:
    policy = Careful()
    return build(clock, policy=policy, resources={"https://api.example": ("data.read", "data.write")}), policy


def test_claims_are_asked_for_then_answered(clock: FrozenClock) -> None:
    four, policy = pending(clock)
    status, headers, body = four.federate()
    assert status == 202 and body == {"status": "pending", "required_claims": ["email"]}
    assert parse_requirement(headers["AAuth-Requirement"]).requirement == "claims"
    assert headers["Retry-After"] == "5" and headers["Cache-Control"] == "no-store"
    location = headers["Location"]
    assert location.startswith(AS + "/token/pending/")
    four.clock.advance(1)
    assert four.poll(location)[0] == 202  # still waiting
    four.clock.advance(1)
    status, _, body = four.poll(location, method="POST", body={"claims": {"email": "alice@example.com",
                                                                          "sub": "forged"}})
    assert status == 200, body
    claims = claims_of(body["auth_token"])
    assert claims["sub"] == PERSON_SUB and claims["scope"] == "data.read"
    assert policy.seen[-1].claims == {"email": "alice@example.com"}  # never a sub from the claims
    four.clock.advance(1)
    assert four.poll(location)[0] == 404  # delivered once, then gone


def test_an_approval_then_the_token(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    token = four.resource_token(level="authorization:data.write")
    status, headers, body = four.federate(four.body(resource_token=token))
    assert status == 202 and body == {"status": "pending"}
    assert parse_requirement(headers["AAuth-Requirement"]).requirement == "approval"
    pending_id = headers["Location"].rsplit("/", 1)[1]
    assert four.server.approve("nope") is False
    assert four.server.approve(pending_id) is True
    four.clock.advance(1)
    status, _, body = four.poll(headers["Location"])
    assert status == 200 and claims_of(body["auth_token"])["scope"] == "data.write"
    assert four.server.approve(pending_id) is False  # nothing waits any more


def test_a_denial(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    token = four.resource_token(level="authorization:data.write")
    _, headers, _ = four.federate(four.body(resource_token=token))
    assert four.server.deny(headers["Location"].rsplit("/", 1)[1]) is True
    four.clock.advance(1)
    status, hdrs, body = four.poll(headers["Location"])
    assert status == 403 and body["error"] == "denied" and hdrs["Content-Type"] == "application/problem+json"


def test_claims_that_lead_to_a_denial(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    token = four.resource_token(level="authorization:data.write")
    _, headers, _ = four.federate(four.body(resource_token=token))
    four.clock.advance(1)
    status, _, body = four.poll(headers["Location"], method="POST", body={"claims": {"email": "x@example.com"}})
    assert status == 400 and body["error"] == "invalid_request"  # it waits for an approval, not claims
    assert four.poll(headers["Location"], created=NOW + 2)[0] == 202


def test_only_the_asking_person_server_may_poll(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    _, headers, _ = four.federate()
    ps2 = SigningKey.generate(kid="ps2-key")
    publish_server(four.network, ps2, "https://ps2.example", "aauth-person.json")
    four.clock.advance(1)
    status, _, body = four.poll(headers["Location"], server="https://ps2.example", key=ps2)
    assert status == 404 and body["error"] == "not_found"
    status, _, body = four.poll(headers["Location"], server="https://ps2.example", key=ps2, method="POST",
                                body={"claims": {"email": "alice@example.com"}}, created=NOW + 2)
    assert status == 404
    assert four.poll(headers["Location"], created=NOW + 3)[0] == 202  # still the asker's


def test_polls_are_signed(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    _, headers, _ = four.federate()
    reply = four.server.poll(RequestView.from_url("GET", headers["Location"], {}),
                             headers["Location"].rsplit("/", 1)[1])
    assert reply.status == 401 and "Signature-Error" in reply.headers


def test_an_unknown_pending_id(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    assert four.poll(AS + "/token/pending/unknown")[0] == 404


def test_prefer_wait_holds_the_poll_until_a_decision(clock: FrozenClock) -> None:
    four, _ = pending(clock)
    token = four.resource_token(level="authorization:data.write")
    _, headers, _ = four.federate(four.body(resource_token=token))
    location = headers["Location"]
    pending_id = location.rsplit("/", 1)[1]
    four.clock.advance(1)
    view = RequestView.from_url("GET", location, four.ps_headers("GET", location, None, extra={"Prefer": "wait=10"}))

    async def scenario() -> Any:
        poll = asyncio.create_task(four.server.apoll(view, pending_id))
        await asyncio.sleep(0.1)
        assert await four.server.aapprove(pending_id)
        return await poll

    reply = asyncio.run(scenario())
    assert reply.status == 200 and "auth_token" in json.loads(reply.body)
