"""``aauth-2026-01``: AAuth as the January 2026 reference demo puts it on the wire.

Protocol A1/A10: header names, token ``typ`` values, metadata paths and the
token-request vocabulary changed several times after January 2026; these are the
January values (docs/protocol reference, Part A).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .base import Profile

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..errors import AAuthError

__all__ = ["AAUTH_2026_01"]


def _error_body(error: AAuthError) -> Mapping[str, Any]:
    """Protocol A9: ``{"error", "error_description"}``."""
    return error.to_dict()


AAUTH_2026_01 = Profile(
    name="aauth-2026-01",
    challenge_header="Agent-Auth",
    signature_header="Signature",
    signature_input_header="Signature-Input",
    signature_key_header="Signature-Key",
    content_digest_header="Content-Digest",
    typ_agent="agent+jwt",
    typ_resource="resource+jwt",
    typ_auth="auth+jwt",
    well_known_agent="aauth-agent",
    well_known_resource="aauth-resource",
    well_known_issuer="aauth-issuer",
    metadata_id_field=MappingProxyType({"aauth-agent": "agent", "aauth-resource": "resource",
                                        "aauth-issuer": "issuer"}),
    request_types=("auth", "code", "exchange", "refresh"),
    request_body_type="application/x-www-form-urlencoded",
    httpsig_alg_ed25519="ed25519",
    httpsig_alg_p256="ecdsa-p256-sha256",
    jwt_algs_ed25519_in=("EdDSA", "Ed25519"),  # A6: EdDSA on output, both on input
    jwt_alg_ed25519_out="EdDSA",
    jwt_alg_p256="ES256",
    schemes=("hwk", "jwks", "jwt", "x509"),
    error_body=_error_body,
    # headers, types and documents January does not have
    requirement_header=None,
    signature_error_header=None,
    accept_signature_scheme_header=None,
    accept_signature_alg_header=None,
    access_header=None,
    capabilities_header=None,
    typ_person=None,
    well_known_person=None,
    well_known_access=None,
    jwk_algs=("EdDSA", "Ed25519", "ES256"),  # P4: an hwk key may name its alg if the name fits the key
    jwk_alg_required=False,
    agent_schemes=("hwk", "jwks", "jwt", "x509"),
    server_schemes=("jwks",),  # a resource or auth server as itself: jwks + well-known
    signature_label="sig1",
    signature_key_format="transcript",  # A4
    signature_encoding="base64url",  # A3: unpadded on output, both alphabets on input
    error_content_type="application/json",
    signature_error_codes=None,  # refusals carry Agent-Auth and the JSON body (A9)
)
