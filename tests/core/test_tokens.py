"""Tests for aauth_core.tokens: minting, validation, act chains and the verified-token cache.

Real keys and real tokens throughout; hostile tokens are hand-built byte by byte so
that each check is exercised on exactly the input an attacker could send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from aauth_core import tokens
from aauth_core.errors import TokenError
from aauth_core.keys import SigningKey, b64url_encode
from aauth_core.tokens import (
    MAX_TOKEN_LENGTH,
    Actor,
    UnverifiedToken,
    VerifiedTokenCache,
    build_act,
    jwt_algorithms_for,
    mint_agent_token,
    mint_auth_token,
    mint_resource_token,
    peek,
    validate_token,
)
from aauth_core.tokens import jws as tokens_jws

NOW = 1768786273  # the transcript's `created`
LEEWAY = 30
A1 = "http://127.0.0.1:8001"
R1 = "http://127.0.0.1:8002"
AS1 = "http://127.0.0.1:8003"
R2 = "http://127.0.0.1:8004"
AS2 = "http://127.0.0.1:8005"
R3 = "http://127.0.0.1:8006"
AS3 = "http://127.0.0.1:8007"
ED = ("EdDSA", "Ed25519")
ALL_ALGS = ("EdDSA", "Ed25519", "ES256")

AS_KEY = SigningKey.generate("ed25519", kid="auth-key-1")
AS_P256 = SigningKey.generate("p256", kid="auth-key-p256")
AGENT_KEY = SigningKey.generate("ed25519", kid="key-1")
AGENT_P256 = SigningKey.generate("p256", kid="key-p256")
OTHER_KEY = SigningKey.generate("ed25519", kid="auth-key-1")  # same kid, different key
ATTACKER = SigningKey.generate("ed25519", kid="auth-key-1")

# From the transcript (flow 5): the exchanged auth token AS2 issued to R1, and R2's resource token.
TRANSCRIPT_EXCHANGED = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImF1dGgta2V5LTEiLCJ0eXAiOiJhdXRoK2p3dCJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4x"
    "OjgwMDUiLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDQiLCJjbmYiOnsiandrIjp7Imt0eSI6Ik9LUCIsImNydiI6IkVkMjU1"
    "MTkiLCJ4IjoiY0V1MUdwZmpDZ1hiejdvaTFlbXdPbFluZ0s0VERIQk9RbHJFRTdqVDdETSIsImtpZCI6InJlc291cmNlLWtleS0x"
    "In19LCJzY29wZSI6ImRhdGEucmVhZCBkYXRhLndyaXRlIiwiZXhwIjoxNzY4Nzg5ODczLCJhZ2VudCI6Imh0dHA6Ly8xMjcuMC4w"
    "LjE6ODAwMiIsImFjdCI6eyJhZ2VudCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODAwMSJ9fQ.iJRCDH4QSUJLfqLuEeuQEqF98NuWZ-49Q"
    "9LOhcnfRRmzqICFPPiWCPyIUpqrb704UFPeYlZ4VLt8bvX1GbHVDw"
)
TRANSCRIPT_RESOURCE = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6InJlc291cmNlLWtleS0xIiwidHlwIjoicmVzb3VyY2Urand0In0.eyJpc3MiOiJodHRwOi8v"
    "MTI3LjAuMC4xOjgwMDQiLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDUiLCJhZ2VudCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODAw"
    "MiIsImFnZW50X2prdCI6Im5OMlh1bVF0RGxlRjBEY3VhTmNGX0Vuel85RWV6RVQ0R0syajRRV1BxUnciLCJzY29wZSI6ImRhdGEu"
    "cmVhZCBkYXRhLndyaXRlIiwiZXhwIjoxNzY4Nzg2ODczfQ.PUNdR--sr34sO-fR0iuGpF0kRQAbLm-6v9Xd_VgWU_z_4ertOILCa"
    "lou__Aw7MyZM1LatQrD-hz_zxHuxKcZCA"
)
R1_TRANSCRIPT_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "cEu1GpfjCgXbz7oi1emwOlYngK4TDHBOQlrEE7jT7DM",
    "kid": "resource-key-1",
}


# --------------------------------------------------------------------------- helpers


def b64json(obj: Any) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def hand_sign(key: SigningKey, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """A JWS built without joserfc: exactly the bytes an attacker (or a peer) could send."""
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def header_for(key: SigningKey, typ: str, **extra: Any) -> dict[str, Any]:
    return {"alg": key.jwt_alg, "kid": key.kid, "typ": typ, **extra}


def auth_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": AS1,
        "aud": R1,
        "cnf": {"jwk": AGENT_KEY.public_jwk()},
        "scope": "data.read data.write",
        "exp": NOW + 3600,
        "iat": NOW,
        "agent": A1,
    }
    claims.update(overrides)
    return claims


def agent_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": A1,
        "sub": "delegate-1",
        "exp": NOW + 3600,
        "iat": NOW,
        "cnf": {"jwk": AGENT_KEY.public_jwk()},
    }
    claims.update(overrides)
    return claims


def resource_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": R1,
        "aud": AS1,
        "agent": A1,
        "agent_jkt": AGENT_KEY.thumbprint,
        "scope": "data.read",
        "exp": NOW + 600,
        "iat": NOW,
    }
    claims.update(overrides)
    return claims


def auth_token(key: SigningKey = AS_KEY, **overrides: Any) -> str:
    return hand_sign(key, header_for(key, "auth+jwt"), auth_claims(**overrides))


def validate_auth(token: str | UnverifiedToken, **overrides: Any) -> tokens.ValidatedToken:
    kwargs: dict[str, Any] = {
        "typ": "auth+jwt",
        "key": AS_KEY.public,
        "now": NOW,
        "leeway": LEEWAY,
        "algorithms": ED,
        "audience": R1,
        "issuer": AS1,
    }
    kwargs.update(overrides)
    return validate_token(token, **kwargs)


def chain(depth: int) -> dict[str, Any] | None:
    act: dict[str, Any] | None = None
    for level in range(depth):
        act = {"agent": f"https://hop{level}.example"} | ({"act": act} if act else {})
    return act


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("alg", ["ed25519", "p256"])
def test_agent_token_round_trip(alg: str) -> None:
    server = SigningKey.generate(alg, kid="agent-server-1")  # type: ignore[arg-type]
    delegate = SigningKey.generate(alg, kid="delegate-key-1")  # type: ignore[arg-type]
    token = mint_agent_token(
        server, iss=A1, sub="delegate-1", cnf_jwk=delegate.public_jwk(), now=NOW, aud=[R1, R2]
    )
    assert peek(token).header == {"alg": server.jwt_alg, "kid": "agent-server-1", "typ": "agent+jwt"}
    v = validate_token(
        token, typ="agent+jwt", key=server.public, now=NOW, leeway=0, algorithms=ALL_ALGS, audience=R2
    )
    assert list(v.claims) == ["iss", "sub", "aud", "exp", "iat", "cnf"]
    assert v.claims["sub"] == "delegate-1"
    assert v.claims["aud"] == (R1, R2)
    assert v.claims["exp"] == NOW + 3600
    assert v.cnf_jwk == delegate.public_jwk()
    assert v.cnf_key is not None and v.cnf_key.thumbprint == delegate.thumbprint
    assert v.act == ()


@pytest.mark.parametrize("alg", ["ed25519", "p256"])
def test_resource_token_round_trip(alg: str) -> None:
    resource = SigningKey.generate(alg, kid="resource-key-1")  # type: ignore[arg-type]
    token = mint_resource_token(
        resource, iss=R1, aud=AS1, agent=A1, agent_jkt=AGENT_KEY.thumbprint, now=NOW, scope="data.read"
    )
    v = validate_token(
        token, typ="resource+jwt", key=resource.public, now=NOW, leeway=0, algorithms=ALL_ALGS,
        audience=AS1, issuer=R1,
    )
    assert list(v.claims) == ["iss", "aud", "agent", "agent_jkt", "scope", "exp", "iat"]
    assert v.claims["exp"] == NOW + 600
    assert v.cnf_jwk is None and v.cnf_key is None

    by_url = mint_resource_token(
        resource, iss=R1, aud=AS1, agent=A1, agent_jkt="jkt", now=NOW, auth_request_url=f"{R1}/ard/1"
    )
    v2 = validate_token(
        by_url, typ="resource+jwt", key=resource.public, now=NOW, leeway=0, algorithms=ALL_ALGS
    )
    assert list(v2.claims) == ["iss", "aud", "agent", "agent_jkt", "auth_request_url", "exp", "iat"]


@pytest.mark.parametrize("alg", ["ed25519", "p256"])
def test_auth_token_round_trip(alg: str) -> None:
    server = SigningKey.generate(alg, kid="auth-key-1")  # type: ignore[arg-type]
    agent = AGENT_P256 if alg == "p256" else AGENT_KEY
    token = mint_auth_token(
        server, iss=AS1, aud=R1, cnf_jwk=agent.public_jwk(), now=NOW, agent=A1, scope="data.read",
        sub="testuser", agent_delegate="delegate-1", act={"agent": "https://upstream.example"},
    )
    v = validate_token(
        token, typ="auth+jwt", key=server.public, now=NOW, leeway=0, algorithms=ALL_ALGS,
        audience=R1, issuer=AS1,
    )
    assert list(v.claims) == [
        "iss", "aud", "sub", "cnf", "scope", "exp", "iat", "agent", "agent_delegate", "act",
    ]
    assert v.act == (Actor(agent="https://upstream.example"),)
    assert v.cnf_key is not None and v.cnf_key.thumbprint == agent.thumbprint
    assert v.typ == "auth+jwt"


def test_auth_token_omits_absent_optional_claims_and_agent_is_resource() -> None:
    token = mint_auth_token(AS_KEY, iss=AS1, aud=A1, cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, scope="x")
    payload = json.loads(b64decode(token.split(".")[1]))
    assert list(payload) == ["iss", "aud", "cnf", "scope", "exp", "iat"]
    assert None not in payload.values()
    with pytest.raises(TokenError) as exc:
        validate_auth(token, audience=A1)
    assert exc.value.code == "missing_claim" and "'agent'" in exc.value.description
    v = validate_auth(token, audience=A1, require_agent=False)
    assert "agent" not in v.claims


def test_extra_claims_are_appended() -> None:
    token = mint_agent_token(
        AGENT_KEY, iss=A1, sub="d", cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, extra={"policy": {"max": [1, 2]}}
    )
    v = validate_token(token, typ="agent+jwt", key=AGENT_KEY.public, now=NOW, leeway=0, algorithms=ED)
    assert list(v.claims)[-1] == "policy"
    assert v.claims_dict()["policy"] == {"max": [1, 2]}


# --------------------------------------------------------------------------- transcript shapes


def test_minted_tokens_match_the_transcript_bytes() -> None:
    """Header segment identical; payload identical once our extra ``iat`` is removed."""
    as2 = SigningKey.generate(kid="auth-key-1")
    token = mint_auth_token(
        as2, iss=AS2, aud=R2, cnf_jwk=R1_TRANSCRIPT_JWK, now=NOW, scope="data.read data.write",
        agent=R1, act=build_act({"iss": AS1, "aud": R1, "agent": A1}, max_depth=8),
    )
    header_seg, payload_seg, _ = token.split(".")
    t_header, t_payload, _ = TRANSCRIPT_EXCHANGED.split(".")
    assert header_seg == t_header
    assert b64decode(header_seg) == b'{"alg":"EdDSA","kid":"auth-key-1","typ":"auth+jwt"}'
    payload = json.loads(b64decode(payload_seg))
    assert payload.pop("iat") == NOW
    assert json.dumps(payload, separators=(",", ":")).encode() == b64decode(t_payload)

    resource = SigningKey.generate(kid="resource-key-1")
    rt = mint_resource_token(
        resource, iss=R2, aud=AS2, agent=R1, agent_jkt="nN2XumQtDleF0DcuaNcF_Enz_9EezET4GK2j4QWPqRw",
        now=NOW, scope="data.read data.write",
    )
    r_header, r_payload, _ = rt.split(".")
    t_header, t_payload, _ = TRANSCRIPT_RESOURCE.split(".")
    assert r_header == t_header
    payload = json.loads(b64decode(r_payload))
    assert payload.pop("iat") == NOW
    assert json.dumps(payload, separators=(",", ":")).encode() == b64decode(t_payload)


def test_peek_reads_transcript_tokens() -> None:
    t = peek(TRANSCRIPT_EXCHANGED)
    assert dict(t.header) == {"alg": "EdDSA", "kid": "auth-key-1", "typ": "auth+jwt"}
    assert t.typ == "auth+jwt" and t.kid == "auth-key-1" and t.alg == "EdDSA"
    assert t.claims["agent"] == R1 and t.claims["act"] == {"agent": A1}
    assert t.claims["cnf"]["jwk"] == R1_TRANSCRIPT_JWK
    assert peek(TRANSCRIPT_RESOURCE).claims["agent_jkt"] == "nN2XumQtDleF0DcuaNcF_Enz_9EezET4GK2j4QWPqRw"
    # the real signature cannot be checked (the servers' keys are not in the transcript)
    with pytest.raises(TokenError) as exc:
        validate_token(
            TRANSCRIPT_EXCHANGED, typ="auth+jwt", key=AS_KEY.public, now=NOW, leeway=0, algorithms=ED
        )
    assert exc.value.code == "invalid_token_signature"


def test_eddsa_is_emitted_without_security_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = auth_token()
        minted = mint_auth_token(AS_KEY, iss=AS1, aud=R1, cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, agent=A1)
        validate_auth(token)
        validate_auth(minted)
    assert [w for w in caught if "EdDSA" in str(w.message)] == []


# --------------------------------------------------------------------------- hostile input table


def _none_token() -> str:
    header = {"alg": "none", "kid": "auth-key-1", "typ": "auth+jwt"}
    return f"{b64json(header)}.{b64json(auth_claims())}."


def _hs256_with_public_key_as_secret() -> str:
    secret = AS_KEY.public.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    header = {"alg": "HS256", "kid": "auth-key-1", "typ": "auth+jwt"}
    signing_input = f"{b64json(header)}.{b64json(auth_claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def _tampered() -> str:
    header, _, signature = auth_token().split(".")
    return f"{header}.{b64json(auth_claims(scope='admin'))}.{signature}"


def _missing(typ: str, builder: Callable[..., dict[str, Any]], claim: str) -> Callable[[], str]:
    def build() -> str:
        claims = builder()
        del claims[claim]
        return hand_sign(AS_KEY, header_for(AS_KEY, typ), claims)

    return build


def _jwe_shaped() -> str:
    header = {"alg": "RSA-OAEP", "enc": "A256GCM", "typ": "auth+jwt", "kid": "k"}
    return ".".join([b64json(header), "a", "b", "c", "d"])


def _nesting_bomb(depth: int) -> str:
    payload = '{"act":' * depth + '{"agent":"x"}' + "}" * depth
    signing_input = f"{b64json(header_for(AS_KEY, 'auth+jwt'))}.{b64url_encode(payload.encode())}"
    return f"{signing_input}.{b64url_encode(AS_KEY.sign(signing_input.encode()))}"


def _raw_payload(payload: bytes) -> str:
    signing_input = f"{b64json(header_for(AS_KEY, 'auth+jwt'))}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(AS_KEY.sign(signing_input.encode()))}"


@dataclass
class Case:
    id: str
    token: Callable[[], str]
    code: str
    kwargs: dict[str, Any] | None = None
    typ: str = "auth+jwt"


def AGENT_TOKEN() -> str:
    return hand_sign(AS_KEY, header_for(AS_KEY, "agent+jwt"), agent_claims())

CASES = [
    Case("agent-token-where-auth-token-needed", AGENT_TOKEN, "wrong_token_type"),
    Case("no-typ", lambda: hand_sign(AS_KEY, {"alg": "EdDSA", "kid": "auth-key-1"}, auth_claims()),
         "wrong_token_type"),
    Case("jwt-typ", lambda: hand_sign(AS_KEY, header_for(AS_KEY, "JWT"), auth_claims()), "wrong_token_type"),
    Case("alg-none", _none_token, "disallowed_algorithm"),
    Case("alg-none-even-if-listed", _none_token, "disallowed_algorithm", {"algorithms": ["none", "EdDSA"]}),
    Case("hs256-public-key-secret", _hs256_with_public_key_as_secret, "disallowed_algorithm"),
    Case("hs256-even-if-listed", _hs256_with_public_key_as_secret, "disallowed_algorithm",
         {"algorithms": ["HS256", "EdDSA"]}),
    Case("es256-token-ed25519-key", lambda: auth_token(AS_P256), "disallowed_algorithm",
         {"algorithms": ALL_ALGS}),
    Case("eddsa-token-p256-key", auth_token, "disallowed_algorithm",
         {"algorithms": ALL_ALGS, "key": AS_P256.public}),
    Case("es256-not-enabled", lambda: auth_token(AS_P256), "disallowed_algorithm", {"key": AS_P256.public}),
    Case("ed25519-name-not-listed",
         lambda: hand_sign(AS_KEY, {"alg": "Ed25519", "kid": "auth-key-1", "typ": "auth+jwt"}, auth_claims()),
         "disallowed_algorithm", {"algorithms": ["EdDSA"]}),
    Case("tampered-payload", _tampered, "invalid_token_signature"),
    Case("wrong-key-same-kid", lambda: auth_token(OTHER_KEY), "invalid_token_signature"),
    Case("attacker-jwk-header",
         lambda: hand_sign(ATTACKER, header_for(ATTACKER, "auth+jwt", jwk=ATTACKER.public_jwk()),
                           auth_claims()),
         "invalid_token_signature"),
    Case("attacker-jku-x5u-header",
         lambda: hand_sign(ATTACKER, header_for(ATTACKER, "auth+jwt", jku="https://evil.example/jwks",
                                                x5u="https://evil.example/cert"), auth_claims()),
         "invalid_token_signature"),
    Case("signature-truncated", lambda: auth_token()[:-10], "invalid_token_signature"),
    Case("wrong-issuer", lambda: auth_token(iss=AS2), "invalid_issuer"),
    Case("iss-not-string", lambda: auth_token(iss=["x"]), "invalid_issuer"),
    Case("expired", auth_token, "token_expired", {"now": NOW + 3600 + LEEWAY + 1}),
    Case("nbf-future", lambda: auth_token(nbf=NOW + LEEWAY + 1), "token_not_yet_valid"),
    Case("iat-future", lambda: auth_token(iat=NOW + LEEWAY + 1), "token_not_yet_valid"),
    Case("exp-string", lambda: auth_token(exp=str(NOW + 3600)), "malformed_token"),
    Case("exp-bool", lambda: auth_token(exp=True), "malformed_token"),
    Case("nbf-null", lambda: auth_token(nbf=None), "malformed_token"),
    Case("iat-list", lambda: auth_token(iat=[NOW]), "malformed_token"),
    Case("wrong-aud", lambda: auth_token(aud=R2), "invalid_audience"),
    Case("aud-list-without-us", lambda: auth_token(aud=[R2, AS1]), "invalid_audience"),
    Case("aud-empty-list", lambda: auth_token(aud=[]), "malformed_token"),
    Case("aud-list-non-string", lambda: auth_token(aud=[R1, 7]), "malformed_token"),
    Case("cnf-jwk-rsa", lambda: auth_token(cnf={"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}),
         "invalid_cnf"),
    Case("cnf-not-object", lambda: auth_token(cnf="jwk"), "invalid_cnf"),
    Case("cnf-jwk-not-object", lambda: auth_token(cnf={"jwk": "x"}), "invalid_cnf"),
    Case("cnf-jwk-short-x", lambda: auth_token(cnf={"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}),
         "invalid_cnf"),
    Case("cnf-jwk-private", lambda: auth_token(cnf={"jwk": AGENT_KEY.private_jwk()}), "invalid_cnf"),
    Case("crit-header",
         lambda: hand_sign(AS_KEY, header_for(AS_KEY, "auth+jwt", crit=["exp"], exp=1), auth_claims()),
         "unsupported_token"),
    Case("jwe-five-segments", _jwe_shaped, "malformed_token"),
    Case("garbage", lambda: "not a token", "malformed_token"),
    Case("empty", lambda: "", "malformed_token"),
    Case("dots-only", lambda: "..", "malformed_token"),
    Case("bad-base64", lambda: "e*J.e*J.sig", "malformed_token"),
    Case("padded-base64", lambda: auth_token().replace(".", "=.", 1), "malformed_token"),
    Case("header-not-json", lambda: f"{b64url_encode(b'{nope')}.{b64json(auth_claims())}.AA",
         "malformed_token"),
    Case("header-array", lambda: f"{b64json(['EdDSA'])}.{b64json(auth_claims())}.AA", "malformed_token"),
    Case("payload-array", lambda: _raw_payload(b"[1]"), "malformed_token"),
    Case("payload-not-utf8", lambda: _raw_payload(b"{\xff}"), "malformed_token"),
    Case("payload-nan", lambda: _raw_payload(b'{"exp":NaN}'), "malformed_token"),
    Case("duplicate-claim", lambda: _raw_payload(b'{"aud":"a","aud":"b"}'), "malformed_token"),
    Case("missing-kid", lambda: hand_sign(AS_KEY, {"alg": "EdDSA", "typ": "auth+jwt"}, auth_claims()),
         "malformed_token"),
    Case("missing-alg", lambda: hand_sign(AS_KEY, {"kid": "k", "typ": "auth+jwt"}, auth_claims()),
         "malformed_token"),
    Case("typ-not-string", lambda: hand_sign(AS_KEY, {"alg": "EdDSA", "kid": "k", "typ": 1}, auth_claims()),
         "malformed_token"),
    Case("oversized", lambda: auth_token(padding="x" * MAX_TOKEN_LENGTH), "malformed_token"),
    Case("act-too-deep", lambda: auth_token(act=chain(9)), "act_too_deep"),
    Case("act-too-deep-for-setting", lambda: auth_token(act=chain(3)), "act_too_deep", {"max_act_depth": 2}),
    Case("nesting-bomb-act", lambda: _nesting_bomb(1000), "malformed_token"),
    Case("nesting-bomb-array",
         lambda: _raw_payload(b'{"x":' + b"[" * 500 + b"]" * 500 + b"}"),
         "malformed_token"),
    Case("act-string", lambda: auth_token(act=A1), "invalid_act"),
    Case("act-null", lambda: auth_token(act=None), "invalid_act"),
    Case("act-without-agent", lambda: auth_token(act={"sub": "u"}), "invalid_act"),
    Case("act-agent-not-string", lambda: auth_token(act={"agent": 1}), "invalid_act"),
    Case("act-nested-null", lambda: auth_token(act={"agent": A1, "act": None}), "invalid_act"),
    Case("act-nested-list", lambda: auth_token(act={"agent": A1, "act": [{"agent": A1}]}), "invalid_act"),
    Case("act-sub-not-string", lambda: auth_token(act={"agent": A1, "sub": 5}), "invalid_act"),
    Case("agent-not-string", lambda: auth_token(agent=["x"]), "invalid_claim"),
    Case("scope-not-string", lambda: auth_token(scope=["a"]), "invalid_claim"),
    # missing required claims, per token kind
    *[
        Case(f"auth-missing-{claim}",
             _missing("auth+jwt", auth_claims, claim),
             "missing_claim")
        for claim in ("iss", "aud", "exp", "cnf", "agent")
    ],
    Case("auth-missing-cnf.jwk", lambda: auth_token(cnf={"jkt": "x"}), "missing_claim"),
    *[
        Case(f"agent-missing-{claim}",
             _missing("agent+jwt", agent_claims, claim),
             "missing_claim", {"audience": None, "issuer": None}, "agent+jwt")
        for claim in ("iss", "sub", "exp", "cnf")
    ],
    *[
        Case(f"resource-missing-{claim}",
             _missing("resource+jwt", resource_claims, claim),
             "missing_claim", {"audience": None, "issuer": None}, "resource+jwt")
        for claim in ("iss", "aud", "agent", "agent_jkt", "exp", "scope")
    ],
    Case("resource-scope-and-url",
         lambda: hand_sign(AS_KEY, header_for(AS_KEY, "resource+jwt"), resource_claims(auth_request_url="u")),
         "invalid_claim", {"audience": None, "issuer": None}, "resource+jwt"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_and_invalid_tokens(case: Case) -> None:
    token = case.token()
    with pytest.raises(TokenError) as exc:
        validate_auth(token, typ=case.typ, **(case.kwargs or {}))
    err = exc.value
    assert err.code == case.code, err.description
    assert err.status_code == 401
    # descriptions never echo token material
    for segment in token.split("."):
        if len(segment) >= 12:
            assert segment not in err.description and segment[:12] not in err.description
    if case.code == "missing_claim":
        assert case.id.rsplit("missing-", 1)[1] in err.description


def test_wrong_type_description_names_both_types() -> None:
    with pytest.raises(TokenError) as exc:
        validate_auth(AGENT_TOKEN())
    assert "'auth+jwt'" in exc.value.description and "'agent+jwt'" in exc.value.description


def test_jwe_description_says_encrypted_tokens_are_unsupported() -> None:
    with pytest.raises(TokenError) as exc:
        peek(_jwe_shaped())
    assert exc.value.code == "malformed_token" and "encrypted" in exc.value.description


def test_header_key_hints_are_never_used_for_lookup() -> None:
    """A token by the real issuer carrying an attacker ``jwk``/``jku`` still verifies with the passed key."""
    header = header_for(AS_KEY, "auth+jwt", jwk=ATTACKER.public_jwk(), jku="https://evil.example/jwks")
    token = hand_sign(AS_KEY, header, auth_claims())
    assert validate_auth(token).claims["agent"] == A1
    # ... and one signed by the attacker with its own key in the header is refused.
    forged = hand_sign(ATTACKER, header_for(ATTACKER, "auth+jwt", jwk=ATTACKER.public_jwk()), auth_claims())
    with pytest.raises(TokenError) as exc:
        validate_auth(forged)
    assert exc.value.code == "invalid_token_signature"


def test_ed25519_alg_name_is_accepted_on_input() -> None:
    token = hand_sign(AS_KEY, {"alg": "Ed25519", "kid": "auth-key-1", "typ": "auth+jwt"}, auth_claims())
    assert validate_auth(token).header["alg"] == "Ed25519"


def test_es256_accepted_when_enabled() -> None:
    token = auth_token(AS_P256)
    assert validate_auth(token, key=AS_P256.public, algorithms=["ES256"]).header["alg"] == "ES256"


@pytest.mark.parametrize(
    ("now", "ok"),
    [(NOW + 3600 + LEEWAY - 1, True), (NOW + 3600 + LEEWAY - 0.5, True), (NOW + 3600 + LEEWAY, False),
     (NOW + 3600 + LEEWAY + 0.5, False)],
)
def test_exp_leeway_edge(now: float, ok: bool) -> None:
    """RFC 7519 §4.1.4: valid only *before* ``exp`` (+ leeway); at ``exp + leeway`` it has expired."""
    token = auth_token()
    if ok:
        validate_auth(token, now=now)
    else:
        with pytest.raises(TokenError, match="expired"):
            validate_auth(token, now=now)


def test_nbf_and_iat_leeway_edges() -> None:
    validate_auth(auth_token(nbf=NOW + LEEWAY))
    validate_auth(auth_token(iat=NOW + LEEWAY))
    validate_auth(auth_token(nbf=NOW + 5, iat=NOW + 5), leeway=5)
    for claim in ("nbf", "iat"):
        with pytest.raises(TokenError) as exc:
            validate_auth(auth_token(AS_KEY, **{claim: NOW + 6}), leeway=5)
        assert exc.value.code == "token_not_yet_valid"


def test_aud_list_containing_audience_is_accepted() -> None:
    v = validate_auth(auth_token(aud=[R2, R1]))
    assert v.claims["aud"] == (R2, R1)


def test_negative_leeway_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="leeway"):
        validate_auth(auth_token(), leeway=-1)


def test_audience_and_issuer_are_optional_checks() -> None:
    validate_auth(auth_token(aud=R2, iss=AS2), audience=None, issuer=None)


def test_agent_token_without_aud_is_accepted_for_any_recipient() -> None:
    """Spec §5.7: an agent token's ``aud`` is optional and checked only when present."""
    token = hand_sign(AS_KEY, header_for(AS_KEY, "agent+jwt"), agent_claims())
    validate_auth(token, typ="agent+jwt", issuer=A1)
    restricted = hand_sign(AS_KEY, header_for(AS_KEY, "agent+jwt"), agent_claims(aud=R2))
    with pytest.raises(TokenError) as exc:
        validate_auth(restricted, typ="agent+jwt", issuer=A1)
    assert exc.value.code == "invalid_audience"


