"""An aauth-11 access server (draft -11 §2.4): the four-party authorization decision for the
resources that name it as their ``access_server``.

A person server federates to it (``POST /token``, signed as itself) with the resource token,
the agent token and the person token it presented; the access server verifies all three,
asks its :class:`AccessPolicy`, and answers with an ``aa-auth+jwt`` for the resource, a 202
(claims or approval) or 403 ``denied``.  ``aauth_starlette.accessserver`` serves it over HTTP.
See docs/access-server.md.
"""

from .config import AccessServerConfig
from .policy import AccessDecision, AccessPolicy, AccessRequest, AllowListedScopes
from .revocation import RevocationResult
from .server import JWKS_PATH, METADATA_PATH, AccessServer
from .store import AccessStore, access_store_from_url
from .token_endpoint import PENDING_PREFIX, TOKEN_PATH, AccessReply

__all__ = [
    "JWKS_PATH",
    "METADATA_PATH",
    "PENDING_PREFIX",
    "TOKEN_PATH",
    "AccessDecision",
    "AccessPolicy",
    "AccessReply",
    "AccessRequest",
    "AccessServer",
    "AccessServerConfig",
    "AccessStore",
    "AllowListedScopes",
    "RevocationResult",
    "access_store_from_url",
]
