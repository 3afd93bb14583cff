"""The two aauth-11 servers under attack (issue 15): our person server and our access server,
each behind its Starlette app, on an in-process network that records every host it is asked
for and flags the forbidden ones (the runner fails the row if one was ever asked).

The person server is the stack of ``tests/personserver`` (our agent provider, the person
server, our resource) built again here with a resolver that maps some names to non-public
addresses; the access server is ``tests/accessserver``'s four parties.  Requests are sent
through the app (``asgi``) or straight to the core's blocking driver (``core-sync``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from aauth_core.authserver import AllowAll, MemoryUserStore, Policy
from aauth_core.client import AgentProvider
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.personserver import PersonServer, PersonServerConfig
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import jose_alg
from aauth_starlette import AAuthMiddleware
from aauth_starlette.accessserver import build_access_server_app
from aauth_starlette.personserver import build_person_server_app

from ..accessserver.harness import TOKEN, FourParty
from ..conftest import PUBLIC_IP, FrozenClock
from ..personserver.stack import AGENT, AP, PS, RESOURCE, SECRET, Hosts, Stack, data, whoami
from ..profile11.mint import mint, sign11

__all__ = ["FORBIDDEN_HOSTS", "Answer", "ASEnv", "PSEnv", "Req", "build_ps_env"]

#: Names that resolve to non-public addresses, and the addresses themselves: never to be asked for.
FORBIDDEN_NAMES = {"internal.example": "10.0.0.1", "meta.example": "169.254.169.254",
                   "loopback.example": "127.0.0.1"}
FORBIDDEN_HOSTS = ("10.0.0.1", "169.254.169.254", "127.0.0.1", *FORBIDDEN_NAMES)
BODY_SET = ("@method", "@authority", "@path", "signature-key", "content-digest", "content-type")
BASE_SET = BODY_SET[:4]


def resolve(host: str) -> list[str]:
    return [FORBIDDEN_NAMES.get(host, PUBLIC_IP)]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # lowercase names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Req:
    """One signed (or deliberately unsigned) request to a server's JSON endpoint."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None

    def with_body(self, body: bytes) -> Req:
        return Req(self.method, self.url, self.headers, body)

    def with_headers(self, **headers: str) -> Req:
        return Req(self.method, self.url, {**self.headers, **{k.replace("_", "-"): v for k, v in headers.items()}},
                   self.body)


def _answer(status: int, headers: Any, body: bytes) -> Answer:
    return Answer(status, {k.lower(): v for k, v in dict(headers).items()}, body)


class GuardedHosts(Hosts):
    """The stack's network, recording every host; a forbidden or unknown host gets a 404 (and a
    forbidden one is remembered: the runner fails the row)."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []
        self.violations: list[str] = []

    def _forward(self, request: httpx.Request, body: bytes) -> httpx.Response:
        host = request.url.host
        self.hosts.append(host)
        if host in FORBIDDEN_HOSTS:
            self.violations.append(host)
        if host in FORBIDDEN_HOSTS or host not in self.clients:
            return httpx.Response(404)
        return super()._forward(request, body)


def documents_app(docs: Mapping[str, Any]) -> Starlette:
    """A host that serves only ``docs`` (path → JSON), e.g. a hostile resource's metadata."""

    async def serve(request: Request) -> Response:
        found = docs.get(request.url.path)
        return JSONResponse(found) if found is not None else Response(status_code=404)

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "POST"])])


