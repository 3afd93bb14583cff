"""What AAuth adds to one MCP tool call: the mcp SDK's client calling an MCP server on loopback,
unprotected next to the same server behind ``AAuthMiddleware``.

    python -m benchmarks.mcp [--n 500] [--mode auto|legacy]

Servers (an agent identity, the library's auth server, three copies of one ``MCPServer``) run
under uvicorn on 127.0.0.1 in this process; the clients are the SDK's ``Client`` over
Streamable HTTP, one session per case, warmed up first (so the signed case holds its auth
token: every measured call is signed with it and verified in full, replay cache included).
Calls alternate between the cases in blocks; each case's figure is the median of ``n`` calls.
Bounded: ``n`` is capped at 5,000, every call has a 30 s timeout, and nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from typing import Any

import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig
from aauth_core.client import AgentServer, ClientOptions, agent_auth
from aauth_core.keys import SigningKey
from aauth_starlette import AAuthMiddleware
from aauth_starlette.agent import build_agent_app
from aauth_starlette.authserver import build_auth_server_app
from aauth_starlette.mcp import aauth_from_context

__all__ = ["run"]

MAX_N = 5000
CASES = ("unprotected", "AAuth identity (jwks)", "AAuth auth token (jwt)")


def _bound() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def _serve(app: Any, sock: socket.socket, lifespan: str = "off") -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _server() -> MCPServer:
    server = MCPServer("bench")

    @server.tool()
    async def echo(text: str, ctx: Context) -> str:
        caller = aauth_from_context(ctx)
        return f"{text} from {caller.agent if caller else 'anyone'}"

    return server


async def _measure(urls: dict[str, str], auths: dict[str, Any], n: int, mode: str) -> dict[str, float]:
    samples: dict[str, list[int]] = {name: [] for name in urls}
    async with AsyncExitStack() as stack:
        clients = {}
        for name, url in urls.items():
            auth = auths.get(name)
            http = auth.async_client(timeout=30.0, trust_env=False) if auth else httpx2.AsyncClient(timeout=30.0)
            client = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http), mode=mode))
            for _ in range(5):  # warm: the session, the token, discovery, every memo
                await client.call_tool("echo", {"text": "warm"})
            clients[name] = client
        block = 50
        for start in range(0, n, block):
            for name, client in clients.items():
                out = samples[name]
                for i in range(start, min(n, start + block)):
                    t0 = time.perf_counter_ns()
                    result = await asyncio.wait_for(client.call_tool("echo", {"text": str(i)}), 30)
                    out.append(time.perf_counter_ns() - t0)
                    if result.is_error:
                        raise RuntimeError(f"{name}: {result.content}")
    return {name: statistics.median(s) for name, s in samples.items()}


def run(n: int = 500, mode: str = "auto") -> dict[str, float]:
    """Median nanoseconds per tool call, by case."""
    n = max(1, min(n, MAX_N))
    agent_sock, agent_url = _bound()
    as_sock, issuer = _bound()
    agent = AgentServer(agent_url, [SigningKey.generate(kid="agent-1")])
    auth_server = AuthServer(AuthServerConfig(issuer=issuer, keys=[SigningKey.generate(kid="as-1")],
                                              allow_insecure_loopback=True), policy=AllowAll())
    rules = {"AAuth identity (jwks)": "identity", "AAuth auth token (jwt)": "authorization:bench.read"}
    with ExitStack() as running:
        running.enter_context(_serve(build_agent_app(agent), agent_sock))
        running.enter_context(_serve(build_auth_server_app(auth_server), as_sock))
        urls, auths = {}, {}
        for name in CASES:
            sock, url = _bound()
            app: Any = _server().streamable_http_app()
            if name in rules:
                app = AAuthMiddleware(app, resource_id=url, auth_server=issuer, trusted_issuers=[issuer],
                                      allow_insecure_loopback=True, keys=[SigningKey.generate(kid="r")],
                                      protected_paths={"/mcp": rules[name]})
                auths[name] = agent_auth(agent.signer(), library="httpx2",
                                         options=ClientOptions(allow_insecure_loopback=True))
            running.enter_context(_serve(app, sock, lifespan="on"))
            urls[name] = f"{url}/mcp"
        return asyncio.run(_measure(urls, auths, n, mode))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help=f"calls per case (at most {MAX_N})")
    parser.add_argument("--mode", choices=("auto", "legacy"), default="auto",
                        help="the client's protocol negotiation: auto (2026-07-28 where offered) or legacy")
    args = parser.parse_args()
    results = run(args.n, args.mode)
    base = results["unprotected"]
    print(f"MCP tool call, median of {min(args.n, MAX_N)} calls, mode={args.mode}, loopback")
    for name, ns in results.items():
        extra = "" if name == "unprotected" else f"  (+{(ns - base) / 1e3:.0f} µs)"
        print(f"{name:<24} {ns / 1e3:8.0f} µs{extra}")


if __name__ == "__main__":
    main()
