"""What a wire profile decides (see :mod:`aauth_core.profile`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import AAuthError

__all__ = ["Profile"]


@dataclass(frozen=True)
class Profile:
    """One dialect of AAuth on the wire.  Frozen: a profile is a constant."""

    name: str
    # header names
    challenge_header: str
    signature_header: str
    signature_input_header: str
    signature_key_header: str
    content_digest_header: str
    # JWT ``typ`` values
    typ_agent: str
    typ_resource: str
    typ_auth: str
    # well-known metadata documents, and the member of each that names its party
    well_known_agent: str
    well_known_resource: str
    well_known_issuer: str
    metadata_id_field: Mapping[str, str]
    # the token endpoint
    request_types: tuple[str, ...]
    form_content_type: str
    # algorithm names (HTTP signatures and JWS) and Signature-Key schemes
    httpsig_alg_ed25519: str
    httpsig_alg_p256: str
    jwt_algs_ed25519_in: tuple[str, ...]
    jwt_alg_ed25519_out: str
    jwt_alg_p256: str
    schemes: tuple[str, ...]
    #: The JSON body of an error response.
    error_body: Callable[[AAuthError], Mapping[str, Any]]
