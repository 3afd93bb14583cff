"""``POST /token`` refusals: every bad resource token, presented token and body has its
problem+json code, and nothing is issued."""

from __future__ import annotations

from typing import Any

import pytest

from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.tokens.json import thaw_mapping
from aauth_core.tokens.mint_11 import mint_resource_token_11

from ..conftest import NOW
from ..profile11.mint import mint
from .raw import BODY_SET, person_request, post
from .stack import PS, RESOURCE, Stack


def person_token(stack: Stack, key: SigningKey | None = None) -> str:
    reply = person_request(stack, {"resource": RESOURCE}, key=key)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["person_token"])


def resource_claims(stack: Stack, presented: str, **over: Any) -> dict[str, Any]:
    pt = peek(presented).claims
    claims: dict[str, Any] = {"iss": RESOURCE, "dwk": "aauth-resource.json", "aud": PS, "ps": PS, "sub": pt["sub"],
                              "presented_jti": pt["jti"], "agent_jkt": stack.agent_key.thumbprint,
                              "scope": "data.read", "jti": "rt-1", "iat": NOW, "exp": NOW + 300}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def resource_token(stack: Stack, presented: str, *, typ: str = "aa-resource+jwt", key: SigningKey | None = None,
                   **over: Any) -> str:
    return mint(key or stack.resource_key, resource_claims(stack, presented, **over), typ=typ)


def refused(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    body = reply.json()
    assert body["error"] == code and "auth_token" not in body and "person_token" not in body


def test_a_valid_request_gets_an_auth_token(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    rt = mint_resource_token_11(open_stack.resource_key, iss=RESOURCE, aud=PS, ps=PS, sub=peek(pt).claims["sub"],
                                presented_jti=peek(pt).claims["jti"], agent_jkt=open_stack.agent_key.thumbprint,
                                now=NOW, scope="data.read")
    reply = post(open_stack, "/token", {"resource_token": rt, "presented_token": pt})
    assert reply.status_code == 200, reply.text
    token = peek(reply.json()["auth_token"])
    assert token.typ == "aa-auth+jwt"
    claims = token.claims
    assert (claims["iss"], claims["aud"], claims["ps"], claims["dwk"]) == (PS, RESOURCE, PS, "aauth-person.json")
    assert claims["sub"] == peek(pt).claims["sub"] and claims["scope"] == "data.read"
    assert claims["exp"] <= peek(pt).claims["exp"] and "agent" not in claims and "act" not in claims


@pytest.mark.parametrize(("over", "typ", "code"), [
    ({}, "aa-person+jwt", "invalid_resource_token"),
    ({"dwk": "aauth-person.json"}, "aa-resource+jwt", "invalid_resource_token"),
    ({"aud": "http://as.example"}, "aa-resource+jwt", "invalid_resource_token"),  # aud not a server identifier
    ({"ps": "https://other-ps.example"}, "aa-resource+jwt", "invalid_resource_token"),
    ({"agent_jkt": "someone-else"}, "aa-resource+jwt", "invalid_resource_token"),
    ({"iat": NOW - 600, "exp": NOW - 1}, "aa-resource+jwt", "expired_resource_token"),
    ({"exp": NOW + 900}, "aa-resource+jwt", "invalid_resource_token"),  # longer than 5 min
    ({"iss": "http://api.example"}, "aa-resource+jwt", "invalid_resource_token"),
    ({"presented_jti": None}, "aa-resource+jwt", "invalid_resource_token"),
])
def test_bad_resource_tokens(open_stack: Stack, over: dict[str, Any], typ: str, code: str) -> None:
    pt = person_token(open_stack)
    reply = post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt, typ=typ, **over),
                                        "presented_token": pt})
    refused(reply, 400, code)


