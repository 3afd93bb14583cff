"""The access server's auth token endpoint, end to end (draft -11 §2.4, four-party): our
resource challenges a person token with a resource token for its access server, the person
server federates, the access server issues an ``aa-auth+jwt`` and the resource accepts it."""

from __future__ import annotations

import json
import logging

import pytest

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_core.keys import PublicKey
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature

from ..conftest import FrozenClock
from .harness import AGENT_ID, AP, AS, MISSION, NOW, PERSON_SUB, PS, RESOURCE, FourParty, build, claims_of


def test_metadata_and_jwks(four: FourParty) -> None:
    assert four.server.metadata() == {"issuer": AS, "jwks_uri": AS + "/jwks.json",
                                      "auth_token_endpoint": AS + "/token"}
    (jwk,) = four.server.jwks()["keys"]
    assert jwk["alg"] == "Ed25519" and jwk["kid"] == "as-key-1" and "d" not in jwk


def test_the_four_party_flow_ends_in_a_200_at_the_resource(four: FourParty) -> None:
    resource_token = four.resource_token()
    assert (claims_of(resource_token)["aud"], claims_of(resource_token)["ps"]) == (AS, PS)
    status, headers, body = four.federate(four.body(resource_token=resource_token))
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store" and headers["Content-Type"] == "application/json"
    token = body["auth_token"]
    header, claims = peek(token).header, claims_of(token)
    assert (header["typ"], header["alg"], header["kid"]) == ("aa-auth+jwt", "Ed25519", "as-key-1")
    verify_signature(token, "Ed25519", four.as_key.public)
    assert (claims["iss"], claims["dwk"], claims["aud"], claims["ps"]) == (AS, "aauth-access.json", RESOURCE, PS)
    assert (claims["sub"], claims["scope"], claims["mission_s256"], claims["tenant"]) == (
        PERSON_SUB, "data.read", MISSION, "acme")
    assert PublicKey.from_jwk(claims["cnf"]["jwk"]).thumbprint == four.agent_key.thumbprint
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519"
    assert "agent" not in claims and "act" not in claims
    assert claims["exp"] - claims["iat"] == body["expires_in"] <= 3600 and claims["iat"] == NOW
    # the resource takes it
    four.clock.advance(1)
    status, _, _ = four.call_resource(token)
    assert status == 200


def test_the_auth_token_never_outlives_the_presented_or_agent_token(four: FourParty) -> None:
    person = four.person_token(lifetime=600)
    status, _, body = four.federate(four.body(presented_token=person, agent_token=four.agent_token(lifetime=900)))
    assert status == 200
    assert claims_of(body["auth_token"])["exp"] == NOW + 600 and body["expires_in"] == 600
    status, _, body = four.federate(four.body(agent_token=four.agent_token(lifetime=300)))
    assert status == 200 and claims_of(body["auth_token"])["exp"] == NOW + 300


def test_the_agent_token_need_not_name_a_person_server(four: FourParty) -> None:
    status, _, body = four.federate(four.body(agent_token=four.agent_token(ps=None)))
    assert status == 200, body


def test_a_step_up_presents_our_own_auth_token(four: FourParty) -> None:
    """The resource mints a step-up resource token from our auth token (RS-34); the person
    server presents that auth token, which we verify with our own key."""
    _, _, body = four.federate()
    auth = body["auth_token"]
    four.clock.advance(1)
    status, headers, _ = four.call_resource(auth, level="authorization:data.read data.write")
    assert status == 401
    from aauth_core.wire.requirement import parse_requirement

    step_up = parse_requirement(headers["AAuth-Requirement"]).resource_token
    assert step_up is not None and claims_of(step_up)["presented_jti"] == claims_of(auth)["jti"]
    four.server.policy.scopes[RESOURCE] = frozenset({"data.read", "data.write"})  # type: ignore[attr-defined]
    status, _, body = four.federate(four.body(resource_token=step_up, presented_token=auth), created=NOW + 1)
    assert status == 200, body
    assert claims_of(body["auth_token"])["scope"] == "data.read data.write"
    four.clock.advance(1)
    assert four.call_resource(body["auth_token"], level="authorization:data.read data.write")[0] == 200


def test_the_default_policy_denies_an_unlisted_scope(four: FourParty) -> None:
    token = four.resource_token(level="authorization:data.write")
    status, headers, body = four.federate(four.body(resource_token=token))
    assert status == 403 and body["error"] == "denied" and "data.write" in body["detail"]
    assert headers["Content-Type"] == "application/problem+json"
    assert not any(h.startswith("Signature-") for h in headers)


def test_no_token_is_logged(four: FourParty, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = four.body()
    assert four.federate(body)[0] == 200
    four.clock.advance(1)
    assert four.federate(four.body(agent_token="x.y.z"))[0] == 400
    text = json.dumps([r.getMessage() for r in caplog.records])
    for token in body.values():
        assert token not in text


def test_the_policy_sees_the_verified_request(clock: FrozenClock) -> None:
    seen: list[AccessRequest] = []

    class Recording:
        def decide(self, request: AccessRequest) -> AccessDecision:
            seen.append(request)
            return AccessDecision.grant()

    four = build(clock, policy=Recording())
    assert four.federate()[0] == 200
    (request,) = seen
    assert (request.resource, request.person_server, request.sub) == (RESOURCE, PS, PERSON_SUB)
    assert (request.agent, request.agent_provider, request.scope) == (AGENT_ID, AP, frozenset({"data.read"}))
    assert (request.mission_s256, request.tenant, request.claims) == (MISSION, "acme", {})