@dataclass
class PSEnv:
    """The person server under attack, its neighbours, and how to talk to it."""

    stack: Stack
    net: GuardedHosts
    driver: str = "asgi"
    extra_keys: dict[str, SigningKey] = field(default_factory=dict)

    @property
    def ps(self) -> PersonServer:
        return self.stack.ps

    @property
    def clock(self) -> FrozenClock:
        return self.stack.clock

    def stored(self) -> int:
        return len(self.ps.store._entries)  # type: ignore[attr-defined]

    def agent_token(self, key: SigningKey | None = None, **kw: Any) -> str:
        return self.stack.agent_token(key, **kw)

    def sign(self, method: str, path: str, body: Any = None, *, key: SigningKey | None = None,
             token: str | None = None, components: Sequence[str] | None = None, created: int | None = None,
             headers: Mapping[str, str] | None = None, signature_key: str | None = None) -> Req:
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        key = key or self.stack.agent_key
        url = path if path.startswith("https://") else f"{PS}{path}"
        comps = components or (BODY_SET if raw is not None else BASE_SET)
        signed = sign11(method, url, key, token or self.agent_token(key), body=raw, components=comps,
                        created=int(self.clock()) if created is None else created, headers=headers,
                        signature_key=signature_key)
        return Req(method, url, signed, raw)

    def send(self, req: Req) -> Answer:
        if self.driver == "core-sync":
            split = httpx.URL(req.url)
            view = self.ps.view(method=req.method, path=split.raw_path.decode().split("?")[0],
                                query=split.query.decode() or None, headers=dict(req.headers), body=req.body)
            reply = self.ps.handle(view)
            return _answer(reply.status, reply.headers, reply.body)
        client = TestClient(self.stack.ps_app, base_url=PS, raise_server_exceptions=False)
        got = client.request(req.method, req.url, headers=dict(req.headers), content=req.body)
        return _answer(got.status_code, got.headers, got.content)

    def browser(self) -> TestClient:
        """The user's browser at the consent page (its own cookie jar); never the core driver."""
        return TestClient(self.stack.ps_app, base_url=PS, raise_server_exceptions=False)

    # ------------------------------------------------------------------ tokens

    def person_token(self, *, key: SigningKey | None = None, resource: str = RESOURCE) -> str:
        """A person token from the person server itself (the deployment grants: AllowAll)."""
        got = self.send(self.sign("POST", "/person", {"resource": resource}, key=key))
        assert got.status == 200, got.text
        return str(got.json()["person_token"])

    def resource_claims(self, presented: str, **over: Any) -> dict[str, Any]:
        pt = peek(presented).claims
        now = int(self.clock())
        claims: dict[str, Any] = {"iss": pt["aud"], "dwk": "aauth-resource.json", "aud": PS, "ps": PS,
                                  "sub": pt["sub"], "presented_jti": pt["jti"],
                                  "agent_jkt": self.stack.agent_key.thumbprint, "scope": "data.read",
                                  "jti": f"rt-{now}", "iat": now, "exp": now + 300}
        claims.update(over)
        return {k: v for k, v in claims.items() if v is not None}

    def resource_token(self, presented: str, *, typ: str = "aa-resource+jwt", key: SigningKey | None = None,
                       alg: str | None = None, **over: Any) -> str:
        claims = self.resource_claims(presented, **over)
        signer = key or self.extra_keys.get(str(claims["iss"])) or self.stack.resource_key
        return mint(signer, claims, typ=typ, alg=alg)

    def token_request(self, presented: str | None = None, **over: Any) -> Req:
        pt = presented or self.person_token()
        return self.sign("POST", "/token", {"resource_token": self.resource_token(pt, **over), "presented_token": pt})

    def publish_resource(self, host: str, *, jwks_uri: str | None = None, revocation_endpoint: str | None = None
                         ) -> str:
        """A resource at ``https://{host}`` with its own key and metadata (possibly hostile)."""
        origin = f"https://{host}"
        key = SigningKey.generate(kid=f"{host}-1")
        jwks = jwks_document([key])
        for jwk in jwks["keys"]:
            jwk["alg"] = jose_alg(key)
        meta: dict[str, Any] = {"issuer": origin, "jwks_uri": jwks_uri or f"{origin}/jwks.json"}
        if revocation_endpoint is not None:
            meta["revocation_endpoint"] = revocation_endpoint
        self.net.asgi(host, documents_app({"/.well-known/aauth-resource.json": meta, "/jwks.json": jwks}))
        self.extra_keys[origin] = key
        return origin


