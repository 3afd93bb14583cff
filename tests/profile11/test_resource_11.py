"""A resource in agent-token mode under aauth-11, dual-stack with January (issue 14: P1-P3, P5, P6).

Through :class:`AAuthService` directly: classification, every -11 refusal with its
``Signature-Error`` code and problem+json body, the challenges of an unsigned request, and
a January-only resource refusing an -11 request in January's shape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aauth_core.context import VerifiedRequest
from aauth_core.errors import AAuthError, SettingsError
from aauth_core.headers import SignatureKey
from aauth_core.keys import SigningKey
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings, parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import ISSUER, NOW, RESOURCE, World, signed_request, view_of
from .mint import AGENT_ID, AP, BASE, agent_claims, agent_token, cnf_jwk, mint, publish_ap, sign11

DUAL = ("aauth-2026-01", "aauth-11")
URL = RESOURCE + "/data"


def service(world: World, profiles: tuple[str, ...] = DUAL, **kw: Any) -> AAuthService:
    settings = AAuthSettings(resource_id=RESOURCE, auth_server=ISSUER, trusted_issuers=(ISSUER,),
                             profiles=profiles, **kw)
    return AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)


def send(svc: AAuthService, headers: dict[str, str], *, method: str = "GET", url: str = URL,
         body: bytes | None = None, level: str = "identity") -> tuple[int, dict[str, str], dict[str, Any],
                                                                     VerifiedRequest | None]:
    view = view_of(method, url, headers, body)
    try:
        verified = svc.require(svc.verify(view), parse_requirement(level))
    except AAuthError as exc:
        reply = svc.error_response(exc)
        return reply.status, dict(reply.headers), json.loads(reply.body), None
    return 200, {}, {}, verified


def refused(svc: AAuthService, headers: dict[str, str], code: str, **kw: Any) -> dict[str, str]:
    """A -11 refusal: 401, ``Signature-Error: error=<code>``, problem+json with SK-09's type."""
    status, hdrs, body, _ = send(svc, headers, **kw)
    assert status == 401, (status, body)
    assert parse_signature_error(hdrs["Signature-Error"]).error == code, (hdrs, body)
    assert hdrs["Content-Type"] == "application/problem+json"
    assert body["error"] == code and body["type"] == f"urn:ietf:params:sig-error:{code}" and body["detail"]
    assert "Agent-Auth" not in hdrs
    return hdrs


# ----------------------------------------------------------------------------- accepted


