"""The auth server inside a Flask application: a blueprint around :class:`aauth_core.authserver.AuthServer`.

::

    def current_user(request):                  # who is signed in, from your session: a User or None
        user_id = session.get("user_id")
        return User(user_id, name=session.get("name")) if user_id else None

    app.register_blueprint(auth_server_blueprint(server, authenticator=current_user, login_url="/login"))

Routes (register the blueprint without a prefix: they belong at the root of the
issuer's origin): ``GET /.well-known/aauth-issuer``, ``GET /jwks.json``,
``POST /agent/token``, ``GET``/``POST /agent/auth`` (the consent pages) and
``GET /agent/static/<name>``.  The pages (sessions, CSRF, escaping, headers) are
:class:`aauth_core.authserver.ConsentPages`; this module only translates.  Without
an ``authenticator`` the pages show their own sign-in form, checked against the
server's ``users`` store (demos and tests).  The consent form carries its own CSRF
token: exempt the blueprint from Flask-WTF's ``CSRFProtect`` if you use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Request, Response, jsonify, request

from aauth_core import dialect
from aauth_core.authserver import AuthServer, ConsentPages, PageRequest, PageResponse, User
from aauth_core.authserver.branding import STATIC_PATH
from aauth_core.authserver.pages import AUTH_PATH, MAX_BODY, SESSION_COOKIE
from aauth_core.request import Headers

from .environ import raw_path

__all__ = ["Authenticator", "auth_server_blueprint"]

TOKEN_PATH = "/agent/token"  # noqa: S105 - a path, not a secret

#: Who is signed in, according to the host application (``None``: nobody).
Authenticator = Callable[[Request], "User | None"]


def auth_server_blueprint(server: AuthServer, *, authenticator: Authenticator | None = None,
                          login_url: str | Callable[[], str] | None = None,
                          name: str = "aauth_authserver") -> Blueprint:
    """The auth server's routes as a blueprint (see the module docstring)."""
    pages = ConsentPages(server, external=authenticator is not None, login_url=login_url)
    blueprint = Blueprint(name, __name__)

    def metadata() -> Response:
        return _cacheable(jsonify(server.metadata()))

    def jwks() -> Response:
        return _cacheable(jsonify(server.jwks()))

    def token() -> Response:
        declared = request.content_length
        body = request.stream.read(MAX_BODY + 1) if declared is None or declared <= MAX_BODY else b""
        if (declared is not None and declared > MAX_BODY) or len(body) > MAX_BODY:
            answer = jsonify({"error": "invalid_request", "error_description": "request body is too large"})
            answer.status_code = 413
            answer.headers["Cache-Control"] = "no-store"
            return answer
        environ = request.environ
        view = server.view(method=request.method, path=raw_path(environ), query=environ.get("QUERY_STRING") or None,
                           headers=Headers.from_environ(environ), body=body, scheme=urlsplit(server.issuer).scheme)
        result = server.token(view)
        return Response(result.content(), status=result.status, headers=dict(result.headers))

    def auth() -> Response:
        user = _user(authenticator, request) if authenticator is not None else None
        body = request.stream.read(MAX_BODY + 1) if request.method == "POST" else b""
        return _response(pages.handle(PageRequest(
            method=request.method, query=request.environ.get("QUERY_STRING", ""), body=body,
            content_type=request.headers.get("Content-Type", ""), session_id=request.cookies.get(SESSION_COOKIE, ""),
            origin=request.headers.get("Origin"), sec_fetch_site=request.headers.get("Sec-Fetch-Site"), user=user,
        )))

    def static(name: str) -> Response:
        return _response(pages.static(name))

    blueprint.add_url_rule(f"/.well-known/{dialect.WELL_KNOWN_ISSUER}", "metadata", metadata, methods=["GET"])
    blueprint.add_url_rule("/jwks.json", "jwks", jwks, methods=["GET"])
    blueprint.add_url_rule(TOKEN_PATH, "token", token, methods=["POST"])
    blueprint.add_url_rule(AUTH_PATH, "auth", auth, methods=["GET", "POST"])
    blueprint.add_url_rule(f"{STATIC_PATH}/<name>", "static", static, methods=["GET"])
    return blueprint


def _user(authenticator: Authenticator, current: Request) -> User | None:
    found: Any = authenticator(current)
    if found is not None and not isinstance(found, User):
        raise TypeError(f"the authenticator must return a User or None, not {type(found).__name__}")
    return found


def _cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = "max-age=300"
    return response


def _response(answer: PageResponse) -> Response:
    response = Response(answer.body, status=answer.status)
    for name, value in answer.headers:
        response.headers.set(name, value)
    if answer.cookie is not None:
        cookie = answer.cookie
        response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path=cookie.path,
                            secure=cookie.secure, httponly=True, samesite="Strict")
    return response
