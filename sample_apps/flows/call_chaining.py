"""aauth-11 call chaining: Resource 1 calls Resource 2 as an agent of its own.

Agent → Resource 1 ``/chain`` (three-party, as in ``three-party``) → Resource 1's handler is
its own agent provider and agent (RS-70) and calls Resource 2 with ``upstream_token`` = the
auth token it was called with: person-token and auth-token requests at the person server that
token names (RS-72, RS-73) → Resource 2 → 200 → Resource 1 → 200.  No ``act`` anywhere, and
the downstream tokens carry Resource 2's own directed ``sub``, never a copied one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..runner import pick_ports
from .base import FlowContext
from .base11 import PRINTER, USER, Agent11, no_act, provider_key, resource_spec, server_specs

__all__ = ["BANNER", "PRINTER", "TITLE", "run"]

TITLE = "aauth-11 Call Chaining Demo (agent, Resource 1 as an agent, Resource 2)"
BANNER = f"""This demo shows the current draft's call chaining (the -11 replacement of token exchange):
1. The agent gets an auth token for Resource 1 from its person server (three-party) and calls it
2. Resource 1 needs Resource 2: it is its own agent provider (aauth-agent.json on its own origin)
   and signs with an agent token it issued itself, aauth:resource@<its host>
3. Resource 2 answers 401 requirement=person-token; Resource 1 asks the person server the
   upstream token names for a person token, sending upstream_token = the token it was called with
4. Resource 2 answers 401 requirement=auth-token; Resource 1 asks for the auth token, again
   with upstream_token; the downstream token names the same person with Resource 2's own sub,
   expires with the upstream token, and has no act claim
5. Resource 2 answers 200; Resource 1 returns the aggregated response to the agent
Consent: the person server runs its explicit autonomous-grant policy (AllowAll) for this demo,
with the agent registered to the sample user {USER!r}."""


def run(ctx: FlowContext, workdir: Path, *, r1: str = "django", r2: str = "flask") -> None:
    ap_port, ps_port, r1_port, r2_port = pick_ports([8001, 8002, 8003, 8004])
    ap, ps, r1_url, r2_url = (f"http://127.0.0.1:{p}" for p in (ap_port, ps_port, r1_port, r2_port))
    key_file, key = provider_key(workdir)
    agent = Agent11(ctx, ap, key, ps)
    specs = [*server_specs(key_file, ap=ap_port, ps=ps_port, agent_id=agent.id),
             resource_spec("Resource 1", r1_port, r1, ps, "--downstream", f"{r2_url}/records"),
             resource_spec("Resource 2", r2_port, r2, ps)]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: Agent → Resource 1 → Resource 2 (call chaining)",
                           "Resource 1 calls Resource 2 as its own agent, with upstream_token.")
        with agent.client() as client:
            response = client.get(f"{r1_url}/chain")
        ctx.relay()
        body: dict[str, Any] = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else {}
        if "error" in body:
            ctx.printer.line(f"\nResource 1's downstream call was refused: {body['error']}: "
                             f"{body.get('error_description')}")
        check_chain(ctx, agent, body, ps=ps, r1=r1_url, r2=r2_url)
        ctx.check("TEST 1", response.status_code == 200 and body.get("downstream_status") == 200,
                  f"HTTP {response.status_code}: the aggregated response of both hops reached the agent")


def check_chain(ctx: FlowContext, agent: Agent11, body: dict[str, Any], *, ps: str, r1: str, r2: str) -> None:
    up = body.get("upstream_token") or {}
    down = body.get("downstream_token") or {}
    hop: dict[str, Any] = body.get("tokens") or {}
    answer = body.get("downstream")
    downstream: dict[str, Any] = answer if isinstance(answer, dict) else {}
    exchanges = body.get("exchanges") or []
    r1_agent = hop.get("aa-agent+jwt") or {}
    person = hop.get("aa-person+jwt") or {}
    at_ps = [e for e in exchanges if e["url"].startswith(ps + "/") and e["method"] == "POST"]
    ctx.check("Upstream", body.get("upstream", {}).get("person") == [ps, up.get("sub")]
              and up.get("aud") == r1 and "error" not in body,
              f"Resource 1 was called with an auth token for person ({ps}, {up.get('sub')})"
              if "error" not in body else f"the person server refused: {body.get('error')}: "
              f"{body.get('error_description')}")
    ctx.check("Resource 1 is its own agent", r1_agent.get("iss") == r1
              and r1_agent.get("sub") == f"aauth:resource@{r1.split('://', 1)[1]}",
              f"agent token iss = Resource 1, sub = {r1_agent.get('sub')}")
    ctx.check("Chaining requests at the PS",
              [(e["url"].rsplit("/", 1)[1], e["status"]) for e in at_ps] == [("person", 200), ("token", 200)]
              and all("upstream_token" in e["members"] for e in at_ps),
              "one person-token and one auth-token request, each with upstream_token")
    ctx.check("Downstream tokens", person.get("aud") == r2 and down.get("aud") == r2 and down.get("iss") == ps
              and down.get("ps") == ps and int(down.get("exp", 0)) <= int(up.get("exp", 0)),
              "aud = Resource 2, issued by the person server, expiring no later than the upstream token")
    ctx.check("No copied sub", bool(down.get("sub")) and down.get("sub") == person.get("sub")
              and down.get("sub") != up.get("sub"),
              "Resource 2 sees the same person under its own directed sub")
    ctx.check("Scope never widens", set(str(down.get("scope", "")).split()) <= set(str(up.get("scope", "")).split()),
              f"downstream scope {down.get('scope')!r} within upstream {up.get('scope')!r}")
    ctx.check("The resource saw person (ps, sub)",
              downstream.get("person") == [ps, down.get("sub")] and downstream.get("token_type") == "aa-auth+jwt",
              f"Resource 2 saw person {downstream.get('person')}")
    ctx.check("No act claim anywhere", no_act(agent.recorder.tokens, up, down, *hop.values())
              and "act" not in downstream.get("token_claims", ()) and downstream.get("act") is None,
              "no act in any token of either hop")
