"""``aauth-11``: draft-hardt-oauth-aauth-protocol-11 with draft-hardt-httpbis-signature-key-09.

The values of the difference table of the -11 reference (``protocol-current.md`` §1): the
``aa-*+jwt`` token types with the person token, the four ``*.json`` metadata documents all
naming their party in ``issuer``, JSON token requests without ``request_type``, JOSE
algorithm names (``Ed25519`` MUST, ``ES256``; the polymorphic ``EdDSA`` refused), agents
signing with ``scheme=jwt`` and servers as themselves with ``jwks_uri``, the SK-09
Dictionary form of Signature-Key with the label ``sig``, standard base64 signatures, and
refusals as ``application/problem+json`` with ``error`` (+ ``detail``) beside a
``Signature-Error`` header.

Nothing in the engine speaks this profile yet: it is the seam the resource and client
work will switch on (docs/profiles.md, "aauth-11 wire layer").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .base import Profile

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..errors import AAuthError

__all__ = ["AAUTH_11", "SIGNATURE_ERROR_CODES", "signature_error_code"]

#: Our error codes (docs/errors.md) → the ``Signature-Error`` code (SK-09 §5.4) a -11
#: verifier answers with, following the verification order of -11 §11.3.4 (reference §4.1):
#: missing or malformed signature headers, a stale ``created`` and a bad signature are
#: ``invalid_signature``; a ``created`` ahead of the clock is ``clock_skew``.  Codes not
#: listed are not signature failures (a missing requirement, a policy refusal, a server
#: fault) and never produce a ``Signature-Error``.
SIGNATURE_ERROR_CODES: Mapping[str, str] = MappingProxyType({
    # step 1, 3 and 7: the three headers, created/expires, the RFC 9421 signature
    **dict.fromkeys((
        "missing_signature", "invalid_signature_input", "invalid_signature_header", "invalid_signature_key",
        "invalid_header", "label_mismatch", "invalid_component", "unsupported_component", "missing_created",
        "signature_expired", "invalid_content_digest", "unsupported_digest_algorithm", "digest_mismatch",
        "invalid_signature", "replayed_request",
    ), "invalid_signature"),
    "signature_not_yet_valid": "clock_skew",
    # step 2: a required component not covered (with required_input)
    "missing_component": "invalid_input",
    # step 4 and 6: scheme and algorithm
    "unsupported_scheme": "unsupported_scheme",
    "unsupported_algorithm": "unsupported_algorithm",
    # step 5: the key, its discovery, the JWT that carries it
    "invalid_key": "invalid_key",
    "invalid_certificate": "invalid_key",
    "blocked_url": "invalid_key",
    "discovery_failed": "invalid_key",
    "document_too_large": "invalid_key",
    "invalid_metadata": "invalid_key",
    "invalid_jwks": "invalid_key",
    "unknown_key": "unknown_key",
    "issuer_missing": "issuer_missing",
    "metadata_mismatch": "issuer_mismatch",
    "token_expired": "expired_jwt",
    "revoked_jwt": "revoked_jwt",
    "token_not_yet_valid": "clock_skew",
    **dict.fromkeys((
        "malformed_token", "wrong_token_type", "unsupported_token", "disallowed_algorithm", "invalid_token_signature",
        "untrusted_issuer", "invalid_issuer", "invalid_audience", "missing_claim", "invalid_claim", "invalid_cnf",
        "invalid_act", "act_too_deep", "act_loop", "invalid_token", "invalid_jwt",  # claims_11 raises the SK code
    ), "invalid_jwt"),
})


def signature_error_code(code: str) -> str | None:
    """The ``Signature-Error`` code for one of our error codes, or ``None`` when the
    refusal is not a signature failure (so no ``Signature-*`` header goes with it)."""
    return SIGNATURE_ERROR_CODES.get(code)


def _error_body(error: AAuthError) -> Mapping[str, Any]:
    """-11 §11.9.2: ``application/problem+json`` with ``error`` and ``detail``; a signature
    failure adds SK-09 §5.2's ``type`` (clients read the ``Signature-Error`` header)."""
    sig_code = SIGNATURE_ERROR_CODES.get(error.code)
    if sig_code is not None:
        return {"type": f"urn:ietf:params:sig-error:{sig_code}", "error": sig_code, "detail": error.description}
    return {"error": error.code, "detail": error.description}


_AGENT, _PERSON = "aauth-agent.json", "aauth-person.json"
_ACCESS, _RESOURCE = "aauth-access.json", "aauth-resource.json"

AAUTH_11 = Profile(
    name="aauth-11",
    challenge_header=None,  # Agent-Auth is gone: AAuth-Requirement and Signature-Error
    signature_header="Signature",
    signature_input_header="Signature-Input",
    signature_key_header="Signature-Key",
    content_digest_header="Content-Digest",
    typ_agent="aa-agent+jwt",
    typ_resource="aa-resource+jwt",
    typ_auth="aa-auth+jwt",
    well_known_agent=_AGENT,
    well_known_resource=_RESOURCE,
    well_known_issuer=None,  # auth tokens come from the person server or an access server
    metadata_id_field=MappingProxyType(dict.fromkeys((_AGENT, _PERSON, _ACCESS, _RESOURCE), "issuer")),
    request_types=(),  # two JSON endpoints, no request_type (§7.1, §7.2)
    request_body_type="application/json",
    httpsig_alg_ed25519="Ed25519",  # JOSE names (RFC 9421 §3.3.7); the alg parameter is never sent
    httpsig_alg_p256="ES256",
    jwt_algs_ed25519_in=("Ed25519",),  # EdDSA is refused (§11.3.1)
    jwt_alg_ed25519_out="Ed25519",
    jwt_alg_p256="ES256",
    schemes=("jwt", "jwks_uri"),
    error_body=_error_body,
    requirement_header="AAuth-Requirement",
    signature_error_header="Signature-Error",
    accept_signature_scheme_header="Accept-Signature-Scheme",
    accept_signature_alg_header="Accept-Signature-Alg",
    access_header="AAuth-Access",
    capabilities_header="AAuth-Capabilities",
    typ_person="aa-person+jwt",
    well_known_person=_PERSON,
    well_known_access=_ACCESS,
    jwk_algs=("Ed25519", "ES256"),
    jwk_alg_required=True,  # SK-09 §3.3: every conveyed key names its algorithm
    agent_schemes=("jwt",),  # agent, person or auth token (§11.3.2)
    server_schemes=("jwks_uri",),  # dwk = the server's own metadata document
    signature_label="sig",
    signature_key_format="sk",
    signature_encoding="base64",  # an RFC 9651 Byte Sequence: standard alphabet, padded
    error_content_type="application/problem+json",
    signature_error_codes=SIGNATURE_ERROR_CODES,
)
