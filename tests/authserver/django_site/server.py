"""The auth server the test project serves, with the agent's and the resource's documents in memory."""

from __future__ import annotations

from aauth_core.authserver import AuthServer, AuthServerConfig
from aauth_core.client import AgentServer
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.resource import ResourceIdentity

ISSUER = "https://as.example"
REDIRECT = "https://agent.example/callback"

agent = AgentServer("https://agent.example", [SigningKey.generate(kid="agent-1")],
                    metadata_extra={"name": "Trip Planner", "redirect_uris": [REDIRECT]})
resource = ResourceIdentity("https://api.example", [SigningKey.generate(kid="api-1")], auth_server=ISSUER,
                            scope_descriptions={"data.read": "Read your reports"}, name="Example Reports")
config = AuthServerConfig(issuer=ISSUER, keys=[SigningKey.generate(kid="as-1")])
documents = {
    "https://agent.example/.well-known/aauth-agent": agent.metadata(),
    "https://agent.example/jwks.json": agent.jwks(),
    "https://api.example/.well-known/aauth-resource": resource.metadata(),
    "https://api.example/jwks.json": resource.jwks(),
}
server = AuthServer(config, discovery=Discovery(config.verifier_settings(), documents=documents))
