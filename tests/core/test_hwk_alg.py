"""Decision P4 (issue 14): an ``hwk`` key may name its ``alg`` when the name fits the key.

SK-09 §3.4 makes ``alg`` REQUIRED on an inline key; January senders never wrote one and
the January rule refused it.  Both profiles now accept ``alg`` when it is consistent with
the key (``Ed25519`` or ``EdDSA`` for an OKP/Ed25519 key, ``ES256`` for a P-256 key) and
refuse it otherwise: an algorithm no profile knows (``none``, ``HS256``, ``RS256``) is
``unsupported_algorithm``; a known algorithm of another key type is ``invalid_key``.
"""

from __future__ import annotations

import pytest

from aauth_core.errors import AAuthError, HeaderError
from aauth_core.headers import SignatureKey, parse_signature_key
from aauth_core.keys import SigningKey

from ..conftest import RESOURCE, World, signed_request, view_of
from .test_verifier import make_verifier

ED = SigningKey.generate()
P256 = SigningKey.generate("p256")


def _hwk(key: SigningKey, alg: str | None) -> dict[str, str]:
    params = {k: v for k, v in key.public_jwk().items() if k != "kid"}
    if alg is not None:
        params["alg"] = alg
    return params


def _transcript(params: dict[str, str]) -> str:
    return "sig1=(scheme=hwk " + " ".join(f'{k}="{v}"' for k, v in params.items()) + ")"


def _sf(params: dict[str, str]) -> str:
    return "sig1=hwk" + "".join(f';{k}="{v}"' for k, v in params.items())


@pytest.mark.parametrize("form", [_transcript, _sf], ids=["transcript", "sf"])
@pytest.mark.parametrize(("key", "alg"), [(ED, "Ed25519"), (ED, "EdDSA"), (P256, "ES256")],
                         ids=["Ed25519", "EdDSA", "ES256"])
def test_a_consistent_alg_is_accepted(form, key: SigningKey, alg: str) -> None:
    sk = parse_signature_key(form(_hwk(key, alg)))
    assert sk.params["alg"] == alg
    assert sk.hwk_key().thumbprint == key.thumbprint  # alg is not key material


@pytest.mark.parametrize("form", [_transcript, _sf], ids=["transcript", "sf"])
@pytest.mark.parametrize(("key", "alg", "code"), [
    (ED, "ES256", "invalid_key"),        # a known algorithm of another key type
    (P256, "Ed25519", "invalid_key"),
    (P256, "EdDSA", "invalid_key"),
    (ED, "none", "unsupported_algorithm"),
    (ED, "HS256", "unsupported_algorithm"),
    (P256, "ES384", "unsupported_algorithm"),
    (ED, "ed25519", "unsupported_algorithm"),  # the HTTP-signature name is not a JOSE name
    (ED, "", "unsupported_algorithm"),
])
def test_an_inconsistent_alg_is_refused(form, key: SigningKey, alg: str, code: str) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature_key(form(_hwk(key, alg)))
    assert err.value.code == code
    assert err.value.status_code == 401


def test_build_accepts_a_consistent_alg_and_refuses_another() -> None:
    sk = SignatureKey.build("hwk", _hwk(ED, "Ed25519"))
    assert sk.raw.endswith(' alg="Ed25519")')
    with pytest.raises(HeaderError) as err:
        SignatureKey.build("hwk", _hwk(ED, "ES256"))
    assert err.value.code == "invalid_key"


def test_an_hwk_key_without_alg_still_parses_under_january() -> None:
    assert "alg" not in parse_signature_key(_transcript(_hwk(ED, None))).params


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_a_resource_verifies_an_hwk_request_that_names_its_alg(world: World, alg: str) -> None:
    agent = SigningKey.generate()
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=agent, scheme="hwk", params=_hwk(agent, alg))
    verified = make_verifier(world).verify(view_of("GET", f"{RESOURCE}/data", headers))
    assert verified is not None
    assert verified.scheme == "hwk"
    assert verified.key.thumbprint == agent.thumbprint


def test_an_es256_hwk_key_still_needs_p256_enabled(world: World) -> None:
    agent = SigningKey.generate("p256")
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=agent, scheme="hwk", params=_hwk(agent, "ES256"))
    view = view_of("GET", f"{RESOURCE}/data", headers)
    with pytest.raises(AAuthError) as err:
        make_verifier(world).verify(view)
    assert err.value.code == "unsupported_algorithm"
    verified = make_verifier(world, algorithms=("ed25519", "ecdsa-p256-sha256")).verify(view)
    assert verified is not None
    assert verified.key.thumbprint == agent.thumbprint


def test_a_resource_refuses_an_hwk_request_whose_alg_names_another_key(world: World) -> None:
    agent = SigningKey.generate()
    text = _transcript(_hwk(agent, "ES256"))
    good, _ = signed_request("GET", f"{RESOURCE}/data", key=agent, scheme="hwk")
    headers = {**good, "Signature-Key": text}
    with pytest.raises(AAuthError) as err:
        make_verifier(world).verify(view_of("GET", f"{RESOURCE}/data", headers))
    assert (err.value.status_code, err.value.code) == (401, "invalid_key")
