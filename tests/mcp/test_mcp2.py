"""``mcp`` 2.x: an ``MCPServer`` behind ``AAuthMiddleware``, called with the SDK's own client
through ``agent_auth`` on real loopback servers.

Both protocol generations the 2.x client speaks run: ``mode="legacy"`` (the ``initialize``
handshake, a session, SSE responses) and ``mode="auto"`` (``server/discover``, 2026-07-28).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest

pytest.importorskip("mcp.server.mcpserver", reason="mcp 2.x is not installed (mcp 1.x: scripts/test-mcp1.sh)")

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ElicitResult
from pydantic import BaseModel

from aauth_core.client import RequestSigner, agent_auth
from aauth_core.keys import SigningKey
from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import AAuthToolError, aauth_from_context, aauth_tool, require_aauth

from .stack import Stack, loopback_stack, settings_for

pytestmark = pytest.mark.e2e


class Confirm(BaseModel):
    ok: bool


def build_server() -> MCPServer:
    server = MCPServer("notes")

    @server.tool()
    async def whoami(ctx: Context) -> dict[str, Any]:
        caller = aauth_from_context(ctx)
        assert caller is not None
        return {"agent": caller.agent, "scheme": caller.scheme, "scope": sorted(caller.scope)}

    @server.tool()
    @aauth_tool(scopes=["notes.write"])
    async def write_note(text: str, ctx: Context) -> str:
        return f"written: {text}"

    @server.tool()
    def read_note(ctx: Context) -> str:  # a sync tool, demanding inline
        caller = require_aauth(ctx, "authorization", scopes=["notes.read"])
        return f"note for {caller.agent}"

    @server.tool()
    async def confirm(ctx: Context) -> str:
        """Asks the client mid-call: the answer travels while the SSE response is still open."""
        await ctx.report_progress(1, 2, "asking")
        answer = await ctx.elicit("Go ahead?", Confirm)
        return f"{answer.action}:{answer.data.ok if answer.data else None}"

    return server


def protected_app(resource: str, issuer: str) -> Any:
    """The recipe: the SDK's Starlette app behind the middleware, the endpoint protected."""
    app = build_server().streamable_http_app()
    return AAuthMiddleware(app, **settings_for(resource, issuer, protected_paths={"/mcp": "authorization:notes.read"}))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with loopback_stack(protected_app) as running:
        yield running


async def _session(stack: Stack, mode: str, auth: Any, **kwargs: Any) -> Any:
    return Client(streamable_http_client(stack.url, http_client=auth.async_client()), mode=mode, **kwargs)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_agent_calls_a_tool_through_the_sdk(stack: Stack, mode: str) -> None:
    """initialize (or discover) is challenged, the token obtained, the request retried, all inside
    the SDK's transport; later calls reuse the token."""
    before = len(stack.token_requests)
    with anyio.fail_after(30):
        async with await _session(stack, mode, stack.auth()) as client:
            result = await client.call_tool("whoami", {})
            again = await client.call_tool("read_note", {})
    assert not result.is_error, result
    assert result.structured_content == {"agent": stack.agent.agent_id, "scheme": "jwt", "scope": ["notes.read"]}
    assert again.content[0].text == f"note for {stack.agent.agent_id}"
    assert len(stack.token_requests) - before == 1  # one challenge answered for the whole session


async def test_a_tool_that_needs_more_refuses_with_a_tool_error(stack: Stack) -> None:
    with anyio.fail_after(30):
        async with await _session(stack, "legacy", stack.auth()) as client:
            refused = await client.call_tool("write_note", {"text": "hi"})
            still_fine = await client.call_tool("whoami", {})
    assert refused.is_error
    text = refused.content[0].text
    assert "insufficient_scope" in text and "notes.write" in text, text
    assert not still_fine.is_error  # the session goes on


async def test_sse_responses_stream_while_the_tool_runs(stack: Stack) -> None:
    """A tool that asks the client something mid-call (elicitation) needs the SSE response read
    as it arrives: an auth that read whole bodies would wait for an end that never comes."""
    progress: list[float] = []

    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"ok": True})

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    with anyio.fail_after(20):
        async with await _session(stack, "legacy", stack.auth(), elicitation_callback=on_elicit) as client:
            result = await client.call_tool("confirm", {}, progress_callback=on_progress)
    assert result.content[0].text == "accept:True"
    assert progress == [1]


async def test_an_unsigned_client_gets_the_challenge_not_a_hang(stack: Stack) -> None:
    async with httpx2.AsyncClient() as http:
        raw = await http.post(stack.url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                              headers={"Accept": "application/json, text/event-stream"})
    assert raw.status_code == 401
    assert raw.headers["Agent-Auth"] == "httpsig; identity=?1"
    assert raw.json()["error"] == "identity_required"
    with anyio.fail_after(15), pytest.raises(BaseException) as info:
        async with Client(streamable_http_client(stack.url, http_client=httpx2.AsyncClient()), mode="legacy"):
            pass
    assert "error response" in repr(info.value)  # MCPError: "Server returned an error response"


def test_the_sdk_takes_our_auth_but_not_a_plain_httpx_auth() -> None:
    """The 2.x client speaks httpx2: a plain ``httpx.Auth`` is a TypeError there; ours is both."""
    class PlainAuth(httpx.Auth):
        pass

    with pytest.raises(TypeError):
        httpx2.AsyncClient(auth=PlainAuth())
    auth = agent_auth(RequestSigner.hwk(SigningKey.generate()))
    assert isinstance(auth, httpx.Auth) and isinstance(auth, httpx2.Auth)


def test_a_tool_error_is_the_sdks_tool_error() -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from aauth_core.context import Requirement
    from aauth_core.errors import AAuthError
    from aauth_starlette.mcp import _refusal

    refusal = _refusal(AAuthError("no", code="insufficient_scope", status_code=403), Requirement.of("authorization",
                                                                                                    "notes.write"))
    assert isinstance(refusal, ToolError) and isinstance(refusal, AAuthToolError)
    assert str(refusal) == "insufficient_scope: no; this tool needs an auth token with scope notes.write"
