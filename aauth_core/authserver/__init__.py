"""The AAuth auth server's logic, framework-free: token endpoint, consent state, trust, policy.

``aauth_starlette.authserver`` serves it over HTTP; everything protocol lives here.
"""

from __future__ import annotations

from .config import AuthServerConfig, Lifetimes
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
    "ConsentError",
    "ConsentRequest",
    "Decision",
    "DenyAll",
    "Lifetimes",
    "MemoryStore",
    "MemoryUserStore",
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
