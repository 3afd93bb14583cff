"""Keys, JWKs, JWKS documents and RFC 7638 thumbprints."""

from __future__ import annotations

import json

import pytest

from aauth_core.keys import KeyError_, PublicKey, SigningKey, jwk_thumbprint, jwks_document, load_signing_key


def test_transcript_thumbprints() -> None:
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": "RC-Evfrxrf6yOojCMGjYxwsDpFb4LKa9E4ZLNsG3rwA",
                           "kid": "key-1"}) == "4OHXN0vAVrmHJ2x9h1eXz6eV_l-EosHVCgghGbGnBDE"
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": "cEu1GpfjCgXbz7oi1emwOlYngK4TDHBOQlrEE7jT7DM",
                           "kid": "resource-key-1"}) == "nN2XumQtDleF0DcuaNcF_Enz_9EezET4GK2j4QWPqRw"


def test_rfc7638_rsa_example_thumbprint() -> None:
    # RFC 7638 §3.1
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
             "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8"
             "KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_x"
             "BniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("alg", ["ed25519", "p256"])
def test_generate_sign_verify_and_jwk_round_trip(alg, tmp_path) -> None:
    key = SigningKey.generate(alg, kid="k1")
    sig = key.sign(b"message")
    assert key.public.verify(sig, b"message")
    assert not key.public.verify(sig, b"messagE")
    again = SigningKey.from_jwk(key.private_jwk())
    assert again.thumbprint == key.thumbprint and again.kid == "k1"
    pub = PublicKey.from_jwk(key.public_jwk())
    assert pub.verify(sig, b"message")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key.private_jwk()))
    assert load_signing_key(path).thumbprint == key.thumbprint
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_pem())
    assert load_signing_key(pem, kid="other").kid == "other"


def test_load_from_environment(monkeypatch) -> None:
    key = SigningKey.generate(kid="env")
    monkeypatch.setenv("AAUTH_TEST_KEY", json.dumps(key.private_jwk()))
    assert load_signing_key("env:AAUTH_TEST_KEY").thumbprint == key.thumbprint
    monkeypatch.delenv("AAUTH_TEST_KEY")
    with pytest.raises(KeyError_) as err:
        load_signing_key("env:AAUTH_TEST_KEY")
    assert err.value.code == "invalid_key"


def test_jwks_document_has_public_halves_only() -> None:
    a, b = SigningKey.generate(kid="a"), SigningKey.generate("p256", kid="b")
    doc = jwks_document([a, b.public])
    assert [k["kid"] for k in doc["keys"]] == ["a", "b"]
    assert all("d" not in k for k in doc["keys"])


def test_repr_never_shows_key_material() -> None:
    key = SigningKey.generate(kid="k")
    assert key.private_jwk()["d"] not in repr(key)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "OKP", "crv": "Ed448", "x": "AAAA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
        {"kty": "OKP", "crv": "Ed25519", "x": 5},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": "not/base64url+" + "A" * 30},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},  # not on the curve
        "not a mapping",
    ],
)
def test_bad_public_jwks(jwk) -> None:
    with pytest.raises(KeyError_) as err:
        PublicKey.from_jwk(jwk)  # type: ignore[arg-type]
    assert err.value.code == "invalid_key"


@pytest.mark.parametrize(
    "jwk",
    [{"kty": "OKP", "crv": "Ed25519"}, {"kty": "OKP", "crv": "Ed25519", "d": "AAAA"},
     {"kty": "oct", "k": "AAAA", "d": "AAAA"}],
)
def test_bad_private_jwks(jwk) -> None:
    with pytest.raises(KeyError_):
        SigningKey.from_jwk(jwk)


def test_private_jwk_with_mismatched_public_half_is_refused() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    jwk = {**a.private_jwk(), "x": b.public_jwk()["x"]}
    with pytest.raises(KeyError_):
        SigningKey.from_jwk(jwk)


def test_thumbprint_of_unknown_kty() -> None:
    with pytest.raises(KeyError_):
        jwk_thumbprint({"kty": "oct", "k": "x"})
