"""The JWS layer: every signature made or checked goes through joserfc here (protocol A6).

The algorithm list is explicit: ``EdDSA`` is emitted for Ed25519, ``EdDSA`` and
``Ed25519`` are accepted, ``ES256`` only for P-256 keys; ``none`` and HMAC are refused
whatever the caller passes.  The verification key is always the one the caller
resolved; ``jku``/``x5u``/``jwk``/``x5c`` header members are never consulted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry, deserialize_compact, serialize_compact

from .. import dialect
from ..cache import memoize
from ..keys import PublicKey, SigningKey
from .parse import MAX_TOKEN_LENGTH
from .refusal import token_error

__all__ = ["ALGS_FOR_KEY", "SUPPORTED_ALGS", "jwt_algorithms_for", "sign", "verify_signature"]

#: JWS algorithms this package can ever verify, by key type (PublicKey.alg).  Anything
#: else (none, HS*, RS*, ...) is refused regardless of the caller's list.
ALGS_FOR_KEY: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"ed25519": dialect.JWT_ALGS_ED25519_IN, "p256": (dialect.JWT_ALG_P256,)}
)
SUPPORTED_ALGS: Final = frozenset(a for algs in ALGS_FOR_KEY.values() for a in algs)
_HTTPSIG_TO_JWT: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        dialect.HTTPSIG_ALG_ED25519: dialect.JWT_ALGS_ED25519_IN,
        dialect.HTTPSIG_ALG_P256: (dialect.JWT_ALG_P256,),
    }
)


def _registry(alg: str) -> JWSRegistry:
    # One registry per algorithm, each allowing exactly that algorithm.  Our own size
    # bound (MAX_TOKEN_LENGTH) replaces joserfc's 512-byte header limit, and header
    # members outside joserfc's registry are tolerated (they are never interpreted).
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    registry.max_header_length = MAX_TOKEN_LENGTH
    # A6 requires EdDSA; joserfc warns that it is deprecated (RFC 9864) on every
    # use.  A private copy of the algorithm without that flag silences it for our
    # registry only, without touching the process-wide warning filters.
    model = copy.copy(JWSRegistry.algorithms[alg])
    model.security_warning = None
    registry.algorithms = {**registry.algorithms, alg: model}
    return registry


_REGISTRIES: Final[Mapping[str, JWSRegistry]] = MappingProxyType({a: _registry(a) for a in SUPPORTED_ALGS})


def jwt_algorithms_for(httpsig_algorithms: Iterable[str]) -> tuple[str, ...]:
    """JWS ``alg`` names matching HTTP-signature algorithm names (``AAuthSettings.algorithms``).

    Lets callers derive the ``algorithms`` list for :func:`validate_token` from the one
    setting, so enabling P-256 for signatures enables ``ES256`` tokens too.
    """
    out: list[str] = []
    for name in httpsig_algorithms:
        for alg in _HTTPSIG_TO_JWT.get(name, ()):
            if alg not in out:
                out.append(alg)
    return tuple(out)


def _import_joserfc(jwk: dict[str, Any]) -> OKPKey | ECKey:
    return OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)


@memoize(1024)
def _joserfc_public(jwk_items: tuple[tuple[str, str], ...]) -> OKPKey | ECKey:
    # Public keys only: importing is costlier than verifying, and thumbprint-equal
    # material is the same key, so a bounded cache is safe.
    return _import_joserfc(dict(jwk_items))


def verify_signature(raw: str, alg: str, key: PublicKey) -> None:
    """Check the JWS signature of ``raw`` with ``key`` under exactly ``alg``."""
    # Only the key material goes to joserfc: a JWK "alg" of EdDSA must not refuse an
    # Ed25519-named token (A6 accepts both), and header members never select keys.
    material = tuple(
        (name, str(key.jwk[name])) for name in ("kty", "crv", "x", "y") if isinstance(key.jwk.get(name), str)
    )
    try:
        jkey = _joserfc_public(material)
        deserialize_compact(raw, jkey, registry=_REGISTRIES[alg])
    except (JoseError, ValueError, TypeError, KeyError):
        raise token_error("invalid_token_signature", "token signature does not verify") from None


def sign(key: SigningKey, typ: str, claims: dict[str, Any], *, alg: str | None = None) -> str:
    """A compact JWS of ``claims`` with header ``alg``/``kid``/``typ``, signed by ``key``.

    ``alg`` names the JWS algorithm when the profile's name differs from the key's default
    (aauth-11 writes ``Ed25519`` where January writes ``EdDSA``); it must fit the key."""
    if not key.kid:
        raise ValueError("signing key has no kid; AAuth tokens must carry one (verifiers select keys by kid)")
    if alg is None:
        alg = key.jwt_alg
    elif alg not in ALGS_FOR_KEY.get(key.public.alg, ()):
        raise ValueError(f"JWS alg {alg!r} does not fit a {key.public.alg} key")
    # Header members sorted, exactly as the transcript's tokens (B §6).
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    # Imported per call on purpose: no module-level cache should hold private key material.
    private = key.private_jwk()
    private.pop("kid", None)
    jkey = _import_joserfc(private)
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return serialize_compact(header, payload.encode("utf-8"), jkey, registry=_REGISTRIES[alg])
