"""The resource role: what a protected API runs (docs/architecture.md, "resource").

| module | concern |
|---|---|
| ``identity`` | who the resource is: metadata, JWKS, resource tokens, challenges |
| ``contract`` | the per-request decisions every adapter asks (exempt, preflight, body limit) |
| ``service`` | ``AAuthService``: everything an adapter calls, with no framework in it |
| ``verifier`` | the pipeline: ``RequestView`` → ``VerifiedRequest`` or ``AAuthError`` |
| ``explain`` | diagnosis after a refusal (debug mode, ``aauth verify --explain``) |
| ``observe`` | refusal logging and optional OpenTelemetry |

``aauth_core.resource`` was a module; its names (``ResourceIdentity``,
``RESOURCE_TOKEN_PATH``, ``challenge_header``) are still importable from here.
Names load on first use, so importing one module of the role does not import all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RESOURCE_TOKEN_PATH": "identity",
    "ResourceIdentity": "identity",
    "challenge_header": "identity",
    "AAuthService": "service",
    "Verifier": "verifier",
}

__all__ = ["AAuthService", "RESOURCE_TOKEN_PATH", "ResourceIdentity", "Verifier", "challenge_header"]

if TYPE_CHECKING:
    from .identity import RESOURCE_TOKEN_PATH, ResourceIdentity, challenge_header
    from .service import AAuthService
    from .verifier import Verifier


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aauth_core.resource' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
