"""aauth-11 three-party: our agent gets a person token and an auth token from our person server.

Agent (our -11 client, agent token from the demo's agent provider) → Resource (Django by
default; ``person_servers`` = our person server) → 401 ``requirement=person-token`` → person
server → retry → 401 ``requirement=auth-token`` with a resource token → person server (the
consent decision: its explicit autonomous-grant policy) → retry → 200.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..runner import pick_ports
from .base import FlowContext
from .base11 import PRINTER, USER, Agent11, no_act, provider_key, resource_spec, server_specs

__all__ = ["BANNER", "PRINTER", "TITLE", "run"]

TITLE = "aauth-11 Three-Party Demo (agent, resource, person server)"
BANNER = f"""This demo shows the current draft's three-party flow (draft-hardt-oauth-aauth-protocol-11):
1. The agent provider issues the agent an agent token naming its person server (ps)
2. The agent calls the resource signed with its agent token; 401 requirement=person-token
3. The agent gets a person token for the resource from the person server and retries
4. The resource answers 401 requirement=auth-token with a resource token (aud = the person server)
5. The agent trades the resource token and its person token for an auth token and retries: 200
Consent: the person server runs its explicit autonomous-grant policy (AllowAll) for this demo,
with the agent registered to the sample user {USER!r}; no consent page is shown."""


def run(ctx: FlowContext, workdir: Path, *, r1: str = "django") -> None:
    ap_port, ps_port, r1_port = pick_ports([8001, 8002, 8003])
    ap, ps, r1_url = (f"http://127.0.0.1:{p}" for p in (ap_port, ps_port, r1_port))
    key_file, key = provider_key(workdir)
    agent = Agent11(ctx, ap, key, ps)
    specs = [*server_specs(key_file, ap=ap_port, ps=ps_port, agent_id=agent.id),
             resource_spec("Resource 1", r1_port, r1, ps)]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: Agent → Resource 1 (three-party)",
                           "The agent meets person-token, then auth-token, at our person server.")
        with agent.client() as client:
            first = client.get(f"{r1_url}/records")
            body: dict[str, Any] = first.json() if first.status_code == 200 else {}
            ctx.printer.banner("TEST 2: The same call again", "The cached auth token is presented; "
                               "the person server is not asked again.")
            second = client.get(f"{r1_url}/records")
        ctx.relay()
        check_three_party(ctx, agent, resource=r1_url, ps=ps, first=first.status_code, body=body)
        rec = agent.recorder
        ctx.check("TEST 2", second.status_code == 200 and rec.count("POST", ps, "/person") == 1
                  and rec.count("POST", ps, "/token") == 1,
                  f"HTTP {second.status_code} with the cached auth token, no new person server request")


def check_three_party(ctx: FlowContext, agent: Agent11, *, resource: str, ps: str, first: int,
                      body: dict[str, Any], token_issuer: str | None = None) -> None:
    """The checks three-party and four-party share (``token_issuer``: the auth token's ``iss``)."""
    rec = agent.recorder
    issuer = token_issuer or ps
    agent_token = rec.first("aa-agent+jwt")
    person_token = rec.first("aa-person+jwt")
    resource_token = rec.first("aa-resource+jwt")
    auth_token = rec.first("aa-auth+jwt")
    asked = [s.requirement for s in rec.exchanges if s.origin == resource and s.requirement]
    ctx.check("Agent token", agent_token.get("iss") == agent.provider.issuer and agent_token.get("sub") == agent.id
              and agent_token.get("ps") == ps, f"{agent.id}, ps = the person server")
    ctx.check("Requirements", asked[:2] == ["person-token", "auth-token"],
              f"the resource asked for {' then '.join(asked) or 'nothing'}")
    ctx.check("Person token", person_token.get("iss") == ps and person_token.get("aud") == resource
              and bool(person_token.get("sub")), "iss = the person server, aud = the resource, a directed sub")
    ctx.check("Resource token", resource_token.get("iss") == resource and resource_token.get("aud") == issuer
              and resource_token.get("agent_jkt") == agent.key.thumbprint,
              f"aud = {'the access server' if token_issuer else 'the person server'}, agent_jkt = the agent's key")
    ctx.check("Auth token", auth_token.get("iss") == issuer and auth_token.get("aud") == resource
              and auth_token.get("ps") == ps and "data.read" in str(auth_token.get("scope", "")).split(),
              f"iss = {issuer}, aud = the resource, scope {auth_token.get('scope')!r}")
    ctx.check("The resource saw person (ps, sub)",
              body.get("person") == [ps, person_token.get("sub")] and body.get("token_type") == "aa-auth+jwt",
              f"person = {body.get('person')}, token {body.get('token_type')}")
    ctx.check("One person-token and one auth-token request at the PS",
              rec.count("POST", ps, "/person") == 1 and rec.count("POST", ps, "/token") == 1
              and not any(s.status == 202 for s in rec.exchanges),
              "autonomous grant: no 202, no interaction")
    ctx.check("No act claim anywhere", no_act(rec.tokens) and body.get("act") is None
              and "act" not in body.get("token_claims", ()), f"{len(rec.tokens)} tokens, none with act")
    ctx.check("TEST 1", first == 200, f"HTTP {first} from the resource")
