"""Everything that is specific to the ``aauth-2026-01`` profile, in one place.

Protocol A1/A10: header names, token ``typ`` values, metadata paths and the
token-request vocabulary changed several times after January 2026.  Keeping them
here means a later profile is a new set of constants, not a hunt through the
adapters.
"""

from __future__ import annotations

from typing import Final

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
]

PROFILE: Final = "aauth-2026-01"

CHALLENGE_HEADER: Final = "Agent-Auth"
SIGNATURE_HEADER: Final = "Signature"
SIGNATURE_INPUT_HEADER: Final = "Signature-Input"
SIGNATURE_KEY_HEADER: Final = "Signature-Key"
CONTENT_DIGEST_HEADER: Final = "Content-Digest"

TYP_AGENT: Final = "agent+jwt"
TYP_RESOURCE: Final = "resource+jwt"
TYP_AUTH: Final = "auth+jwt"

WELL_KNOWN_AGENT: Final = "aauth-agent"
WELL_KNOWN_RESOURCE: Final = "aauth-resource"
WELL_KNOWN_ISSUER: Final = "aauth-issuer"

#: The member of each metadata document that must equal the identifier it was fetched for.
METADATA_ID_FIELD: Final = {
    WELL_KNOWN_AGENT: "agent",
    WELL_KNOWN_RESOURCE: "resource",
    WELL_KNOWN_ISSUER: "issuer",
}

REQUEST_TYPES: Final = ("auth", "code", "exchange", "refresh")
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

HTTPSIG_ALG_ED25519: Final = "ed25519"
HTTPSIG_ALG_P256: Final = "ecdsa-p256-sha256"
#: Accepted JWS ``alg`` names for Ed25519 (A6: ``EdDSA`` on output, both on input).
JWT_ALGS_ED25519_IN: Final = ("EdDSA", "Ed25519")
JWT_ALG_ED25519_OUT: Final = "EdDSA"
JWT_ALG_P256: Final = "ES256"

SCHEMES: Final = ("hwk", "jwks", "jwt", "x509")