def test_an_aauth_11_agent_is_verified_under_aauth_11(world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    svc = service(world)
    status, _, _, verified = send(svc, sign11("GET", URL, agent_key, agent_token(ap_key, agent_key)))
    assert status == 200 and verified is not None
    assert (verified.profile, verified.agent, verified.agent_provider) == ("aauth-11", AGENT_ID, AP)
    assert verified.act == () and verified.level == "identity" and verified.scheme == "jwt"
    assert verified.key_thumbprint == agent_key.thumbprint and verified.token_type == "aa-agent+jwt"


def test_the_warm_path_verifies_a_second_request_with_the_same_token(world: World, ap_key: SigningKey,
                                                                     agent_key: SigningKey) -> None:
    svc, token = service(world), agent_token(ap_key, agent_key)
    assert send(svc, sign11("GET", URL, agent_key, token))[0] == 200
    calls = sum(world.network.calls.values())
    world.clock.advance(1)
    assert send(svc, sign11("GET", URL, agent_key, token, created=NOW + 1))[0] == 200
    assert sum(world.network.calls.values()) == calls  # no new fetch


@pytest.mark.parametrize("encoding", ["base64", "base64url"])
def test_signature_bytes_are_read_in_either_alphabet(world: World, ap_key: SigningKey, agent_key: SigningKey,
                                                     encoding: str) -> None:
    headers = sign11("GET", URL, agent_key, agent_token(ap_key, agent_key), encoding=encoding)
    assert send(service(world), headers)[0] == 200


def test_the_alg_signature_parameter_is_not_relied_on(world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    headers = sign11("GET", URL, agent_key, agent_token(ap_key, agent_key), extra_params=';alg="rsa-pss-sha512"')
    assert send(service(world), headers)[0] == 200


def test_a_body_is_covered_with_the_body_set(world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    body = b'{"q": 1}'
    headers = sign11("POST", URL, agent_key, agent_token(ap_key, agent_key), body=body,
                     components=(*BASE, "content-digest", "content-type"))
    assert send(service(world), headers, method="POST", body=body)[0] == 200


def test_an_es256_agent_provider_and_agent_key(world: World) -> None:
    ap, agent = SigningKey.generate("p256", kid="ap-ec"), SigningKey.generate("p256")
    publish_ap(world.network, ap)
    svc = service(world, algorithms=("ed25519", "ecdsa-p256-sha256"))
    assert send(svc, sign11("GET", URL, agent, agent_token(ap, agent)))[0] == 200


def test_a_january_request_at_a_dual_stack_resource_is_unchanged(world: World) -> None:
    headers, _ = signed_request("GET", URL, key=world.agent.key)
    status, _, _, verified = send(service(world), headers)
    assert status == 200 and verified is not None
    assert (verified.profile, verified.agent, verified.agent_provider) == ("aauth-2026-01", world.agent.id, None)


# ----------------------------------------------------------------------------- refused, with the code


def test_every_refusal_has_its_signature_error_code(world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    svc = service(world)
    ok = agent_token(ap_key, agent_key)
    cases: dict[str, tuple[str, dict[str, str]]] = {
        "wrong typ": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(ap_key, agent_key,
                                                                                typ="aa-resource+jwt"))),
        "EdDSA JWS": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(ap_key, agent_key, alg="EdDSA"))),
        "expired, no skew": ("expired_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, now=NOW - 3601, lifetime=3600))),
        "lives over 24 h": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, lifetime=25 * 3600))),
        "dwk not aauth-agent.json": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, dwk="aauth-person.json"))),
        "iss with a port": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, iss="https://ap.example:8443"))),
        "sub not an agent id": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, sub="https://ap.example"))),
        "ps not a server id": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            ap_key, agent_key, ps="http://ps.example"))),
        "no jti": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(ap_key, agent_key, jti=None))),
        "unknown kid": ("unknown_key", sign11("GET", URL, agent_key, mint(
            SigningKey(ap_key.private, kid="ap-key-2"), agent_claims(agent_key)))),
        "token signed by another key": ("invalid_jwt", sign11("GET", URL, agent_key, agent_token(
            SigningKey(SigningKey.generate().private, kid="ap-key-1"), agent_key))),
        "signature-key not covered": ("invalid_input", sign11("GET", URL, agent_key, ok,
                                                              components=("@method", "@authority", "@path"))),
        "created in the future": ("clock_skew", sign11("GET", URL, agent_key, ok, created=NOW + 120)),
        "created too old": ("invalid_signature", sign11("GET", URL, agent_key, ok, created=NOW - 120)),
        "tampered": ("invalid_signature", sign11("GET", RESOURCE + "/elsewhere", agent_key, ok)),
        "signed by a key not in cnf": ("invalid_signature", sign11("GET", URL, SigningKey.generate(), ok)),
        "jwks_uri scheme": ("unsupported_scheme", sign11("GET", URL, agent_key, signature_key=(
            f'sig=jwks_uri;id="{AP}";dwk="aauth-agent.json";kid="ap-key-1"'))),
    }
    for name, (code, headers) in cases.items():
        try:
            hdrs = refused(svc, headers, code)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from None
        if code == "unsupported_scheme":
            assert hdrs["Accept-Signature-Scheme"] == "jwt"


