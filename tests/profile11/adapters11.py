"""One aauth-11 resource in every framework, for the person- and auth-token adapter tests.

Each builder serves the same routes behind the framework's own adapter, configured in the
framework's own spelling of the settings (keyword arguments to Starlette's middleware,
``AAUTH_*`` keys in Flask's config, ``AAUTH = {...}`` in Django's settings), and answers
with what the route's code saw of the verified request.  Keys, discovery and the clock come
from the test ``World``; the person and access servers are published on its network by
the ``ps_key`` and ``as_key`` fixtures (conftest).

| path | demanded by | requirement |
|---|---|---|
| ``/person`` | the route (decorator, dependency, permission) | ``person`` |
| ``/authorization`` | the route | ``authorization:data.read`` |
| ``/write`` | the route | ``authorization:data.write`` |
| ``/ruled/person`` | the path rule ``/ruled/`` only | ``person`` |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from starlette.requests import Request  # at module level: FastAPI resolves endpoint annotations here

from aauth_core.context import VerifiedRequest
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_core.tokens.mint_11 import mint_auth_token_11, mint_person_token_11

from ..conftest import NOW, RESOURCE, World
from .mint import MISSION, PERSON_SUB, PS

# (status, lower-case headers, body, the route's own code ran)
Result = tuple[int, dict[str, str], bytes, bool]
Send = Callable[..., Result]

DUAL = ("aauth-2026-01", "aauth-11")
PERSON_JTI = "pt-adapters-1"
AUTH_JTI = "at-adapters-1"
#: The route's own requirement: what each adapter's decorator, dependency or permission is given.
DECORATED = {"/person": "person", "/authorization": "authorization:data.read", "/write": "authorization:data.write"}
RULED = "/ruled/person"  # no decorator: the path rule demands a person
PATHS = (*DECORATED, RULED)
#: The settings every app starts from, by :class:`AAuthSettings` field name.
BASE: dict[str, Any] = dict(
    resource_id=RESOURCE, profiles=DUAL, person_servers=(PS,), resource_scopes=("data.read", "data.write"),
    protected_paths={"/ruled/": "person"},
)


def person_token(ps_key: SigningKey, agent_key: SigningKey, *, now: float = NOW, **kw: Any) -> str:
    """An ``aa-person+jwt`` for this resource, minted by the library's own -11 minter."""
    return mint_person_token_11(ps_key, iss=PS, aud=kw.pop("aud", RESOURCE), sub=PERSON_SUB,
                                cnf_jwk=agent_key.public_jwk(), now=now, mission_s256=MISSION, tenant="acme",
                                jti=kw.pop("jti", PERSON_JTI), **kw)


def auth_token(issuer_key: SigningKey, agent_key: SigningKey, *, iss: str = PS, dwk: str | None = None,
               scope: str = "data.read", **kw: Any) -> str:
    """An ``aa-auth+jwt`` granting ``scope`` (three-party from the PS unless ``iss`` says otherwise)."""
    return mint_auth_token_11(issuer_key, iss=iss, dwk=dwk, aud=RESOURCE, ps=PS, sub=PERSON_SUB,
                              cnf_jwk=agent_key.public_jwk(), now=kw.pop("now", NOW), scope=scope,
                              mission_s256=MISSION, tenant="acme", jti=kw.pop("jti", AUTH_JTI), **kw)


def seen(ctx: VerifiedRequest | None, **extra: Any) -> dict[str, Any]:
    """What a route reports of the context it was handed (never the token)."""
    if ctx is None:
        return {"context": None, **extra}
    return {"profile": ctx.profile, "level": ctx.level, "token_type": ctx.token_type, "issuer": ctx.issuer,
            "person": list(ctx.person) if ctx.person is not None else None, "sub": ctx.sub,
            "mission_s256": ctx.mission_s256, "tenant": ctx.tenant, "agent": ctx.agent,
            "scope": sorted(ctx.scope), "key": ctx.key_thumbprint, **extra}


def _merged(config: Mapping[str, Any]) -> dict[str, Any]:
    return {**BASE, **config}


def _lists(value: Any) -> Any:
    """Config files hold lists and dicts, not tuples: spell the values as a user would."""
    return list(value) if isinstance(value, tuple) else value


# ----------------------------------------------------------------------------- Starlette / FastAPI


