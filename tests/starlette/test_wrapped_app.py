"""AAuthMiddleware wrapped around a whole Starlette app from the outside (no ``send`` watching there)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aauth_core.errors import AAuthError
from aauth_starlette import AAuthHTTPException, requires_aauth

from ..conftest import World
from .asgi import Exchange, http_scope, run
from .test_middleware import wrap


@requires_aauth("identity")
async def guarded(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


class RaisingMiddleware:
    """A user middleware inside the app that refuses on its own, before any response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/refused-by-middleware":
            raise AAuthHTTPException(AAuthError("nope", code="identity_required"))
        await self.app(scope, receive, send)


def _app() -> Starlette:
    return Starlette(routes=[Route("/guarded", guarded), Route("/refused-by-middleware", guarded)],
                     middleware=[Middleware(RaisingMiddleware)])


async def test_a_route_refusal_is_rendered_inside_the_wrapped_app(world: World) -> None:
    exchange = await run(wrap(world, _app()), http_scope("GET", "/guarded", {}), Exchange())
    assert exchange.status == 401 and b"identity_required" in exchange.body
    assert [m["type"] for m in exchange.sent] == ["http.response.start", "http.response.body"]


async def test_an_escaping_refusal_follows_the_apps_500_and_is_not_rendered_twice(world: World) -> None:
    exchange = Exchange()
    with pytest.raises(AAuthHTTPException):
        await run(wrap(world, _app()), http_scope("GET", "/refused-by-middleware", {}), exchange)
    assert exchange.status == 500
    assert [m["type"] for m in exchange.sent] == ["http.response.start", "http.response.body"]


def _inner_app(world: World) -> Starlette:
    """AAuthMiddleware as a Middleware(...) entry: it wraps Starlette's ExceptionMiddleware."""
    from starlette.responses import StreamingResponse

    from .apps import aauth_middleware

    async def late(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"partial"
            raise AAuthHTTPException(AAuthError("late", code="identity_required"))

        return StreamingResponse(body())

    return Starlette(routes=[Route("/guarded", guarded), Route("/late", late)], middleware=[aauth_middleware(world)])


async def test_inside_the_app_a_route_refusal_is_rendered(world: World) -> None:
    exchange = await run(_inner_app(world), http_scope("GET", "/guarded", {}), Exchange())
    assert exchange.status == 401 and b"identity_required" in exchange.body


async def test_inside_the_app_a_refusal_after_the_response_started_is_not_rendered(world: World) -> None:
    exchange = Exchange()
    with pytest.raises(RuntimeError, match="response already started"):  # Starlette's own verdict
        await run(_inner_app(world), http_scope("GET", "/late", {}), exchange)
    assert [m["type"] for m in exchange.sent if m["type"] == "http.response.start"] == ["http.response.start"]
    assert exchange.status == 200
