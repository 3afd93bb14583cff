"""Auth Server 1 and 2: the library's auth server with a sample user store."""

from __future__ import annotations

from starlette.applications import Starlette

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, MemoryUserStore, RequireConsent
from aauth_starlette.authserver import build_auth_server_app

from ..config import PartyConfig

__all__ = ["SAMPLE_USER", "authserver_app"]

#: The scripted user of the consent flow (a sample; real deployments bring a user store).
SAMPLE_USER = ("testuser", "testpass")


def authserver_app(config: PartyConfig) -> Starlette:
    server = AuthServer(
        AuthServerConfig(issuer=config.id, keys=[config.key], trusted_upstreams=config.trust,
                         allow_insecure_loopback=True),
        policy=RequireConsent() if config.policy == "consent" else AllowAll(),
        users=MemoryUserStore({SAMPLE_USER[0]: SAMPLE_USER[1]}, names={SAMPLE_USER[0]: "Test User"}),
    )
    return build_auth_server_app(server, debug=config.debug)