def test_act_depth_at_limit_is_accepted() -> None:
    v = validate_auth(auth_token(act=chain(8)))
    assert len(v.act) == 8
    assert v.act[0] == Actor(agent="https://hop7.example")
    assert v.act[-1] == Actor(agent="https://hop0.example")


def test_braces_inside_strings_are_not_nesting() -> None:
    validate_auth(auth_token(note="{[" * 200))


def test_oversized_is_refused_before_decoding() -> None:
    with pytest.raises(TokenError) as exc:
        peek("a" * (MAX_TOKEN_LENGTH + 1))
    assert exc.value.code == "malformed_token"


def test_peek_does_not_check_signature_but_validate_does() -> None:
    t = peek(_tampered())
    assert t.claims["scope"] == "admin"
    with pytest.raises(TokenError) as exc:
        validate_auth(t)
    assert exc.value.code == "invalid_token_signature"


def test_hand_built_unverified_token_cannot_smuggle_claims() -> None:
    """validate_token re-parses an UnverifiedToken that peek() did not produce."""
    real = auth_token()
    forged = UnverifiedToken(header=peek(real).header, claims={**auth_claims(), "scope": "admin"}, raw=real)
    assert validate_auth(forged).claims["scope"] == "data.read data.write"
    assert validate_auth(peek(real)).claims["scope"] == "data.read data.write"


