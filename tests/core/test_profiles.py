"""The two profiles: ``aauth-2026-01`` unchanged, ``aauth-11`` as the -11 reference's table says."""

from __future__ import annotations

from dataclasses import MISSING, fields

import pytest

from aauth_core import dialect
from aauth_core.errors import AAuthError, SignatureError, TokenError
from aauth_core.profile import AAUTH_11, AAUTH_2026_01, DEFAULT, PROFILES, Profile, profile_named
from aauth_core.profile.aauth_11 import SIGNATURE_ERROR_CODES, signature_error_code
from aauth_core.wire.signature_error import AAUTH_SIGNATURE_ERRORS


def test_both_profiles_are_registered_and_january_stays_the_default() -> None:
    assert PROFILES == {"aauth-2026-01": AAUTH_2026_01, "aauth-11": AAUTH_11}
    assert profile_named("aauth-11") is AAUTH_11
    assert DEFAULT is AAUTH_2026_01
    assert dialect.PROFILE == "aauth-2026-01"
    with pytest.raises(KeyError, match="aauth-11"):
        profile_named("aauth-10")


def test_january_values_are_unchanged() -> None:
    p = AAUTH_2026_01
    assert (p.challenge_header, p.typ_agent, p.typ_resource, p.typ_auth) == (
        "Agent-Auth", "agent+jwt", "resource+jwt", "auth+jwt")
    assert (p.well_known_agent, p.well_known_resource, p.well_known_issuer) == (
        "aauth-agent", "aauth-resource", "aauth-issuer")
    assert dict(p.metadata_id_field) == {"aauth-agent": "agent", "aauth-resource": "resource",
                                         "aauth-issuer": "issuer"}
    assert p.request_types == ("auth", "code", "exchange", "refresh")
    assert p.request_body_type == p.form_content_type == dialect.FORM_CONTENT_TYPE == (
        "application/x-www-form-urlencoded")
    assert (p.httpsig_alg_ed25519, p.httpsig_alg_p256) == ("ed25519", "ecdsa-p256-sha256")
    assert (p.jwt_algs_ed25519_in, p.jwt_alg_ed25519_out, p.jwt_alg_p256) == (("EdDSA", "Ed25519"), "EdDSA", "ES256")
    assert p.schemes == ("hwk", "jwks", "jwt", "x509")
    # fields new to both profiles, with January's values
    assert p.requirement_header is p.signature_error_header is p.typ_person is p.well_known_person is None
    assert (p.signature_label, p.signature_key_format, p.signature_encoding) == ("sig1", "transcript", "base64url")
    assert p.error_content_type == "application/json"
    assert p.signature_error_codes is None
    assert p.jwk_algs == dialect.JWK_ALGS == ("EdDSA", "Ed25519", "ES256")
    assert not p.jwk_alg_required


def test_aauth_11_values() -> None:
    p = AAUTH_11
    assert p.challenge_header is None
    assert (p.requirement_header, p.signature_error_header, p.accept_signature_scheme_header,
            p.accept_signature_alg_header, p.access_header, p.capabilities_header) == (
        "AAuth-Requirement", "Signature-Error", "Accept-Signature-Scheme", "Accept-Signature-Alg", "AAuth-Access",
        "AAuth-Capabilities")
    assert (p.signature_header, p.signature_input_header, p.signature_key_header, p.content_digest_header) == (
        "Signature", "Signature-Input", "Signature-Key", "Content-Digest")
    assert (p.typ_agent, p.typ_person, p.typ_resource, p.typ_auth) == (
        "aa-agent+jwt", "aa-person+jwt", "aa-resource+jwt", "aa-auth+jwt")
    assert (p.well_known_agent, p.well_known_person, p.well_known_access, p.well_known_resource) == (
        "aauth-agent.json", "aauth-person.json", "aauth-access.json", "aauth-resource.json")
    assert p.well_known_issuer is None
    assert dict(p.metadata_id_field) == dict.fromkeys(p.well_known_documents, "issuer")
    assert len(p.well_known_documents) == 4
    assert (p.request_types, p.request_body_type) == ((), "application/json")
    assert p.jwt_algs == ("Ed25519", "ES256")
    assert "EdDSA" not in p.jwt_algs and "EdDSA" not in p.jwk_algs
    assert p.jwk_alg_required
    assert (p.agent_schemes, p.server_schemes) == (("jwt",), ("jwks_uri",))
    assert (p.signature_label, p.signature_key_format, p.signature_encoding) == ("sig", "sk", "base64")
    assert p.error_content_type == "application/problem+json"


def test_every_field_is_stated_by_every_profile() -> None:
    """No defaults: a third profile cannot inherit January's values by leaving a field out."""
    assert [f.name for f in fields(Profile) if f.default is not MISSING or f.default_factory is not MISSING] == []


def test_signature_error_codes_are_sk09_codes_an_aauth_server_sends() -> None:
    assert set(SIGNATURE_ERROR_CODES.values()) <= AAUTH_SIGNATURE_ERRORS
    assert signature_error_code("signature_not_yet_valid") == "clock_skew"
    assert signature_error_code("missing_component") == "invalid_input"
    assert signature_error_code("token_expired") == "expired_jwt"
    assert signature_error_code("insufficient_scope") is None  # a 403: no Signature-* header


def test_error_bodies() -> None:
    january = AAUTH_2026_01.error_body(SignatureError("bad", code="invalid_signature"))
    assert dict(january) == {"error": "invalid_signature", "error_description": "bad"}
    signature = AAUTH_11.error_body(SignatureError("stale", code="signature_expired"))
    assert dict(signature) == {"type": "urn:ietf:params:sig-error:invalid_signature", "error": "invalid_signature",
                               "detail": "stale"}
    assert dict(AAUTH_11.error_body(TokenError("gone", code="token_expired")))["error"] == "expired_jwt"
    other = AAUTH_11.error_body(AAuthError("no", code="invalid_request"))
    assert dict(other) == {"error": "invalid_request", "detail": "no"}
