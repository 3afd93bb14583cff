"""Moved to :mod:`aauth_core.resource.service`; this module keeps the earlier import path working."""

from .resource.service import (
    DOCUMENT_CACHE_CONTROL,
    DOCUMENT_PATHS,
    JWKS_PATH,
    METADATA_PATH,
    METADATA_PATH_11,
    PREFLIGHT_REPLY,
    RESOURCE_TOKEN_PATH,
    REVOCATION_PATH_11,
    AAuthService,
    ErrorResponse,
    Gate,
    Reply,
    Step,
)

__all__ = [
    "AAuthService",
    "DOCUMENT_CACHE_CONTROL",
    "DOCUMENT_PATHS",
    "ErrorResponse",
    "Gate",
    "JWKS_PATH",
    "METADATA_PATH",
    "METADATA_PATH_11",
    "REVOCATION_PATH_11",
    "PREFLIGHT_REPLY",
    "RESOURCE_TOKEN_PATH",
    "Reply",
    "Step",
]
