"""Every adapter variant serving the conformance routes, each behind one ``send`` function.

A variant is a way a user protects routes: Starlette with the middleware inside the
app or wrapped around it, FastAPI dependencies, Flask decorators or protected
blueprints, Django function views (WSGI and ASGI), class-based views with the
mixin, and DRF permissions.  Path rules and exempt paths come from the same
settings in all of them.  ``handler=True`` installs a custom error handler
``(request, error) -> response`` that answers ``{"handled": code}`` and sets no
headers of its own.

Every builder serves :data:`~.routes.ROUTES` under :data:`~.routes.SETTINGS` unless given
``routes`` / ``settings`` (the aauth-11 table, test_contract_11.py, adds a ``person`` route
and the -11 settings); a route that ran answers what it saw: ``agent`` and ``token_type``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.requests import Request  # at module level: FastAPI resolves endpoint annotations here

from aauth_core.errors import AAuthError
from aauth_core.settings import AAuthSettings

from ..conftest import RESOURCE, World
from .routes import METHODS, ROUTES, SETTINGS, Route

# (status, lower-case headers, body, the route's own code ran)
Result = tuple[int, dict[str, str], bytes, bool]
Send = Callable[[str, str, dict[str, str]], Result]


@dataclass(frozen=True)
class Variant:
    name: str
    build: Callable[..., Send]  # (world, handler, *, routes=ROUTES, settings=SETTINGS) -> Send
    handler: bool = False


def _values(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return SETTINGS if settings is None else settings  # read per call: a test may patch SETTINGS


# ----------------------------------------------------------------------------- Starlette / FastAPI


def _starlette(world: World, handler: bool, *, wrapped: bool = False, fastapi: bool = False,
               other_auth: Any = None, routes: Sequence[Route] = ROUTES,
               settings: Mapping[str, Any] | None = None) -> Send:
    from fastapi import Depends, FastAPI
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from aauth_starlette import AAuthMiddleware, RequireAAuth, aauth_required, get_aauth

    calls: list[str] = []
    resolved = AAuthSettings(**_values(settings))

    def render(request: Request, error: AAuthError) -> Response:
        return JSONResponse({"handled": error.code}, status_code=error.status_code)

    options: dict[str, Any] = dict(keys=[world.resource.key], discovery=world.discovery(resolved),
                                   clock=world.clock, error_handler=render if handler else None)
    if other_auth is not None:
        options["other_auth"] = other_auth

    def endpoint_for(path: str) -> Callable[..., Any]:
        if path == "/exempt/protected":  # a sync endpoint: Starlette runs it in a worker thread
            def sync_endpoint(request: Request) -> Response:
                calls.append(path)
                return JSONResponse({"ran": path})

            return sync_endpoint

        async def endpoint(request: Request) -> Response:
            calls.append(path)
            ctx = get_aauth(request)
            user = request.user.display_name if request.user.is_authenticated and ctx is None else None
            return JSONResponse({"ran": path, "agent": ctx.agent if ctx else None, "user": user,
                                 "token_type": ctx.token_type if ctx else None})

        return endpoint

    if fastapi:
        app: Any = FastAPI(middleware=[Middleware(AAuthMiddleware, settings=resolved, **options)])
        for route in routes:
            deps = [Depends(RequireAAuth(route.decorator))] if route.decorator else []
            app.add_api_route(route.path, endpoint_for(route.path), methods=list(METHODS), dependencies=deps)
    else:
        served = []
        for route in routes:
            endpoint = endpoint_for(route.path)
            if route.decorator:
                endpoint = aauth_required(route.decorator)(endpoint)
            served.append(Route(route.path, endpoint, methods=list(METHODS)))
        if wrapped:
            app = AAuthMiddleware(Starlette(routes=served), settings=resolved, **options)
        else:
            app = Starlette(routes=served, middleware=[Middleware(AAuthMiddleware, settings=resolved, **options)])
    client = TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)

    def send(method: str, path: str, headers: dict[str, str]) -> Result:
        before = len(calls)
        r = client.request(method, path, headers=headers)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, len(calls) > before

    return send


# ----------------------------------------------------------------------------- Flask


def _flask(world: World, handler: bool, *, blueprints: bool = False, routes: Sequence[Route] = ROUTES,
           settings: Mapping[str, Any] | None = None) -> Send:
    from flask import Blueprint, Flask, jsonify
    from flask import Request as FlaskRequest

    from aauth_flask import AAuth, aauth_required, get_current_aauth

    calls: list[str] = []
    app = Flask("conformance")
    app.config.update({f"AAUTH_{k.upper()}": v for k, v in _values(settings).items()})

    def render(request: FlaskRequest, error: AAuthError) -> Any:
        return {"handled": error.code}, error.status_code

    aauth = AAuth(app, keys=[world.resource.key], discovery=world.discovery, clock=world.clock,
                  error_handler=render if handler else None)

    def view_for(path: str) -> Callable[[], Any]:
        def view() -> Any:
            calls.append(path)
            ctx = get_current_aauth()
            return jsonify(ran=path, agent=ctx.agent if ctx else None, token_type=ctx.token_type if ctx else None)

        return view

    for route in routes:
        view = view_for(route.path)
        if route.decorator and blueprints:
            bp = Blueprint(f"bp{len(calls)}{route.path.replace('/', '_')}", __name__)
            bp.add_url_rule(route.path, "view", view, methods=list(METHODS), provide_automatic_options=False)
            app.register_blueprint(aauth.protect_blueprint(bp, route.decorator))
            continue
        if route.decorator:
            view = aauth_required(route.decorator)(view)
        app.add_url_rule(route.path, route.path, view, methods=list(METHODS), provide_automatic_options=False)
    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str]) -> Result:
        before = len(calls)
        r = client.open(path, method=method, headers=headers, base_url=RESOURCE)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data(), len(calls) > before

    return send


# ----------------------------------------------------------------------------- Django


def _django(world: World, handler: bool, *, style: str, is_async: bool = False, routes: Sequence[Route] = ROUTES,
            settings: Mapping[str, Any] | None = None) -> Send:
    from asgiref.sync import async_to_sync
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path
    from django.views import View

    from aauth_django import AAuthRequiredMixin, aauth_required, set_error_handler, set_service_factory

    from ..django.clients import RawPathAsyncClient
    from ..django.conftest import factory_for

    calls: list[str] = []

    def record(route_path: str, request: HttpRequest) -> HttpResponse:
        calls.append(route_path)
        ctx = getattr(request, "aauth", None)
        return JsonResponse({"ran": route_path, "agent": ctx.agent if ctx else None,
                             "token_type": ctx.token_type if ctx else None})

    def function_view(route_path: str, spec: str | None) -> Any:
        if is_async:
            async def aview(request: HttpRequest) -> HttpResponse:
                return record(route_path, request)

            view: Any = aview
        else:
            def sview(request: HttpRequest) -> HttpResponse:
                return record(route_path, request)

            view = sview
        return aauth_required(spec)(view) if spec else view

    def class_view(route_path: str, spec: str | None) -> Any:
        def handle(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return record(route_path, request)

        handlers = {m.lower(): handle for m in METHODS}
        if spec is None:
            return type("Open", (View,), handlers).as_view()
        level, _, scopes = spec.partition(":")
        attrs = {**handlers, "aauth_level": level, "aauth_scopes": scopes}
        return type("Protected", (AAuthRequiredMixin, View), attrs).as_view()

    def drf_view(route_path: str, spec: str | None) -> Any:
        from rest_framework.views import APIView

        from aauth_django.drf import RequiresAAuth

        def handle(self: Any, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
            return record(route_path, request._request)

        attrs: dict[str, Any] = {m.lower(): handle for m in METHODS}
        attrs["permission_classes"] = [RequiresAAuth(spec)] if spec else []
        return type("DRFView", (APIView,), attrs).as_view()

    build = {"function": function_view, "class": class_view, "drf": drf_view}[style]

    class URLConf:
        urlpatterns: ClassVar[list[Any]] = [path(r.path.lstrip("/"), build(r.path, r.decorator)) for r in routes]

    def render(request: HttpRequest, error: AAuthError) -> HttpResponse:
        return JsonResponse({"handled": error.code}, status=error.status_code)

    aauth = {k.upper(): v for k, v in _values(settings).items()}

    def send(method: str, route_path: str, headers: dict[str, str]) -> Result:
        before = len(calls)
        set_service_factory(factory_for(world))  # rebuilt per settings change; the same World
        set_error_handler(render if handler else None)
        try:
            with override_settings(ROOT_URLCONF=URLConf, AAUTH=aauth):
                clear_url_caches()
                if is_async:
                    async def go() -> Any:
                        return await RawPathAsyncClient().generic(method, route_path, headers=headers)

                    r = async_to_sync(go)()
                else:
                    r = Client(raise_request_exception=False).generic(method, route_path, headers=headers)
        finally:
            clear_url_caches()
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, len(calls) > before

    def sends(method: str, route_path: str, headers: dict[str, str]) -> Result:
        try:
            return send(method, route_path, headers)
        finally:
            set_error_handler(None)
            set_service_factory(None)

    return sends


VARIANTS = [
    Variant("starlette", lambda w, h, **kw: _starlette(w, h, **kw)),
    Variant("starlette-wrapped", lambda w, h, **kw: _starlette(w, h, wrapped=True, **kw)),
    Variant("fastapi-depends", lambda w, h, **kw: _starlette(w, h, fastapi=True, **kw)),
    Variant("flask-decorator", lambda w, h, **kw: _flask(w, h, **kw)),
    Variant("flask-blueprint", lambda w, h, **kw: _flask(w, h, blueprints=True, **kw)),
    Variant("django-wsgi-decorator", lambda w, h, **kw: _django(w, h, style="function", **kw)),
    Variant("django-asgi-decorator", lambda w, h, **kw: _django(w, h, style="function", is_async=True, **kw)),
    Variant("django-wsgi-mixin", lambda w, h, **kw: _django(w, h, style="class", **kw)),
    Variant("django-asgi-mixin", lambda w, h, **kw: _django(w, h, style="class", is_async=True, **kw)),
    Variant("django-wsgi-drf", lambda w, h, **kw: _django(w, h, style="drf", **kw)),
    Variant("starlette+handler", lambda w, h, **kw: _starlette(w, h, **kw), handler=True),
    Variant("fastapi+handler", lambda w, h, **kw: _starlette(w, h, fastapi=True, **kw), handler=True),
    Variant("flask+handler", lambda w, h, **kw: _flask(w, h, **kw), handler=True),
    Variant("django-wsgi+handler", lambda w, h, **kw: _django(w, h, style="function", **kw), handler=True),
    Variant("django-drf+handler", lambda w, h, **kw: _django(w, h, style="drf", **kw), handler=True),
]
