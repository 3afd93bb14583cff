"""The seed transcript: Agent 1, Resource 1, Resource 2, Auth Server 1, Auth Server 2.

TEST 1 obtains an auth token for Resource 1 (flow 3).  TEST 2 has Resource 1 call
Resource 2 on Agent 1's behalf: Resource 2 challenges, Resource 1 exchanges the
upstream token at Auth Server 2 (which trusts Auth Server 1) and retries; the
exchanged token's ``agent`` is Resource 1 and its ``act`` is ``{"agent": Agent 1}``.
Unlike the original run, step 8 happens on the wire: Resource 1 returns the
aggregated response to Agent 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aauth_core.headers import parse_agent_auth
from aauth_core.tokens import peek

from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile

TITLE = "Token Exchange Demo"
BANNER = """This demo shows the token exchange flow:
1. Agent 1 obtains auth_token for Resource 1 from Auth Server 1
2. Agent 1 accesses Resource 1 with auth_token
3. Resource 1 needs to call Resource 2 to fulfill the request
4. Resource 1 receives 401 challenge from Resource 2 with resource_token
5. Resource 1 exchanges upstream auth_token for downstream auth_token at Auth Server 2
6. Auth Server 2 validates upstream token, trusts Auth Server 1, issues token with 'act' claim
7. Resource 1 accesses Resource 2 with exchanged token
8. Resource 1 returns aggregated response to Agent 1"""


def run(ctx: FlowContext, workdir: Path, *, r1: str = "django", r2: str = "flask") -> None:
    a1_port, r1_port, as1_port, r2_port, as2_port = pick_ports([8001, 8002, 8003, 8004, 8005])
    agent_url, r1_url, as1_url, r2_url, as2_url = (f"http://127.0.0.1:{p}" for p in
                                                    (a1_port, r1_port, as1_port, r2_port, as2_port))
    agent_key_file, agent_key = keyfile(workdir, "agent1", "key-1")
    specs = [
        PartySpec("Agent 1", "agent", a1_port, ("--key", str(agent_key_file))),
        PartySpec("Resource 1", "resource", r1_port, ("--framework", r1, "--auth-server", as1_url,
                                                      "--downstream", f"{r2_url}/data-auth")),
        PartySpec("Auth Server 1", "authserver", as1_port),
        PartySpec("Resource 2", "resource", r2_port, ("--framework", r2, "--auth-server", as2_url)),
        PartySpec("Auth Server 2", "authserver", as2_port, ("--trust", as1_url)),
    ]
    seen: dict[str, Any] = {}
    with ctx.parties(specs):
        client = ctx.agent_client(agent_key, agent_url)

        def capture(response: Any) -> None:
            challenge = response.headers.get("agent-auth")
            if challenge and "resource_token" in challenge:
                seen.setdefault("resource_token", parse_agent_auth(challenge).resource_token)
            if response.request.url.path == "/agent/token" and response.status_code == 200:
                response.read()
                seen.setdefault("auth_token", response.json().get("auth_token"))

        client.event_hooks["response"].append(capture)
        with client:
            ctx.printer.banner("TEST 1: Agent 1 Obtains Auth Token for Resource 1",
                               "Agent 1 requests auth token from Auth Server 1 for Resource 1.")
            ctx.printer.line("\n📤 Agent 1 requesting auth token for Resource 1...")
            first = client.get(f"{r1_url}/data-auth")
            body = first.json() if first.status_code == 200 else {}
            if "resource_token" in seen:
                ctx.printer.token("RESOURCE TOKEN", seen["resource_token"])
            if "auth_token" in seen:
                ctx.printer.token("AUTH TOKEN", seen["auth_token"])
            claims = dict(peek(seen["auth_token"]).claims) if "auth_token" in seen else {}
            ctx.printer.line("Verifying auth token claims:")
            for name in ("iss", "aud", "agent", "scope"):
                ctx.printer.line(f"  {name}: {claims.get(name)}")
            ctx.check("TEST 1", first.status_code == 200 and body.get("agent") == agent_url
                      and claims.get("iss") == as1_url and claims.get("aud") == r1_url,
                      f"Auth token obtained for Resource 1 (HTTP {first.status_code})")

            ctx.printer.banner("TEST 2: Resource 1 Calls Resource 2 via Token Exchange",
                               "Resource 1 needs data from Resource 2. It exchanges the upstream token\n"
                               "             for a new token from Auth Server 2, which includes an 'act' claim.")
            ctx.printer.line("\n📤 Agent 1 calling Resource 1, which calls Resource 2 with token exchange...")
            second = client.get(f"{r1_url}/aggregate")
            ctx.relay()
            aggregated = second.json() if second.headers.get("content-type", "").startswith("application/json") else {}
            exchanged = aggregated.get("exchanged_token") or {}
            downstream = aggregated.get("downstream") or {}
            ctx.printer.line("\nExchanged token claims:")
            for name in ("iss", "aud", "agent", "sub", "act"):
                ctx.printer.line(f"  {name}: {exchanged.get(name)}")
            ctx.check("Resource 2 access granted", downstream.get("agent") == r1_url,
                      f"Resource 2 saw agent {downstream.get('agent')}")
            ctx.check("Exchanged token", exchanged.get("agent") == r1_url and exchanged.get("act") == {
                "agent": agent_url} and exchanged.get("iss") == as2_url and exchanged.get("aud") == r2_url,
                "agent = Resource 1, act = {\"agent\": Agent 1}")
            ctx.check("TEST 2", second.status_code == 200 and aggregated.get("upstream", {}).get("agent") == agent_url,
                      "Aggregated response reached Agent 1")
    ctx.data.update(resource_token=seen.get("resource_token"), auth_token=seen.get("auth_token"),
                    aggregated=aggregated)
