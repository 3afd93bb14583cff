"""An MCP server protected by AAuth, called with the real ``mcp`` client through ``agent_auth``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from aauth_core.client import ClientOptions, RequestSigner, agent_auth

from ..printer import Printer
from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile

TITLE = "MCP Server Demo (AAuth-protected tools, the mcp SDK's client)"
BANNER = ("An MCP server (the mcp SDK's MCPServer) sits behind AAuthMiddleware. The agent's MCP client is the\n"
          "SDK's own, with agent_auth as its HTTP auth: initialize is challenged, the agent trades the resource\n"
          "token for an auth token and retries, and the tools see the verified agent.")

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "unsigned-client", "version": "0"}}}


def _hooks(printer: Printer, who: str, token_requests: list[str]) -> dict[str, list[Any]]:
    """Print every exchange of the agent's httpx2 client; a streamed (SSE) answer is shown by its
    headers only, so printing never waits for a stream to end."""
    async def on_request(request: Any) -> None:
        if request.url.path.endswith("/agent/token"):
            token_requests.append(str(request.url))
        printer.request(who, request)

    async def on_response(response: Any) -> None:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            printer.section(f"<<< {who} RESPONSE from {response.request.url}",
                            [f"HTTP/1.1 {response.status_code}", "[a text/event-stream, read by the MCP client]"])
            return
        await response.aread()
        printer.response(who, response)

    return {"request": [on_request], "response": [on_response]}


async def _agent_session(url: str, auth: Any, hooks: dict[str, list[Any]]) -> dict[str, Any]:
    from mcp import Client  # the `mcp` extra
    from mcp.client.streamable_http import streamable_http_client

    http = auth.async_client(event_hooks=hooks, timeout=30.0, trust_env=False)
    async with Client(streamable_http_client(url, http_client=http)) as client:
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        whoami = await client.call_tool("whoami", {})
        refused = await client.call_tool("write_note", {"text": "hello"})
        again = await client.call_tool("whoami", {})
    return {"tools": tools, "whoami": whoami.structured_content, "refused": refused, "again": again}


def run(ctx: FlowContext, workdir: Path) -> None:
    agent_port, mcp_port, as_port = pick_ports([8001, 8002, 8003])
    key_file, key = keyfile(workdir, "agent1", "key-1")
    agent, issuer = f"http://127.0.0.1:{agent_port}", f"http://127.0.0.1:{as_port}"
    server = f"http://127.0.0.1:{mcp_port}"
    specs = [
        PartySpec("Agent 1", "agent", agent_port, ("--key", str(key_file))),
        PartySpec("MCP Server", "mcp", mcp_port, ("--auth-server", issuer)),
        PartySpec("Auth Server 1", "authserver", as_port),
    ]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: An MCP Client Without AAuth Gets the 401 Challenge")
        with httpx.Client(timeout=30.0, trust_env=False) as plain:
            refused = plain.post(f"{server}/mcp", json=INITIALIZE,
                                 headers={"Accept": "application/json, text/event-stream"})
        ctx.relay()
        ctx.printer.response("UNSIGNED CLIENT", refused)
        challenge = refused.headers.get("agent-auth", "")
        ctx.check("TEST 1", refused.status_code == 401 and challenge.startswith("httpsig"),
                  f"HTTP {refused.status_code}, Agent-Auth: {challenge}")

        ctx.printer.banner("TEST 2: The mcp SDK's Client, With agent_auth, Calls whoami")
        token_requests: list[str] = []
        auth = agent_auth(RequestSigner.jwks(key, agent), library="httpx2",
                          options=ClientOptions(allow_insecure_loopback=True))
        result = asyncio.run(_agent_session(f"{server}/mcp", auth, _hooks(ctx.printer, "AGENT", token_requests)))
        ctx.relay()
        whoami = result["whoami"] or {}
        ctx.check("TEST 2", whoami.get("agent") == agent and whoami.get("scope") == ["notes.read"],
                  f"tools {result['tools']}, whoami agent={whoami.get('agent')} scheme={whoami.get('scheme')} "
                  f"scope={whoami.get('scope')}")

        ctx.printer.banner("TEST 3: A Tool Needing notes.write Refuses With a Tool Error Naming the Scope")
        text = result["refused"].content[0].text if result["refused"].content else ""
        ctx.check("TEST 3", result["refused"].is_error and "notes.write" in text, text)

        ctx.printer.banner("TEST 4: One Auth Token Served the Whole Session")
        ctx.check("TEST 4", not result["again"].is_error and len(token_requests) == 1,
                  f"token requests: {len(token_requests)}")
