"""Three hops — Agent 1 → Resource 1 → Resource 2 → Resource 3 — with nested ``act``.

Each resource trusts its own auth server; each downstream auth server trusts the
one before it.  Resource 3 sees ``agent`` = Resource 2 and
``act`` = ``{"agent": Resource 1, "act": {"agent": Agent 1}}``.
"""

from __future__ import annotations

from pathlib import Path

from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile

TITLE = "Call Chain Demo (three hops, nested act)"
BANNER = ("Agent 1 calls Resource 1, which calls Resource 2, which calls Resource 3. Every hop exchanges the\n"
          "token it received for one its downstream accepts; the act claim grows by one level per hop.")


def run(ctx: FlowContext, workdir: Path, *, r1: str = "starlette", r2: str = "django", r3: str = "flask") -> None:
    ports = pick_ports([8001, 8002, 8003, 8004, 8005, 8006, 8007])
    agent, u1, a1, u2, a2, u3, a3 = (f"http://127.0.0.1:{p}" for p in ports)
    key_file, key = keyfile(workdir, "agent1", "key-1")
    specs = [
        PartySpec("Agent 1", "agent", ports[0], ("--key", str(key_file))),
        PartySpec("Resource 1", "resource", ports[1], ("--framework", r1, "--auth-server", a1,
                                                       "--downstream", f"{u2}/aggregate")),
        PartySpec("Auth Server 1", "authserver", ports[2]),
        PartySpec("Resource 2", "resource", ports[3], ("--framework", r2, "--auth-server", a2,
                                                       "--downstream", f"{u3}/data-auth")),
        PartySpec("Auth Server 2", "authserver", ports[4], ("--trust", a1)),
        PartySpec("Resource 3", "resource", ports[5], ("--framework", r3, "--auth-server", a3)),
        PartySpec("Auth Server 3", "authserver", ports[6], ("--trust", a2)),
    ]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: Agent 1 → Resource 1 → Resource 2 → Resource 3")
        with ctx.agent_client(key, agent) as client:
            response = client.get(f"{u1}/aggregate")
        ctx.relay()
        outer = response.json() if response.status_code == 200 else {}
        hop2 = outer.get("downstream") or {}
        to_r2 = outer.get("exchanged_token") or {}
        to_r3 = hop2.get("exchanged_token") or {}
        ctx.printer.line()
        for hop, token in (("Resource 1 → Resource 2", to_r2), ("Resource 2 → Resource 3", to_r3)):
            ctx.printer.line(f"Token presented {hop}: agent={token.get('agent')} act={token.get('act')}")
        ctx.check("Hop 1", to_r2.get("agent") == u1 and to_r2.get("act") == {"agent": agent},
                  "Resource 2 sees agent Resource 1 acting for Agent 1")
        ctx.check("Hop 2", to_r3.get("agent") == u2 and to_r3.get("act") == {"agent": u1, "act": {"agent": agent}},
                  "Resource 3 sees agent Resource 2, act = {Resource 1, act: {Agent 1}}")
        ctx.check("TEST 1", response.status_code == 200 and (hop2.get("downstream") or {}).get("agent") == u2,
                  "The aggregated response of all three hops reached Agent 1")
