"""Fixtures for the adversarial suite: a World whose network can misbehave on purpose.

:class:`AttackNetwork` extends the shared in-process :class:`~tests.conftest.Network`
with per-URL responders (a 302 to the cloud metadata address, a document that
trickles in slower than ``discovery_timeout``, one larger than
``discovery_max_bytes``) while still counting every request it is asked for, so a
test can prove that a forbidden host was never contacted.  :class:`AttackWorld`
resolves host names through a table (``internal.example`` → a private address, ...)
instead of "everything is public", and also publishes the parties the auth-server
attacks need (an upstream auth server, a downstream resource, a second agent).

Nothing of ours is mocked: the verifier, discovery, SSRF guard and auth server run
their real code over ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from aauth_core import dialect
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings

from ..conftest import AGENT, ISSUER, OTHER_ISSUER, PUBLIC_IP, RESOURCE, FrozenClock, Network, Party, World

UPSTREAM = "https://upstream-as.example"
DOWNSTREAM = "https://data.example"
OTHER_AGENT = "https://other-agent.example"

#: Host names the injected resolver answers with non-public addresses.
RESOLVES: dict[str, list[str]] = {
    "internal.example": ["10.0.0.7"],
    "router.example": ["192.168.1.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "rebind.example": [PUBLIC_IP, "127.0.0.1"],  # one public and one loopback answer
    "v6-internal.example": ["fd00::7"],
}

Responder = Callable[[httpx.Request, bool], httpx.Response]
"""Builds the answer for one URL; the flag says whether the async transport asked."""


class _SlowStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that trickles in: ``chunks`` pieces, ``delay`` seconds apart (a slowloris document)."""

    def __init__(self, chunks: int, delay: float) -> None:
        self.chunks, self.delay = chunks, delay

    def __iter__(self) -> Iterator[bytes]:
        yield b"{"
        for _ in range(self.chunks):
            time.sleep(self.delay)
            yield b" "
        yield b"}"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        for _ in range(self.chunks):
            await asyncio.sleep(self.delay)
            yield b" "
        yield b"}"


def slow_document(chunks: int = 200, delay: float = 0.05) -> Responder:
    """A document that takes ``chunks * delay`` seconds to arrive (10 s by default)."""
    return lambda request, is_async: httpx.Response(200, headers={"Content-Type": "application/json"},
                                                    stream=_SlowStream(chunks, delay))


def redirect_to(location: str, status: int = 302) -> Responder:
    return lambda request, is_async: httpx.Response(status, headers={"Location": location})


def huge_document(size: int, *, declared: bool) -> Responder:
    """A JSON document of ``size`` bytes, with or without an honest ``Content-Length``."""
    body = b'{"agent": "' + b"A" * max(size - 14, 0) + b'"}'

    def respond(request: httpx.Request, is_async: bool) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

        class Chunked(httpx.SyncByteStream, httpx.AsyncByteStream):  # no Content-Length: streamed
            def __iter__(self) -> Iterator[bytes]:
                for i in range(0, len(body), 8192):
                    yield body[i:i + 8192]

            async def __aiter__(self) -> AsyncIterator[bytes]:
                for i in range(0, len(body), 8192):
                    yield body[i:i + 8192]

        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=Chunked())

    return respond


@dataclass
class AttackNetwork(Network):
    """The shared Network plus per-URL responders; every request is still counted."""

    responders: dict[str, Responder] = field(default_factory=dict)

    def respond(self, url: str, responder: Responder) -> None:
        self.responders[url] = responder

    def _answer(self, request: httpx.Request, is_async: bool) -> httpx.Response:
        url = str(request.url)
        responder = self.responders.get(url)
        if responder is None:
            return super()._handle(request)
        self.calls[url] += 1
        return responder(request, is_async)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, False)

    async def _ahandle(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, True)

    def hosts_seen(self) -> set[str]:
        """Every host (as the transport saw it) that was sent a request."""
        return {(urlsplit(url).hostname or "").lower() for url in self.calls}


def resolve(host: str) -> list[str]:
    """The injected resolver: the table above, every other name a public address."""
    return list(RESOLVES.get(host.lower().rstrip("."), [PUBLIC_IP]))


@dataclass
class AttackWorld(World):
    """The test World, with the attack network, the table resolver and more parties."""

    upstream: Party | None = None
    downstream: Party | None = None
    other_agent: Party | None = None
    resolved: list[str] = field(default_factory=list)

    @property
    def net(self) -> AttackNetwork:
        assert isinstance(self.network, AttackNetwork)
        return self.network

    def discovery(self, settings: AAuthSettings) -> Discovery:
        def resolver(host: str) -> list[str]:
            self.resolved.append(host)
            return resolve(host)

        return Discovery(settings, transport=self.network.transport, async_transport=self.network.async_transport,
                         clock=self.clock, resolver=resolver)


def make_world(clock: FrozenClock | None = None) -> AttackWorld:
    network = AttackNetwork()
    w = AttackWorld(
        clock=clock or FrozenClock(),
        network=network,
        agent=Party(AGENT, SigningKey.generate(kid="key-1"), dialect.WELL_KNOWN_AGENT),
        issuer=Party(ISSUER, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER),
        rogue=Party(OTHER_ISSUER, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER),
        resource=Party(RESOURCE, SigningKey.generate(kid="resource-key-1"), dialect.WELL_KNOWN_RESOURCE),
        upstream=Party(UPSTREAM, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER),
        downstream=Party(DOWNSTREAM, SigningKey.generate(kid="resource-key-1"), dialect.WELL_KNOWN_RESOURCE),
        other_agent=Party(OTHER_AGENT, SigningKey.generate(kid="key-1"), dialect.WELL_KNOWN_AGENT),
    )
    for party in (w.agent, w.issuer, w.rogue, w.resource, w.upstream, w.downstream, w.other_agent):
        assert party is not None
        party.publish(network)
    return w


@pytest.fixture
def world(clock: FrozenClock) -> AttackWorld:
    """Overrides the shared ``world``: same parties, plus the attack network and resolver."""
    return make_world(clock)


# ----------------------------------------------------------------------------- Django


def pytest_configure(config: pytest.Config) -> None:
    """Configure Django exactly as tests/django does, so this directory also runs on its own."""
    import django
    from django.conf import settings

    from ..django.conftest import SETTINGS

    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup()


@pytest.fixture
def django_service(world: AttackWorld) -> Iterator[None]:
    """The Django adapter's service wired to this test's World (keys, network, clock)."""
    from aauth_django.conf import set_service_factory

    from ..django.conftest import factory_for

    set_service_factory(factory_for(world))
    yield
    set_service_factory(None)