def test_a_resource_token_signed_by_another_key(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    forged = resource_token(open_stack, pt, key=SigningKey.generate(kid="api-1"))
    refused(post(open_stack, "/token", {"resource_token": forged, "presented_token": pt}), 400,
            "invalid_resource_token")


@pytest.mark.parametrize(("over", "code"), [
    ({"presented_jti": "another"}, "invalid_presented_token"),
    ({"sub": "another-person"}, "invalid_presented_token"),
    ({"mission_s256": "x" * 43}, "invalid_presented_token"),
    ({"tenant": "acme"}, "invalid_presented_token"),
])
def test_presented_token_mismatches(open_stack: Stack, over: dict[str, Any], code: str) -> None:
    pt = person_token(open_stack)
    reply = post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt, **over),
                                        "presented_token": pt})
    refused(reply, 400, code)


def test_a_person_token_for_another_resource(open_stack: Stack) -> None:
    reply = person_request(open_stack, {"resource": "https://other.example"})
    pt = reply.json()["person_token"]
    refused(post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt), "presented_token": pt}),
            400, "invalid_presented_token")


def test_a_person_token_of_another_key(open_stack: Stack) -> None:
    other = SigningKey.generate()
    pt = person_token(open_stack, key=other)  # bound to `other`, presented by the agent key
    refused(post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt), "presented_token": pt}),
            400, "invalid_presented_token")


def test_a_presented_token_not_ours(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    claims = thaw_mapping(peek(pt).claims)
    forged = mint(SigningKey.generate(kid="ps-1"), claims, typ="aa-person+jwt")
    refused(post(open_stack, "/token", {"resource_token": resource_token(open_stack, forged),
                                        "presented_token": forged}), 400, "invalid_presented_token")


def test_an_expired_presented_token(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    open_stack.clock.advance(3601)
    rt = resource_token(open_stack, pt, iat=int(open_stack.clock()), exp=int(open_stack.clock()) + 300)
    refused(post(open_stack, "/token", {"resource_token": rt, "presented_token": pt}), 400,
            "expired_presented_token")


def test_a_revoked_presented_token(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    open_stack.ps.revoke(peek(pt).claims["jti"])
    refused(post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt), "presented_token": pt}),
            400, "revoked_presented_token")


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400), (b"[1]", 400), (b'{"resource_token": "a", "resource_token": "b"}', 400),
    (b'{"presented_token": "x"}', 400), (b'{"resource_token": 1, "presented_token": "x"}', 400),
    (b'{"resource_token": "x", "presented_token": "y", "n": NaN}', 400),
    (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", 400),
])
def test_bad_bodies(open_stack: Stack, body: bytes, status: int) -> None:
    refused(post(open_stack, "/token", body), status, "invalid_request")


def test_an_oversized_body(open_stack: Stack) -> None:
    reply = post(open_stack, "/token", {"resource_token": "x" * 70_000, "presented_token": "y"})
    refused(reply, 413, "invalid_request")


def test_body_not_covered_is_refused_by_the_signature_check(open_stack: Stack) -> None:
    pt = person_token(open_stack)
    reply = post(open_stack, "/token", {"resource_token": resource_token(open_stack, pt), "presented_token": pt},
                 components=BODY_SET[:4])
    assert reply.status_code == 401 and reply.headers["signature-error"].startswith("error=invalid_input")
    assert "auth_token" not in reply.text


def test_a_request_without_signature(open_stack: Stack) -> None:
    reply = open_stack.browser().post("/token", json={"resource_token": "x", "presented_token": "y"})
    assert reply.status_code == 401 and "auth_token" not in reply.text


def test_an_agent_token_for_another_person_server(open_stack: Stack) -> None:
    token = open_stack.agent_token(ps="https://other-ps.example")
    refused(post(open_stack, "/person", {"resource": RESOURCE}, token=token), 403, "invalid_request")


@pytest.mark.parametrize("resource", ["http://api.example", "https://api.example/", "https://API.example",
                                      "https://api.example:8443", "api.example", ""])
def test_person_token_for_a_bad_resource(open_stack: Stack, resource: str) -> None:
    refused(person_request(open_stack, {"resource": resource}), 400, "invalid_request")


def test_person_token_capabilities_must_be_strings(open_stack: Stack) -> None:
    refused(person_request(open_stack, {"resource": RESOURCE, "capabilities": "interaction"}), 400,
            "invalid_request")
