"""Shared fixtures: a frozen clock, an in-process network of AAuth parties, signers.

Nothing here mocks our own code: parties publish real metadata and JWKS documents
through an ``httpx.MockTransport`` (httpx's own in-process transport), tokens are
real JWTs and signatures are real Ed25519.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aauth_core import dialect
from aauth_core.discovery import Discovery
from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import mint_agent_token, mint_auth_token

NOW = 1_768_786_273  # the transcript's `created`
PUBLIC_IP = "93.184.216.34"

AGENT = "https://agent.example"
RESOURCE = "https://api.example"
ISSUER = "https://as.example"
OTHER_ISSUER = "https://rogue-as.example"


class FrozenClock:
    """An injectable clock: unix seconds that only move when a test says so."""

    def __init__(self, now: float = NOW) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Network:
    """Serves documents by exact URL and counts every request it answers."""

    documents: dict[str, Any] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    def publish(self, url: str, document: Any) -> None:
        self.documents[url] = document

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.calls[url] += 1
        if url not in self.documents:
            return httpx.Response(404, json={"error": "not_found"})
        return httpx.Response(200, content=json.dumps(self.documents[url]).encode(),
                              headers={"Content-Type": "application/json", "Cache-Control": "max-age=300"})

    async def _ahandle(self, request: httpx.Request) -> httpx.Response:
        return self._handle(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    @property
    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._ahandle)


@dataclass
class Party:
    id: str
    key: SigningKey
    well_known: str

    @property
    def jwks_uri(self) -> str:
        return f"{self.id}/jwks.json"

    def metadata(self) -> dict[str, Any]:
        field_name = dialect.METADATA_ID_FIELD[self.well_known]
        doc: dict[str, Any] = {field_name: self.id, "jwks_uri": self.jwks_uri}
        if self.well_known == dialect.WELL_KNOWN_ISSUER:
            doc.update(agent_token_endpoint=f"{self.id}/agent/token", agent_auth_endpoint=f"{self.id}/agent/auth",
                       agent_signing_algs_supported=["ed25519"],
                       request_types_supported=["auth", "code", "exchange", "refresh"])
        return doc

    def publish(self, network: Network) -> None:
        network.publish(f"{self.id}/.well-known/{self.well_known}", self.metadata())
        network.publish(self.jwks_uri, jwks_document([self.key]))


@dataclass
class World:
    """An agent, an auth server, a rogue auth server and a resource, all published."""

    clock: FrozenClock
    network: Network
    agent: Party
    issuer: Party
    rogue: Party
    resource: Party

    def discovery(self, settings: AAuthSettings) -> Discovery:
        return Discovery(settings, transport=self.network.transport, async_transport=self.network.async_transport,
                         clock=self.clock, resolver=lambda host: [PUBLIC_IP])

    def auth_token(self, *, issuer: Party | None = None, aud: str = RESOURCE, scope: str = "data.read data.write",
                   cnf: SigningKey | None = None, lifetime: int = 3600, now: float | None = None,
                   **claims: Any) -> str:
        issuer = issuer or self.issuer
        return mint_auth_token(issuer.key, iss=issuer.id, aud=aud, cnf_jwk=(cnf or self.agent.key).public_jwk(),
                               now=self.clock() if now is None else now, agent=claims.pop("agent", self.agent.id), scope=scope,
                               lifetime=lifetime, **claims)

    def agent_token(self, delegate: SigningKey, *, sub: str = "delegate-1", **kw: Any) -> str:
        return mint_agent_token(self.agent.key, iss=self.agent.id, sub=sub, cnf_jwk=delegate.public_jwk(),
                                now=self.clock(), **kw)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def make_world(clock: FrozenClock) -> World:
    """An agent, an auth server, a rogue auth server and a resource, each with fresh keys, published."""
    network = Network()
    w = World(
        clock=clock,
        network=network,
        agent=Party(AGENT, SigningKey.generate(kid="key-1"), dialect.WELL_KNOWN_AGENT),
        issuer=Party(ISSUER, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER),
        rogue=Party(OTHER_ISSUER, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER),
        resource=Party(RESOURCE, SigningKey.generate(kid="resource-key-1"), dialect.WELL_KNOWN_RESOURCE),
    )
    for party in (w.agent, w.issuer, w.rogue, w.resource):
        party.publish(network)
    return w


@pytest.fixture
def world(clock: FrozenClock) -> World:
    return make_world(clock)


def signed_request(
    method: str,
    url: str,
    *,
    key: SigningKey,
    scheme: str = "jwks",
    params: Mapping[str, str] | None = None,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    created: int = NOW,
    base: str = "rfc9421",
    label: str = "sig1",
) -> tuple[dict[str, str], bytes | None]:
    """Sign a request as an agent would; returns (all headers, body)."""
    hdrs = dict(headers or {})
    if body and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/json"
    if params is None:
        if scheme == "hwk":
            params = {k: v for k, v in key.public_jwk().items() if k != "kid"}
        elif scheme == "jwks":
            params = {"id": AGENT, "kid": key.kid or "", "well-known": "aauth-agent"}
        else:
            raise ValueError("jwt scheme needs params={'jwt': token}")
    sk = SignatureKey.build(scheme, params, label=label)  # type: ignore[arg-type]
    signed = sign_request(method, url, hdrs, body, key=key, signature_key=sk, created=created,
                          base=base)  # type: ignore[arg-type]
    return {**hdrs, **signed.headers}, body


def view_of(method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> RequestView:
    return RequestView.from_url(method, url, headers, body)


SignFn = Callable[..., tuple[dict[str, str], bytes | None]]
