"""aauth-11 person-token and auth-token modes at a resource (issue 14; RS-10..13, RS-30..34,
RS-40..43, RS-75), through :class:`AAuthService`: the tokens accepted, the challenges and the
resource tokens they carry, and every refusal with its -11 code.

The person server (``PS``) and the resource's access server (``ACCESS``) are published on the
test network with real keys; every token is signed, every request really signed by the agent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aauth_core.errors import SettingsError
from aauth_core.keys import PublicKey, SigningKey
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import NOW, RESOURCE, World
from .mint import (
    ACCESS,
    MISSION,
    PERSON_SUB,
    PS,
    agent_token,
    auth_claims,
    mint,
    person_claims,
    publish_server,
    sign11,
)
from .test_resource_11 import DUAL, URL, refused, send

LINK = f'<{RESOURCE}/.well-known/aauth-resource.json>; rel="aauth-resource"'


def service(world: World, *, person_servers: tuple[str, ...] = (PS,), **kw: Any) -> AAuthService:
    settings = AAuthSettings(resource_id=RESOURCE, profiles=kw.pop("profiles", DUAL), person_servers=person_servers,
                             resource_scopes=("data.read", "data.write"), **kw)
    return AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)


def person_token(ps_key: SigningKey, agent_key: SigningKey, *, typ: str = "aa-person+jwt", **over: Any) -> str:
    return mint(ps_key, person_claims(agent_key, aud=over.pop("aud", RESOURCE), **over), typ=typ)


def auth_token(key: SigningKey, agent_key: SigningKey, *, typ: str = "aa-auth+jwt", **over: Any) -> str:
    return mint(key, auth_claims(agent_key, aud=over.pop("aud", RESOURCE), **over), typ=typ)


def challenge(hdrs: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The requirement and, when there is one, the resource token's verified claims."""
    req = parse_requirement(hdrs["AAuth-Requirement"])
    if req.resource_token is None:
        return req.requirement, {}
    return req.requirement, dict(peek(req.resource_token).claims) | {"_raw": req.resource_token}


# ----------------------------------------------------------------------------- person-token mode


