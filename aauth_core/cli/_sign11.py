"""``aauth sign --profile aauth-11``: a request signed as draft -11 and signature-key -09 require.

An agent signs with ``scheme=jwt`` (its agent token, or a person or auth token bound to its
key) and a server as itself with ``scheme=jwks_uri`` naming its own metadata document
(-11 §11.3.2).  The label is ``sig``, Signature-Key is the SK-09 Dictionary, no ``alg`` or
``keyid`` parameter is sent (§11.3.3.2), the components are those of §11.3.3.1
(:func:`~aauth_core.wire.coverage.required_components_11`) and ``Signature`` is standard
padded base64.  Options that only mean something in January are usage errors here, so
an envelope never mixes the two dialects.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ..errors import AAuthError
from ..headers import SignatureKey
from ..httpsig import SignedHeaders, sign_request
from ..keys import KeyError_, PublicKey, SigningKey
from ..profile import AAUTH_11
from ..profile.identifiers import InvalidIdentifier, check_server_identifier
from ..tokens import peek
from ..wire.coverage import required_components_11
from ._common import usage

__all__ = ["TOKEN_TYPES", "SERVER_DOCUMENTS", "sign_11", "signature_key_11"]

#: What ``scheme=jwt`` carries under -11 (§11.3.2): the agent's own tokens.
TOKEN_TYPES = tuple(t for t in (AAUTH_11.typ_agent, AAUTH_11.typ_person, AAUTH_11.typ_auth) if t)
#: The metadata documents a server signing as itself names in ``dwk`` (§11.2).
SERVER_DOCUMENTS = tuple(d for d in (AAUTH_11.well_known_agent, AAUTH_11.well_known_person,
                                     AAUTH_11.well_known_access, AAUTH_11.well_known_resource) if d)
_JANUARY_ONLY = (("--well-known", "well_known", "use --dwk"), ("--signature-key-format", "signature_key_format",
                 "aauth-11 writes the SK-09 Dictionary form"))


def sign_11(args: argparse.Namespace, key: SigningKey, headers: Mapping[str, str], body: bytes | None,
            created: int) -> SignedHeaders:
    """Sign ``args.method args.url`` under -11; every bad option is a usage error."""
    for option, dest, hint in _JANUARY_ONLY:
        if getattr(args, dest) is not None:
            usage(f"{option} is not used by --profile {AAUTH_11.name}: {hint}")
    if args.base not in (None, "rfc9421"):
        usage(f"--profile {AAUTH_11.name} signs the RFC 9421 base only")
    sk = signature_key_11(args, key)
    components = required_components_11(body=bool(body), authorization=any(k.lower() == "authorization"
                                                                            for k in headers),
                                        extra=args.component or ())
    try:
        return sign_request(args.method, args.url, headers, body, key=key, signature_key=sk, created=created,
                            encoding="base64", components=components)
    except AAuthError as exc:  # a --component the request does not have
        usage(exc.description)


def signature_key_11(args: argparse.Namespace, key: SigningKey) -> SignatureKey:
    """The SK-09 Signature-Key member the options describe (label ``sig`` unless told)."""
    label = args.label or AAUTH_11.signature_label
    scheme = args.scheme or "jwt"
    try:
        if scheme == "jwt":
            if not args.jwt:
                usage("--scheme jwt needs --jwt TOKEN")
            _check_token(args.jwt, key)
            return SignatureKey.build("jwt", {"jwt": args.jwt}, label=label, fmt="sk")
        if scheme == "jwks_uri":
            return SignatureKey.build("jwks", _server_params(args, key), label=label, fmt="sk")
    except AAuthError as exc:
        usage(exc.description)
    usage(f"--profile {AAUTH_11.name} signs with --scheme jwt (an agent, person or auth token) or jwks_uri "
          f"(a server as itself), not {scheme}")


def _check_token(token: str, key: SigningKey) -> None:
    """A token that would make the request January's (or unverifiable) is refused before
    signing: its ``typ`` must be an ``aa-*`` type and its ``cnf.jwk`` the public half of ``key``."""
    try:
        unverified = peek(token)
    except AAuthError as exc:
        usage(f"--jwt is not a JWT: {exc.description}")
    typ = unverified.header.get("typ")
    if typ not in TOKEN_TYPES:
        usage(f"under --profile {AAUTH_11.name} --jwt must be an {', '.join(TOKEN_TYPES)}, not {typ!r}")
    cnf = unverified.claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    try:
        bound = PublicKey.from_jwk(jwk) if isinstance(jwk, Mapping) else None
    except KeyError_:
        bound = None
    if bound is None or bound.thumbprint != key.thumbprint:
        usage("--jwt is not bound to --key (its cnf.jwk is another key): a verifier would refuse the signature")


def _server_params(args: argparse.Namespace, key: SigningKey) -> dict[str, str]:
    if not args.id:
        usage("--scheme jwks_uri needs --id (the server's identifier, e.g. https://ps.example)")
    try:
        check_server_identifier(args.id, allow_loopback_http=True)
    except InvalidIdentifier as exc:
        usage(f"--id {args.id!r}: {exc}")
    if args.dwk not in SERVER_DOCUMENTS:
        usage("--scheme jwks_uri needs --dwk, the server's own metadata document: one of "
              + ", ".join(SERVER_DOCUMENTS))
    kid = args.kid or key.kid
    if not kid:
        usage("--scheme jwks_uri needs --kid (or a key file with a kid)")
    return {"id": args.id, "well-known": args.dwk, "kid": kid}
