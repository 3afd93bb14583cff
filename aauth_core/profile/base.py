"""What a wire profile decides (see :mod:`aauth_core.profile`).

A field a profile does not have is ``None`` (``aauth-2026-01`` has no ``AAuth-Requirement``
header, ``aauth-11`` no ``Agent-Auth``); an empty tuple where a list is empty (``aauth-11``
has no token-request types).  Every profile states every field: there are no defaults, so a new profile cannot inherit
January's values by omission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..errors import AAuthError

__all__ = ["Profile"]


@dataclass(frozen=True)
class Profile:
    """One dialect of AAuth on the wire.  Frozen: a profile is a constant."""

    name: str
    # header names
    #: The ``Agent-Auth`` challenge (January); ``None`` where challenges are ``AAuth-Requirement``s.
    challenge_header: str | None
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
    #: The document of the January auth server; ``None`` under -11 (person and access servers).
    well_known_issuer: str | None
    metadata_id_field: Mapping[str, str]
    # the token endpoint
    request_types: tuple[str, ...]
    #: How a token request's body is encoded (January: a form; -11: JSON).
    request_body_type: str
    # algorithm names (HTTP signatures and JWS) and Signature-Key schemes
    #: The names HTTP signatures give the two algorithms (Signature-Input ``alg``, ``algs=``,
    #: ``Accept-Signature-Alg``).  -11 uses the JOSE names and never sends ``alg``.
    httpsig_alg_ed25519: str
    httpsig_alg_p256: str
    jwt_algs_ed25519_in: tuple[str, ...]
    jwt_alg_ed25519_out: str
    jwt_alg_p256: str
    #: Every Signature-Key scheme this profile accepts, as written on the wire.
    schemes: tuple[str, ...]
    #: The JSON body of an error response.
    error_body: Callable[[AAuthError], Mapping[str, Any]]
    # ------------------------------------------------------------------ added for aauth-11
    #: ``AAuth-Requirement`` (401 and 202 requirements), ``Signature-Error`` and the two
    #: ``Accept-Signature-*`` response headers, ``AAuth-Access`` (session tokens) and
    #: ``AAuth-Capabilities`` (what the agent can do); ``None`` where the profile has none.
    requirement_header: str | None
    signature_error_header: str | None
    accept_signature_scheme_header: str | None
    accept_signature_alg_header: str | None
    access_header: str | None
    capabilities_header: str | None
    #: The person token (-11 only).
    typ_person: str | None
    #: The person server's and the access server's metadata documents (-11 only).
    well_known_person: str | None
    well_known_access: str | None
    #: JOSE ``alg`` values a conveyed JWK (an ``hwk`` key, ``cnf.jwk``) may carry, each checked
    #: against the key's ``kty``/``crv`` (SK-09 §3.3, decision P4), and whether it must carry one.
    jwk_algs: tuple[str, ...]
    jwk_alg_required: bool
    #: The schemes an agent may sign with, and those a server signs with as itself.
    agent_schemes: tuple[str, ...]
    server_schemes: tuple[str, ...]
    #: The label a signer uses, the Signature-Key syntax it writes
    #: (:func:`~aauth_core.wire.signature_key.format_signature_key`) and the ``Signature`` bytes' alphabet.
    signature_label: str
    signature_key_format: Literal["transcript", "sf", "sk"]
    signature_encoding: Literal["base64url", "base64"]
    #: The media type of :attr:`error_body`.
    error_content_type: str
    #: Our error codes → ``Signature-Error`` codes (SK-09 §5.4); ``None`` where the profile has none.
    signature_error_codes: Mapping[str, str] | None

    @property
    def form_content_type(self) -> str:
        """The earlier name of :attr:`request_body_type`."""
        return self.request_body_type

    @property
    def jwt_algs(self) -> tuple[str, ...]:
        """Every JWS ``alg`` a token may carry under this profile."""
        return (*self.jwt_algs_ed25519_in, self.jwt_alg_p256)

    @property
    def well_known_documents(self) -> tuple[str, ...]:
        """Every metadata document this profile publishes or fetches."""
        return tuple(self.metadata_id_field)