def test_a_missing_body_component_names_the_required_input(world: World, ap_key: SigningKey,
                                                           agent_key: SigningKey) -> None:
    body = b'{"q": 1}'
    headers = sign11("POST", URL, agent_key, agent_token(ap_key, agent_key), body=body)
    hdrs = refused(service(world), headers, "invalid_input", method="POST", body=body)
    assert parse_signature_error(hdrs["Signature-Error"]).required_input == (*BASE, "content-digest", "content-type")


@pytest.mark.parametrize(("cnf_alg", "code"), [(None, "unsupported_algorithm"), ("EdDSA", "unsupported_algorithm"),
                                                ("ES256", "invalid_key")])
def test_cnf_jwk_names_a_fitting_alg(world: World, ap_key: SigningKey, agent_key: SigningKey,
                                     cnf_alg: str | None, code: str) -> None:
    jwk = {k: v for k, v in cnf_jwk(agent_key).items() if k != "alg"}
    if cnf_alg is not None:
        jwk["alg"] = cnf_alg
    headers = sign11("GET", URL, agent_key, agent_token(ap_key, agent_key, cnf={"jwk": jwk}))
    hdrs = refused(service(world), headers, code)
    if code == "unsupported_algorithm":
        assert hdrs["Accept-Signature-Alg"] == "Ed25519, ES256"


@pytest.mark.parametrize(("issuer", "code"), [(None, "issuer_missing"), ("https://other.example", "issuer_mismatch"),
                                              ("https://ap.example/", "issuer_mismatch")])
def test_the_agent_provider_metadata_must_name_its_issuer(world: World, agent_key: SigningKey,
                                                         issuer: str | None, code: str) -> None:
    ap = SigningKey.generate(kid="ap-key-1")
    publish_ap(world.network, ap, issuer=issuer)
    refused(service(world), sign11("GET", URL, agent_key, agent_token(ap, agent_key)), code)


