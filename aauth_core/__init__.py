"""aauth_core: the framework-free AAuth engine (profile ``aauth-2026-01``).

Start from :class:`AAuthService` (a resource), the framework adapters
(``aauth_starlette``, ``aauth_flask``, ``aauth_django``),
:func:`aauth_core.client.agent_auth` (an agent) or
:class:`aauth_core.authserver.AuthServer` (an auth server).

The resource side's public names are importable from here
(``from aauth_core import AAuthSettings, VerifiedRequest, Requirement, AAuthError``);
they load on first use, so ``import aauth_core`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "AAuthError": "errors",
    "AuthorizationRequired": "errors",
    "CacheUnavailable": "errors",
    "DiscoveryError": "errors",
    "InsufficientScope": "errors",
    "SignatureError": "errors",
    "TokenError": "errors",
    "AAuthSettings": "settings",
    "SettingsError": "errors",
    "Requirement": "context",
    "VerifiedRequest": "context",
    "Actor": "context",
    "SigningKey": "keys",
    "PublicKey": "keys",
    "load_signing_key": "keys",
    "AAuthService": "service",
    "RequestView": "request",
    "Headers": "request",
}

__all__ = [
    "AAuthError",
    "AAuthService",
    "AAuthSettings",
    "Actor",
    "AuthorizationRequired",
    "CacheUnavailable",
    "DiscoveryError",
    "Headers",
    "InsufficientScope",
    "PublicKey",
    "RequestView",
    "Requirement",
    "SettingsError",
    "SignatureError",
    "SigningKey",
    "TokenError",
    "VerifiedRequest",
    "__version__",
    "load_signing_key",
]

if TYPE_CHECKING:
    from .context import Actor, Requirement, VerifiedRequest
    from .errors import (
        AAuthError,
        AuthorizationRequired,
        CacheUnavailable,
        DiscoveryError,
        InsufficientScope,
        SettingsError,
        SignatureError,
        TokenError,
    )
    from .keys import PublicKey, SigningKey, load_signing_key
    from .request import Headers, RequestView
    from .service import AAuthService
    from .settings import AAuthSettings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aauth_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
