"""The ``aauth-2026-01`` profile's values as module constants, read from its
:class:`~aauth_core.profile.Profile` object (:mod:`aauth_core.profile.aauth_2026_01`).

The code that speaks only the January dialect reads them here; what a profile decides
is defined once, in the profile object (docs/architecture.md, "the profile seam").
"""

from __future__ import annotations

from typing import Final

from .profile import AAUTH_2026_01

__all__ = [
    "PROFILE",
    "CHALLENGE_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_INPUT_HEADER",
    "SIGNATURE_KEY_HEADER",
    "CONTENT_DIGEST_HEADER",
    "TYP_AGENT",
    "TYP_RESOURCE",
    "TYP_AUTH",
    "WELL_KNOWN_AGENT",
    "WELL_KNOWN_RESOURCE",
    "WELL_KNOWN_ISSUER",
    "METADATA_ID_FIELD",
    "REQUEST_TYPES",
    "FORM_CONTENT_TYPE",
    "HTTPSIG_ALG_ED25519",
    "HTTPSIG_ALG_P256",
    "JWT_ALGS_ED25519_IN",
    "JWT_ALG_ED25519_OUT",
    "JWT_ALG_P256",
    "SCHEMES",
    "JWK_ALGS",
]

_P = AAUTH_2026_01


def _present(value: str | None) -> str:
    # January has every field these constants read; -11 leaves some of them None.
    if value is None:
        raise RuntimeError("the January profile lacks a field dialect.py reads")
    return value


PROFILE: Final = _P.name

CHALLENGE_HEADER: Final = _present(_P.challenge_header)
SIGNATURE_HEADER: Final = _P.signature_header
SIGNATURE_INPUT_HEADER: Final = _P.signature_input_header
SIGNATURE_KEY_HEADER: Final = _P.signature_key_header
CONTENT_DIGEST_HEADER: Final = _P.content_digest_header

TYP_AGENT: Final = _P.typ_agent
TYP_RESOURCE: Final = _P.typ_resource
TYP_AUTH: Final = _P.typ_auth

WELL_KNOWN_AGENT: Final = _P.well_known_agent
WELL_KNOWN_RESOURCE: Final = _P.well_known_resource
WELL_KNOWN_ISSUER: Final = _present(_P.well_known_issuer)

#: The member of each metadata document that must equal the identifier it was fetched for.
METADATA_ID_FIELD: Final = _P.metadata_id_field

REQUEST_TYPES: Final = _P.request_types
FORM_CONTENT_TYPE: Final = _P.request_body_type

HTTPSIG_ALG_ED25519: Final = _P.httpsig_alg_ed25519
HTTPSIG_ALG_P256: Final = _P.httpsig_alg_p256
#: Accepted JWS ``alg`` names for Ed25519 (A6: ``EdDSA`` on output, both on input).
JWT_ALGS_ED25519_IN: Final = _P.jwt_algs_ed25519_in
JWT_ALG_ED25519_OUT: Final = _P.jwt_alg_ed25519_out
JWT_ALG_P256: Final = _P.jwt_alg_p256

SCHEMES: Final = _P.schemes
#: JOSE ``alg`` names an inline (``hwk``) key may carry, if the name fits the key (decision P4).
JWK_ALGS: Final = _P.jwk_algs
