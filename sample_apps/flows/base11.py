"""What the aauth-11 flows share: the servers' party specs, the agent, and a record of every
exchange the agent saw (each token kept as its decoded header and claims).

The agent runs in the flow's process, like Agent 1 of the January flows: our -11 client
(``agent_auth_11`` through :meth:`AgentProvider.agent_auth`) with its own key and an agent
token from the demo's agent provider, whose documents a party serves on a loopback port with
the same provider key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aauth_core.client import AgentProvider, ClientOptions
from aauth_core.keys import SigningKey
from aauth_core.wire.requirement import parse_requirement

from ..printer import decode_jwt
from ..printer11 import TokenPrinter, jwts_in
from ..runner import PartySpec
from .base import FlowContext, keyfile

__all__ = ["AGENT_LOCAL", "PRINTER", "Agent11", "Recorder", "Seen", "Token", "server_specs"]

PRINTER = TokenPrinter
#: The demo agent's local name at its provider: ``aauth:assistant@127.0.0.1:PORT``.
AGENT_LOCAL = "assistant"
#: The person server's sample user (the January demo's), whom the demo agent acts for.
USER = "testuser"


@dataclass(frozen=True)
class Token:
    """A token seen on the wire, decoded (the token itself is not kept in the report)."""

    typ: str
    header: dict[str, Any]
    claims: dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """One exchange the agent saw."""

    method: str
    origin: str
    path: str
    status: int
    requirement: str | None


@dataclass
class Recorder:
    """Every exchange and every distinct token the agent's client sent or received."""

    exchanges: list[Seen] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    _raw: set[str] = field(default_factory=set)

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        requirement = response.headers.get("aauth-requirement")
        name = parse_requirement(requirement).requirement if requirement else None
        url = request.url
        self.exchanges.append(Seen(request.method, f"{url.scheme}://{url.netloc.decode()}", url.path,
                                   response.status_code, name))
        texts = [*request.headers.values(), request.content.decode("utf-8", "replace"),
                 *response.headers.values(), response.content.decode("utf-8", "replace")]
        for text in texts:
            for raw in jwts_in(text):
                if raw not in self._raw:
                    self._raw.add(raw)
                    header, claims = decode_jwt(raw)
                    self.tokens.append(Token(str(header.get("typ")), header, claims))

    def count(self, method: str, origin: str, path: str) -> int:
        return sum(1 for s in self.exchanges if (s.method, s.origin, s.path) == (method, origin, path))

    def of(self, typ: str) -> list[Token]:
        return [t for t in self.tokens if t.typ == typ]

    def first(self, typ: str) -> dict[str, Any]:
        found = self.of(typ)
        return found[0].claims if found else {}


class Agent11:
    """The demo agent: a key of its own and agent tokens from the demo's agent provider."""

    def __init__(self, ctx: FlowContext, provider_url: str, provider_key: SigningKey, ps: str) -> None:
        self.ctx = ctx
        self.provider = AgentProvider(provider_url, [provider_key], allow_loopback=True)
        self.key = SigningKey.generate(kid="agent-key-1")
        self.ps = ps
        self.id = self.provider.agent_id(AGENT_LOCAL)
        self.recorder = Recorder()

    def client(self, who: str = "AGENT") -> httpx.Client:
        """Our -11 client (signs, meets each requirement, caches tokens), printing each exchange."""
        auth = self.provider.agent_auth(AGENT_LOCAL, self.key, ps=self.ps,
                                        options=ClientOptions(allow_insecure_loopback=True))
        hooks = self.ctx.printer.hooks(who)
        print_response: Callable[..., Any] = hooks["response"][0]

        def on_response(response: httpx.Response) -> None:
            self.ctx.relay()  # the other side printed its view before answering
            print_response(response)
            self.recorder.on_response(response)

        client: httpx.Client = auth.client(event_hooks={"request": hooks["request"], "response": [on_response]},
                                           timeout=30.0, trust_env=False)
        return client


def provider_key(workdir: Path) -> tuple[Path, SigningKey]:
    """The agent provider's key: on disk for the provider's party, in memory for the agent."""
    return keyfile(workdir, "agent-provider", "ap-key-1")


def server_specs(key_file: Path, *, ap: int, ps: int, agent_id: str, access: int | None = None,
                 governs: tuple[str, ...] = ()) -> list[PartySpec]:
    """The agent provider, our person server (autonomous grants, the agent registered to the
    sample user) and, for four-party, our access server."""
    ps_url = f"http://127.0.0.1:{ps}"
    specs = [
        PartySpec("Agent Provider", "agentprovider", ap, ("--key", str(key_file))),
        PartySpec("Person Server", "personserver", ps, ("--policy", "allow", "--register", f"{agent_id}={USER}")),
    ]
    if access is not None:
        args: tuple[str, ...] = ("--person-server", ps_url)
        for resource in governs:
            args += ("--governs", resource)
        specs.append(PartySpec("Access Server", "accessserver", access, args))
    return specs


def resource_spec(name: str, port: int, framework: str, ps: str, *extra: str) -> PartySpec:
    """An aauth-11 sample resource trusting our person server."""
    return PartySpec(name, "resource", port, ("--framework", framework, "--profile", "aauth-11",
                                              "--person-server", ps, *extra))


def no_act(tokens: list[Token], *more: dict[str, Any] | None) -> bool:
    """-11 has no ``act`` (RS-75): in no token seen, nor in any claims a resource reported."""
    return all("act" not in t.claims for t in tokens) and all("act" not in (m or {}) for m in more)


__all__ += ["USER", "no_act", "provider_key", "resource_spec"]
