"""OUR aauth-11 person server, live on 127.0.0.1, for the peers (issue 15, docs/interop.md).

The world the issue 15 rows run in; every identifier keeps its -11 form and is routed by the
loopback host table (``peer_servers.LoopbackNet``):

* ``https://ps.example``: our person server, :class:`aauth_core.personserver.PersonServer` in
  the Starlette app ``build_person_server_app`` (uvicorn in a thread).  Its discovery (the
  agents' providers, the resources' ``aauth-resource.json``) goes through the host table with a
  resolver that answers a public address.  Test policy: ``AllowAll`` (explicit autonomous
  grants, docs/person-server.md), the agents registered to ``alice``.
* ``https://ap.example``: our agent provider (``AgentProvider.asgi_app()``), for our client.
* ``https://agents.example``: aauth 0.5.0's agent provider: its key's ``aauth-agent.json`` and
  JWKS on a :class:`DocumentServer`; the agent tokens are minted by aauth itself
  (``create_agent_token``, in ``peers/aauth_agent_flow.py``).
* ``https://api.example``: our real resource (``ours11.OurResource11``, Starlette), three-party
  with ``person_servers=("https://ps.example",)``.
* ``https://rs-peer.example``: aauth 0.5.0's resource (``peers/rs_server.py``), trusting our
  person server for person and auth tokens.

:func:`ours_world` answers a :class:`live11.LiveWorld`, so ``ours11.our_client`` builds our real
client on it unchanged; :class:`OurPersonServerWorld` adds what only these rows need.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.personserver import AllowAll, PersonServer, PersonServerConfig
from aauth_starlette.personserver import build_person_server_app

from .live11 import AGENT_SUB, PS_ID, RS_PEER_ID, SCOPE, LiveWorld, OurResource, agent_provider, jwks_11
from .ours11 import OurResource11, public
from .peer_servers import DocumentServer, LoopbackNet, peer_server, recorded, serve_ours

API_ID = "https://api.example"  # our real resource
PEER_AP_ID = "https://agents.example"  # aauth 0.5.0 as an agent provider
PEER_AGENT = "aauth:assistant@agents.example"  # its agent, registered to alice at our PS
PEER_STRANGER = "aauth:stranger@agents.example"  # its agent that no user is registered for
#: Who our person server speaks for (agent identifier → user).
REGISTERED = {AGENT_SUB: "alice", PEER_AGENT: "alice"}


def peer_ap_documents(docs: DocumentServer, key: SigningKey) -> None:
    """Publish aauth 0.5.0's agent provider: ``aauth-agent.json`` and a JWKS with ``alg``."""
    docs.publish(f"{PEER_AP_ID}/.well-known/aauth-agent.json",
                 {"issuer": PEER_AP_ID, "jwks_uri": f"{PEER_AP_ID}/jwks.json"})
    docs.publish(f"{PEER_AP_ID}/jwks.json", jwks_11(key))


def our_person_server(net: LoopbackNet) -> PersonServer:
    """Our person server at ``https://ps.example``, discovering over the host table."""
    config = PersonServerConfig(issuer=PS_ID, keys=[SigningKey.generate(kid="ps-key-1")],
                                subject_secret=secrets.token_bytes(32), agents=REGISTERED,
                                scopes_supported=(SCOPE,), poll_interval=1)
    discovery = Discovery(config.service_settings(), transport=net.transport(), async_transport=net.transport(),
                          resolver=public)
    return PersonServer(config, policy=AllowAll(), discovery=discovery, transport=net.transport(),
                        async_transport=net.transport(), resolver=public)


@dataclass
class OurPersonServerWorld:
    """The parties of the issue 15 rows; ``live`` is what ``ours11.our_client`` takes."""

    live: LiveWorld
    ps: PersonServer
    peer_ap_key: SigningKey
    #: Every URL fetched from our servers (the PS, the AP, aauth's AP documents, our resource).
    fetched: list[str]

    @property
    def routes(self) -> Mapping[str, int]:
        return self.live.net.routes

    def peer_agent(self, agent_key: SigningKey, *, sub: str = PEER_AGENT) -> dict[str, Any]:
        """What ``peers/aauth_agent_flow.py`` needs to be aauth's agent ``sub`` (its provider's
        key and the agent key as private JWKs: they go to the peer's process only)."""
        return {"ap": PEER_AP_ID, "ap_key": self.peer_ap_key.private_jwk(), "agent_key": agent_key.private_jwk(),
                "sub": sub, "ps": PS_ID, "routes": dict(self.routes)}


@contextmanager
def ours_world(*, aauth_resource: bool = True) -> Iterator[OurPersonServerWorld]:
    """Start every party (see the module docstring); all sockets are bound first, so each
    party's host table names all the others."""
    net, docs, ap = LoopbackNet(), DocumentServer(), agent_provider()
    peer_ap_key = SigningKey.generate(kid="aauth-ap-1")
    peer_ap_documents(docs, peer_ap_key)
    ps = our_person_server(net)
    resource = OurResource11(API_ID)
    with ExitStack() as stack:
        sockets = [net.listen(identifier) for identifier in ("https://ap.example", PEER_AP_ID, PS_ID, API_ID)]
        if aauth_resource:
            sockets.append(net.listen(RS_PEER_ID))
        for sock in sockets:
            stack.callback(sock.close)  # each server closes its own; these cover a failed start
        stack.enter_context(serve_ours(recorded(ap.asgi_app(), docs.fetched), sockets[0]))
        stack.enter_context(serve_ours(docs, sockets[1]))
        stack.enter_context(serve_ours(recorded(build_person_server_app(ps), docs.fetched), sockets[2]))
        stack.enter_context(resource.serve(net, sockets[3], docs.fetched))
        if aauth_resource:
            stack.enter_context(peer_server("rs_server.py", net, sockets[4], {
                "resource": RS_PEER_ID, "person_servers": [PS_ID], "scope": SCOPE}))
        client = stack.enter_context(net.client())
        yield OurPersonServerWorld(LiveWorld(net, client, docs, ap, OurResource()), ps, peer_ap_key, docs.fetched)
