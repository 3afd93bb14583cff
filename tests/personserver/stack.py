"""An aauth-11 system in-process: our agent provider, our person server (the Starlette app),
our resource (the Starlette middleware) and our agent client, all reached through one
transport that hands each request to the app serving its host.  Real keys, real signatures,
real tokens; the clock is frozen, and every wait advances it (nothing sleeps)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from aauth_core.authserver import MemoryUserStore, Policy
from aauth_core.authserver.store import AuthServerStore
from aauth_core.client import AgentProvider, ClientOptions, PollingOptions, agent_auth_11
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.personserver import PersonServer, PersonServerConfig
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth
from aauth_starlette.personserver import build_person_server_app

from ..conftest import PUBLIC_IP, FrozenClock

AP = "https://ap.example"
PS = "https://ps.example"
RESOURCE = "https://api.example"
AGENT = "aauth:assistant@ap.example"
SECRET = b"s" * 32


def resolver(host: str) -> list[str]:
    return [PUBLIC_IP]


class Hosts(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sync and async httpx transport: each request goes to the ASGI app of its host."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.seen: list[tuple[str, str]] = []
        #: Every answer: (method, url, response), to read the tokens and headers that crossed the wire.
        self.answers: list[tuple[str, str, Any]] = []
        #: Hosts that are down: a connection error, as for a host nobody serves.
        self.down: set[str] = set()

    def asgi(self, host: str, app: Any) -> None:
        self.clients[host] = TestClient(app, base_url=f"https://{host}")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._forward(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._forward(request, await request.aread())

    def _forward(self, request: httpx.Request, body: bytes) -> httpx.Response:
        self.seen.append((request.method, str(request.url)))
        client = self.clients.get(request.url.host)
        if client is None or request.url.host in self.down:
            raise httpx.ConnectError(f"nobody answers at {request.url.host}", request=request)
        answer = client.request(request.method, str(request.url), headers=request.headers.multi_items(),
                                content=body, follow_redirects=False)
        self.answers.append((request.method, str(request.url), answer))
        return httpx.Response(answer.status_code, headers=answer.headers.multi_items(), content=answer.content)


@aauth_required("authorization", scopes=["data.read"])
async def data(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({"person": ctx.sub, "token": ctx.token_type, "scope": sorted(ctx.scope),
                         "mission": ctx.mission_s256})


@aauth_required("person")
async def whoami(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({"person": list(ctx.person or ()), "token": ctx.token_type})


@dataclass
class Stack:
    clock: FrozenClock
    net: Hosts
    provider: AgentProvider
    ps: PersonServer
    ps_app: Starlette
    resource_key: SigningKey
    agent_key: SigningKey = field(default_factory=SigningKey.generate)
    waits: list[float] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    #: Called each time the person server holds a ``Prefer: wait`` poll (the user acting meanwhile).
    on_ps_wait: Callable[[], None] | None = None

    def discovery(self, settings: AAuthSettings) -> Discovery:
        return Discovery(settings, transport=self.net, async_transport=self.net, clock=self.clock, resolver=resolver)

    def agent_token(self, key: SigningKey | None = None, *, local: str = "assistant", ps: str = PS) -> str:
        return self.provider.issue_agent_token(local, (key or self.agent_key).public_jwk(), ps=ps)

    def polling(self, **kw: Any) -> PollingOptions:
        def sleep(seconds: float) -> None:
            self.waits.append(seconds)
            self.clock.advance(seconds)

        async def asleep(seconds: float) -> None:
            sleep(seconds)

        return PollingOptions(sleep=sleep, asleep=asleep, **kw)

    def auth(self, *, interaction: Callable[[str], None] | None = None, key: SigningKey | None = None,
             token: str | None = None, **kw: Any) -> Any:
        return agent_auth_11(token or self.agent_token(key), key or self.agent_key,
                             options=ClientOptions(clock=self.clock, resolver=resolver),
                             polling=kw.pop("polling", None) or self.polling(), interaction=interaction, **kw)

    def client(self, auth: Any) -> Any:
        return auth.client(transport=self.net)

    def browser(self) -> TestClient:
        """The user's browser at the person server (its own cookie jar)."""
        return TestClient(self.ps_app, base_url=PS)


def make_stack(clock: FrozenClock, *, policy: Policy | None = None, store: AuthServerStore | None = None,
               agents: dict[str, str] | None = None, claims: Any = None, chain_scopes: Any = None,
               **config: Any) -> Stack:
    net = Hosts()
    provider = AgentProvider(AP, [SigningKey.generate(kid="ap-1")], clock=clock)
    net.asgi("ap.example", provider.asgi_app())
    stack_box: list[Stack] = []

    def ps_sleep(seconds: float) -> None:
        stack = stack_box[0]
        stack.waits.append(seconds)
        clock.advance(seconds)
        if stack.on_ps_wait is not None:
            stack.on_ps_wait()

    async def ps_asleep(seconds: float) -> None:
        ps_sleep(seconds)

    ps_config = PersonServerConfig(issuer=PS, keys=[SigningKey.generate(kid="ps-1")], subject_secret=SECRET,
                                   agents=agents if agents is not None else {AGENT: "alice"}, **config)
    settings = ps_config.service_settings()
    discovery = Discovery(settings, transport=net, async_transport=net, clock=clock, resolver=resolver)
    ps = PersonServer(ps_config, policy=policy, store=store, users=MemoryUserStore({"alice": "wonderland",
                                                                                    "bob": "builder"}),
                      discovery=discovery, clock=clock, sleep=ps_sleep, asleep=ps_asleep, transport=net,
                      async_transport=net, resolver=resolver, claims=claims, chain_scopes=chain_scopes)
    ps_app = build_person_server_app(ps)
    net.asgi("ps.example", ps_app)
    resource_key = SigningKey.generate(kid="api-1")
    rs_settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), person_servers=(PS,),
                                resource_scopes=("data.read",))
    rs_discovery = Discovery(rs_settings, transport=net, async_transport=net, clock=clock, resolver=resolver)
    net.asgi("api.example", AAuthMiddleware(Starlette(routes=[Route("/data", data), Route("/whoami", whoami)]),
                                            settings=rs_settings, keys=[resource_key], discovery=rs_discovery,
                                            clock=clock))
    stack = Stack(clock, net, provider, ps, ps_app, resource_key)
    stack_box.append(stack)
    return stack


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, page
    return found.group(1)


def approve(browser: TestClient, url: str, *, user: str = "alice", password: str = "wonderland",
            action: str = "approve") -> Any:
    """What the user does with the link: open it, sign in, approve (or deny)."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    if 'id="login-form"' in page.text:
        code = re.search(r'name="code" value="([^"]+)"', page.text)
        assert code is not None
        page = browser.post("/interaction", data={"action": "login", "csrf_token": csrf(page.text),
                                                  "code": code.group(1), "username": user, "password": password})
        assert page.status_code in (200, 401), page.text
        if page.status_code == 401:
            return page
    code = re.search(r'name="code" value="([^"]+)"', page.text)
    assert code is not None
    return browser.post("/interaction", data={"action": action, "csrf_token": csrf(page.text),
                                              "code": code.group(1)})
