"""Signing and verification keys, JWK/JWKS documents and RFC 7638 thumbprints.

Ed25519 is the default everywhere (protocol A6); P-256 is available for
deployments that enable ``ecdsa-p256-sha256`` / ``ES256``.  The cryptography is
``cryptography``'s; this module only maps between its key objects and the JWK
shapes the protocol puts on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from . import dialect
from .cache.bounded import memoize
from .errors import KeyError_

__all__ = [
    "JOSE_KEY_TYPES",
    "KeyAlg",
    "KeyError_",
    "P256_ORDER",
    "PublicKey",
    "SigningKey",
    "b64url_decode",
    "b64url_encode",
    "check_jwk_alg",
    "canonical_signature",
    "is_high_s",
    "jwk_thumbprint",
    "jwks_document",
    "load_signing_key",
]

KeyAlg = Literal["ed25519", "p256"]


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decoding; padding optional, any other character rejected."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url, no padding) over the required members only."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise KeyError_(f"cannot compute a thumbprint for key type {kty!r}")
    try:
        canonical = {name: jwk[name] for name in members}
    except KeyError as exc:
        raise KeyError_(f"JWK is missing the {exc.args[0]!r} member") from None
    if not all(isinstance(v, str) for v in canonical.values()):
        raise KeyError_("JWK members must be strings")
    encoded = json.dumps(canonical, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(encoded).digest())


#: The key each JOSE ``alg`` this package knows determines, as ``(kty, crv)`` (SK-09 §3.3).
#: ``EdDSA`` is the polymorphic name RFC 9864 deprecates: January accepts it, -11 does not;
#: which names are accepted is the profile's ``jwk_algs``.
JOSE_KEY_TYPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"Ed25519": ("OKP", "Ed25519"), "EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
)


def check_jwk_alg(jwk: Mapping[str, Any], accepted: Collection[str], *, required: bool = False) -> str | None:
    """The ``alg`` a conveyed JWK names, checked against the key it is on (decision P4, SK-09 §3.3).

    Returns the ``alg``, or ``None`` when there is none and none is ``required``.  An ``alg``
    outside ``accepted`` (``none``, ``HS256``, ``EdDSA`` under -11...) or a missing required
    one is ``unsupported_algorithm``; an accepted ``alg`` whose ``kty``/``crv`` disagree with
    the key's (``ES256`` on an Ed25519 key) is ``invalid_key``.
    """
    alg = jwk.get("alg")
    if alg is None:
        if required:
            raise KeyError_("the key has no 'alg'", code="unsupported_algorithm")
        return None
    if not isinstance(alg, str) or alg not in accepted or alg not in JOSE_KEY_TYPES:
        shown = repr(alg)[:40]
        raise KeyError_(f"key 'alg' {shown} is not one of {', '.join(a for a in accepted)}",
                        code="unsupported_algorithm")
    if (jwk.get("kty"), jwk.get("crv")) != JOSE_KEY_TYPES[alg]:
        raise KeyError_(f"key 'alg' {alg} does not fit the key's kty/crv", code="invalid_key")
    return alg


#: The order of the P-256 group.  ECDSA is malleable: when ``(r, s)`` verifies, so does
#: ``(r, n - s)``, a second encoding of the same signature.  Both verify (RFC 9421 does not
#: require low-S, and WebCrypto signers do not normalise), but a replay cache is keyed on
#: :func:`canonical_signature`, the low-S form, so the twin of a seen signature is a replay.
#: Our signer emits low-S only.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_HALF_ORDER = P256_ORDER // 2


def is_high_s(signature: bytes) -> bool:
    """True for a raw 64-byte P-256 ``r||s`` signature whose ``s`` exceeds ``n/2``."""
    return len(signature) == 64 and int.from_bytes(signature[32:], "big") > _P256_HALF_ORDER


def canonical_signature(signature: bytes) -> bytes:
    """One byte string per ECDSA P-256 signature: the low-S form of ``r||s`` (see
    :data:`P256_ORDER`); any other signature as it is.  What replay caches are keyed on."""
    if not is_high_s(signature):
        return signature
    s = P256_ORDER - int.from_bytes(signature[32:], "big")
    return signature[:32] + s.to_bytes(32, "big")


def _raw_to_der_p256(signature: bytes) -> bytes:
    """DER for ``cryptography`` from the raw ``r||s`` HTTP signatures carry."""
    return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))


@dataclass(frozen=True, slots=True, eq=False)
class PublicKey:
    """A verification key plus the JWK it came from.

    ``jwk`` is the public JWK as published (``kid`` included when known); the
    thumbprint ignores ``kid`` so it identifies the key material alone.
    """

    key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
    jwk: Mapping[str, Any]
    thumbprint: str = field(default="")
    #: Decided once: ``isinstance`` against the key ABCs costs more than a lookup on every request.
    _alg: KeyAlg = field(default="ed25519", init=False, repr=False, compare=False)
    _httpsig_alg: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "jwk", MappingProxyType(dict(self.jwk)))  # shared when memoised
        if not self.thumbprint:
            object.__setattr__(self, "thumbprint", jwk_thumbprint(self.jwk))
        ed = isinstance(self.key, ed25519.Ed25519PublicKey)
        object.__setattr__(self, "_alg", "ed25519" if ed else "p256")
        object.__setattr__(self, "_httpsig_alg", dialect.HTTPSIG_ALG_ED25519 if ed else dialect.HTTPSIG_ALG_P256)

    @property
    def kid(self) -> str | None:
        kid = self.jwk.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def alg(self) -> KeyAlg:
        return self._alg

    @property
    def httpsig_alg(self) -> str:
        return self._httpsig_alg

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` (raw, as HTTP signatures carry it) is valid.

        P-256 signatures must be 64 bytes ``r||s`` (either S form; see :data:`P256_ORDER`)."""
        try:
            if self._alg == "ed25519":
                self.key.verify(signature, message)  # type: ignore[call-arg]
            else:
                if len(signature) != 64:
                    return False
                self.key.verify(_raw_to_der_p256(signature), message, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        except InvalidSignature:
            return False
        return True

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Import a public JWK (OKP/Ed25519 or EC/P-256); private members are dropped.

        Memoised on the JWK's string members: a warm request re-reads the same
        ``cnf.jwk`` every time, and importing costs as much as a hash and a key parse.
        """
        if not isinstance(jwk, Mapping):
            raise KeyError_("JWK must be a JSON object")
        items = tuple(sorted((k, v) for k, v in jwk.items() if k in _PUBLIC_MEMBERS and isinstance(v, str)))
        if len(items) == sum(1 for k in jwk if k in _PUBLIC_MEMBERS):
            return _public_key_from_items(items)
        return cls._import(jwk)

    @classmethod
    def _import(cls, jwk: Mapping[str, Any]) -> PublicKey:
        kty, crv = jwk.get("kty"), jwk.get("crv")
        try:
            if kty == "OKP" and crv == "Ed25519":
                x = b64url_decode(_str_member(jwk, "x"))
                if len(x) != 32:
                    raise KeyError_("Ed25519 key must be 32 bytes")
                public: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}
                key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey = (
                    ed25519.Ed25519PublicKey.from_public_bytes(x)
                )
            elif kty == "EC" and crv == "P-256":
                x = b64url_decode(_str_member(jwk, "x"))
                y = b64url_decode(_str_member(jwk, "y"))
                if len(x) != 32 or len(y) != 32:
                    raise KeyError_("P-256 coordinates must be 32 bytes")
                key = ec.EllipticCurvePublicNumbers(
                    int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
                ).public_key()
                public = {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}
            else:
                raise KeyError_(f"unsupported key type {kty!r}/{crv!r}")
        except (ValueError, TypeError) as exc:
            raise KeyError_("JWK key material is malformed") from exc
        for extra in ("kid", "alg", "use"):
            if isinstance(jwk.get(extra), str):
                public[extra] = jwk[extra]
        return cls(key=key, jwk=public)


_PUBLIC_MEMBERS = frozenset({"kty", "crv", "x", "y", "kid", "alg", "use"})


@memoize(2048)
def _public_key_from_items(items: tuple[tuple[str, str], ...]) -> PublicKey:
    return PublicKey._import(dict(items))


def _str_member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise KeyError_(f"JWK member {name!r} must be a string")
    return value


@dataclass(frozen=True, slots=True, eq=False)
class SigningKey:
    """A private key with its ``kid``: signs HTTP messages and JWTs."""

    private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    kid: str | None = None
    public: PublicKey = field(init=False)

    def __post_init__(self) -> None:
        pub = self.private.public_key()
        if isinstance(pub, ed25519.Ed25519PublicKey):
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        else:
            nums = pub.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(nums.x.to_bytes(32, "big")),
                "y": b64url_encode(nums.y.to_bytes(32, "big")),
            }
        if self.kid is not None:
            jwk["kid"] = self.kid
        object.__setattr__(self, "public", PublicKey(key=pub, jwk=jwk))

    @classmethod
    def generate(cls, alg: KeyAlg = "ed25519", kid: str | None = None) -> SigningKey:
        if alg == "ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate(), kid)
        if alg == "p256":
            return cls(ec.generate_private_key(ec.SECP256R1()), kid)
        raise KeyError_(f"unsupported algorithm {alg!r}")

    @property
    def alg(self) -> KeyAlg:
        return self.public.alg

    @property
    def httpsig_alg(self) -> str:
        return self.public.httpsig_alg

    @property
    def jwt_alg(self) -> str:
        return dialect.JWT_ALG_ED25519_OUT if self.alg == "ed25519" else dialect.JWT_ALG_P256

    @property
    def thumbprint(self) -> str:
        return self.public.thumbprint

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as published in a JWKS (``kid`` included)."""
        return dict(self.public.jwk)

    def sign(self, message: bytes) -> bytes:
        """Raw signature bytes (Ed25519: 64 bytes; P-256: r||s, 64 bytes, RFC 9421 §3.3.4).

        P-256 signatures are normalised to low-S (``cryptography`` returns either form),
        the only form :meth:`PublicKey.verify` accepts."""
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.sign(message)
        r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
        if s > _P256_HALF_ORDER:
            s = P256_ORDER - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def private_jwk(self) -> dict[str, Any]:
        """The private JWK (``d`` included), as ``aauth keygen`` writes it."""
        jwk = self.public_jwk()
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            raw = self.private.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
            jwk["d"] = b64url_encode(raw)
        else:
            jwk["d"] = b64url_encode(self.private.private_numbers().private_value.to_bytes(32, "big"))
        return jwk

    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        """Import a private JWK (OKP/Ed25519 or EC/P-256 with ``d``)."""
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("d"), str):
            raise KeyError_("private JWK must be an object with a 'd' member")
        kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
        try:
            d = b64url_decode(jwk["d"])
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                key: SigningKey = cls(ed25519.Ed25519PrivateKey.from_private_bytes(d), kid)
            elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                key = cls(ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1()), kid)
            else:
                raise KeyError_(f"unsupported key type {jwk.get('kty')!r}/{jwk.get('crv')!r}")
        except ValueError as exc:
            raise KeyError_("private JWK key material is malformed") from exc
        if "x" in jwk and key.public.jwk.get("x") != jwk["x"]:
            raise KeyError_("private JWK 'x' does not match 'd'")
        return key

    @classmethod
    def from_pem(cls, data: bytes, kid: str | None = None, password: bytes | None = None) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise KeyError_("PEM private key could not be loaded") from exc
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return cls(private, kid)
        if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
            return cls(private, kid)
        raise KeyError_("only Ed25519 and P-256 private keys are supported")

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r}, thumbprint={self.thumbprint!r})"


def load_signing_key(source: str | os.PathLike[str], *, kid: str | None = None) -> SigningKey:
    """Load a private key from a file (PEM or JWK JSON), or from ``env:NAME``.

    The environment form holds PEM or JWK text in the named variable, so keys can
    be passed to containers without touching disk.
    """
    text: str
    if isinstance(source, str) and source.startswith("env:"):
        name = source[4:]
        value = os.environ.get(name)
        if not value:
            raise KeyError_(f"environment variable {name} is not set")
        text = value
    else:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise KeyError_(f"cannot read key file {os.fspath(source)!r}: {exc.strerror}") from None
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            jwk = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise KeyError_("key file is not valid JSON") from exc
        key = SigningKey.from_jwk(jwk)
        if kid is not None and kid != key.kid:
            return SigningKey(key.private, kid)
        return key
    return SigningKey.from_pem(stripped.encode(), kid=kid)


def jwks_document(keys: Iterable[SigningKey | PublicKey]) -> dict[str, Any]:
    """A JWKS document ``{"keys": [...]}`` of the public halves of ``keys``."""
    out = []
    for key in keys:
        jwk = key.public_jwk() if isinstance(key, SigningKey) else dict(key.jwk)
        out.append(jwk)
    return {"keys": out}
