"""Moved to :mod:`aauth_core.wire` (one module per header: :mod:`~aauth_core.wire.signature_input`,
:mod:`~aauth_core.wire.signature`, :mod:`~aauth_core.wire.signature_key`,
:mod:`~aauth_core.wire.challenge`, :mod:`~aauth_core.wire.content_digest`); kept so earlier imports work."""

from .wire.challenge import AgentAuthChallenge, format_agent_auth, parse_agent_auth
from .wire.checks import MAX_HEADER_LENGTH
from .wire.content_digest import check_content_digest, format_content_digest, parse_content_digest
from .wire.signature import format_signature, parse_signature
from .wire.signature_input import SignatureParams, format_signature_input, parse_signature_input
from .wire.signature_key import Scheme, SignatureKey, format_signature_key, parse_signature_key

__all__ = [
    "MAX_HEADER_LENGTH",
    "AgentAuthChallenge",
    "Scheme",
    "SignatureKey",
    "SignatureParams",
    "check_content_digest",
    "format_agent_auth",
    "format_content_digest",
    "format_signature",
    "format_signature_input",
    "format_signature_key",
    "parse_agent_auth",
    "parse_content_digest",
    "parse_signature",
    "parse_signature_input",
    "parse_signature_key",
]
