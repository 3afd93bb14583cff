"""``fastmcp`` (4.x, on ``mcp`` 2.x): ``http_app(middleware=[Middleware(AAuthMiddleware, ...)])``,
called with fastmcp's own ``Client(url, auth=...)`` and with the ``mcp`` SDK's client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

pytest.importorskip("fastmcp", reason="fastmcp is not installed")

from fastmcp import Client as FastMCPClient
from fastmcp import Context, FastMCP
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.middleware import Middleware

from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import aauth_from_context, aauth_tool

from .stack import Stack, loopback_stack, settings_for

pytestmark = pytest.mark.e2e


def fastmcp_app(resource: str, issuer: str) -> Any:
    mcp = FastMCP("notes")

    @mcp.tool
    async def whoami(ctx: Context) -> dict[str, Any]:
        caller = aauth_from_context(ctx)
        assert caller is not None
        return {"agent": caller.agent, "scheme": caller.scheme}

    @mcp.tool
    @aauth_tool(scopes=["notes.write"])
    async def write_note(text: str, ctx: Context) -> str:
        return f"written: {text}"

    # Every route (the MCP endpoint included) needs an identified agent.
    return mcp.http_app(middleware=[Middleware(AAuthMiddleware, **settings_for(
        resource, issuer, protect_all=True, default_requirement="identity"))])


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with loopback_stack(fastmcp_app) as running:
        yield running


async def test_fastmcp_client_with_our_auth(stack: Stack) -> None:
    with anyio.fail_after(30):
        async with FastMCPClient(stack.url, auth=stack.auth()) as client:
            result = await client.call_tool("whoami", {})
            refused = await client.call_tool("write_note", {"text": "hi"}, raise_on_error=False)
    assert result.structured_content == {"agent": stack.agent.agent_id, "scheme": "jwks"}
    assert refused.is_error and "notes.write" in refused.content[0].text


async def test_the_mcp_sdk_client_against_fastmcp(stack: Stack) -> None:
    with anyio.fail_after(30):
        async with Client(streamable_http_client(stack.url, http_client=stack.auth().async_client())) as client:
            result = await client.call_tool("whoami", {})
    assert result.structured_content == {"agent": stack.agent.agent_id, "scheme": "jwks"}
