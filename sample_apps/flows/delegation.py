"""Flow 6 — agent delegation: a delegate signs with its own key, presenting an agent token."""

from __future__ import annotations

from pathlib import Path

import httpx

from aauth_core.client import RequestSigner
from aauth_core.keys import SigningKey

from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile

TITLE = "Agent Delegation Demo (agent tokens)"
BANNER = ("A delegate (say, one installation of an agent) holds its own key. The agent server issues it an\n"
          "agent token binding that key; the delegate signs with scheme=jwt, and the resource sees both the\n"
          "agent and the delegate. With an auth token the delegate then reaches /data-auth too.")


def run(ctx: FlowContext, workdir: Path, *, resource: str = "flask") -> None:
    agent_port, res_port, as_port = pick_ports([8001, 8002, 8003])
    key_file, _ = keyfile(workdir, "agent1", "key-1")
    agent, res, issuer = (f"http://127.0.0.1:{p}" for p in (agent_port, res_port, as_port))
    specs = [
        PartySpec("Agent 1", "agent", agent_port, ("--key", str(key_file))),
        PartySpec("Resource 1", "resource", res_port, ("--framework", resource, "--auth-server", issuer)),
        PartySpec("Auth Server 1", "authserver", as_port),
    ]
    with ctx.parties(specs):
        delegate_key = SigningKey.generate(kid="delegate-key-1")
        ctx.printer.banner("TEST 1: The Delegate Obtains an Agent Token")
        with httpx.Client(event_hooks=ctx.printer.hooks("DELEGATE"), timeout=30.0, trust_env=False) as plain:
            issued = plain.post(f"{agent}/delegate/token",
                                json={"sub": "delegate-1", "cnf_jwk": delegate_key.public_jwk()})
        token = issued.json().get("agent_token") if issued.status_code == 200 else None
        if token:
            ctx.printer.token("AGENT TOKEN", token)
        ctx.check("TEST 1", token is not None, f"HTTP {issued.status_code}")
        assert token is not None
        signer = RequestSigner.jwt(delegate_key, token)
        ctx.printer.banner("TEST 2: The Delegate Calls /data-jwks with scheme=jwt")
        with ctx.agent_client(delegate_key, agent, who="DELEGATE", signer=signer) as client:
            identified = client.get(f"{res}/data-jwks")
            body = identified.json() if identified.status_code == 200 else {}
            ctx.check("TEST 2", identified.status_code == 200 and body.get("agent") == agent
                      and body.get("agent_delegate") == "delegate-1",
                      f"agent={body.get('agent')}, agent_delegate={body.get('agent_delegate')}")
            ctx.printer.banner("TEST 3: The Delegate Obtains an Auth Token and Calls /data-auth")
            authorized = client.get(f"{res}/data-auth")
        body = authorized.json() if authorized.status_code == 200 else {}
        ctx.check("TEST 3", authorized.status_code == 200 and body.get("agent_delegate") == "delegate-1",
                  f"HTTP {authorized.status_code}, agent_delegate={body.get('agent_delegate')}")
