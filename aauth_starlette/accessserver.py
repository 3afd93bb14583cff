"""The aauth-11 access server over HTTP: an ASGI (Starlette) app around
:class:`aauth_core.accessserver.AccessServer`.

Routes: ``GET /.well-known/aauth-access.json``, ``GET /jwks.json``, ``POST /token`` and
``GET``/``POST /token/pending/{id}``.  The protocol lives in the core; this module only turns
a Starlette request into a :class:`~aauth_core.request.RequestView` under the issuer's own
authority (never the ``Host`` header) and the core's :class:`AccessReply` back::

    config = AccessServerConfig(issuer="https://as.example", keys=(load_signing_key("as.jwk"),),
                                resources={"https://api.example": ("data.read",)})
    app = build_access_server_app(AccessServer(config))

:func:`access_server_routes` gives the same routes to add to an application of your own.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aauth_core.accessserver import JWKS_PATH, METADATA_PATH, PENDING_PREFIX, TOKEN_PATH, AccessReply, AccessServer
from aauth_core.request import Headers, RequestView, canonical_authority

__all__ = ["MAX_BODY", "access_server_routes", "build_access_server_app"]

#: The largest request body read (a token request carries three or four JWTs).
MAX_BODY = 64 * 1024


def access_server_routes(server: AccessServer) -> list[BaseRoute]:
    """The access server's routes, to serve at the root of its issuer's origin."""
    return [
        Route(METADATA_PATH, _document(server.metadata), methods=["GET"]),
        Route(JWKS_PATH, _document(server.jwks), methods=["GET"]),
        Route(TOKEN_PATH, _endpoint(server, pending=False), methods=["POST"]),
        Route(PENDING_PREFIX + "{pending_id}", _endpoint(server, pending=True), methods=["GET", "POST"]),
    ]


def build_access_server_app(server: AccessServer, *, debug: bool = False) -> Starlette:
    """The access server's ASGI app.  Mount it at the root of the issuer's origin."""
    return Starlette(debug=debug, routes=access_server_routes(server))


def _document(produce: Callable[[], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
    async def document(request: Request) -> Response:
        return Response(json.dumps(produce()), media_type="application/json",
                        headers={"Cache-Control": "max-age=300"})

    return document


def _endpoint(server: AccessServer, *, pending: bool) -> Callable[[Request], Awaitable[Response]]:
    authority = canonical_authority(server.issuer)
    scheme = urlsplit(server.issuer).scheme

    async def endpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            reply = AccessReply(413, {"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
                                json.dumps({"error": "invalid_request", "detail": "the body is too large"}).encode())
            return _response(reply)
        scope = request.scope
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else scope["path"]
        query = scope.get("query_string", b"").decode("latin-1") or None
        headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
        view = RequestView(method=request.method, authority=authority, path=path.split("?", 1)[0], query=query,
                           headers=headers, body=body if body or request.method == "POST" else None, scheme=scheme)
        if pending:
            return _response(await server.apoll(view, request.path_params["pending_id"]))
        return _response(await server.atoken(view))

    return endpoint


def _response(reply: AccessReply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))


async def _read_body(request: Request) -> bytes | None:
    """The body, or ``None`` past :data:`MAX_BODY`."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
