"""The scenario routes as a Starlette app (decorator style) and a FastAPI app (Depends style)."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.context import VerifiedRequest
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuth, AAuthMiddleware, get_aauth, requires_aauth

from ..conftest import ISSUER, RESOURCE, World
from ..scenarios import ROUTES


def resource_settings(**overrides: Any) -> AAuthSettings:
    values: dict[str, Any] = dict(resource_id=RESOURCE, auth_server=ISSUER, trusted_issuers=(ISSUER,),
                                  resource_scopes=("data.read", "data.write"))
    values.update(overrides)
    return AAuthSettings(**values)


def aauth_middleware(world: World, settings: AAuthSettings | None = None, **kwargs: Any) -> Middleware:
    """The middleware wired to the test world: frozen clock, in-process discovery, the resource's key."""
    settings = settings or resource_settings()
    options: dict[str, Any] = dict(keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)
    options.update(kwargs)
    return Middleware(AAuthMiddleware, settings=settings, **options)


async def echo(request: Request, ctx: VerifiedRequest, name: str | None = None) -> dict[str, Any]:
    """What the handler saw: the context, the body it received, the decoded path parameter."""
    out = ctx.to_dict()
    out["scope"] = ctx.scope_text
    if request.method == "POST":
        body = await request.body()
        out["body_length"] = len(body)
        out["body_sha256"] = hashlib.sha256(body).hexdigest()
    if name is not None:
        out["name"] = name
    return out


def wrapped_outside(world: World, app: Any, settings: AAuthSettings | None = None, **kwargs: Any) -> Any:
    """``AAuthMiddleware(app)`` around a finished app: outside Starlette's own error middleware."""
    settings = settings or resource_settings()
    options: dict[str, Any] = dict(keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)
    options.update(kwargs)
    wrapper = AAuthMiddleware(app, settings=settings, **options)
    wrapper.state = app.state  # type: ignore[attr-defined]
    return wrapper


def starlette_app(world: World, settings: AAuthSettings | None = None, *, outside: bool = False,
                  **kwargs: Any) -> Starlette:
    calls: list[str] = []

    def route(path: str, key: str, methods: tuple[str, ...] = ("GET",)) -> Route:
        @requires_aauth(ROUTES[key])
        async def endpoint(request: Request) -> JSONResponse:
            calls.append(path)
            ctx = get_aauth(request)
            assert ctx is not None
            return JSONResponse(await echo(request, ctx, request.path_params.get("name")))

        return Route(path, endpoint, methods=list(methods))

    @requires_aauth("identity")
    def data_jwks(request: Request) -> JSONResponse:  # a sync endpoint, run in the threadpool
        calls.append("/data-jwks")
        ctx = get_aauth(request)
        assert ctx is not None
        return JSONResponse({**ctx.to_dict(), "scope": ctx.scope_text})

    routes = [
        route("/data", "/data"),
        Route("/data-jwks", data_jwks),
        route("/data-auth", "/data-auth"),
        route("/data-admin", "/data-admin"),
        route("/upload", "/upload", ("POST",)),
        route("/files/{name:path}", "/files/"),
    ]
    if outside:
        app = Starlette(routes=routes)
        app.state.calls = calls
        return wrapped_outside(world, app, settings, **kwargs)  # type: ignore[no-any-return]
    app = Starlette(routes=routes, middleware=[aauth_middleware(world, settings, **kwargs)])
    app.state.calls = calls
    return app


def fastapi_app(world: World, settings: AAuthSettings | None = None, *, outside: bool = False,
                **kwargs: Any) -> FastAPI:
    calls: list[str] = []
    app = FastAPI(middleware=[] if outside else [aauth_middleware(world, settings, **kwargs)])
    app.state.calls = calls

    @app.get("/data")
    async def data(request: Request, ctx: VerifiedRequest = Depends(AAuth())) -> dict[str, Any]:
        calls.append("/data")
        return await echo(request, ctx)

    @app.get("/data-jwks")
    def data_jwks(ctx: VerifiedRequest = Depends(AAuth("identity"))) -> dict[str, Any]:
        calls.append("/data-jwks")
        return {**ctx.to_dict(), "scope": ctx.scope_text}

    @app.get("/data-auth")
    async def data_auth(request: Request,
                        ctx: VerifiedRequest = Depends(AAuth("authorization", scopes=["data.read"]))) -> dict[str, Any]:
        calls.append("/data-auth")
        return await echo(request, ctx)

    @app.get("/data-admin")
    async def data_admin(request: Request,
                         ctx: VerifiedRequest = Depends(AAuth("authorization:data.admin"))) -> dict[str, Any]:
        calls.append("/data-admin")
        return await echo(request, ctx)

    @app.post("/upload")
    async def upload(request: Request, ctx: VerifiedRequest = Depends(AAuth("signature"))) -> dict[str, Any]:
        calls.append("/upload")
        return await echo(request, ctx)

    @app.get("/files/{name:path}")
    async def files(name: str, request: Request, ctx: VerifiedRequest = Depends(AAuth())) -> dict[str, Any]:
        calls.append("/files")
        return await echo(request, ctx, name)

    if outside:
        return wrapped_outside(world, app, settings, **kwargs)  # type: ignore[no-any-return]
    return app