def test_a_person_token_meets_a_person_route(world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    status, _, _, verified = send(service(world), sign11("GET", URL, agent_key, person_token(ps_key, agent_key)),
                                  level="person")
    assert status == 200 and verified is not None
    assert (verified.profile, verified.level, verified.token_type) == ("aauth-11", "person", "aa-person+jwt")
    assert verified.person == (PS, PERSON_SUB) and verified.sub == PERSON_SUB
    assert (verified.mission_s256, verified.tenant) == (MISSION, "acme")
    assert verified.agent is None and verified.act == () and verified.scope == frozenset()
    assert verified.key_thumbprint == agent_key.thumbprint
    assert verified.to_dict()["person"] == [PS, PERSON_SUB]


def test_a_person_token_also_meets_an_identity_route(world: World, ps_key: SigningKey,
                                                      agent_key: SigningKey) -> None:
    status, *_ = send(service(world), sign11("GET", URL, agent_key, person_token(ps_key, agent_key)))
    assert status == 200


def test_person_tokens_from_any_person_server_when_none_is_listed(world: World, ps_key: SigningKey,
                                                                  agent_key: SigningKey) -> None:
    """-11 open point 10: the resource trusts whichever PS issued the person token unless it lists them."""
    status, *_ = send(service(world, person_servers=()), sign11("GET", URL, agent_key,
                                                                 person_token(ps_key, agent_key)), level="person")
    assert status == 200


def test_an_unlisted_person_server_is_refused_when_servers_are_listed(world: World, ps_key: SigningKey,
                                                                      agent_key: SigningKey) -> None:
    svc = service(world, person_servers=("https://other-ps.example",))
    refused(svc, sign11("GET", URL, agent_key, person_token(ps_key, agent_key)), "invalid_jwt", level="person")


@pytest.mark.parametrize("level", ["person", "authorization"])
def test_an_unsigned_request_to_a_person_route_is_asked_for_a_person_token(world: World, level: str) -> None:
    """RS-11: ``requirement=person-token`` without parameters; January cannot name a person, so a
    person route sends no ``Agent-Auth`` (an authorization route also offers January's flow)."""
    status, hdrs, body, _ = send(service(world), {}, level=level)
    assert status == 401 and hdrs["AAuth-Requirement"] == "requirement=person-token"
    assert hdrs["Link"] == LINK
    assert ("Agent-Auth" in hdrs) is (level == "authorization")
    if level == "person":
        assert hdrs["Content-Type"] == "application/problem+json" and body["error"] == "person_token_required"


def test_an_agent_token_at_a_person_route_is_asked_for_a_person_token(world: World, ap_key: SigningKey,
                                                                      agent_key: SigningKey) -> None:
    status, hdrs, _, _ = send(service(world), sign11("GET", URL, agent_key, agent_token(ap_key, agent_key)),
                                 level="person")
    assert status == 401 and hdrs["AAuth-Requirement"] == "requirement=person-token" and hdrs["Link"] == LINK
    assert not any(h.startswith("Signature-") for h in hdrs)


# ----------------------------------------------------------------------------- auth-token challenge (3-party)


def test_a_person_token_at_an_authorization_route_gets_a_resource_token_for_its_person_server(
        world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    """RS-30..32: minted only after the person token verified; ``aud`` = its ``iss``; ``ps``, ``sub``,
    ``presented_jti``, ``agent_jkt``; ``mission_s256`` and ``tenant`` copied; no ``agent``; ≤ 5 min."""
    svc = service(world)
    status, hdrs, body, _ = send(svc, sign11("GET", URL, agent_key, person_token(ps_key, agent_key)),
                                 level="authorization:data.read")
    assert status == 401 and body["error"] == "authorization_required" and hdrs["Link"] == LINK
    assert not any(h.startswith("Signature-") for h in hdrs) and "Agent-Auth" not in hdrs
    requirement, claims = challenge(hdrs)
    assert requirement == "auth-token"
    raw = claims.pop("_raw")
    header = peek(raw).header
    assert (header["typ"], header["alg"], header["kid"]) == ("aa-resource+jwt", "Ed25519", "resource-key-1")
    verify_signature(raw, "Ed25519", world.resource.key.public)
    assert claims["iss"] == RESOURCE and claims["dwk"] == "aauth-resource.json"
    assert (claims["aud"], claims["ps"], claims["sub"], claims["presented_jti"]) == (PS, PS, PERSON_SUB, "pt-3ab910")
    assert claims["agent_jkt"] == agent_key.thumbprint and claims["scope"] == "data.read"
    assert (claims["mission_s256"], claims["tenant"]) == (MISSION, "acme")
    assert "agent" not in claims and "act" not in claims and claims["exp"] - claims["iat"] <= 300
    assert claims["iat"] == NOW and isinstance(claims["jti"], str)


def test_four_party_resource_tokens_name_the_resources_own_access_server(
        world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    """RS-31: ``aud`` = own AS when it has one, ``ps`` still the person token's issuer."""
    svc = service(world, person_servers=(), access_server=ACCESS)
    status, hdrs, _, _ = send(svc, sign11("GET", URL, agent_key, person_token(ps_key, agent_key)),
                              level="authorization:data.read")
    _, claims = challenge(hdrs)
    assert status == 401 and (claims["aud"], claims["ps"]) == (ACCESS, PS)


def test_no_resource_token_for_a_person_server_whose_auth_tokens_would_be_refused(
        world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    status, hdrs, body, _ = send(service(world, person_servers=()),
                                 sign11("GET", URL, agent_key, person_token(ps_key, agent_key)),
                                 level="authorization")
    assert status == 403 and body["error"] == "untrusted_person_server"
    assert "AAuth-Requirement" not in hdrs and not any(h.startswith("Signature-") for h in hdrs)


# ----------------------------------------------------------------------------- auth tokens


def test_a_three_party_auth_token_from_a_listed_person_server(world: World, ps_key: SigningKey,
                                                             agent_key: SigningKey) -> None:
    status, _, _, verified = send(service(world), sign11("GET", URL, agent_key, auth_token(ps_key, agent_key)),
                                  level="authorization:data.read")
    assert status == 200 and verified is not None
    assert (verified.level, verified.token_type, verified.issuer) == ("authorization", "aa-auth+jwt", PS)
    assert verified.scope == {"data.read"} and verified.person == (PS, PERSON_SUB)
    assert verified.agent is None and verified.act == () and verified.tenant == "acme"


def test_a_four_party_auth_token_from_the_resources_access_server(world: World, as_key: SigningKey,
                                                                 agent_key: SigningKey) -> None:
    token = auth_token(as_key, agent_key, iss=ACCESS, dwk="aauth-access.json")
    status, _, _, verified = send(service(world, access_server=ACCESS), sign11("GET", URL, agent_key, token),
                                  level="authorization:data.read")
    assert status == 200 and verified is not None and verified.issuer == ACCESS
    assert verified.person == (PS, PERSON_SUB)  # the person is the PS's, not the AS's


def test_an_access_server_auth_token_is_refused_without_access_server_setting(
        world: World, as_key: SigningKey, agent_key: SigningKey) -> None:
    token = auth_token(as_key, agent_key, iss=ACCESS, dwk="aauth-access.json")
    refused(service(world), sign11("GET", URL, agent_key, token), "invalid_jwt", level="authorization")


def test_an_auth_token_from_an_unlisted_person_server_is_refused(world: World, ps_key: SigningKey,
                                                                agent_key: SigningKey) -> None:
    refused(service(world, person_servers=()), sign11("GET", URL, agent_key, auth_token(ps_key, agent_key)),
            "invalid_jwt", level="authorization")


def test_step_up_mints_from_the_auth_token(world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    """RS-34: ``presented_jti``, ``ps``, ``sub`` from the auth token; the scope asked is the union."""
    status, hdrs, body, _ = send(service(world), sign11("GET", URL, agent_key, auth_token(ps_key, agent_key)),
                                 level="authorization:data.write")
    assert status == 401 and body["error"] == "insufficient_scope" and "data.write" in body["detail"]
    requirement, claims = challenge(hdrs)
    assert requirement == "auth-token" and claims["presented_jti"] == "at-5e2"
    assert (claims["ps"], claims["sub"], claims["aud"]) == (PS, PERSON_SUB, PS)
    assert claims["scope"] == "data.read data.write"


def test_a_person_token_never_passes_as_an_auth_token(world: World, ps_key: SigningKey,
                                                      agent_key: SigningKey) -> None:
    """RS-12: a person token carrying a ``scope`` is malformed, not an authorization."""
    token = person_token(ps_key, agent_key, scope="data.read")
    refused(service(world), sign11("GET", URL, agent_key, token), "invalid_jwt", level="authorization")


# ----------------------------------------------------------------------------- refusals (typ, dwk, issuer, claims)


@pytest.mark.parametrize(("case", "build", "code"), [
    ("resource token presented", lambda p, a: mint(p, person_claims(a, aud=RESOURCE), typ="aa-resource+jwt"),
     "invalid_jwt"),
    ("person typ with auth dwk claims", lambda p, a: auth_token(p, a, typ="aa-person+jwt"), "invalid_jwt"),
    ("auth typ on person claims", lambda p, a: person_token(p, a, typ="aa-auth+jwt"), "invalid_jwt"),
    ("person dwk names the agent document", lambda p, a: person_token(p, a, dwk="aauth-agent.json"), "invalid_jwt"),
    ("person dwk names the access document", lambda p, a: person_token(p, a, dwk="aauth-access.json"),
     "invalid_jwt"),
    ("dwk path traversal", lambda p, a: person_token(p, a, dwk="../aauth-person.json"), "invalid_jwt"),
    ("dwk absent", lambda p, a: mint(p, {k: v for k, v in person_claims(a, aud=RESOURCE).items() if k != "dwk"},
                                     typ="aa-person+jwt"), "invalid_jwt"),
    ("auth token names another ps", lambda p, a: auth_token(p, a, ps="https://other.example"), "invalid_jwt"),
    ("aud is another resource", lambda p, a: person_token(p, a, aud="https://other.example"), "invalid_jwt"),
    ("aud array of two", lambda p, a: person_token(p, a, aud=[RESOURCE, "https://other.example"]), "invalid_jwt"),
    ("person token lives 61 minutes", lambda p, a: person_token(p, a, lifetime=3660), "invalid_jwt"),
    ("auth token lives 61 minutes", lambda p, a: auth_token(p, a, lifetime=3660), "invalid_jwt"),
    ("expired", lambda p, a: person_token(p, a, now=NOW - 3600, lifetime=3599), "expired_jwt"),
    ("auth token carries act", lambda p, a: auth_token(p, a, act={"sub": "x"}), "invalid_jwt"),
    ("auth token carries agent", lambda p, a: auth_token(p, a, agent="aauth:x@ap.example"), "invalid_jwt"),
    ("auth token without sub", lambda p, a: auth_token(p, a, sub=None), "invalid_jwt"),
    ("empty sub", lambda p, a: person_token(p, a, sub=""), "invalid_jwt"),
    ("iss with a port", lambda p, a: person_token(p, a, iss="https://ps.example:8443"), "invalid_jwt"),
    ("EdDSA JWS alg", lambda p, a: mint(p, person_claims(a, aud=RESOURCE), typ="aa-person+jwt", alg="EdDSA"),
     "invalid_jwt"),
    ("cnf without alg", lambda p, a: person_token(p, a, cnf={"jwk": {k: v for k, v in a.public_jwk().items()
                                                                     if k not in ("kid", "alg")}}),
     "unsupported_algorithm"),
    ("cnf names ES256 on an Ed25519 key", lambda p, a: person_token(
        p, a, cnf={"jwk": {**{k: v for k, v in a.public_jwk().items() if k != "kid"}, "alg": "ES256"}}),
     "invalid_key"),
    ("cnf is another key", lambda p, a: person_token(p, SigningKey.generate()), "invalid_signature"),
    ("signed by another key", lambda p, a: person_token(SigningKey.generate(kid="ps-key-1"), a), "invalid_jwt"),
    ("unknown kid", lambda p, a: person_token(SigningKey.generate(kid="nope"), a), "unknown_key"),
])
def test_bad_person_and_auth_tokens_are_refused(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                                case: str, build: Any, code: str) -> None:
    refused(service(world), sign11("GET", URL, agent_key, build(ps_key, agent_key)), code, level="person")


def test_a_january_typ_on_11_claims_is_verified_and_refused_under_january(
        world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    """P2: the token's ``typ`` classifies the request; ``auth+jwt`` is January's, so January's
    rules refuse it in January's shape (rules never mix within a request)."""
    status, hdrs, body, _ = send(service(world), sign11("GET", URL, agent_key,
                                                        auth_token(ps_key, agent_key, typ="auth+jwt")),
                                 level="authorization")
    assert status == 401 and "Agent-Auth" in hdrs and "Signature-Error" not in hdrs
    assert set(body) == {"error", "error_description"}


def test_a_one_element_aud_array_is_read_as_its_member(world: World, ps_key: SigningKey,
                                                       agent_key: SigningKey) -> None:
    """-11 open point 3 (aauth-go writes arrays): a one-element array naming us is accepted."""
    status, *_ = send(service(world), sign11("GET", URL, agent_key, person_token(ps_key, agent_key, aud=[RESOURCE])),
                      level="person")
    assert status == 200


@pytest.mark.parametrize(("issuer", "code"), [(None, "issuer_missing"), ("https://evil.example", "issuer_mismatch")])
def test_the_person_servers_metadata_must_name_it(world: World, agent_key: SigningKey, issuer: Any,
                                                  code: str) -> None:
    key = SigningKey.generate(kid="ps-key-1")
    publish_server(world.network, key, PS, "aauth-person.json", issuer=issuer)
    refused(service(world), sign11("GET", URL, agent_key, person_token(key, agent_key)), code, level="person")


def test_a_revoked_auth_token_is_refused_and_sends_the_agent_back_to_a_person_token(
        world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    """RS-43: 401 ``revoked_jwt``, ``requirement=person-token``, never an auth-token challenge."""
    svc = service(world)
    svc.revocations.revoke(PS, "at-5e2", NOW + 3600)
    hdrs = refused(svc, sign11("GET", URL, agent_key, auth_token(ps_key, agent_key)), "revoked_jwt",
                   level="authorization")
    assert hdrs["AAuth-Requirement"] == "requirement=person-token"
    # warm: a token revoked after it was first accepted is refused on its next use
    token = auth_token(ps_key, agent_key, jti="at-6")
    assert send(svc, sign11("GET", URL, agent_key, token), level="authorization")[0] == 200
    svc.revocations.revoke(PS, "at-6", NOW + 3600)
    world.clock.advance(1)
    refused(svc, sign11("GET", URL, agent_key, token, created=NOW + 1), "revoked_jwt", level="authorization")


# ----------------------------------------------------------------------------- metadata and settings


def test_aauth_resource_json_carries_the_11_fields(world: World) -> None:
    svc = service(world, additional_signature_components=("@query",), default_requirement="authorization",
                  resource_scope_descriptions={"data.read": "Read your documents"})
    doc = json.loads(svc.document("/.well-known/aauth-resource.json") or b"")
    assert doc == {
        "issuer": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json", "access_mode": "auth-token",
        "scope_descriptions": {"data.read": "Read your documents", "data.write": "data.write"},
        "signature_window": 60, "additional_signature_components": ["@query"], "accept_signature_algs": ["Ed25519"],
        "revocation_endpoint": f"{RESOURCE}/aauth/revoke",
    }
    assert "login_endpoint" not in doc  # RS-02
    jwks = json.loads(svc.document("/jwks.json") or b"")
    assert all(k["alg"] == "Ed25519" for k in jwks["keys"])
    PublicKey.from_jwk(jwks["keys"][0])


def test_a_january_only_resource_publishes_no_11_document(world: World) -> None:
    svc = service(world, profiles=("aauth-2026-01",), person_servers=())
    assert svc.document("/.well-known/aauth-resource.json") is None
    assert all("alg" not in k for k in json.loads(svc.document("/jwks.json") or b"")["keys"])


def test_additional_signature_components_are_required(world: World, ps_key: SigningKey,
                                                       agent_key: SigningKey) -> None:
    svc = service(world, additional_signature_components=("@query",))
    url = URL + "?page=2"
    hdrs = refused(svc, sign11("GET", url, agent_key, person_token(ps_key, agent_key)), "invalid_input",
                   url=url, level="person")
    assert parse_signature_error(hdrs["Signature-Error"]).required_input == (
        "@method", "@authority", "@path", "signature-key", "@query")
    headers = sign11("GET", url, agent_key, person_token(ps_key, agent_key),
                     components=("@method", "@authority", "@path", "signature-key", "@query"))
    assert send(svc, headers, url=url, level="person")[0] == 200


@pytest.mark.parametrize("bad", [
    {"person_servers": ("https://ps.example:8443",)}, {"person_servers": ("http://ps.example",)},
    {"person_servers": ("https://PS.example",)}, {"access_server": "https://as.example/"},
    {"additional_signature_components": ("@nope",)}, {"additional_signature_components": ("Content-Type",)},
    {"additional_signature_components": ("",)},
])
def test_bad_11_settings_fail_at_start_up(bad: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        AAuthSettings(resource_id=RESOURCE, profiles=DUAL, **bad)


def test_11_settings_in_every_spelling() -> None:
    flask = AAuthSettings.from_mapping({"AAUTH_PERSON_SERVERS": [PS], "AAUTH_ACCESS_SERVER": ACCESS,
                                        "AAUTH_ADDITIONAL_SIGNATURE_COMPONENTS": ["@query"]}, prefix="AAUTH_")
    django = AAuthSettings.from_mapping({"person_servers": [PS], "access_server": ACCESS,
                                         "additional_signature_components": ["@query"]})
    assert flask == django == AAuthSettings(person_servers=(PS,), access_server=ACCESS,
                                            additional_signature_components=("@query",))
