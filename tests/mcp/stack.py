"""Real parties on 127.0.0.1 for the MCP tests: an agent identity, the library's auth server,
and an MCP server (built by the test, behind ``AAuthMiddleware``), each under uvicorn.

The same helpers serve every SDK: the MCP app is whatever ``make_app(resource_url,
issuer)`` returns (``mcp`` 2.x ``MCPServer``, ``mcp`` 1.x ``FastMCP``, ``fastmcp``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig
from aauth_core.client import AgentServer, ClientOptions, agent_auth
from aauth_core.keys import SigningKey
from aauth_starlette.agent import build_agent_app
from aauth_starlette.authserver import build_auth_server_app

from ..servers import serve_asgi

__all__ = ["Stack", "loopback_stack", "settings_for"]


def _bound() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def settings_for(resource: str, issuer: str, **extra: Any) -> dict[str, Any]:
    """The middleware's keyword arguments for a loopback MCP server (settings and its key)."""
    return dict(resource_id=resource, auth_server=issuer, trusted_issuers=[issuer], allow_insecure_loopback=True,
                keys=[SigningKey.generate(kid="mcp-1")], **extra)


@dataclass
class Stack:
    agent: AgentServer
    issuer: str
    resource: str
    token_requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        return f"{self.resource}/mcp"

    def auth(self, library: str = "httpx2") -> Any:
        return agent_auth(self.agent.signer(), library=library,  # type: ignore[arg-type]
                          options=ClientOptions(allow_insecure_loopback=True))


def _counting(app: Any, seen: list[str]) -> Any:
    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/token"):
            seen.append(scope["path"])
        await app(scope, receive, send)

    return counted


@contextmanager
def loopback_stack(make_app: Callable[[str, str], Any]) -> Iterator[Stack]:
    """Agent, auth server and ``make_app(resource_url, issuer)``, served until the ``with`` ends."""
    agent_sock, agent_url = _bound()
    as_sock, issuer = _bound()
    res_sock, resource = _bound()
    agent = AgentServer(agent_url, [SigningKey.generate(kid="agent-1")], metadata_extra={"name": "MCP test agent"})
    server = AuthServer(AuthServerConfig(issuer=issuer, keys=[SigningKey.generate(kid="as-1")],
                                         allow_insecure_loopback=True), policy=AllowAll())
    stack = Stack(agent, issuer, resource)
    with ExitStack() as running:
        running.enter_context(serve_asgi(build_agent_app(agent), sock=agent_sock))
        running.enter_context(serve_asgi(_counting(build_auth_server_app(server), stack.token_requests),
                                         sock=as_sock))
        running.enter_context(serve_asgi(make_app(resource, issuer), sock=res_sock, lifespan="on"))
        yield stack