def build_ps_env(clock: FrozenClock, *, policy: Policy | None = None, agents: dict[str, str] | None = None,
                 driver: str = "asgi") -> PSEnv:
    """The stack of tests/personserver, with :func:`resolve` and a :class:`GuardedHosts` network."""
    net = GuardedHosts()
    provider = AgentProvider(AP, [SigningKey.generate(kid="ap-1")], clock=clock)
    net.asgi("ap.example", provider.asgi_app())

    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    async def asleep(seconds: float) -> None:
        clock.advance(seconds)

    config = PersonServerConfig(issuer=PS, keys=[SigningKey.generate(kid="ps-1")], subject_secret=SECRET,
                                agents=agents if agents is not None else {AGENT: "alice"})
    discovery = Discovery(config.service_settings(), transport=net, async_transport=net, clock=clock,
                          resolver=resolve)
    ps = PersonServer(config, policy=policy if policy is not None else AllowAll(),
                      users=MemoryUserStore({"alice": "wonderland", "bob": "builder"}), discovery=discovery,
                      clock=clock, sleep=sleep, asleep=asleep, transport=net, async_transport=net, resolver=resolve)
    ps_app = build_person_server_app(ps)
    net.asgi("ps.example", ps_app)
    resource_key = SigningKey.generate(kid="api-1")
    rs_settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), person_servers=(PS,),
                                resource_scopes=("data.read",))
    rs_discovery = Discovery(rs_settings, transport=net, async_transport=net, clock=clock, resolver=resolve)
    net.asgi("api.example", AAuthMiddleware(Starlette(routes=[Route("/data", data), Route("/whoami", whoami)]),
                                            settings=rs_settings, keys=[resource_key], discovery=rs_discovery,
                                            clock=clock))
    return PSEnv(Stack(clock, net, provider, ps, ps_app, resource_key), net, driver)


@dataclass
class ASEnv:
    """The access server under attack (tests/accessserver's four parties) and how to talk to it."""

    four: FourParty
    driver: str = "asgi"

    @property
    def clock(self) -> FrozenClock:
        return self.four.clock

    def stored(self) -> int:
        return self.four.stored()

    def hosts(self) -> list[str]:
        return [httpx.URL(url).host for url in self.four.network.calls]

    def token(self, body: Mapping[str, Any] | bytes | None = None, **kw: Any) -> Req:
        """The person server's signed ``POST /token`` (a valid federation body unless told)."""
        four = self.four
        raw = body if isinstance(body, bytes) else json.dumps(dict(four.body() if body is None else body)).encode()
        return Req("POST", TOKEN, four.ps_headers("POST", TOKEN, raw, **kw), raw)

    def signed(self, method: str, url: str, body: Mapping[str, Any] | bytes | None = None, **kw: Any) -> Req:
        raw = None if body is None else body if isinstance(body, bytes) else json.dumps(dict(body)).encode()
        return Req(method, url, self.four.ps_headers(method, url, raw, **kw), raw)

    def send(self, req: Req) -> Answer:
        server = self.four.server
        if self.driver == "core-sync":
            view = RequestView.from_url(req.method, req.url, dict(req.headers), req.body)
            pending = "/token/pending/" in req.url
            reply = server.poll(view, req.url.rsplit("/", 1)[1]) if pending else server.token(view)
            return _answer(reply.status, reply.headers, reply.body)
        client = TestClient(build_access_server_app(server), base_url=server.issuer, raise_server_exceptions=False)
        got = client.request(req.method, req.url, headers=dict(req.headers), content=req.body)
        return _answer(got.status_code, got.headers, got.content)


Step = Callable[[], Answer]


@dataclass(frozen=True)
class ServerAttack:
    """One attack on an -11 server: its steps (the last one is the attack; the ones before it
    set the scene and may succeed), the refusal it must get, and the hosts never to be asked for.

    ``page``: answered by the consent page (HTML, through the app only); ``app_only``: a limit of
    the HTTP app, not run through the core driver; ``consent``: the person server asks its user
    (``RequireConsent``) instead of granting (``AllowAll``); ``check``: more to assert on the answer.
    """

    name: str
    server: str  # "PS" or "AS"
    endpoint: str
    build: Callable[[Any], list[Step | Req] | Req]
    status: int
    code: str
    description: str
    forbidden: tuple[str, ...] = ()
    page: bool = False
    app_only: bool = False
    consent: bool = False
    check: Callable[[Any, Answer], None] | None = None