def test_validated_token_is_read_only_and_repr_hides_the_token() -> None:
    token = auth_token(act={"agent": A1})
    v = validate_auth(token)
    with pytest.raises(TypeError):
        v.claims["scope"] = "admin"  # type: ignore[index]
    with pytest.raises(TypeError):
        v.claims["cnf"]["jwk"]["x"] = "y"
    plain = v.claims_dict()
    plain["scope"] = "changed"
    assert v.claims["scope"] == "data.read data.write"
    json.dumps(plain)
    assert token not in repr(v) and token.split(".")[2] not in repr(v)
    assert token.split(".")[2] not in repr(peek(token))


# --------------------------------------------------------------------------- minting guards


def test_minting_requires_a_kid() -> None:
    with pytest.raises(ValueError, match="kid"):
        mint_auth_token(
            SigningKey.generate(), iss=AS1, aud=R1, cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, agent=A1
        )


def test_resource_token_needs_exactly_one_of_scope_and_url() -> None:
    for scope, url in ((None, None), ("a", "u")):
        with pytest.raises(ValueError, match="exactly one"):
            mint_resource_token(
                AS_KEY, iss=R1, aud=AS1, agent=A1, agent_jkt="j", now=NOW, scope=scope, auth_request_url=url
            )


def test_minting_refuses_private_or_broken_cnf_and_clashing_extra() -> None:
    with pytest.raises(ValueError, match="private"):
        mint_agent_token(AS_KEY, iss=A1, sub="d", cnf_jwk=AGENT_KEY.private_jwk(), now=NOW)
    with pytest.raises(ValueError, match="usable"):
        mint_agent_token(AS_KEY, iss=A1, sub="d", cnf_jwk={"kty": "RSA"}, now=NOW)
    with pytest.raises(ValueError, match="override"):
        mint_agent_token(AS_KEY, iss=A1, sub="d", cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, extra={"iss": "x"})
    with pytest.raises(ValueError, match="lifetime"):
        mint_agent_token(AS_KEY, iss=A1, sub="d", cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, lifetime=0)