def starlette(world: World, config: Mapping[str, Any]) -> Send:
    """``Starlette(middleware=[Middleware(AAuthMiddleware, person_servers=[...], ...)])`` and
    ``@aauth_required("person")`` endpoints; the handler also reports ``request.auth.scopes``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

    calls: list[str] = []
    values = _merged(config)
    options: dict[str, Any] = dict(keys=[world.resource.key], discovery=world.discovery(AAuthSettings(**values)),
                                   clock=world.clock)

    def endpoint_for(path: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            calls.append(path)
            return JSONResponse(seen(get_aauth(request), credentials=list(request.auth.scopes)))

        spec = DECORATED.get(path)
        return aauth_required(spec)(endpoint) if spec else endpoint

    routes = [Route(path, endpoint_for(path), methods=["GET", "POST"]) for path in PATHS]
    settings_kwargs = {name: _lists(value) for name, value in values.items()}  # the middleware's keyword arguments
    app = Starlette(routes=routes, middleware=[Middleware(AAuthMiddleware, **options, **settings_kwargs)])
    return _starlette_send(app, calls)


def fastapi(world: World, config: Mapping[str, Any]) -> Send:
    """FastAPI with ``Depends(RequireAAuth("person"))``: the path operation receives the context."""
    from fastapi import Depends, FastAPI
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, Response

    from aauth_starlette import AAuthMiddleware, RequireAAuth, get_aauth

    calls: list[str] = []
    values = _merged(config)
    settings = AAuthSettings(**values)
    app = FastAPI(middleware=[Middleware(AAuthMiddleware, settings=settings, keys=[world.resource.key],
                                         discovery=world.discovery(settings), clock=world.clock)])

    def operation_for(path: str) -> Callable[..., Any]:
        spec = DECORATED.get(path)
        if spec is None:
            async def ruled(request: Request) -> Response:
                calls.append(path)
                return JSONResponse(seen(get_aauth(request)))

            return ruled

        async def operation(ctx: VerifiedRequest = Depends(RequireAAuth(spec))) -> Response:
            calls.append(path)
            return JSONResponse(seen(ctx))

        return operation

    for path in PATHS:
        app.add_api_route(path, operation_for(path), methods=["GET", "POST"])
    return _starlette_send(app, calls)


def _starlette_send(app: Any, calls: list[str]) -> Send:
    from starlette.testclient import TestClient

    client = TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Result:
        before = len(calls)
        r = client.request(method, path, headers=headers, content=body)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, len(calls) > before

    return send


# ----------------------------------------------------------------------------- Flask


def flask(world: World, config: Mapping[str, Any]) -> Send:
    """``app.config["AAUTH_PERSON_SERVERS"] = [...]``, the ``AAuth`` extension and
    ``@aauth_required("person")`` views reading ``current_aauth``."""
    from flask import Flask, jsonify

    from aauth_flask import AAuth, aauth_required
    from aauth_flask.context import get_current_aauth

    calls: list[str] = []
    app = Flask("profile11")
    app.config.update({f"AAUTH_{name.upper()}": _lists(value) for name, value in _merged(config).items()})
    AAuth(app, keys=[world.resource.key], discovery=world.discovery, clock=world.clock)

    def view_for(path: str) -> Callable[[], Any]:
        def view() -> Any:
            calls.append(path)
            return jsonify(seen(get_current_aauth()))

        spec = DECORATED.get(path)
        return aauth_required(spec)(view) if spec else view

    for path in PATHS:
        app.add_url_rule(path, path, view_for(path), methods=["GET", "POST"])
    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Result:
        before = len(calls)
        r = client.open(path, method=method, headers=headers, data=body, base_url=RESOURCE)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data(), len(calls) > before

    return send


# ----------------------------------------------------------------------------- Django


def django(world: World, config: Mapping[str, Any], *, style: str = "function", is_async: bool = False) -> Send:
    """``AAUTH = {"person_servers": [...], ...}``, ``AAuthMiddleware`` and ``@aauth_required("person")``
    function views (WSGI, or ASGI with async views), or DRF views with ``RequiresAAuth("person")``."""
    from asgiref.sync import async_to_sync
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, include, path

    from aauth_django import aauth_required, set_service_factory

    from ..django.clients import RawPathAsyncClient
    from ..django.conftest import factory_for

    calls: list[str] = []

    def record(route: str, ctx: VerifiedRequest | None) -> HttpResponse:
        calls.append(route)
        return JsonResponse(seen(ctx))

    def function_view(route: str, spec: str | None) -> Any:
        if is_async:
            async def aview(request: HttpRequest) -> HttpResponse:
                return record(route, getattr(request, "aauth", None))

            view: Any = aview
        else:
            def sview(request: HttpRequest) -> HttpResponse:
                return record(route, getattr(request, "aauth", None))

            view = sview
        return aauth_required(spec)(view) if spec else view

    def drf_view(route: str, spec: str | None) -> Any:
        from rest_framework.views import APIView

        from aauth_django.drf import RequiresAAuth

        def handle(self: Any, request: Any) -> HttpResponse:
            return record(route, request.auth)  # AAuthAuthentication's context

        attrs: dict[str, Any] = {"get": handle, "post": handle}
        attrs["permission_classes"] = [RequiresAAuth(spec)] if spec else []
        return type("PersonView", (APIView,), attrs).as_view()

    build = drf_view if style == "drf" else function_view

    class URLConf:
        urlpatterns: ClassVar[list[Any]] = [
            path("", include("aauth_django.urls")),
            *(path(p.lstrip("/"), build(p, DECORATED.get(p))) for p in PATHS),
        ]

    aauth = {name: _lists(value) for name, value in _merged(config).items()}  # settings.AAUTH, lower-case keys

    def send(method: str, route: str, headers: dict[str, str], body: bytes | None = None) -> Result:
        before = len(calls)
        kwargs: dict[str, Any] = {"headers": headers, "data": body or b""}
        if body and "Content-Type" in headers:
            kwargs["content_type"] = headers["Content-Type"]
        set_service_factory(factory_for(world))
        try:
            with override_settings(ROOT_URLCONF=URLConf, AAUTH=aauth):
                clear_url_caches()
                if is_async:
                    async def go() -> Any:
                        return await RawPathAsyncClient().generic(method, route, **kwargs)

                    r = async_to_sync(go)()
                else:
                    r = Client(raise_request_exception=False).generic(method, route, **kwargs)
        finally:
            clear_url_caches()
            set_service_factory(None)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, len(calls) > before

    return send


BUILDERS: dict[str, Callable[[World, Mapping[str, Any]], Send]] = {
    "starlette": starlette,
    "fastapi": fastapi,
    "flask": flask,
    "django-wsgi": lambda w, c: django(w, c),
    "django-asgi": lambda w, c: django(w, c, is_async=True),
    "django-drf": lambda w, c: django(w, c, style="drf"),
}

__all__ = ["AUTH_JTI", "BASE", "BUILDERS", "DECORATED", "DUAL", "PATHS", "PERSON_JTI", "RULED", "Result", "Send",
           "auth_token", "person_token", "seen"]
