"""Our real aauth-11 resource and our real -11 client, for the live rows (docs/interop.md).

The resource is :class:`AAuthService` behind each framework's own adapter, configured in that
framework's own spelling, served on its 127.0.0.1 socket (``live11.live_world``'s ``ours``) so the
peers can fetch its ``aauth-resource.json`` and JWKS:

* Starlette: ``AAuthMiddleware`` and ``@aauth_required(...)`` endpoints, under uvicorn;
* Flask: the ``AAuth`` extension (``AAUTH_*`` config) and ``@aauth_required(...)`` views, under
  werkzeug's threaded WSGI server;
* Django: ``settings.AAUTH``, ``AAuthMiddleware`` and ``@aauth_required(...)`` views, Django's own
  ``WSGIHandler`` under werkzeug's server (settings overridden for as long as it serves).

Its discovery (the agent provider's, person server's and access server's documents) goes
through the loopback host table (``LoopbackNet.transport()``), with a resolver that answers a
public address so the SSRF guard passes without DNS; nothing leaves 127.0.0.1.  Every route
answers with what the route's code saw of the verified request (:func:`seen`), never a token.

The client is :func:`agent_auth_11` through :meth:`AgentProvider.agent_auth`, on an httpx client
over the same host table; :class:`Recorder` keeps what it sent, so a test can read the
signature parameters of each request.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from aauth_core.client import ClientOptions, PollingOptions
from aauth_core.client.signer import SignerOptions
from aauth_core.context import VerifiedRequest
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey, b64url_decode, b64url_encode
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.wire.signature_key import parse_signature_key

from .live11 import PS_ID, SCOPE, LiveWorld, said
from .peer_servers import LoopbackNet, recorded, recorded_wsgi, serve_ours, serve_wsgi_ours

Adapter = Literal["starlette", "flask", "django"]
DiscoveryFactory = Callable[[AAuthSettings], Discovery]

PUBLIC_IP = "93.184.216.34"  # what our SSRF guard is told the identifiers resolve to (never dialled)
#: The routes of our resource, each at a requirement its own decorator demands.
ROUTES = {"/whoami": "identity", "/data": f"authorization:{SCOPE}"}


def public(host: str) -> list[str]:
    """The resolver our SSRF guards get: every identifier host is public; the loopback table routes it."""
    return [PUBLIC_IP]


def loopback_discovery(net: LoopbackNet, settings: AAuthSettings) -> Discovery:
    return Discovery(settings, transport=net.transport(), async_transport=net.transport(), resolver=public)


@dataclass(frozen=True)
class OurResource11:
    """``resource_id`` served by ``adapter``: dual-stack, trusting introspection-aauth's person
    server, and with ``access_server`` its own access server (four-party)."""

    resource_id: str
    adapter: Adapter = "starlette"
    access_server: str | None = None
    key: SigningKey = field(default_factory=lambda: SigningKey.generate(kid="rs-key-1"))

    def values(self) -> dict[str, Any]:
        """The settings, by :class:`AAuthSettings` field name."""
        return dict(resource_id=self.resource_id, profiles=("aauth-2026-01", "aauth-11"), person_servers=(PS_ID,),
                    access_server=self.access_server, resource_scopes=(SCOPE,),
                    resource_scope_descriptions={SCOPE: "Read your documents"})

    @property
    def wsgi(self) -> bool:
        """Flask and Django are served as WSGI apps, Starlette as an ASGI app."""
        return self.adapter != "starlette"

    @contextmanager
    def serve(self, net: LoopbackNet, sock: socket.socket, fetched: list[str]) -> Iterator[int]:
        """Serve on ``sock`` (``live_world``'s ``ours``), discovery on the loopback host table,
        recording each URL fetched from it in ``fetched``; the port."""
        with self.app(lambda settings: loopback_discovery(net, settings)) as app:
            if self.wsgi:
                with serve_wsgi_ours(recorded_wsgi(app, fetched), sock) as port:
                    yield port
            else:
                with serve_ours(recorded(app, fetched), sock) as port:
                    yield port

    def app(self, discovery: DiscoveryFactory) -> AbstractContextManager[Any]:
        """The app (WSGI or ASGI, see :attr:`wsgi`), its discovery built by ``discovery``."""
        return _BUILDERS[self.adapter](self, discovery)


def seen(ctx: VerifiedRequest | None) -> dict[str, Any]:
    """What a route reports of the request it was handed (never the token)."""
    if ctx is None:
        return {"context": None}
    return {"profile": ctx.profile, "token_type": ctx.token_type, "issuer": ctx.issuer, "agent": ctx.agent,
            "agent_provider": ctx.agent_provider, "person": list(ctx.person) if ctx.person else None,
            "sub": ctx.sub, "scope": sorted(ctx.scope), "tenant": ctx.tenant, "mission_s256": ctx.mission_s256,
            "key": ctx.key_thumbprint}


def _config_value(value: Any) -> Any:
    """Config files hold lists, not tuples: spell the values as a user would."""
    return list(value) if isinstance(value, tuple) else value


@contextmanager
def _starlette(resource: OurResource11, discovery: DiscoveryFactory) -> Iterator[Any]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

    def endpoint(spec: str) -> Any:
        @aauth_required(spec)
        async def route(request: Request) -> JSONResponse:
            return JSONResponse(seen(get_aauth(request)))

        return route

    settings = AAuthSettings(**resource.values())
    app = Starlette(routes=[Route(path, endpoint(spec), methods=["GET", "POST"]) for path, spec in ROUTES.items()])
    yield AAuthMiddleware(app, settings=settings, keys=[resource.key], discovery=discovery(settings))


@contextmanager
def _flask(resource: OurResource11, discovery: DiscoveryFactory) -> Iterator[Any]:
    from flask import Flask, jsonify

    from aauth_flask import AAuth, aauth_required, get_current_aauth

    app = Flask("interop11")
    app.config.update({f"AAUTH_{name.upper()}": _config_value(value) for name, value in resource.values().items()})
    AAuth(app, keys=[resource.key], discovery=discovery)

    def view(path: str, spec: str) -> Any:
        @aauth_required(spec)
        def route() -> Any:
            return jsonify(seen(get_current_aauth()))

        route.__name__ = path.strip("/")
        return route

    for path, spec in ROUTES.items():
        app.add_url_rule(path, view_func=view(path, spec), methods=["GET", "POST"])
    yield app


@contextmanager
def _django(resource: OurResource11, discovery: DiscoveryFactory) -> Iterator[Any]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, JsonResponse
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, include, path

    from aauth_django import aauth_required, set_service_factory

    def view(spec: str) -> Any:
        @aauth_required(spec)
        def route(request: HttpRequest) -> JsonResponse:
            return JsonResponse(seen(getattr(request, "aauth", None)))

        return route

    class URLConf:
        urlpatterns: ClassVar[list[Any]] = [path("", include("aauth_django.urls")),
                                            *(path(p.lstrip("/"), view(spec)) for p, spec in ROUTES.items())]

    def service(settings: AAuthSettings) -> AAuthService:
        return AAuthService(settings, keys=[resource.key], discovery=discovery(settings))

    aauth = {name: _config_value(value) for name, value in resource.values().items()}
    host = resource.resource_id.removeprefix("https://")
    set_service_factory(service)
    try:
        with override_settings(ROOT_URLCONF=URLConf, AAUTH=aauth, ALLOWED_HOSTS=[host]):
            clear_url_caches()
            yield WSGIHandler()
    finally:
        clear_url_caches()
        set_service_factory(None)


_BUILDERS: Mapping[Adapter, Callable[[OurResource11, DiscoveryFactory], AbstractContextManager[Any]]] = {
    "starlette": _starlette, "flask": _flask, "django": _django}


# ---------------------------------------------------------------------------------- our client


@dataclass(frozen=True)
class Exchange:
    """One request as our client sent it, and the answer's status and headers (never a body)."""

    method: str
    url: str
    headers: Mapping[str, str]
    status: int
    answer: Mapping[str, str]


class Recorder(httpx.BaseTransport):
    """The loopback transport, keeping every exchange our client had (headers only)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.exchanges.append(Exchange(request.method, str(request.url), dict(request.headers),
                                       response.status_code, dict(response.headers)))
        return response

    def close(self) -> None:
        self.inner.close()

    def to(self, url: str) -> list[Exchange]:
        """Every exchange with ``url`` (its query ignored), in order."""
        return [exchange for exchange in self.exchanges if exchange.url.split("?")[0] == url]


def polling() -> PollingOptions:
    """The peers answer ``Retry-After: 1``; never wait longer than that."""
    return PollingOptions(max_interval=1.0, max_polls=20)


def our_client(world: LiveWorld, key: SigningKey, *, encoding: Literal["base64", "base64url"] = "base64",
               mission_s256: str | None = None, clock: Callable[[], float] | None = None,
               ps: str | None = PS_ID, base64url_hosts: Iterable[str] = ()) -> tuple[httpx.Client, Recorder]:
    """Our -11 agent ``assistant`` (``key``, an agent token from our agent provider naming
    ``ps``): ``agent_auth_11`` on an httpx client over the loopback table.  ``encoding``: the
    client's ``signature_encoding`` switch; ``base64url_hosts``: the same switch for those
    hosts only (``SignerOptions.aauth_11(base64url_origins=...)``).  The recorder keeps what our
    client sent."""
    options = ClientOptions(resolver=public, clock=clock or time.time)
    auth = world.ap.agent_auth("assistant", key, ps=ps, options=options, polling=polling(),
                               mission_s256=mission_s256,
                               signer_options=SignerOptions.aauth_11(
                                   signature_encoding=encoding,
                                   base64url_origins=[f"https://{host}" for host in base64url_hosts]))
    recorder = Recorder(world.net.transport())
    return auth.client(transport=recorder, timeout=30), recorder


def signature_params(headers: Mapping[str, str]) -> str:
    """The Signature-Input parameters (after the covered components) of a sent request."""
    return headers["signature-input"].split(")", 1)[1]


def propose_mission(world: LiveWorld, key: SigningKey, resources: list[str]) -> dict[str, Any]:
    """Our signed client proposes a mission to introspection-aauth's person server, naming alice
    (which binds ``key`` to her); the client polls the 202 ``requirement=approval`` itself until
    the driver's approval (test policy) settles it.  The approved mission."""
    client, sent = our_client(world, key)
    with client:
        answer = client.post(world.ps_metadata()["mission_endpoint"],
                             json={"description": "# Read my documents", "resources": resources,
                                   "login_hint": "alice"})
    assert answer.status_code == 200, said(answer)
    first = sent.exchanges[0]
    assert first.status == 202 and first.answer["aauth-requirement"] == "requirement=approval"
    approved: dict[str, Any] = answer.json()
    assert approved["s256"] == b64url_encode(hashlib.sha256(b64url_decode(approved["mission"])).digest())
    return approved


def presented(exchange: Exchange) -> str:
    """The ``typ`` of the token a sent request presented in its Signature-Key."""
    token = parse_signature_key(exchange.headers["signature-key"]).jwt
    assert token is not None
    return str(peek(token).typ)
