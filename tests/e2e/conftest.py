"""End-to-end fixtures: every party is a real uvicorn server on a free 127.0.0.1 port.

Parties are built from the library directly (``AuthServer`` + ``build_auth_server_app``,
``AAuthMiddleware`` + ``ResourceAgent``, ``AgentServer``) so each test can configure
them: policy, trusted upstreams, lifetimes, a clock it can advance.  They find each
other's keys and metadata over real HTTP on loopback (``allow_insecure_loopback``,
the development switch), exactly as deployed parties would.  Nothing but
127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aauth_core import dialect
from aauth_core.authserver import (
    AllowAll,
    AuthServer,
    AuthServerConfig,
    Lifetimes,
    MemoryUserStore,
    Policy,
    RequireConsent,
)
from aauth_core.client import (
    AgentServer,
    ClientOptions,
    InteractionHandler,
    RequestSigner,
    ResourceAgent,
    TokenCache,
    agent_auth,
    encode_form,
)
from aauth_core.errors import AAuthError
from aauth_core.headers import parse_agent_auth
from aauth_core.keys import SigningKey
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware, requires_aauth
from aauth_starlette.authserver import build_auth_server_app

__all__ = [
    "AgentParty",
    "AuthServerParty",
    "Clock",
    "Loopback",
    "Parties",
    "ResourceParty",
    "TokenCounter",
    "USER",
]

pytestmark = pytest.mark.e2e

#: The consent flows' user (the sample auth server's scripted user).
USER = ("testuser", "testpass")
SCOPES = ("data.read", "data.write")
_START_TIMEOUT = 10.0


# ----------------------------------------------------------------------------- time


@dataclass
class Clock:
    """Real time plus an offset the test can advance; shared by parties and client."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


# ----------------------------------------------------------------------------- servers


class Loopback:
    """Real ``uvicorn.Server`` instances in background threads on 127.0.0.1.

    :meth:`reserve` binds a socket on port 0 first (no port race), so a party knows
    its own URL before its app is built; :meth:`serve` starts uvicorn on that socket.
    """

    def __init__(self) -> None:
        self._sockets: dict[str, socket.socket] = {}
        self._running: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def reserve(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._sockets[url] = sock
        return url

    def serve(self, url: str, app: ASGIApp) -> None:
        sock = self._sockets.pop(url)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                  name=f"uvicorn {url}")
        thread.start()
        self._running.append((server, thread, sock))
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {url}")
            time.sleep(0.005)

    def close(self) -> None:
        for server, _, _ in self._running:
            server.should_exit = True
        for _, thread, sock in self._running:
            thread.join(_START_TIMEOUT)
            sock.close()
        for sock in self._sockets.values():
            sock.close()
        self._running.clear()
        self._sockets.clear()


