"""A sample MCP server (the ``mcp`` SDK's ``MCPServer``) protected by AAuth, served by uvicorn.

The SDK serves Streamable HTTP as a Starlette app; ``AAuthMiddleware`` in front of it protects
the endpoint (``/mcp`` needs an auth token granting ``notes.read``), and the tools read the
verified caller from their context.  ``write_note`` needs ``notes.write`` on top, and refuses
with a tool error naming it.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer  # the `mcp` extra; at module level, where the SDK

#                                                      resolves the tools' annotations
from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import aauth_from_context, aauth_tool

from ..config import PartyConfig
from .common import resource_settings

__all__ = ["mcp_resource"]

SCOPES = ("notes.read", "notes.write")


def mcp_resource(config: PartyConfig) -> Any:
    server = MCPServer("aauth-sample-notes")

    @server.tool()
    async def whoami(ctx: Context) -> dict[str, Any]:
        """Who is calling: the agent AAuth verified, how it signed, and what it may do."""
        caller = aauth_from_context(ctx)
        assert caller is not None  # the endpoint's path rule let only authorised agents in
        return {"agent": caller.agent, "scheme": caller.scheme, "scope": sorted(caller.scope)}

    @server.tool()
    @aauth_tool(scopes=["notes.write"])
    async def write_note(text: str, ctx: Context) -> str:
        """Store a note (needs notes.write)."""
        return f"stored: {text}"

    settings = resource_settings(config).replace(resource_scopes=SCOPES,
                                                 protected_paths={"/mcp": "authorization:notes.read"})
    return AAuthMiddleware(server.streamable_http_app(), settings=settings, keys=[config.key])
