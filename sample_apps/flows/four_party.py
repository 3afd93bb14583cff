"""aauth-11 four-party: the resource has its own access server; our person server federates.

As three-party, but the resource names ``access_server`` = our access server: its resource
token is addressed to the access server, the agent still asks only its person server, and the
person server asks the access server for the auth token (-11 §2.3 "Federation", §2.4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..runner import pick_ports
from .base import FlowContext
from .base11 import PRINTER, USER, Agent11, provider_key, resource_spec, server_specs
from .three_party import check_three_party

__all__ = ["BANNER", "PRINTER", "TITLE", "run"]

TITLE = "aauth-11 Four-Party Demo (agent, resource, person server, access server)"
BANNER = f"""This demo shows the current draft's four-party flow (draft-hardt-oauth-aauth-protocol-11):
1. The agent calls the resource with its agent token; 401 requirement=person-token
2. The agent gets a person token from its person server and retries
3. The resource answers 401 requirement=auth-token with a resource token addressed to its
   access server (aud = the access server)
4. The agent sends the resource token to its person server, which federates: it signs as
   itself and asks the access server (aauth-access.json, POST /token) for the auth token
5. The access server checks the three tokens and grants; the person server relays the auth
   token (iss = the access server); the agent retries: 200
Consent: the person server runs its explicit autonomous-grant policy (AllowAll) for this demo,
with the agent registered to the sample user {USER!r}; the access server grants the scopes listed
for the resource (its default policy)."""


def run(ctx: FlowContext, workdir: Path, *, r1: str = "django") -> None:
    ap_port, ps_port, as_port, r1_port = pick_ports([8001, 8002, 8003, 8004])
    ap, ps, access, r1_url = (f"http://127.0.0.1:{p}" for p in (ap_port, ps_port, as_port, r1_port))
    key_file, key = provider_key(workdir)
    agent = Agent11(ctx, ap, key, ps)
    specs = [*server_specs(key_file, ap=ap_port, ps=ps_port, agent_id=agent.id, access=as_port, governs=(r1_url,)),
             resource_spec("Resource 1", r1_port, r1, ps, "--access-server", access)]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: Agent → Resource 1 (four-party)",
                           "The agent meets person-token, then auth-token; its person server federates.")
        with agent.client() as client:
            first = client.get(f"{r1_url}/records")
        ctx.relay()
        body: dict[str, Any] = first.json() if first.status_code == 200 else {}
        if first.status_code != 200:
            ctx.printer.line(f"\nThe agent's last answer: HTTP {first.status_code} {first.text[:300]}")
        auth_token = agent.recorder.first("aa-auth+jwt")
        auth_header = next((t.header for t in agent.recorder.of("aa-auth+jwt")), {})
        ctx.check("Federated", auth_token.get("dwk") == "aauth-access.json" and auth_token.get("iss") == access
                  and body.get("issuer") == access and auth_header.get("typ") == "aa-auth+jwt",
                  "the auth token is the access server's (dwk aauth-access.json), relayed by the person server")
        check_three_party(ctx, agent, resource=r1_url, ps=ps, first=first.status_code, body=body,
                          token_issuer=access)