def test_jwt_algorithms_for_settings_names() -> None:
    assert jwt_algorithms_for(["ed25519"]) == ("EdDSA", "Ed25519")
    assert jwt_algorithms_for(["ed25519", "ecdsa-p256-sha256"]) == ("EdDSA", "Ed25519", "ES256")
    assert jwt_algorithms_for(["hmac-sha256"]) == ()


# --------------------------------------------------------------------------- act / exchange


def _exchange(upstream: tokens.ValidatedToken, *, as_key: SigningKey, iss: str, aud: str, agent: str,
              agent_key: SigningKey) -> str:
    """What an auth server issues on request_type=exchange (B §7.3 step 10)."""
    return mint_auth_token(
        as_key, iss=iss, aud=aud, cnf_jwk=agent_key.public_jwk(), now=NOW, agent=agent,
        scope=upstream.claims.get("scope"), sub=upstream.claims.get("sub"),
        act=build_act(upstream.claims, max_depth=8),
    )


def test_build_act_three_hops() -> None:
    as1, as2, as3 = (SigningKey.generate(kid=f"auth-key-{i}") for i in (1, 2, 3))
    r1_key, r2_key = SigningKey.generate(kid="resource-key-1"), SigningKey.generate(kid="resource-key-1")

    t1 = mint_auth_token(as1, iss=AS1, aud=R1, cnf_jwk=AGENT_KEY.public_jwk(), now=NOW, agent=A1, scope="s")
    v1 = validate_token(t1, typ="auth+jwt", key=as1.public, now=NOW, leeway=0, algorithms=ED, audience=R1)
    assert v1.act == ()

    t2 = _exchange(v1, as_key=as2, iss=AS2, aud=R2, agent=R1, agent_key=r1_key)
    v2 = validate_token(t2, typ="auth+jwt", key=as2.public, now=NOW, leeway=0, algorithms=ED, audience=R2)
    assert v2.claims_dict()["act"] == {"agent": A1}  # the transcript's shape

    t3 = _exchange(v2, as_key=as3, iss=AS3, aud=R3, agent=R2, agent_key=r2_key)
    v3 = validate_token(t3, typ="auth+jwt", key=as3.public, now=NOW, leeway=0, algorithms=ED, audience=R3)
    assert v3.claims["agent"] == R2
    assert v3.claims_dict()["act"] == {"agent": R1, "act": {"agent": A1}}
    assert v3.act == (Actor(agent=R1), Actor(agent=A1))
    assert v3.cnf_key is not None and v3.cnf_key.thumbprint == r2_key.thumbprint


