"""Every bad call to the auth token endpoint: its -11 code and status, and nothing issued.

Signature failures are 401 with ``Signature-Error`` (-11 §11.3.4); a problem with the body or
one of its tokens is 400 ``invalid_request`` / ``invalid_<param>`` / ``expired_<param>``
(-11 §11.9.2; ``invalid_agent_token`` and ``expired_agent_token`` are ours, open point 7);
a verified caller we refuse is 403 without any ``Signature-*`` header.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import FrozenClock
from ..profile11.mint import publish_server
from .harness import AP, AS, FORBIDDEN, NOW, PS, RESOURCE, TOKEN, FourParty, build

BASE = ("@method", "@authority", "@path", "signature-key")


def signature_refused(four: FourParty, reply: tuple[int, dict[str, str], Any], code: str) -> dict[str, str]:
    status, headers, body = reply
    assert status == 401, (status, body)
    assert parse_signature_error(headers["Signature-Error"]).error == code, (headers, body)
    assert headers["Content-Type"] == "application/problem+json" and body["error"] == code
    assert body["type"] == f"urn:ietf:params:sig-error:{code}"
    assert four.stored() == 0
    return headers


def refused(four: FourParty, reply: tuple[int, dict[str, str], Any], code: str, status: int = 400) -> None:
    got, headers, body = reply
    assert (got, body["error"]) == (status, code), body
    assert headers["Content-Type"] == "application/problem+json" and body["detail"]
    assert not any(h.startswith("Signature-") for h in headers)
    assert "auth_token" not in body and four.stored() == 0


def raw_post(four: FourParty, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], Any]:
    reply = four.server.token(RequestView.from_url("POST", TOKEN, headers, body))
    return reply.status, dict(reply.headers), json.loads(reply.body)


# ----------------------------------------------------------------------------- the person server's signature


def test_an_unsigned_call(four: FourParty) -> None:
    body = json.dumps(four.body()).encode()
    signature_refused(four, raw_post(four, {"Content-Type": "application/json"}, body), "invalid_signature")


def test_the_body_must_be_covered(four: FourParty) -> None:
    headers = signature_refused(four, four.federate(components=BASE), "invalid_input")
    assert parse_signature_error(headers["Signature-Error"]).required_input == (
        *BASE, "content-digest", "content-type")


@pytest.mark.parametrize(("created", "code"), [(NOW - 61, "invalid_signature"), (NOW + 61, "clock_skew")])
def test_created_outside_the_window(four: FourParty, created: int, code: str) -> None:
    signature_refused(four, four.federate(created=created), code)


def test_a_tampered_body(four: FourParty) -> None:
    view, raw = four.token_request(four.body())
    status, headers, body = raw_post(four, dict(view.headers.items()), raw.replace(b"}", b', "x": 1}'))
    signature_refused(four, (status, headers, body), "invalid_signature")


def test_a_replayed_call(four: FourParty) -> None:
    view, _ = four.token_request(four.body())
    assert four.server.token(view).status == 200
    reply = four.server.token(view)
    assert reply.status == 401 and parse_signature_error(reply.headers["Signature-Error"]).error == "invalid_signature"


def test_another_key_under_the_person_servers_kid(four: FourParty) -> None:
    signature_refused(four, four.federate(key=SigningKey.generate(kid="ps-key-1")), "invalid_signature")


def test_an_unknown_kid(four: FourParty) -> None:
    signature_refused(four, four.federate(key=SigningKey.generate(kid="nope")), "unknown_key")


@pytest.mark.parametrize("dwk", ["aauth-agent.json", "aauth-access.json", "aauth-resource.json"])
def test_only_a_person_server_calls(four: FourParty, dwk: str) -> None:
    headers = signature_refused(four, four.federate(dwk=dwk), "unsupported_scheme")
    assert headers["Accept-Signature-Scheme"]


def test_an_agent_signing_with_its_token_is_not_a_person_server(four: FourParty) -> None:
    from ..profile11.mint import sign11

    raw = json.dumps(four.body()).encode()
    headers = sign11("POST", TOKEN, four.agent_key, four.agent_token(), body=raw,
                     components=(*BASE, "content-digest", "content-type"))
    signature_refused(four, raw_post(four, headers, raw), "unsupported_scheme")


@pytest.mark.parametrize("host", sorted(FORBIDDEN))
def test_a_signer_at_a_non_public_address_is_never_fetched(four: FourParty, host: str) -> None:
    """SSRF: the guard refuses before a packet is sent (the transport fails the test otherwise)."""
    signature_refused(four, four.federate(server=f"https://{host}"), "invalid_key")
    assert not any(host in url for url in four.network.calls)


def test_an_unlisted_person_server_is_refused_before_any_fetch(clock: FrozenClock) -> None:
    four = build(clock, person_servers=("https://other-ps.example",))
    body = four.body()
    four.network.calls.clear()
    refused(four, four.federate(body), "untrusted_person_server", 403)
    assert not any(url.startswith(PS) for url in four.network.calls)


# ----------------------------------------------------------------------------- the body


@pytest.mark.parametrize("raw", [b"[]", b"not json", b'{"resource_token": 1}', b'"x"'])
def test_a_body_that_is_not_a_token_request(four: FourParty, raw: bytes) -> None:
    refused(four, four.federate(raw), "invalid_request")


@pytest.mark.parametrize("missing", ["resource_token", "agent_token", "presented_token"])
def test_each_token_is_required(four: FourParty, missing: str) -> None:
    body = four.body()
    del body[missing]
    refused(four, four.federate(body), "invalid_request")


def test_sub_agents_are_not_supported(four: FourParty) -> None:
    refused(four, four.federate(four.body(subagent_token=four.agent_token())), "invalid_request")


# ----------------------------------------------------------------------------- the resource token


def _other_resource_key(four: FourParty) -> str:
    return four.minted_resource_token(key=SigningKey.generate(kid="rs-key-1"))


RESOURCE_CASES: dict[str, tuple[Callable[[FourParty], str], str]] = {
    "garbage": (lambda f: "not.a.jwt", "invalid_resource_token"),
    "a person token": (lambda f: f.person_token(), "invalid_resource_token"),
    "signed by another key": (_other_resource_key, "invalid_resource_token"),
    "for the person server": (lambda f: f.minted_resource_token(aud=PS), "invalid_resource_token"),
    "naming another person server": (lambda f: f.minted_resource_token(ps="https://ps2.example"),
                                     "invalid_resource_token"),
    "for another agent key": (lambda f: f.minted_resource_token(agent_jkt=SigningKey.generate().thumbprint),
                              "invalid_agent_token"),
    "naming another presented token": (lambda f: f.minted_resource_token(presented_jti="pt-2"),
                                       "invalid_presented_token"),
    "for another person": (lambda f: f.minted_resource_token(sub="someone-else"), "invalid_presented_token"),
    "with another tenant": (lambda f: f.minted_resource_token(tenant="globex"), "invalid_presented_token"),
    "without the mission": (lambda f: f.minted_resource_token(mission_s256=None), "invalid_presented_token"),
}


@pytest.mark.parametrize("case", sorted(RESOURCE_CASES))
def test_resource_token_mismatches(four: FourParty, case: str) -> None:
    make, code = RESOURCE_CASES[case]
    refused(four, four.federate(four.body(resource_token=make(four))), code)


def test_an_expired_resource_token(four: FourParty) -> None:
    token = four.resource_token()
    four.clock.advance(301)
    refused(four, four.federate(four.body(resource_token=token, presented_token=four.person_token())),
            "expired_resource_token")


def test_a_resource_this_server_does_not_govern(clock: FrozenClock) -> None:
    four = build(clock, resources={"https://other.example": ("data.read",)})
    refused(four, four.federate(), "invalid_resource_token")


# ----------------------------------------------------------------------------- the agent token


AGENT_CASES: dict[str, tuple[Callable[[FourParty], str], str]] = {
    "for another key": (lambda f: f.agent_token(key=SigningKey.generate()), "invalid_agent_token"),
    "naming another person server": (lambda f: f.agent_token(ps="https://ps2.example"), "invalid_agent_token"),
    "from an unknown key": (lambda f: _agent_by(f, SigningKey.generate(kid="ap-key-1")), "invalid_agent_token"),
    "a person token": (lambda f: f.person_token(), "invalid_agent_token"),
}


def _agent_by(four: FourParty, key: SigningKey) -> str:
    from aauth_core.tokens.mint_11 import mint_agent_token_11

    return mint_agent_token_11(key, iss=AP, sub="aauth:x@ap.example", cnf_jwk=four.agent_key.public_jwk(),
                               now=four.clock())


@pytest.mark.parametrize("case", sorted(AGENT_CASES))
def test_agent_token_problems(four: FourParty, case: str) -> None:
    make, code = AGENT_CASES[case]
    refused(four, four.federate(four.body(agent_token=make(four))), code)


def test_an_expired_agent_token(four: FourParty) -> None:
    agent = four.agent_token(lifetime=60)
    four.clock.advance(61)
    refused(four, four.federate(four.body(agent_token=agent)), "expired_agent_token")


# ----------------------------------------------------------------------------- the presented token


def test_an_expired_presented_token(four: FourParty) -> None:
    person = four.person_token(lifetime=60)
    body = four.body(presented_token=person)
    four.clock.advance(61)
    refused(four, four.federate(body), "expired_presented_token")


def test_a_presented_token_from_another_person_server(clock: FrozenClock) -> None:
    """The PS at ps2 signs, names itself in the resource token, but presents ps's person token."""
    four = build(clock)
    ps2_key = SigningKey.generate(kid="ps2-key")
    publish_server(four.network, ps2_key, "https://ps2.example", "aauth-person.json")
    body = four.body(resource_token=four.minted_resource_token(ps="https://ps2.example"),
                     agent_token=four.agent_token(ps="https://ps2.example"))
    refused(four, four.federate(body, server="https://ps2.example", key=ps2_key), "invalid_presented_token")


