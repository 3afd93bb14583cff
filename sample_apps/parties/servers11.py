"""The aauth-11 servers of the demos: an agent provider, our person server, our access server.

Each is the library's own server, configured for loopback (``http://127.0.0.1:PORT``
identifiers, the development switch of each config) and served by uvicorn like the
January auth servers.  The sample user is the January one (``SAMPLE_USER``).
"""

from __future__ import annotations

import secrets
from typing import Any

from aauth_core.accessserver import AccessServer, AccessServerConfig
from aauth_core.authserver import MemoryUserStore
from aauth_core.client import AgentProvider
from aauth_core.personserver import AllowAll, PersonServer, PersonServerConfig, RequireConsent
from aauth_starlette.accessserver import build_access_server_app
from aauth_starlette.personserver import build_person_server_app

from ..config import PartyConfig
from ..resources.common import SCOPE_DESCRIPTIONS, SCOPES
from .authserver import SAMPLE_USER

__all__ = ["access_server_app", "agent_provider_app", "person_server_app"]


def agent_provider_app(config: PartyConfig) -> Any:
    """The agent provider's two documents (``aauth-agent.json``, its JWKS); the agent tokens
    themselves are issued by the demo's agent with the same key (it is the provider's agent)."""
    return AgentProvider(config.id, [config.key], allow_loopback=True).asgi_app()


def person_server_app(config: PartyConfig) -> Any:
    """Our person server.  ``--policy allow`` is the explicit autonomous grant (``AllowAll``);
    ``--register AGENT=USER`` names the user each demo agent acts for."""
    server = PersonServer(
        PersonServerConfig(issuer=config.id, keys=[config.key],
                           subject_secret=secrets.token_bytes(32),  # one worker, one run: a fresh secret
                           agents=dict(config.agents), scopes_supported=SCOPES,
                           scope_descriptions=SCOPE_DESCRIPTIONS, allow_insecure_loopback=True),
        policy=AllowAll() if config.policy == "allow" else RequireConsent(),
        users=MemoryUserStore({SAMPLE_USER[0]: SAMPLE_USER[1]}, names={SAMPLE_USER[0]: "Test User"}),
    )
    return build_person_server_app(server, debug=config.debug)


def access_server_app(config: PartyConfig) -> Any:
    """Our access server, deciding for the resources it ``--governs`` (every sample scope)."""
    server = AccessServer(AccessServerConfig(
        issuer=config.id, keys=(config.key,), resources={r: SCOPES for r in config.governs},
        person_servers=(config.person_server,) if config.person_server else (), allow_loopback_http=True,
    ))
    return build_access_server_app(server, debug=config.debug)