def test_build_act_carries_delegate_and_sub() -> None:
    upstream = {"agent": A1, "agent_delegate": "delegate-1", "sub": "testuser", "act": {"agent": "https://x"}}
    assert build_act(upstream, max_depth=8) == {
        "agent": A1, "agent_delegate": "delegate-1", "sub": "testuser", "act": {"agent": "https://x"},
    }
    assert list(build_act({"agent": A1, "iss": AS1}, max_depth=8)) == ["agent"]


def test_build_act_errors() -> None:
    with pytest.raises(TokenError) as exc:
        build_act({"iss": AS1}, max_depth=8)
    assert exc.value.code == "invalid_act"
    with pytest.raises(TokenError) as exc:
        build_act({"agent": A1, "act": {"sub": "x"}}, max_depth=8)
    assert exc.value.code == "invalid_act"
    with pytest.raises(TokenError) as exc:
        build_act({"agent": A1, "act": chain(8)}, max_depth=8)
    assert exc.value.code == "act_too_deep"
    assert build_act({"agent": A1, "act": chain(7)}, max_depth=8)["agent"] == A1
    with pytest.raises(TokenError) as exc:
        build_act({"agent": A1}, max_depth=0)
    assert exc.value.code == "act_too_deep"


# --------------------------------------------------------------------------- verified-token cache