def test_a_presented_token_for_another_resource(four: FourParty) -> None:
    refused(four, four.federate(four.body(presented_token=four.person_token(aud="https://other.example"),
                                          resource_token=four.minted_resource_token())), "invalid_presented_token")


def test_a_presented_token_for_another_key(four: FourParty) -> None:
    person = four.person_token(key=SigningKey.generate())
    refused(four, four.federate(four.body(presented_token=person, resource_token=four.minted_resource_token())),
            "invalid_presented_token")


def test_a_presented_token_issued_in_the_future(four: FourParty) -> None:
    person = four.person_token(now=NOW + 600)
    refused(four, four.federate(four.body(presented_token=person, resource_token=four.minted_resource_token())),
            "clock_skew")


def test_an_auth_token_of_another_access_server_as_presented_token(four: FourParty) -> None:
    from aauth_core.tokens.mint_11 import mint_auth_token_11

    other = mint_auth_token_11(four.as_key, iss="https://as2.example", aud=RESOURCE, ps=PS, sub="x",
                               cnf_jwk=four.agent_key.public_jwk(), now=NOW, dwk="aauth-access.json", jti="pt-1")
    refused(four, four.federate(four.body(presented_token=other, resource_token=four.minted_resource_token())),
            "invalid_presented_token")


def test_an_upstream_token_for_someone_else(four: FourParty) -> None:
    upstream = four.person_token(aud="https://elsewhere.example", jti="up-1")
    refused(four, four.federate(four.body(upstream_token=upstream)), "invalid_upstream_token")


def test_an_upstream_token_caps_the_auth_token(four: FourParty) -> None:
    upstream = four.person_token(aud=AP, jti="up-1", lifetime=120)
    status, _, body = four.federate(four.body(upstream_token=upstream))
    assert status == 200 and body["expires_in"] == 120


# ----------------------------------------------------------------------------- the policy


class Broken:
    def decide(self, request: AccessRequest) -> AccessDecision:
        raise RuntimeError("bug")


def test_a_failing_policy_is_a_server_error(clock: FrozenClock) -> None:
    four = build(clock, policy=Broken())
    refused(four, four.federate(), "server_error", 500)


def test_the_issuer_is_this_access_server(four: FourParty) -> None:
    assert four.server.issuer == AS
