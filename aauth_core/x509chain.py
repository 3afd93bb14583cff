"""``scheme=x509``: a certificate chain fetched from ``x5u``, pinned by ``x5t``.

Chain building and path validation are ``cryptography``'s (its X.509 verifier);
this module only connects them to the Signature-Key parameters.  Revocation is
not checked: deployments that need it should keep certificate lifetimes short.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .cache.bounded import memoize
from .errors import SignatureError
from .keys import KeyError_, PublicKey, b64url_decode, b64url_encode

__all__ = ["x509_identity"]


@memoize(16)
def _store(roots: tuple[str, ...]) -> Store:
    certs: list[x509.Certificate] = []
    for path in roots:
        certs += x509.load_pem_x509_certificates(Path(path).read_bytes())
    return Store(certs)


def x509_identity(chain_pem: str, x5t: str, roots: Sequence[str], *, now: float) -> tuple[PublicKey, str]:
    """Validate the chain to ``roots`` and return the leaf key and the agent identity.

    The identity is the leaf's first URI subjectAltName, else ``https://`` plus its
    first DNS name.
    """
    code = "invalid_certificate"
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError:
        raise SignatureError("x5u did not return a PEM certificate chain", code=code) from None
    leaf, intermediates = chain[0], chain[1:]
    try:
        expected = b64url_decode(x5t)
    except ValueError:
        raise SignatureError("x5t is not base64url", code="invalid_signature_key") from None
    if not hmac.compare_digest(hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest(), expected):
        raise SignatureError("x5t does not match the leaf certificate", code=code)
    when = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    verifier = PolicyBuilder().store(_store(tuple(roots))).time(when).build_client_verifier()
    try:
        verified = verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise SignatureError(f"certificate chain does not validate: {exc}", code=code) from None
    identity = None
    for name in verified.subjects or ():
        if isinstance(name, x509.UniformResourceIdentifier):
            identity = name.value
            break
        if isinstance(name, x509.DNSName) and identity is None:
            identity = f"https://{name.value}"
    if identity is None:
        raise SignatureError("certificate has no URI or DNS subjectAltName", code=code)
    public = leaf.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public.public_bytes_raw())}
    elif isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        nums = public.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64url_encode(nums.x.to_bytes(32, "big")),
               "y": b64url_encode(nums.y.to_bytes(32, "big"))}
    else:
        raise SignatureError("certificate key must be Ed25519 or P-256", code=code)
    try:
        return PublicKey.from_jwk(jwk), identity
    except KeyError_ as exc:  # pragma: no cover - the key came from cryptography itself
        raise SignatureError(exc.description, code=code) from None
