"""The auth server over HTTP: an ASGI (Starlette) app around :class:`aauth_core.authserver.AuthServer`.

Routes: ``GET /.well-known/aauth-issuer``, ``GET /jwks.json``, ``POST /agent/token``,
``GET``/``POST /agent/auth`` (the sign-in and consent pages) and
``GET /agent/static/{name}`` (their stylesheet and logo).  Protocol rules live in the
core, and so do the pages (:class:`aauth_core.authserver.ConsentPages`: sessions,
CSRF, escaping, headers); this module only translates requests and responses.

Who approves: by default the pages' own sign-in form, checked against the server's
``users`` store (demos and tests).  To use your application's users instead, pass
``authenticator`` (``request -> User | None``, sync or async: who is signed in, from
your session) and ``login_url`` (where a signed-out user is sent, with ``next`` set
to come back)::

    config = AuthServerConfig(issuer="https://as.example", keys=[load_signing_key("as.jwk")])
    server = AuthServer(config)                       # RequireConsent by default
    app = build_auth_server_app(server, authenticator=current_user, login_url="/login")

:func:`auth_server_routes` gives the same routes to add to an application of your own.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aauth_core import dialect
from aauth_core.authserver import AuthServer, ConsentPages, PageRequest, PageResponse, User
from aauth_core.authserver.branding import STATIC_PATH
from aauth_core.authserver.pages import AUTH_PATH, MAX_BODY, SESSION_COOKIE

__all__ = ["AUTH_PATH", "Authenticator", "MAX_BODY", "SESSION_COOKIE", "STATIC_PATH", "auth_server_routes",
           "build_auth_server_app"]

TOKEN_PATH = "/agent/token"  # noqa: S105 - a path, not a secret

#: Who is signed in, according to the host application (``None``: nobody); sync or async.
Authenticator = Callable[[Request], "User | Awaitable[User | None] | None"]


class _BodyTooLarge(Exception):
    pass


def auth_server_routes(server: AuthServer, *, authenticator: Authenticator | None = None,
                       login_url: str | None = None) -> list[BaseRoute]:
    """The auth server's routes, to serve at the root of the issuer's origin (see the module docstring)."""
    pages = PagesAdapter(ConsentPages(server, external=authenticator is not None, login_url=login_url),
                         authenticator)
    return [
        Route(f"/.well-known/{dialect.WELL_KNOWN_ISSUER}", _document(server.metadata), methods=["GET"]),
        Route("/jwks.json", _document(server.jwks), methods=["GET"]),
        Route(TOKEN_PATH, _token_endpoint(server), methods=["POST"]),
        Route(AUTH_PATH, pages.handle, methods=["GET", "POST"]),
        Route(f"{STATIC_PATH}/{{name}}", pages.static, methods=["GET"]),
    ]


def build_auth_server_app(server: AuthServer, *, authenticator: Authenticator | None = None,
                          login_url: str | None = None, debug: bool = False) -> Starlette:
    """The auth server's ASGI app.  Mount it at the root of the issuer's origin."""
    return Starlette(debug=debug, routes=auth_server_routes(server, authenticator=authenticator,
                                                            login_url=login_url))


# ----------------------------------------------------------------------------- documents, token endpoint


def _document(produce: Callable[[], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
    """``GET`` of a JSON document (the metadata, the JWKS), cacheable for five minutes."""

    async def document(request: Request) -> Response:
        return JSONResponse(produce(), headers={"Cache-Control": "max-age=300"})

    return document


def _token_endpoint(server: AuthServer) -> Callable[[Request], Awaitable[Response]]:
    """``POST /agent/token``: the raw request, as received, to :meth:`AuthServer.atoken`."""

    async def token(request: Request) -> Response:
        try:
            body = await _read_body(request, strict=True)
        except _BodyTooLarge:
            return JSONResponse({"error": "invalid_request", "error_description": "request body is too large"},
                                status_code=413, headers={"Cache-Control": "no-store"})
        scope = request.scope
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else scope["path"]
        path = path.split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1") or None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        view = server.view(method=request.method, path=path, query=query, headers=headers, body=body,
                           scheme=urlsplit(server.issuer).scheme)
        result = await server.atoken(view)
        return Response(result.content(), status_code=result.status, headers=dict(result.headers))

    return token


# ----------------------------------------------------------------------------- pages


class PagesAdapter:
    """Starlette requests to a framework-free page set (the January :class:`ConsentPages`, the
    person server's interaction pages) and back: one translation for every server's pages.
    ``pages`` answers ``ahandle(PageRequest)`` and ``static(name)``."""

    def __init__(self, pages: Any, authenticator: Authenticator | None) -> None:
        self._pages = pages
        self._authenticator = authenticator

    async def handle(self, request: Request) -> Response:
        body = await _read_body(request, strict=False) if request.method == "POST" else b""
        user = await self._user(request) if self._authenticator is not None else None
        answer = await self._pages.ahandle(PageRequest(
            method=request.method, query=request.scope.get("query_string", b"").decode("latin-1"), body=body,
            content_type=request.headers.get("content-type", ""), session_id=request.cookies.get(SESSION_COOKIE, ""),
            origin=request.headers.get("origin"), sec_fetch_site=request.headers.get("sec-fetch-site"), user=user,
        ))
        return _response(answer)

    async def static(self, request: Request) -> Response:
        return _response(self._pages.static(request.path_params["name"]))

    async def _user(self, request: Request) -> User | None:
        authenticator = self._authenticator
        assert authenticator is not None
        if inspect.iscoroutinefunction(authenticator) or inspect.iscoroutinefunction(
                getattr(authenticator, "__call__", None)):  # noqa: B004 - an async __call__
            found: Any = await authenticator(request)  # type: ignore[misc]
        else:
            found = await run_in_threadpool(authenticator, request)
            if inspect.isawaitable(found):
                found = await found
        if found is not None and not isinstance(found, User):
            raise TypeError(f"the authenticator must return a User or None, not {type(found).__name__}")
        return found


def _response(answer: PageResponse) -> Response:
    response = Response(answer.body, status_code=answer.status)
    for name, value in answer.headers:
        response.headers.append(name, value)
    if answer.cookie is not None:
        response.headers.append("Set-Cookie", answer.cookie.header())
    return response


async def _read_body(request: Request, *, strict: bool) -> bytes:
    """The body; past :data:`MAX_BODY`: ``strict`` raises, otherwise the first ``MAX_BODY + 1``
    bytes (the pages refuse that)."""
    length = request.headers.get("content-length", "")
    if strict and length.isdigit() and int(length) > MAX_BODY:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_BODY:
            if strict:
                raise _BodyTooLarge
            break
    return b"".join(chunks)[: MAX_BODY + 1]
