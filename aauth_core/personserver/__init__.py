"""The aauth-11 person server, framework-free: metadata, person and auth tokens, deferred
answers with a consent page, missions, revocation (docs/person-server.md).

``aauth_starlette.personserver`` serves it over HTTP.  It reuses the January auth server's
policy hooks (:mod:`aauth_core.authserver.policy`), stores and consent-page machinery, and the
resource's request verifier for the agents' signed requests.
"""

from __future__ import annotations

from ..authserver.policy import AllowAll, Decision, DenyAll, Policy, PolicyRequest, RequireConsent, ScopeLimits
from .chaining import ChainScopes, no_widening
from .config import PersonLifetimes, PersonServerConfig
from .federation import ClaimsRelease
from .interaction import INTERACTION_PATH, InteractionPages
from .issuing import mission_s256
from .people import directed_sub
from .server import PENDING_PATH, PersonServer
from .wire import PersonServerError, Reply

__all__ = [
    "INTERACTION_PATH",
    "PENDING_PATH",
    "AllowAll",
    "ChainScopes",
    "ClaimsRelease",
    "Decision",
    "DenyAll",
    "InteractionPages",
    "PersonLifetimes",
    "PersonServer",
    "PersonServerConfig",
    "PersonServerError",
    "Policy",
    "PolicyRequest",
    "Reply",
    "RequireConsent",
    "ScopeLimits",
    "directed_sub",
    "mission_s256",
    "no_widening",
]
