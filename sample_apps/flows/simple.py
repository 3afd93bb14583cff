"""Flows 1-3 of the demo: pseudonymous (hwk), identified (jwks), autonomous authorization."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from aauth_core.client import RequestSigner

from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile


def _single_resource(ctx: FlowContext, workdir: Path, framework: str) -> tuple[list[PartySpec], SimpleNamespace]:
    agent_port, res_port, as_port = pick_ports([8001, 8002, 8003])
    key_file, key = keyfile(workdir, "agent1", "key-1")
    urls = SimpleNamespace(agent=f"http://127.0.0.1:{agent_port}", resource=f"http://127.0.0.1:{res_port}",
                           issuer=f"http://127.0.0.1:{as_port}", key=key)
    specs = [
        PartySpec("Agent 1", "agent", agent_port, ("--key", str(key_file))),
        PartySpec("Resource 1", "resource", res_port, ("--framework", framework, "--auth-server", urls.issuer)),
        PartySpec("Auth Server 1", "authserver", as_port),
    ]
    return specs, urls


class Hwk:
    """Flow 1 — pseudonymous: the key travels inline (scheme=hwk); no discovery at all."""

    TITLE = "Pseudonymous Access Demo (scheme=hwk)"
    BANNER = "An agent signs with a bare key; the resource verifies the signature and learns no identity."

    @staticmethod
    def run(ctx: FlowContext, workdir: Path, *, resource: str = "starlette") -> None:
        specs, urls = _single_resource(ctx, workdir, resource)
        with ctx.parties(specs[1:2]):
            ctx.printer.banner("TEST 1: Agent Calls /data with scheme=hwk")
            with ctx.agent_client(urls.key, urls.agent, signer=RequestSigner.hwk(urls.key)) as client:
                response = client.get(f"{urls.resource}/data")
            body = response.json() if response.status_code == 200 else {}
            ctx.check("TEST 1", response.status_code == 200 and body.get("scheme") == "hwk" and "agent" not in body,
                      f"HTTP {response.status_code}, scheme={body.get('scheme')}")


class Jwks:
    """Flow 2 — identified: the resource fetches the agent's metadata and JWKS (scheme=jwks)."""

    TITLE = "Identified Agent Demo (scheme=jwks)"
    BANNER = "An agent signs with its published key; the resource discovers it and learns the agent's identity."

    @staticmethod
    def run(ctx: FlowContext, workdir: Path, *, resource: str = "flask") -> None:
        specs, urls = _single_resource(ctx, workdir, resource)
        with ctx.parties(specs):
            ctx.printer.banner("TEST 1: Agent Calls /data-jwks with scheme=jwks")
            with ctx.agent_client(urls.key, urls.agent) as client:
                response = client.get(f"{urls.resource}/data-jwks")
            body = response.json() if response.status_code == 200 else {}
            ctx.check("TEST 1", response.status_code == 200 and body.get("agent_id") == urls.agent,
                      f"HTTP {response.status_code}, agent_id={body.get('agent_id')}")


class Authorization:
    """Flow 3 — autonomous authorization: challenge, auth token, retry."""

    TITLE = "Autonomous Authorization Demo"
    BANNER = ("The resource answers 401 with a resource token; the agent trades it at the auth server for an\n"
              "auth token and retries with scheme=jwt. A second call reuses the cached token.")

    @staticmethod
    def run(ctx: FlowContext, workdir: Path, *, resource: str = "django") -> None:
        specs, urls = _single_resource(ctx, workdir, resource)
        with ctx.parties(specs):
            token_calls = []
            with ctx.agent_client(urls.key, urls.agent) as client:
                client.event_hooks["request"].append(
                    lambda r: token_calls.append(r) if r.url.path == "/agent/token" else None)
                ctx.printer.banner("TEST 1: Agent Obtains an Auth Token and Calls /data-auth")
                first = client.get(f"{urls.resource}/data-auth")
                body = first.json() if first.status_code == 200 else {}
                ctx.check("TEST 1", first.status_code == 200 and body.get("scheme") == "jwt"
                          and body.get("agent") == urls.agent, f"HTTP {first.status_code}")
                ctx.printer.banner("TEST 2: The Cached Auth Token Is Reused")
                second = client.get(f"{urls.resource}/data-auth")
            ctx.check("TEST 2", second.status_code == 200 and len(token_calls) == 1,
                      f"HTTP {second.status_code}, token requests: {len(token_calls)}")
