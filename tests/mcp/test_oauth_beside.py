"""An MCP server that accepts MCP's standard OAuth bearer tokens *and* AAuth (``mcp`` 2.x).

A bare request gets both challenges (``WWW-Authenticate: Bearer resource_metadata=...`` and
``Agent-Auth``); a bearer token goes to the app's OAuth verifier (the SDK's
``BearerAuthBackend``, passed as ``other_auth``); a signed request to AAuth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest

pytest.importorskip("mcp.server.mcpserver", reason="mcp 2.x is not installed (mcp 1.x: scripts/test-mcp1.sh)")

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.mcpserver import Context, MCPServer
from pydantic import AnyHttpUrl

from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import aauth_from_context, bearer_challenge, request_from_context

from .stack import Stack, loopback_stack, settings_for

pytestmark = pytest.mark.e2e
OAUTH_SERVER = "https://login.example"  # named in the metadata document only; never contacted


class Tokens:
    """The app's OAuth side (the SDK's ``TokenVerifier`` protocol): one valid token."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token != "good-token":
            return None
        return AccessToken(token=token, client_id="oauth-client", scopes=["notes.read"])


def both_app(resource: str, issuer: str) -> Any:
    server = MCPServer("notes")

    @server.tool()
    async def caller(ctx: Context) -> dict[str, Any]:
        verified = aauth_from_context(ctx)
        if verified is not None:
            return {"aauth": verified.agent}
        request = request_from_context(ctx)
        assert request is not None and request.user.is_authenticated  # the OAuth side's user
        return {"oauth": request.user.display_name, "scopes": list(request.auth.scopes)}

    app = server.streamable_http_app()
    # RFC 9728: the protected resource metadata OAuth clients look for (under /.well-known/, which
    # AAuth's default exempt_paths leave alone).
    app.router.routes.extend(create_protected_resource_routes(
        resource_url=AnyHttpUrl(f"{resource}/mcp"), authorization_servers=[AnyHttpUrl(OAUTH_SERVER)],
        scopes_supported=["notes.read"]))
    return AAuthMiddleware(
        app, **settings_for(resource, issuer, protected_paths={"/mcp": "identity"}),
        other_auth=BearerAuthBackend(Tokens()),  # an unsigned request with a valid bearer token: OAuth's
        error_handler=bearer_challenge(f"{resource}/.well-known/oauth-protected-resource/mcp"),
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with loopback_stack(both_app) as running:
        yield running


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
ACCEPT = {"Accept": "application/json, text/event-stream"}


async def test_a_bare_request_gets_both_challenges(stack: Stack) -> None:
    metadata = f"{stack.resource}/.well-known/oauth-protected-resource/mcp"
    async with httpx2.AsyncClient() as http:
        bare = await http.post(stack.url, json=INITIALIZE, headers=ACCEPT)
        wrong = await http.post(stack.url, json=INITIALIZE, headers={**ACCEPT, "Authorization": "Bearer bad"})
        document = await http.get(metadata)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata}"'
    assert bare.headers["Agent-Auth"] == "httpsig; identity=?1"
    assert wrong.status_code == 401 and wrong.headers["Agent-Auth"] == "httpsig; identity=?1"
    assert wrong.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", resource_metadata="{metadata}"'
    assert document.status_code == 200
    assert document.json()["resource"] == stack.url
    assert document.json()["authorization_servers"] == [f"{OAUTH_SERVER}/"]


async def test_a_bearer_token_goes_to_the_oauth_verifier(stack: Stack) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": "Bearer good-token"})
    with anyio.fail_after(30):
        async with Client(streamable_http_client(stack.url, http_client=http), mode="legacy") as client:
            result = await client.call_tool("caller", {})
    assert result.structured_content == {"oauth": "oauth-client", "scopes": ["notes.read"]}


async def test_a_signed_request_goes_to_aauth(stack: Stack) -> None:
    with anyio.fail_after(30):
        async with Client(streamable_http_client(stack.url, http_client=stack.auth().async_client())) as client:
            result = await client.call_tool("caller", {})
    assert result.structured_content == {"aauth": stack.agent.agent_id}
