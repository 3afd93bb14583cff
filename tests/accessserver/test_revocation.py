"""Revoking an access server's auth token (-11 §11.12): recorded here, then POSTed signed as
the access server to the resource's revocation endpoint, which refuses the token from then on."""

from __future__ import annotations

import asyncio

from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import FrozenClock
from .harness import RESOURCE, FourParty, build, claims_of


def issued(four: FourParty) -> str:
    status, _, body = four.federate()
    assert status == 200
    token: str = body["auth_token"]
    four.clock.advance(1)
    assert four.call_resource(token)[0] == 200
    return token


def test_a_revoked_auth_token_is_refused_by_its_resource(four: FourParty) -> None:
    token = issued(four)
    jti = claims_of(token)["jti"]
    result = four.server.revoke(jti)
    assert (result.jti, result.resource, result.status) == (jti, RESOURCE, "revoked")
    assert four.revocations_sent == [{"status": 200, "body": {"jti": jti, "exp": claims_of(token)["exp"]}}]
    four.clock.advance(1)
    status, headers, _ = four.call_resource(token)
    assert status == 401 and parse_signature_error(headers["Signature-Error"]).error == "revoked_jwt"
    assert headers["AAuth-Requirement"] == "requirement=person-token"


def test_revoking_awaited(clock: FrozenClock) -> None:
    four = build(clock)
    token = issued(four)
    result = asyncio.run(four.server.arevoke(claims_of(token)["jti"]))
    assert result.status == "revoked" and four.revocations_sent[0]["status"] == 200


def test_an_unknown_token_is_reported_and_nothing_sent(four: FourParty) -> None:
    assert four.server.revoke("never-issued").status == "unknown_token"
    assert four.revocations_sent == []


def test_a_resource_without_a_revocation_endpoint(four: FourParty) -> None:
    token = issued(four)
    doc = dict(four.network.documents[RESOURCE + "/.well-known/aauth-resource.json"])
    del doc["revocation_endpoint"]
    four.network.publish(RESOURCE + "/.well-known/aauth-resource.json", doc)
    four.clock.advance(301)  # past the cached copy's max-age: the document is read again
    assert four.server.revoke(claims_of(token)["jti"]).status == "revocation_unavailable"
    assert four.revocations_sent == []


def test_an_endpoint_on_another_origin_is_never_called(four: FourParty) -> None:
    token = issued(four)
    doc = dict(four.network.documents[RESOURCE + "/.well-known/aauth-resource.json"])
    doc["revocation_endpoint"] = "https://internal.example/revoke"
    four.network.publish(RESOURCE + "/.well-known/aauth-resource.json", doc)
    four.clock.advance(301)  # past the cached copy's max-age: the document is read again
    assert four.server.revoke(claims_of(token)["jti"]).status == "revocation_unavailable"
    assert four.revocations_sent == []
