"""Fixtures for the auth server: an AS under test at ISSUER, an upstream AS, a downstream resource.

Everything is real: keys, JWTs, signatures; the ASGI app runs in process through
``httpx.ASGITransport`` and discovery goes through the World's in-process network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from aauth_core import dialect
from aauth_core.authserver import (
    AllowAll,
    AuthServer,
    AuthServerConfig,
    Lifetimes,
    MemoryUserStore,
    Policy,
)
from aauth_core.context import VerifiedRequest
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import ValidatedToken, jwt_algorithms_for, mint_resource_token, peek, validate_token
from aauth_core.verifier import Verifier
from aauth_starlette.authserver import build_auth_server_app

from ..conftest import AGENT, ISSUER, NOW, RESOURCE, Party, World, signed_request

UPSTREAM = "https://upstream-as.example"
DOWNSTREAM = "https://data.example"
REDIRECT = "https://agent.example/callback"
FORM = {"Content-Type": dialect.FORM_CONTENT_TYPE}
USERS = {"alice": "correct horse battery staple"}


@dataclass
class AS:
    """The auth server under test, its app, and the parties around it."""

    world: World
    server: AuthServer
    upstream: Party
    downstream: Party
    app: Any = None
    created: list[int] = field(default_factory=lambda: [NOW])

    @property
    def clock(self) -> Any:
        return self.world.clock

    # ------------------------------------------------------------------ tokens

    def resource_token(self, *, resource: Party | None = None, aud: str = ISSUER, agent: str = AGENT,
                       agent_jkt: str | None = None, scope: str = "data.read data.write",
                       lifetime: int = 600, now: float | None = None) -> str:
        resource = resource or self.world.resource
        return mint_resource_token(
            resource.key, iss=resource.id, aud=aud, agent=agent,
            agent_jkt=agent_jkt if agent_jkt is not None else self.world.agent.key.thumbprint,
            now=self.clock() if now is None else now, scope=scope, lifetime=lifetime,
        )

    def upstream_token(self, *, issuer: Party | None = None, aud: str = RESOURCE, scope: str = "data.read data.write",
                       **claims: Any) -> str:
        """An auth token the agent got upstream for RESOURCE (the intermediary)."""
        return self.world.auth_token(issuer=issuer or self.upstream, aud=aud, scope=scope, **claims)

    def downstream_rt(self, *, scope: str = "data.read", aud: str = ISSUER, agent: str = RESOURCE,
                      agent_jkt: str | None = None) -> str:
        """The downstream resource's resource token for the intermediary RESOURCE.

        Its default scope is one the default upstream token carries: an exchange grants
        nothing beyond the upstream scope unless a policy opts in."""
        return self.resource_token(resource=self.downstream, aud=aud, agent=agent, scope=scope,
                                   agent_jkt=agent_jkt if agent_jkt is not None else
                                   self.world.resource.key.thumbprint)

    # ------------------------------------------------------------------ requests

    def next_created(self) -> int:
        """A fresh ``created`` per request, so identical bodies do not trip the replay cache."""
        value = int(self.clock())
        if value <= self.created[-1]:
            value = self.created[-1] + 1
        self.created.append(value)
        return value

    def sign(self, form: Mapping[str, str] | str, *, key: SigningKey | None = None, scheme: str = "jwks",
             params: Mapping[str, str] | None = None, url: str = f"{ISSUER}/agent/token",
             headers: Mapping[str, str] | None = None, created: int | None = None) -> tuple[dict[str, str], bytes]:
        body = (form if isinstance(form, str) else urlencode(dict(form))).encode()
        hdrs, _ = signed_request("POST", url, key=key or self.world.agent.key, scheme=scheme, params=params,
                                 body=body, headers={**FORM, **(headers or {})},
                                 created=self.next_created() if created is None else created)
        return hdrs, body

    def sign_as_intermediary(self, form: Mapping[str, str], upstream: str) -> tuple[dict[str, str], bytes]:
        return self.sign(form, key=self.world.resource.key, scheme="jwt", params={"jwt": upstream})

    async def post(self, form: Mapping[str, str] | str, **kw: Any) -> httpx.Response:
        headers, body = self.sign(form, **kw)
        return await self.send(headers, body)

    async def send(self, headers: Mapping[str, str], body: bytes) -> httpx.Response:
        async with self.client() as client:
            return await client.post("/agent/token", headers=headers, content=body)

    def client(self, **kw: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=ISSUER, **kw)

    # ------------------------------------------------------------------ checks

    def decode(self, token: str, *, aud: str | None = RESOURCE, require_agent: bool = True) -> ValidatedToken:
        """Validate a token the AS issued against its published JWKS."""
        jwks = self.server.jwks()["keys"]
        unverified = peek(token)
        from aauth_core.keys import PublicKey

        key = next(PublicKey.from_jwk(k) for k in jwks if k["kid"] == unverified.kid)
        return validate_token(unverified, typ=dialect.TYP_AUTH, key=key, now=self.clock(), leeway=0,
                              algorithms=jwt_algorithms_for(["ed25519"]), audience=aud, issuer=ISSUER,
                              require_agent=require_agent)

    def use_at_resource(self, token: str, *, key: SigningKey | None = None, resource: str = RESOURCE
                        ) -> VerifiedRequest:
        """The agent presents the token at the resource; the resource's own verifier accepts it."""
        settings = AAuthSettings(resource_id=resource, trusted_issuers=(ISSUER,))
        verifier = Verifier(settings, discovery=self.world.discovery(settings), clock=self.clock)
        headers, _ = signed_request("GET", f"{resource}/data", key=key or self.world.agent.key, scheme="jwt",
                                    params={"jwt": token}, created=self.next_created())
        verified = verifier.verify(RequestView.from_url("GET", f"{resource}/data", headers))
        assert verified is not None and verified.level == "authorization"
        return verified

    def stored(self) -> int:
        return len(self.server.store)  # type: ignore[arg-type]


def assert_refused(response: httpx.Response, status: int, code: str, env: AS | None = None,
                   stored: int = 0) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert set(body) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
    if env is not None:
        assert env.stored() == stored, "a refused request left state behind"


MakeAS = Callable[..., AS]


@pytest.fixture
def make_as(world: World) -> MakeAS:
    upstream = Party(UPSTREAM, SigningKey.generate(kid="auth-key-1"), dialect.WELL_KNOWN_ISSUER)
    downstream = Party(DOWNSTREAM, SigningKey.generate(kid="resource-key-1"), dialect.WELL_KNOWN_RESOURCE)
    upstream.publish(world.network)
    downstream.publish(world.network)

    def make(*, policy: Policy | None = None, lifetimes: Lifetimes | None = None,
             trusted: tuple[str, ...] = (UPSTREAM,), **config: Any) -> AS:
        cfg = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], trusted_upstreams=trusted,
                               lifetimes=lifetimes or Lifetimes(), **config)
        server = AuthServer(cfg, policy=policy if policy is not None else AllowAll(),
                            users=MemoryUserStore(USERS), discovery=world.discovery(cfg.verifier_settings()),
                            clock=world.clock)
        env = AS(world=world, server=server, upstream=upstream, downstream=downstream)
        env.app = build_auth_server_app(server)
        return env

    return make


@pytest.fixture
def env(make_as: MakeAS) -> AS:
    return make_as()


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    import html as html_mod

    return html_mod.unescape(match.group(1))
