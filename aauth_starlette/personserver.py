"""The aauth-11 person server over HTTP: an ASGI (Starlette) app around
:class:`aauth_core.personserver.PersonServer`.

Routes: ``GET /.well-known/aauth-person.json``, ``GET /jwks.json``, ``POST /person``,
``POST /token``, ``POST /mission``, ``GET /pending/{id}``, ``GET``/``POST /interaction`` (the
consent page) and ``GET /agent/static/{name}`` (its stylesheet and logo).  Protocol rules live
in the core; this module only translates requests and responses::

    config = PersonServerConfig(issuer="https://ps.example", keys=[load_signing_key("ps.jwk")],
                                subject_secret=load_secret(), agents={"aauth:assistant@ap.example": "alice"})
    app = build_person_server_app(PersonServer(config))   # RequireConsent by default

Who approves on the page: by default its own sign-in form, checked against the server's
``users``; pass ``authenticator`` (``request -> User | None``, sync or async) to use your
application's signed-in user instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aauth_core.authserver import User
from aauth_core.authserver.branding import STATIC_PATH
from aauth_core.personserver import INTERACTION_PATH, InteractionPages, PersonServer, PersonServerError
from aauth_core.personserver.server import PENDING_PATH
from aauth_core.personserver.wire import MAX_JSON, problem_reply

from .authserver import PagesAdapter, _BodyTooLarge, _document, _read_body

__all__ = ["Authenticator", "build_person_server_app", "person_server_routes"]

#: Who is signed in, according to the host application (``None``: nobody); sync or async.
Authenticator = Callable[[Request], "User | Awaitable[User | None] | None"]


def person_server_routes(server: PersonServer, *, authenticator: Authenticator | None = None) -> list[BaseRoute]:
    """The person server's routes, to serve at the root of the issuer's origin."""
    pages = PagesAdapter(InteractionPages(server, external=authenticator is not None), authenticator)
    endpoint = _endpoint(server)
    return [
        Route("/.well-known/aauth-person.json", _document(server.metadata), methods=["GET"]),
        Route("/jwks.json", _document(server.jwks), methods=["GET"]),
        Route("/person", endpoint, methods=["POST"]),
        Route("/token", endpoint, methods=["POST"]),
        Route("/mission", endpoint, methods=["POST"]),
        Route(f"{PENDING_PATH}{{pending_id}}", endpoint, methods=["GET"]),
        Route(INTERACTION_PATH, pages.handle, methods=["GET", "POST"]),
        Route(f"{STATIC_PATH}/{{name}}", pages.static, methods=["GET"]),
    ]


def build_person_server_app(server: PersonServer, *, authenticator: Authenticator | None = None,
                            debug: bool = False) -> Starlette:
    """The person server's ASGI app.  Mount it at the root of the issuer's origin."""
    return Starlette(debug=debug, routes=person_server_routes(server, authenticator=authenticator))


def _endpoint(server: PersonServer) -> Callable[[Request], Awaitable[Response]]:
    """A JSON endpoint: the raw request, as received, to :meth:`PersonServer.ahandle`."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request, strict=True) if request.method == "POST" else b""
        except _BodyTooLarge:
            reply = problem_reply(PersonServerError(f"the body exceeds {MAX_JSON} bytes", status_code=413))
            return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))
        scope = request.scope
        raw_path = scope.get("raw_path")
        path = (raw_path.decode("latin-1") if isinstance(raw_path, bytes) else scope["path"]).split("?", 1)[0]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        view = server.view(method=request.method, path=path, query=scope.get("query_string", b"").decode("latin-1")
                           or None, headers=headers, body=body or None)
        reply = await server.ahandle(view)
        return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))

    return endpoint
