"""Moved to :mod:`aauth_core.wire.httpsig` and :mod:`aauth_core.wire.coverage`; kept so earlier imports work."""

from .wire.coverage import check_components, check_created, required_components
from .wire.httpsig import Base, SignedHeaders, component_value, sign_request, signature_base, verify_signature

__all__ = [
    "Base",
    "SignedHeaders",
    "check_components",
    "check_created",
    "component_value",
    "required_components",
    "sign_request",
    "signature_base",
    "verify_signature",
]
