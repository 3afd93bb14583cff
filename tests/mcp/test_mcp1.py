"""``mcp`` 1.x: a ``FastMCP`` server behind ``AAuthMiddleware``, called with the 1.x client
through ``agent_auth`` (an ``httpx.Auth`` here) on real loopback servers.

``mcp`` 1.x and 2.x cannot share an environment: these tests run in ``.venv-mcp1``
(``bash scripts/test-mcp1.sh``, which ``scripts/test.sh`` runs); the main suite does not
collect this file at all (tests/mcp/conftest.py), so nothing is skipped there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client, streamablehttp_client
from mcp.server.fastmcp import Context, FastMCP

from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import aauth_from_context, aauth_tool

from .stack import Stack, loopback_stack, settings_for

pytestmark = pytest.mark.e2e


def fastmcp1_app(resource: str, issuer: str) -> Any:
    mcp = FastMCP("notes")

    @mcp.tool()
    async def whoami(ctx: Context) -> dict[str, Any]:
        caller = aauth_from_context(ctx)
        assert caller is not None
        return {"agent": caller.agent, "scheme": caller.scheme, "scope": sorted(caller.scope)}

    @mcp.tool()
    @aauth_tool(scopes=["notes.write"])
    async def write_note(text: str, ctx: Context) -> str:
        return f"written: {text}"

    app = mcp.streamable_http_app()
    app.add_middleware(AAuthMiddleware, **settings_for(resource, issuer,
                                                       protected_paths={"/mcp": "authorization:notes.read"}))
    return app


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with loopback_stack(fastmcp1_app) as running:
        yield running


async def _call(streams: Any) -> tuple[Any, Any]:
    read, write, _ = streams
    async with ClientSession(read, write) as session:
        await session.initialize()
        return await session.call_tool("whoami", {}), await session.call_tool("write_note", {"text": "hi"})


@pytest.mark.filterwarnings("ignore:Use `streamable_http_client` instead:DeprecationWarning")
async def test_auth_argument_of_streamablehttp_client(stack: Stack) -> None:
    """The 1.x way: ``streamablehttp_client(url, auth=...)`` takes an ``httpx.Auth``."""
    auth = stack.auth(library="httpx")
    assert isinstance(auth, httpx.Auth)
    with anyio.fail_after(30):
        async with streamablehttp_client(stack.url, auth=auth) as streams:
            result, refused = await _call(streams)
    assert result.structuredContent == {"agent": stack.agent.agent_id, "scheme": "jwt", "scope": ["notes.read"]}
    assert refused.isError and "insufficient_scope" in refused.content[0].text
    assert "notes.write" in refused.content[0].text


async def test_http_client_argument_of_streamable_http_client(stack: Stack) -> None:
    """The later 1.x spelling: ``streamable_http_client(url, http_client=httpx.AsyncClient(auth=...))``."""
    with anyio.fail_after(30):
        async with streamable_http_client(stack.url, http_client=stack.auth(library="httpx").async_client()) as streams:
            result, _ = await _call(streams)
    assert result.structuredContent["agent"] == stack.agent.agent_id


async def test_an_unsigned_client_gets_the_challenge(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        raw = await http.post(stack.url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                              headers={"Accept": "application/json, text/event-stream"})
    assert raw.status_code == 401 and raw.headers["Agent-Auth"] == "httpsig; identity=?1"
