"""Agent-server helpers: metadata documents and delegates signing with agent tokens."""

from __future__ import annotations

from aauth_core.client import AgentServer, RequestSigner, agent_metadata
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek

from ..conftest import AGENT, ISSUER
from .conftest import Net


def test_agent_metadata_document() -> None:
    assert agent_metadata("http://127.0.0.1:8001/") == {
        "agent": "http://127.0.0.1:8001", "jwks_uri": "http://127.0.0.1:8001/jwks.json"}
    doc = agent_metadata(AGENT, name="Agent 1", redirect_uris=[f"{AGENT}/callback"], logo_uri=None)
    assert doc["name"] == "Agent 1" and "logo_uri" not in doc


def test_agent_server_documents_and_token(net: Net) -> None:
    server = AgentServer(AGENT, [net.world.agent.key], clock=net.world.clock)
    assert server.metadata()["agent"] == AGENT and server.metadata_path == "/.well-known/aauth-agent"
    assert server.jwks() == {"keys": [net.world.agent.key.public_jwk()]}
    delegate = SigningKey.generate(kid="delegate-key-1")
    token = server.issue_agent_token("delegate-1", delegate.public_jwk())
    unverified = peek(token)
    assert unverified.typ == "agent+jwt" and unverified.claims["sub"] == "delegate-1"
    assert unverified.claims["iss"] == AGENT and unverified.claims["cnf"]["jwk"]["x"] == delegate.public_jwk()["x"]
    assert unverified.claims["exp"] == int(net.world.clock()) + 3600


def test_delegate_flow_end_to_end(net: Net, mode: str) -> None:
    """Flow 6 plus authorization: a delegate signs with its agent token, gets an auth token
    bound to its own key, and the resource sees agent + agent_delegate."""
    server = AgentServer(AGENT, [net.world.agent.key], clock=net.world.clock)
    delegate = SigningKey.generate(kid="delegate-key-1")
    signer = server.delegate_signer("delegate-1", delegate)
    identity = net.get(net.auth(signer), "/data-jwks", mode=mode)
    assert identity.status_code == 200
    assert identity.json()["agent"] == AGENT and identity.json()["agent_delegate"] == "delegate-1"
    response = net.get(net.auth(signer), mode=mode)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == AGENT and body["agent_delegate"] == "delegate-1"
    assert body["key_thumbprint"] == delegate.thumbprint
    assert body["claims"]["cnf"]["jwk"]["x"] == delegate.public_jwk()["x"]
    post = net.router.to(f"{ISSUER}/agent/token")[0]
    assert post.headers["signature-key"].startswith('sig1=(scheme=jwt jwt="')
    assert post.form["redirect_uri"] == f"{AGENT}/callback"


def test_jwt_signer_for_auth_token_has_no_agent_id(net: Net) -> None:
    assert RequestSigner.jwt(net.world.agent.key, net.world.auth_token()).agent_id is None
