"""Shared by the Python peer drivers (run under .interop/py, imported from the driver's own
folder): a private JWK as the ``cryptography`` key the peers' signers take."""

import base64

from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def _b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def private_key(jwk):
    if jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(_b64url(jwk["d"]))
    if jwk["kty"] == "EC" and jwk["crv"] == "P-256":
        return ec.derive_private_key(int.from_bytes(_b64url(jwk["d"]), "big"), ec.SECP256R1())
    raise SystemExit(f"unsupported key {jwk['kty']}/{jwk.get('crv')}")
