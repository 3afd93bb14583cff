"""Federation (four-party): our agent client → our resource (``access_server``) → our person
server → our access server → 200 at the resource; claims and approvals; and everything the
person server refuses to relay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_core.authserver import AllowAll
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.personserver import directed_sub
from aauth_core.tokens import peek

from ..conftest import FrozenClock
from .four import AS, GOV, FourParty, add_access_server, impostor
from .raw import get, post
from .stack import PS, SECRET, Stack, make_stack
from .test_token_endpoint import person_token, refused, resource_token


def as_calls(stack: Stack) -> list[tuple[str, str]]:
    return [(m, u) for m, u in stack.net.seen if u.startswith(AS)]


def federate(stack: Stack, **over: Any) -> Any:
    """A hand-made four-party ``POST /token``: our person token for api.example and a resource
    token (signed by api.example's key) addressed to the access server."""
    pt = person_token(stack)
    stack.clock.advance(over.pop("after", 0))
    headers = over.pop("headers", None)
    return post(stack, "/token", {"resource_token": resource_token(stack, pt, aud=AS, **over), "presented_token": pt},
                headers=headers)


# ------------------------------------------------------------------ end to end


def test_four_party_end_to_end_to_200(open_stack: Stack) -> None:
    stack = open_stack
    add_access_server(stack)
    with stack.client(stack.auth()) as client:
        response = client.get(f"{GOV}/data")
    assert response.status_code == 200, response.text
    assert response.json() == {"person": directed_sub(SECRET, "alice", GOV), "token": "aa-auth+jwt",
                               "scope": ["data.read"], "mission": None}
    assert ("POST", f"{AS}/token") in as_calls(stack)
    relayed = [r.json()["auth_token"] for m, u, r in stack.net.answers if u == f"{PS}/token" and r.status_code == 200]
    token = peek(relayed[0])
    claims = token.claims
    assert token.typ == "aa-auth+jwt" and (claims["iss"], claims["dwk"], claims["ps"]) == (
        AS, "aauth-access.json", PS)
    assert claims["aud"] == GOV and claims["sub"] == directed_sub(SECRET, "alice", GOV) and "act" not in claims


class NeedsEmail:
    def __init__(self) -> None:
        self.seen: list[AccessRequest] = []

    def decide(self, request: AccessRequest) -> AccessDecision:
        self.seen.append(request)
        return AccessDecision.grant() if "email" in request.claims else AccessDecision.need_claims("email")


class Directory:
    """The person server's claims release: alice's email, nothing else, and never ``sub``."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[str, ...], str, str]] = []

    def __call__(self, user: str, names: Sequence[str], *, access_server: str,
                 resource: str) -> Mapping[str, Any] | None:
        self.asked.append((user, tuple(names), access_server, resource))
        return {"email": f"{user}@example.com", "sub": "forged"} if user == "alice" else None


def test_claims_are_answered_from_the_users_data(clock: FrozenClock) -> None:
    directory = Directory()
    stack = make_stack(clock, policy=AllowAll(), claims=directory)
    policy = NeedsEmail()
    add_access_server(stack, policy=policy)
    with stack.client(stack.auth()) as client:
        assert client.get(f"{GOV}/data").status_code == 200
    assert directory.asked == [("alice", ("email",), AS, GOV)]
    assert policy.seen[-1].claims == {"email": "alice@example.com"}  # no sub sent
    assert [m for m, u in as_calls(stack) if "/token/pending/" in u] == ["POST"]


def test_claims_the_person_server_does_not_release_are_denied(open_stack: Stack) -> None:
    add_access_server(open_stack, policy=NeedsEmail())
    refused(federate(open_stack), 403, "denied")


class NeedsApproval:
    def decide(self, request: AccessRequest) -> AccessDecision:
        return AccessDecision.need_approval()


def _approver(four: FourParty, *, deny: bool = False) -> Any:
    """The access server's operator decides once the person server has polled it once."""
    stack = four.stack

    def sleep(seconds: float) -> None:
        stack.waits.append(seconds)
        stack.clock.advance(seconds)
        polled = [u for m, u in as_calls(stack) if m == "GET" and "/token/pending/" in u]
        if polled:
            pending_id = polled[-1].rsplit("/", 1)[1]
            (four.access.deny if deny else four.access.approve)(pending_id)

    async def asleep(seconds: float) -> None:
        sleep(seconds)

    return stack.polling().__class__(sleep=sleep, asleep=asleep)


def test_an_approval_at_the_access_server_is_polled_through_the_person_server(open_stack: Stack) -> None:
    four = add_access_server(open_stack, policy=NeedsApproval())
    with open_stack.client(open_stack.auth(polling=_approver(four))) as client:
        response = client.get(f"{GOV}/data")
    assert response.status_code == 200, response.text
    parked = [r for m, u, r in open_stack.net.answers if u == f"{PS}/token"]
    assert parked[0].status_code == 202 and parked[0].headers["location"].startswith(f"{PS}/pending/")
    assert "requirement=approval" in parked[0].headers["aauth-requirement"]
    polls = [r.status_code for m, u, r in open_stack.net.answers if m == "GET" and u.startswith(f"{AS}/token/pending/")]
    assert set(polls[:-1]) == {202} and polls[-1] == 200  # signed GETs, Retry-After apart, until the token


def test_a_denial_at_the_access_server_reaches_the_agent(open_stack: Stack) -> None:
    four = add_access_server(open_stack, policy=NeedsApproval())
    with open_stack.client(open_stack.auth(polling=_approver(four, deny=True))) as client, \
            pytest.raises(AAuthError) as caught:
        client.get(f"{GOV}/data")
    assert caught.value.code == "denied"
    location = next(r.headers["location"] for m, u, r in open_stack.net.answers if u == f"{PS}/token")
    assert get(open_stack, location).status_code == 410  # refused once, then a tombstone


def test_prefer_wait_is_spent_polling_the_access_server(open_stack: Stack) -> None:
    four = add_access_server(open_stack, policy=NeedsApproval())

    def operator() -> None:
        answered = [r for m, u, r in open_stack.net.answers if u == f"{AS}/token" and r.status_code == 202]
        four.access.approve(answered[-1].headers["location"].rsplit("/", 1)[1])

    open_stack.on_ps_wait = operator
    reply = federate(open_stack, headers={"Prefer": "wait=20"})
    assert reply.status_code == 200, reply.text
    assert open_stack.waits == [5.0]  # the access server's Retry-After, within the agent's wait
    assert peek(reply.json()["auth_token"]).claims["iss"] == AS


def test_a_parked_request_expires(clock: FrozenClock) -> None:
    stack = make_stack(clock, policy=AllowAll())
    add_access_server(stack, policy=NeedsApproval())
    reply = federate(stack)
    assert reply.status_code == 202
    stack.clock.advance(601)
    refused(get(stack, reply.headers["location"]), 408, "expired")
    assert get(stack, reply.headers["location"]).status_code == 410


def test_a_parked_request_is_polled_only_with_the_agents_key(open_stack: Stack) -> None:
    add_access_server(open_stack, policy=NeedsApproval())
    reply = federate(open_stack)
    before = len(as_calls(open_stack))
    refused(get(open_stack, reply.headers["location"], key=SigningKey.generate()), 404, "not_found")
    assert len(as_calls(open_stack)) == before


# ------------------------------------------------------------------ refusals


def test_an_access_server_that_is_down_is_as_unreachable(open_stack: Stack) -> None:
    add_access_server(open_stack)
    open_stack.net.down.add("as.example")
    refused(federate(open_stack), 502, "as_unreachable")


def test_an_access_server_failing_is_as_unreachable(open_stack: Stack) -> None:
    impostor(open_stack, lambda claims: claims, status=503)
    refused(federate(open_stack), 502, "as_unreachable")


def test_the_access_servers_refusals_are_relayed(open_stack: Stack) -> None:
    add_access_server(open_stack)
    reply = federate(open_stack, scope="data.write")  # not listed for the resource: the AS denies
    refused(reply, 403, "denied")
    assert reply.json()["detail"].startswith("the access server refused")
    ungoverned = make_stack(open_stack.clock, policy=AllowAll())
    add_access_server(ungoverned, resources={GOV: ("data.read",)})  # api.example is not governed there
    refused(federate(ungoverned), 400, "invalid_resource_token")


def _iss(c: dict[str, Any]) -> dict[str, Any]:
    return {**c, "iss": "https://other-as.example"}


@pytest.mark.parametrize(("change", "because"), [
    pytest.param(lambda c: {**c, "aud": "https://other.example"}, "(aud)", id="aud"),
    pytest.param(lambda c: {**c, "cnf_jwk": SigningKey.generate().public_jwk()}, "(cnf)", id="cnf"),
    pytest.param(lambda c: {**c, "sub": "someone-else"}, "(sub)", id="sub"),
    pytest.param(_iss, "(iss)", id="iss"),
    pytest.param(lambda c: {**c, "ps": "https://other-ps.example"}, "(ps)", id="ps"),
    pytest.param(lambda c: {**c, "scope": "data.read data.write"}, "more scope", id="scope"),
    pytest.param(lambda c: {**c, "dwk": "aauth-person.json"}, "dwk", id="dwk"),
    pytest.param(lambda c: {**c, "not_after": None}, "(exp)", id="exp"),
])
def test_a_bad_token_from_the_access_server_is_not_relayed(open_stack: Stack, change: Any, because: str) -> None:
    impostor(open_stack, change)
    reply = federate(open_stack, after=60)  # an hour from now outlives the person token by a minute
    refused(reply, 502, "as_unreachable")
    assert because in reply.json()["detail"]


def test_an_access_server_token_signed_by_another_key_is_not_relayed(open_stack: Stack) -> None:
    impostor(open_stack, lambda claims: claims, key=SigningKey.generate(kid="as-1"))
    reply = federate(open_stack)
    refused(reply, 502, "as_unreachable")
    assert "does not verify" in reply.json()["detail"]


def test_the_impostor_with_an_honest_token_is_relayed(open_stack: Stack) -> None:
    impostor(open_stack, lambda claims: claims)  # the control: the checks pass on a correct token
    reply = federate(open_stack)
    assert reply.status_code == 200, reply.text


def test_an_access_server_outside_the_allow_list_is_never_called(clock: FrozenClock) -> None:
    stack = make_stack(clock, policy=AllowAll(), access_servers=("https://other-as.example",))
    add_access_server(stack)
    refused(federate(stack), 400, "invalid_resource_token")
    assert as_calls(stack) == []


def test_a_resource_token_naming_us_in_ps_only(open_stack: Stack) -> None:
    add_access_server(open_stack)
    refused(federate(open_stack, ps="https://other-ps.example"), 400, "invalid_resource_token")
    assert as_calls(open_stack) == []
