from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from aauth_core.client import ClientOptions, RequestSigner, agent_auth

from ..conftest import ISSUER, PUBLIC_IP, RESOURCE, World
from .parties import Router, TinyAS, TinyResource


@pytest.fixture(params=["httpx", "httpx2"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Net:
    world: World
    lib: ModuleType
    router: Router
    resource: TinyResource
    auth_server: TinyAS

    def options(self, **kw: Any) -> ClientOptions:
        return ClientOptions(clock=self.world.clock, resolver=lambda host: [PUBLIC_IP], **kw)

    def auth(self, signer: RequestSigner | None = None, **kw: Any) -> Any:
        options = kw.pop("options", None) or self.options()
        signer = signer or RequestSigner.jwks(self.world.agent.key, self.world.agent.id)
        return agent_auth(signer, library=self.lib.__name__, options=options, **kw)

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

    def get(self, auth: Any, path: str = "/data-auth", *, mode: str = "sync", **kw: Any) -> Any:
        return self.send(auth, [("GET", RESOURCE + path, kw)], mode=mode)[0]


@pytest.fixture
def net(world: World, lib: ModuleType) -> Net:
    router = Router(lib, world)
    resource = TinyResource(world, world.resource, auth_server=ISSUER, trusted=(ISSUER,))
    auth_server = TinyAS(world, world.issuer)
    router.routes[RESOURCE] = resource
    router.routes[ISSUER] = auth_server
    return Net(world, lib, router, resource, auth_server)