@pytest.fixture
def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = tokens_jws.deserialize_compact  # type: ignore[attr-defined]

    def counting(value: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("verify")
        return real(value, *args, **kwargs)

    monkeypatch.setattr(tokens_jws, "deserialize_compact", counting)
    return calls


def test_cache_skips_only_the_signature(count_verifications: list[str]) -> None:
    cache = VerifiedTokenCache()
    token = auth_token()
    validate_auth(token, cache=cache)
    assert count_verifications == ["verify"] and len(cache) == 1 and cache.misses == 1
    v = validate_auth(token, cache=cache)
    assert count_verifications == ["verify"] and cache.hits == 1
    assert v.claims["agent"] == A1 and v.cnf_key is not None

    # every claim check still runs on a hit
    for kwargs, code in (
        ({"audience": R2}, "invalid_audience"),
        ({"issuer": AS2}, "invalid_issuer"),
        ({"typ": "agent+jwt"}, "wrong_token_type"),
        ({"algorithms": ["Ed25519"]}, "disallowed_algorithm"),
    ):
        with pytest.raises(TokenError) as exc:
            validate_auth(token, cache=cache, **kwargs)
        assert exc.value.code == code
    assert count_verifications == ["verify"]


def test_expired_cached_token_is_still_rejected(count_verifications: list[str]) -> None:
    cache = VerifiedTokenCache()
    token = auth_token()
    validate_auth(token, cache=cache)
    exp = NOW + 3600
    validate_auth(token, cache=cache, now=exp)  # still cached at exp
    assert cache.hits == 1
    validate_auth(token, cache=cache, now=exp + LEEWAY - 1)  # past exp: entry gone, re-verified, within leeway
    assert len(count_verifications) == 2 and len(cache) == 0
    with pytest.raises(TokenError) as exc:
        validate_auth(token, cache=cache, now=exp + LEEWAY)  # RFC 7519: valid only before exp + leeway
    assert exc.value.code == "token_expired"


def test_cache_is_per_key_and_never_stores_failures(count_verifications: list[str]) -> None:
    cache = VerifiedTokenCache()
    token = auth_token()
    validate_auth(token, cache=cache)
    with pytest.raises(TokenError) as exc:
        validate_auth(token, cache=cache, key=OTHER_KEY.public)
    assert exc.value.code == "invalid_token_signature"
    for _ in range(2):
        with pytest.raises(TokenError):
            validate_auth(_tampered(), cache=cache)
        with pytest.raises(TokenError):
            validate_auth(auth_token(aud=R2), cache=cache)  # good signature, wrong audience
    assert len(cache) == 1
    assert len(count_verifications) == 1 + 1 + 4


def test_cache_is_bounded_oldest_first() -> None:
    """The engine's one eviction policy (aauth_core.cache.bounded): a hit does not reorder."""
    cache = VerifiedTokenCache(maxsize=2)
    a, b, c = (auth_token(scope=s) for s in "abc")
    validate_auth(a, cache=cache)
    validate_auth(b, cache=cache)
    validate_auth(a, cache=cache)  # a hit: a stays the oldest
    validate_auth(c, cache=cache)  # evicts a
    assert len(cache) == 2
    assert not cache.contains(a, AS_KEY.thumbprint, now=NOW)
    assert cache.contains(b, AS_KEY.thumbprint, now=NOW) and cache.contains(c, AS_KEY.thumbprint, now=NOW)
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        VerifiedTokenCache(maxsize=0)


def test_cache_is_thread_safe() -> None:
    cache = VerifiedTokenCache(maxsize=16)
    tokens_ = [auth_token(scope=f"s{i}") for i in range(32)]

    def work(i: int) -> str:
        return str(validate_auth(tokens_[i % 32], cache=cache).claims["scope"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(400)))
    assert results == [f"s{i % 32}" for i in range(400)]
    assert len(cache) <= 16
    assert cache.hits + cache.misses == 400
