"""Fixtures for the aauth-11 agent client: an agent provider, a person server and a resource,
all in-process, reached through the client library's own ``MockTransport`` (httpx or httpx2),
sync and async.  The clock is frozen; waiting advances it (no test ever sleeps)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from aauth_core.client import AgentProvider, ClientOptions, PollingOptions, TokenCache, agent_auth_11
from aauth_core.keys import SigningKey

from ..conftest import PUBLIC_IP, World
from .parties import AP, PS, RESOURCE, Router, TinyPersonServer, TinyResource11

LOCAL = "assistant"
AGENT_ID = f"aauth:{LOCAL}@ap.example"


@pytest.fixture(params=["httpx", "httpx2"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Net11:
    """The three parties, the router, and the agent's key; ``waits`` records every pause."""

    world: World
    lib: ModuleType
    router: Router
    provider: AgentProvider
    ps: TinyPersonServer
    resource: TinyResource11
    agent_key: SigningKey
    waits: list[float] = field(default_factory=list)

    def options(self, **kw: Any) -> ClientOptions:
        return ClientOptions(clock=self.world.clock, resolver=lambda host: [PUBLIC_IP], **kw)

    def polling(self, **kw: Any) -> PollingOptions:
        def sleep(seconds: float) -> None:
            self.waits.append(seconds)
            self.world.clock.advance(seconds)

        async def asleep(seconds: float) -> None:
            sleep(seconds)

        return PollingOptions(sleep=sleep, asleep=asleep, **kw)

    def agent_token(self, *, ps: str | None = PS, key: SigningKey | None = None) -> str:
        return self.provider.issue_agent_token(LOCAL, (key or self.agent_key).public_jwk(), ps=ps)

    def auth(self, *, agent_token: str | None = None, key: SigningKey | None = None, **kw: Any) -> Any:
        options = kw.pop("options", None) or self.options()
        polling = kw.pop("polling", None) or self.polling()
        return agent_auth_11(agent_token or self.agent_token(), key or self.agent_key, library=self.lib.__name__,
                             options=options, polling=polling, **kw)

    def send(self, auth: Any, requests: Sequence[tuple[str, str, dict[str, Any]]], *, mode: str = "sync",
             **client_kw: Any) -> list[Any]:
        """Send requests in order with one client (sync or async); returns the responses."""
        if mode == "sync":
            with auth.client(transport=self.router.transport, **client_kw) as client:
                return [client.request(m, u, **kw) for m, u, kw in requests]

        async def run() -> list[Any]:
            async with auth.async_client(transport=self.router.transport, **client_kw) as client:
                return [await client.request(m, u, **kw) for m, u, kw in requests]

        return asyncio.run(run())

    def get(self, auth: Any, path: str = "/data", *, mode: str = "sync", **kw: Any) -> Any:
        return self.send(auth, [("GET", RESOURCE + path, kw)], mode=mode)[0]


def make_net(world: World, lib: ModuleType) -> Net11:
    provider = AgentProvider(AP, [SigningKey.generate(kid="ap-key-1")], clock=world.clock)
    world.network.publish(f"{AP}/.well-known/aauth-agent.json", provider.metadata())
    world.network.publish(provider.jwks_uri, provider.jwks())
    ps = TinyPersonServer(world, {AP: provider.keys[0]})
    resource = TinyResource11(world, ps.key)
    router = Router(lib, world, routes={PS: ps, RESOURCE: resource})
    return Net11(world, lib, router, provider, ps, resource, SigningKey.generate())


@pytest.fixture
def net(world: World, lib: ModuleType) -> Net11:
    return make_net(world, lib)


@pytest.fixture
def cache() -> TokenCache:
    return TokenCache()
