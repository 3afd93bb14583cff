"""The transcript's six signatures verify in ``demo-2026-01`` mode and only there (A2)."""

from __future__ import annotations

import pytest

from aauth_core.errors import SignatureError
from aauth_core.headers import parse_signature, parse_signature_input
from aauth_core.httpsig import verify_signature
from aauth_core.keys import PublicKey, jwk_thumbprint
from aauth_core.request import RequestView

from .transcript import AGENT1_X, R1_X, VECTORS, Vector


def _key(x: str) -> PublicKey:
    return PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})


def _parts(v: Vector):
    view = RequestView.from_url(v.method, v.url, v.headers(), v.body)
    params = parse_signature_input(view.headers["signature-input"])
    _, sig = parse_signature(view.headers["signature"])
    return view, params, sig


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"vector{v.number}")
def test_transcript_signature_verifies_with_demo_base(v: Vector) -> None:
    view, params, sig = _parts(v)
    verify_signature(view, params, sig, _key(v.signer_x), base="demo-2026-01")


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"vector{v.number}")
def test_transcript_signature_fails_with_rfc9421_base(v: Vector) -> None:
    view, params, sig = _parts(v)
    with pytest.raises(SignatureError) as err:
        verify_signature(view, params, sig, _key(v.signer_x), base="rfc9421")
    assert err.value.code == "invalid_signature"


def test_exchange_vector_is_signed_by_the_intermediary_not_the_token_cnf() -> None:
    """Vector 5 (A7): signed with R1's key although Signature-Key carries Agent 1's token."""
    view, params, sig = _parts(VECTORS[4])
    with pytest.raises(SignatureError):
        verify_signature(view, params, sig, _key(AGENT1_X), base="demo-2026-01")
    verify_signature(view, params, sig, _key(R1_X), base="demo-2026-01")


def test_transcript_thumbprints() -> None:
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": AGENT1_X, "kid": "key-1"}) == (
        "4OHXN0vAVrmHJ2x9h1eXz6eV_l-EosHVCgghGbGnBDE"
    )
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": R1_X}) == (
        "nN2XumQtDleF0DcuaNcF_Enz_9EezET4GK2j4QWPqRw"
    )


def test_form_bodies_match_their_digests() -> None:
    assert len(VECTORS[1].body or b"") == 510
    assert len(VECTORS[4].body or b"") == 470
    assert "Fcjm6yHvR96HB/jUtepWiP8WWE4IjEmjyoecGPccDOw=" in VECTORS[1].headers()["Content-Digest"]
    assert "iPlDBazalrHGLswJx6HRsEUReW593fk1Fm9w8aoshDI=" in VECTORS[4].headers()["Content-Digest"]
