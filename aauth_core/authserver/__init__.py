"""The AAuth auth server's logic, framework-free: token endpoint, consent state, trust, policy.

``aauth_starlette.authserver``, ``aauth_flask.authserver`` and ``aauth_django.authserver``
serve it over HTTP; everything protocol lives here, and so do the consent pages
(:mod:`.pages`, :mod:`.branding`), which those adapters only translate.
"""

from __future__ import annotations

from .branding import Branding
from .config import AuthServerConfig, Lifetimes
from .pages import ConsentPages, PageRequest, PageResponse
from .policy import (
    AllowAll,
    AllowExchangeWidening,
    Decision,
    DenyAll,
    Policy,
    PolicyRequest,
    RequireConsent,
    ScopeLimits,
)
from .server import AuthServer, ConsentError, ConsentRequest, TokenResponse
from .store import AuthServerStore, MemoryStore, store_from_url
from .users import MemoryUserStore, User, UserStore, hash_password, verify_password

__all__ = [
    "AllowAll",
    "AllowExchangeWidening",
    "AuthServer",
    "AuthServerConfig",
    "AuthServerStore",
    "Branding",
    "ConsentError",
    "ConsentPages",
    "ConsentRequest",
    "Decision",
    "DenyAll",
    "Lifetimes",
    "MemoryStore",
    "MemoryUserStore",
    "PageRequest",
    "PageResponse",
    "Policy",
    "PolicyRequest",
    "RequireConsent",
    "ScopeLimits",
    "TokenResponse",
    "User",
    "UserStore",
    "hash_password",
    "store_from_url",
    "verify_password",
]