class TokenCounter:
    """ASGI middleware recording every token-endpoint call: ``(request_type, status)``."""

    def __init__(self, app: ASGIApp, path: str = "/agent/token") -> None:
        self.app = app
        self.path = path
        self.calls: list[tuple[str | None, int | None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body: list[bytes] = []

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # recorded before the response leaves, so a test never looks too early
                form = parse_qs(b"".join(body).decode("utf-8", "replace"))
                request_type = form.get("request_type", [])
                self.calls.append((request_type[0] if request_type else None, message["status"]))
            await send(message)

        await self.app(scope, counting_receive, counting_send)

    @property
    def types(self) -> list[str | None]:
        return [t for t, _ in self.calls]

    def __len__(self) -> int:
        return len(self.calls)


# ----------------------------------------------------------------------------- parties


@dataclass
class AgentParty:
    """An agent server: publishes ``aauth-agent`` metadata (with ``redirect_uris``) and its JWKS."""

    url: str
    keys: list[SigningKey]
    server: AgentServer
    callbacks: list[dict[str, list[str]]] = field(default_factory=list)

    @property
    def key(self) -> SigningKey:
        return self.keys[0]

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    def signer(self, key: SigningKey | None = None) -> RequestSigner:
        return RequestSigner.jwks(key or self.key, self.url)


@dataclass
class AuthServerParty:
    url: str
    server: AuthServer
    counter: TokenCounter

    @property
    def token_endpoint(self) -> str:
        return f"{self.url}/agent/token"


@dataclass
class ResourceParty:
    url: str
    key: SigningKey
    auth_server: str
    downstream: str | None
    agent: ResourceAgent

    def signer(self) -> RequestSigner:
        """The resource acting as an agent (``scheme=jwks``, ``well-known="aauth-resource"``)."""
        return self.agent.signer


def _agent_app(party: AgentParty) -> Starlette:
    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(party.server.metadata())

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(party.server.jwks())

    async def callback(request: Request) -> HTMLResponse:
        party.callbacks.append(parse_qs(request.url.query))
        return HTMLResponse("<!doctype html><title>Agent callback</title><p id=done>agent received the callback")

    return Starlette(routes=[
        Route(f"/.well-known/{dialect.WELL_KNOWN_AGENT}", metadata),
        Route("/jwks.json", jwks),
        Route("/callback", callback),
    ])


def _json(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _resource_app(party: ResourceParty, service: AAuthService) -> ASGIApp:
    @requires_aauth("identity")
    async def data_jwks(request: Request) -> Response:
        return _json(request.scope["aauth"].to_dict())

    @requires_aauth("authorization")
    async def data_auth(request: Request) -> Response:
        return _json(request.scope["aauth"].to_dict())

    @requires_aauth("authorization")
    async def aggregate(request: Request) -> Response:
        """Call the downstream resource on behalf of the caller (token exchange)."""
        ctx = request.scope["aauth"]
        assert party.downstream is not None
        try:
            async with party.agent.async_client(ctx, timeout=30.0, trust_env=False) as client:
                response = await client.get(party.downstream)
        except AAuthError as exc:  # the exchange was refused: say which code, as a gateway error
            return _json({"error": exc.code, "resource": party.url}, 502)
        return _json({"resource": party.url, "upstream": ctx.to_dict(), "downstream_status": response.status_code,
                      "downstream": response.json()}, 200 if response.status_code == 200 else 502)

    app = Starlette(routes=[
        Route("/data-jwks", data_jwks, methods=["GET", "POST"]),
        Route("/data-auth", data_auth, methods=["GET", "POST"]),
        Route("/aggregate", aggregate),
    ])
    return AAuthMiddleware(app, service=service)


class ExchangeChain(NamedTuple):
    agent: AgentParty
    as1: AuthServerParty
    as2: AuthServerParty
    r1: ResourceParty
    r2: ResourceParty


class Parties:
    """Builds and serves the parties of one test; all share one :class:`Clock`."""

    def __init__(self, loopback: Loopback, clock: Clock) -> None:
        self.loopback = loopback
        self.clock = clock
        self._users: MemoryUserStore | None = None

    @property
    def users(self) -> MemoryUserStore:
        if self._users is None:  # scrypt is deliberately slow: only when a consent flow needs it
            self._users = MemoryUserStore({USER[0]: USER[1]}, names={USER[0]: "Test User"})
        return self._users

    def agent(self, *, keys: int = 1, redirect_uris: Sequence[str] | None = None) -> AgentParty:
        url = self.loopback.reserve()
        signing = [SigningKey.generate(kid=f"agent-key-{i + 1}") for i in range(keys)]
        uris = list(redirect_uris) if redirect_uris is not None else [f"{url}/callback"]
        server = AgentServer(url, signing, clock=self.clock,
                             metadata_extra={"name": "E2E Agent", "redirect_uris": uris})
        party = AgentParty(url, signing, server)
        self.loopback.serve(url, _agent_app(party))
        return party

    def auth_server(
        self,
        *,
        policy: Policy | None = None,
        trust: Sequence[str] = (),
        lifetimes: Lifetimes | None = None,
    ) -> AuthServerParty:
        url = self.loopback.reserve()
        config = AuthServerConfig(issuer=url, keys=[SigningKey.generate(kid="as-key-1")],
                                  trusted_upstreams=tuple(trust), lifetimes=lifetimes or Lifetimes(),
                                  allow_insecure_loopback=True)
        server = AuthServer(config, policy=policy if policy is not None else AllowAll(), users=self.users
                            if isinstance(policy, RequireConsent) else None, clock=self.clock)
        counter = TokenCounter(build_auth_server_app(server))
        self.loopback.serve(url, counter)
        return AuthServerParty(url, server, counter)

    def consent_auth_server(self, *, lifetimes: Lifetimes | None = None) -> AuthServerParty:
        return self.auth_server(policy=RequireConsent(), lifetimes=lifetimes)

    def resource(self, auth_server: AuthServerParty, *, downstream: str | None = None) -> ResourceParty:
        url = self.loopback.reserve()
        key = SigningKey.generate(kid="resource-key-1")
        settings = AAuthSettings(resource_id=url, auth_server=auth_server.url, trusted_issuers=(auth_server.url,),
                                 resource_scopes=SCOPES, allow_insecure_loopback=True)
        service = AAuthService(settings, keys=[key], clock=self.clock)
        agent = ResourceAgent(url, [key], options=self.options(), cache=TokenCache())
        party = ResourceParty(url, key, auth_server.url, downstream, agent)
        self.loopback.serve(url, _resource_app(party, service))
        return party

    def exchange_chain(self) -> ExchangeChain:
        """The transcript's five parties: Agent 1; AS1; AS2 trusting AS1; Resource 2 under AS2;
        Resource 1 under AS1, calling Resource 2's ``/data-auth`` downstream."""
        agent = self.agent()
        as1 = self.auth_server()
        as2 = self.auth_server(trust=[as1.url])
        r2 = self.resource(as2)
        r1 = self.resource(as1, downstream=f"{r2.url}/data-auth")
        return ExchangeChain(agent, as1, as2, r1, r2)

    def options(self, **overrides: Any) -> ClientOptions:
        values: dict[str, Any] = {"allow_insecure_loopback": True, "clock": self.clock}
        values.update(overrides)
        return ClientOptions(**values)

    def client(
        self,
        signer: RequestSigner,
        *,
        interaction: InteractionHandler | None = None,
        cache: TokenCache | None = None,
        options: ClientOptions | None = None,
    ) -> httpx.Client:
        """The real agent client: signs, answers challenges, caches and refreshes tokens."""
        auth = agent_auth(signer, options=options or self.options(), interaction=interaction, cache=cache)
        client: httpx.Client = auth.client(timeout=30.0, trust_env=False)
        return client

    # ------------------------------------------------------------------ hand-made requests (for refusals)

    def signed(
        self,
        signer: RequestSigner,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        created: int | None = None,
    ) -> tuple[dict[str, str], bytes | None]:
        """Headers of ``method url`` signed by ``signer`` (the real signer), ready for httpx.

        Always with a random ``nonce``: Ed25519 is deterministic, so without one a
        hand-made request identical to one the client sends in the same second (same
        key, same resource token, same form) would be a replay of it.
        """
        base = dict(headers or {})
        when = int(self.clock()) if created is None else created
        signed = signer.sign(method, url, base, body, created=when, nonce=secrets.token_urlsafe(12))
        return {**base, **signed.headers}, body

    def send(self, signer: RequestSigner, method: str, url: str, *, body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> httpx.Response:
        all_headers, content = self.signed(signer, method, url, body=body, headers=headers)
        with httpx.Client(timeout=30.0, trust_env=False) as client:
            return client.request(method, url, headers=all_headers, content=content)

    def token_request(self, signer: RequestSigner, auth_server: AuthServerParty,
                      form: Sequence[tuple[str, str]]) -> httpx.Response:
        """A POST to the token endpoint, signed by ``signer``, sent as is."""
        return self.send(signer, "POST", auth_server.token_endpoint, body=encode_form(form),
                         headers={"Content-Type": dialect.FORM_CONTENT_TYPE})

    def resource_token(self, signer: RequestSigner, url: str) -> str:
        """Ask ``url`` without a token; return the resource token of its ``auth-token`` challenge."""
        response = self.send(signer, "GET", url)
        assert response.status_code == 401, response.text
        challenge = parse_agent_auth(response.headers[dialect.CHALLENGE_HEADER])
        assert challenge.resource_token, response.headers[dialect.CHALLENGE_HEADER]
        return challenge.resource_token

    def auth_token(self, agent: AgentParty, auth_server: AuthServerParty, resource_url: str) -> str:
        """An auth token for ``agent`` at ``resource_url``, obtained autonomously over the wire."""
        rt = self.resource_token(agent.signer(), resource_url)
        response = self.token_request(agent.signer(), auth_server, [
            ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", agent.redirect_uri)])
        assert response.status_code == 200, response.text
        token: str = response.json()["auth_token"]
        return token


def consent_over_http(consent_url: str, user: tuple[str, str] = USER, *, action: str = "approve") -> str:
    """Play the user with plain HTTP against the real consent pages: log in, approve.

    Returns the ``Location`` the auth server redirects the browser to (the agent's
    callback with ``code``), without following it.
    """
    with httpx.Client(timeout=30.0, trust_env=False, follow_redirects=False) as browser:
        page = browser.get(consent_url)
        assert page.status_code == 200, page.text
        form = _hidden_fields(page.text)
        login = browser.post(_action_url(consent_url), data={**form, "action": "login", "username": user[0],
                                                             "password": user[1]})
        assert login.status_code == 303, login.text
        page = browser.get(httpx.URL(consent_url).join(login.headers["location"]))
        assert page.status_code == 200 and 'id="consent-form"' in page.text, page.text
        decided = browser.post(_action_url(consent_url), data={**_hidden_fields(page.text), "action": action})
        assert decided.status_code == 303, decided.text
        location: str = decided.headers["location"]
        return location


def _action_url(consent_url: str) -> str:
    return str(httpx.URL(consent_url).copy_with(query=None))


def _hidden_fields(page: str) -> dict[str, str]:
    import html
    import re

    fields = {}
    for name, value in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page):
        if name != "action":
            fields[name] = html.unescape(value)
    return fields


def interaction_over_http(calls: list[str]) -> Callable[[str], str]:
    """An interaction handler that approves through the real consent pages over HTTP."""

    def handler(url: str) -> str:
        calls.append(url)
        return consent_over_http(url)

    return handler


def error_of(response: httpx.Response) -> tuple[int, str | None]:
    """``(status, JSON error code)`` of a refusal."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None
    return response.status_code, body.get("error") if isinstance(body, dict) else None


def form_url(base: str, **params: str) -> str:
    return f"{base}?{urlencode(params)}"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def clock() -> Clock:  # overrides the FrozenClock of tests/conftest.py: these servers are real
    return Clock()


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    servers = Loopback()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def parties(loopback: Loopback, clock: Clock) -> Parties:
    return Parties(loopback, clock)
