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
    form_content_type="application/x-www-form-urlencoded",
    httpsig_alg_ed25519="ed25519",
    httpsig_alg_p256="ecdsa-p256-sha256",
    jwt_algs_ed25519_in=("EdDSA", "Ed25519"),  # A6: EdDSA on output, both on input
    jwt_alg_ed25519_out="EdDSA",
    jwt_alg_p256="ES256",
    schemes=("hwk", "jwks", "jwt", "x509"),
    error_body=_error_body,
)