def test_a_replayed_signature_is_refused(world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    svc, headers = service(world), sign11("GET", URL, agent_key, agent_token(ap_key, agent_key))
    assert send(svc, headers)[0] == 200
    refused(svc, headers, "invalid_signature")


def test_a_missing_signature_header_is_invalid_signature(world: World, ap_key: SigningKey,
                                                         agent_key: SigningKey) -> None:
    headers = sign11("GET", URL, agent_key, agent_token(ap_key, agent_key))
    del headers["Signature"]
    refused(service(world), headers, "invalid_signature")


def test_hwk_is_unsupported_at_an_aauth_11_only_resource(world: World, agent_key: SigningKey) -> None:
    jwk = cnf_jwk(agent_key)
    hwk = SignatureKey.build("hwk", {k: jwk[k] for k in ("kty", "crv", "x", "alg")}, label="sig", fmt="sk").raw
    hdrs = refused(service(world, ("aauth-11",)), sign11("GET", URL, agent_key, signature_key=hwk),
                   "unsupported_scheme")
    assert hdrs["Accept-Signature-Scheme"] == "jwt"


def test_a_january_request_at_an_aauth_11_only_resource_is_refused_in_11_shape(world: World) -> None:
    headers, _ = signed_request("GET", URL, key=world.agent.key)
    status, hdrs, body, _ = send(service(world, ("aauth-11",)), headers)
    assert status == 401 and "Signature-Error" in hdrs and "Agent-Auth" not in hdrs
    assert hdrs["Content-Type"] == "application/problem+json" and "error" in body


# ----------------------------------------------------------------------------- requirements


@pytest.mark.parametrize("level", ["signature", "identity"])
def test_an_unsigned_request_gets_the_challenge_of_every_profile(world: World, level: str) -> None:
    status, hdrs, body, _ = send(service(world), {}, level=level)
    assert status == 401
    assert hdrs["AAuth-Requirement"] == "requirement=agent-token" and "Agent-Auth" in hdrs
    assert "Signature-Error" not in hdrs and hdrs["Content-Type"] == "application/json"  # January's body
    assert body["error"] == f"{level}_required"


def test_an_aauth_11_only_resource_challenges_with_the_requirement_alone(world: World) -> None:
    status, hdrs, body, _ = send(service(world, ("aauth-11",)), {})
    assert status == 401 and hdrs["AAuth-Requirement"] == "requirement=agent-token"
    assert "Agent-Auth" not in hdrs and "Signature-Error" not in hdrs
    assert hdrs["Content-Type"] == "application/problem+json" and body["error"] == "identity_required"


def test_a_january_only_resource_is_unchanged_and_refuses_11_cleanly(world: World, ap_key: SigningKey,
                                                                    agent_key: SigningKey) -> None:
    svc = service(world, ("aauth-2026-01",))
    status, hdrs, body, _ = send(svc, {})
    assert status == 401 and "AAuth-Requirement" not in hdrs and "Agent-Auth" in hdrs
    status, hdrs, body, _ = send(svc, sign11("GET", URL, agent_key, agent_token(ap_key, agent_key)))
    assert status == 401 and "Agent-Auth" in hdrs and "Signature-Error" not in hdrs
    assert hdrs["Content-Type"] == "application/json" and set(body) == {"error", "error_description"}


def test_an_aauth_11_agent_at_an_authorization_route_is_asked_for_a_person_token(
        world: World, ap_key: SigningKey, agent_key: SigningKey) -> None:
    """RS-11: an agent token cannot be the basis of a resource token (RS-30), so the answer is
    ``requirement=person-token`` without parameters, and no ``Signature-*`` header (it verified)."""
    status, hdrs, body, _ = send(service(world), sign11("GET", URL, agent_key, agent_token(ap_key, agent_key)),
                                 level="authorization")
    assert status == 401 and body["error"] == "person_token_required"
    assert hdrs["AAuth-Requirement"] == "requirement=person-token"
    assert not any(h.startswith(("Signature-", "Agent-Auth")) for h in hdrs)
    assert hdrs["Content-Type"] == "application/problem+json"


# ----------------------------------------------------------------------------- settings (P1)


def test_profiles_setting_in_every_spelling() -> None:
    assert AAuthSettings().profiles == ("aauth-2026-01",)
    assert AAuthSettings.from_mapping({"AAUTH_PROFILES": list(DUAL)}, prefix="AAUTH_").profiles == DUAL
    assert AAuthSettings.from_mapping({"profiles": ["aauth-11"]}).profiles == ("aauth-11",)
    for bad in (("aauth-10",), (), ("aauth-11", "aauth-11")):
        with pytest.raises(SettingsError):
            AAuthSettings(profiles=bad)


def test_loopback_agent_provider_only_with_the_development_switch(world: World, agent_key: SigningKey) -> None:
    ap_id = "http://127.0.0.1:8001"
    ap = SigningKey.generate(kid="ap-key-1")
    publish_ap(world.network, ap, ap=ap_id)
    token = agent_token(ap, agent_key, iss=ap_id, sub="aauth:dev@127.0.0.1:8001")
    refused(service(world), sign11("GET", URL, agent_key, token), "invalid_jwt")
    svc = service(world, allow_insecure_loopback=True)
    status, _, body, verified = send(svc, sign11("GET", URL, agent_key, token, created=NOW))
    assert status == 200, body
    assert verified is not None and verified.agent_provider == ap_id


def test_an_11_only_resource_refuses_before_classifying_in_11s_shape(world: World) -> None:
    """A body past ``max_body_bytes`` is refused before any request is classified: an -11-only
    resource answers it as problem+json, a dual-stack one in January's shape, as before."""
    for profiles, content_type in ((("aauth-11",), "application/problem+json"), (DUAL, "application/json")):
        svc = service(world, profiles, max_body_bytes=10)
        too_large = svc.body_too_large(11)
        assert too_large is not None
        reply = svc.error_response(too_large)
        assert (reply.status, reply.headers["Content-Type"]) == (413, content_type)
        assert json.loads(reply.body)["error"] == too_large.code
