"""The auth server inside a Django project: URL patterns around :class:`aauth_core.authserver.AuthServer`,
with Django's own users approving the agents.

::

    # urls.py
    from aauth_django.authserver import auth_server_urls

    urlpatterns = [
        path("accounts/", include("django.contrib.auth.urls")),   # Django's login view
        *auth_server_urls(server),
    ]

The consent step asks ``request.user`` (Django's ``AuthenticationMiddleware``): a
signed-in user approves as ``User(id=user.get_username(), name=user.get_full_name()
or the username)``; a signed-out user is sent to ``settings.LOGIN_URL`` with
``?next=`` set to come back, the way ``login_required`` does.  Pass ``authenticator``
(``request -> User | None``) to choose the ``sub`` and name yourself (the primary
key, say), and ``login_url`` to send users elsewhere.

Routes (include them at the root of the issuer's origin): ``GET
/.well-known/aauth-issuer``, ``GET /jwks.json``, ``POST /agent/token``,
``GET``/``POST /agent/auth`` (the consent page) and ``GET /agent/static/<name>``.
The pages (their own CSRF token and session cookie, escaping, headers) are
:class:`aauth_core.authserver.ConsentPages`, so these views are ``csrf_exempt``:
the token endpoint is authenticated by HTTP signatures, and the consent form by
its own per-session token, ``Origin`` and ``Sec-Fetch-Site`` checks and a
``SameSite=Strict`` cookie.  If the project is also an AAuth resource with
``AAuthMiddleware``, add ``"/agent/"`` to its ``exempt_paths``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import resolve_url
from django.urls import URLPattern, path

from aauth_core import dialect
from aauth_core.authserver import AuthServer, ConsentPages, PageRequest, PageResponse, User
from aauth_core.authserver.branding import STATIC_PATH
from aauth_core.authserver.pages import AUTH_PATH, MAX_BODY, SESSION_COOKIE
from aauth_core.request import Headers

from .request import raw_target

__all__ = ["Authenticator", "auth_server_urls", "django_user"]

TOKEN_PATH = "/agent/token"  # noqa: S105 - a path, not a secret

#: Who is signed in, according to the project (``None``: nobody).
Authenticator = Callable[[HttpRequest], "User | None"]


def django_user(request: HttpRequest) -> User | None:
    """The default authenticator: Django's signed-in ``request.user``, by user name."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    username = str(user.get_username())
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return User(username, name=str(full_name).strip() or username)


def _settings_login_url() -> str:
    return str(resolve_url(settings.LOGIN_URL))


def auth_server_urls(server: AuthServer, *, authenticator: Authenticator = django_user,
                     login_url: str | Callable[[], str] | None = None) -> list[URLPattern]:
    """The auth server's URL patterns (see the module docstring).  ``login_url`` defaults to
    ``settings.LOGIN_URL`` (a URL name or a path), resolved when a user is sent there."""
    pages = ConsentPages(server, external=True, login_url=login_url or _settings_login_url)

    def metadata(request: HttpRequest) -> HttpResponse:
        return _cacheable(JsonResponse(server.metadata()))

    def jwks(request: HttpRequest) -> HttpResponse:
        return _cacheable(JsonResponse(server.jwks()))

    def token(request: HttpRequest) -> HttpResponse:
        body = _body(request)
        if body is None:
            return JsonResponse({"error": "invalid_request", "error_description": "request body is too large"},
                                status=413, headers={"Cache-Control": "no-store"})
        raw_path, query = raw_target(request)
        view = server.view(method="POST", path=raw_path, query=query, headers=Headers.from_environ(request.META),
                           body=body, scheme=urlsplit(server.issuer).scheme)
        result = server.token(view)
        return HttpResponse(result.content(), status=result.status, headers=dict(result.headers))

    def auth(request: HttpRequest) -> HttpResponse:
        user = authenticator(request)
        if user is not None and not isinstance(user, User):
            raise TypeError(f"the authenticator must return a User or None, not {type(user).__name__}")
        body = _body(request) if request.method == "POST" else b""
        if body is None:
            return _response(pages.error(413, "invalid_request", "the form is too large"))
        return _response(pages.handle(PageRequest(
            method=request.method or "GET", query=request.META.get("QUERY_STRING", ""), body=body,
            content_type=request.META.get("CONTENT_TYPE", ""), session_id=request.COOKIES.get(SESSION_COOKIE, ""),
            origin=request.headers.get("Origin"), sec_fetch_site=request.headers.get("Sec-Fetch-Site"), user=user,
        )))

    def static(request: HttpRequest, name: str) -> HttpResponse:
        return _response(pages.static(name))

    return [
        path(f".well-known/{dialect.WELL_KNOWN_ISSUER}", _only("GET", metadata), name="aauth-issuer-metadata"),
        path("jwks.json", _only("GET", jwks), name="aauth-issuer-jwks"),
        path(TOKEN_PATH.lstrip("/"), _only("POST", token), name="aauth-token"),
        path(AUTH_PATH.lstrip("/"), _only("GET POST", auth), name="aauth-consent"),
        path(f"{STATIC_PATH.lstrip('/')}/<str:name>", _only("GET", static), name="aauth-static"),
    ]


def _only(methods: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` for these methods (405 otherwise, ``HEAD`` with ``GET``), exempt from Django's CSRF check."""
    allowed = methods.split() + (["HEAD"] if "GET" in methods.split() else [])

    def only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in allowed:
            return HttpResponseNotAllowed(allowed)
        return view(request, *args, **kwargs)

    only.csrf_exempt = True  # type: ignore[attr-defined]  # what @csrf_exempt sets
    return only


def _body(request: HttpRequest) -> bytes | None:
    """The body (Django keeps it for later readers), or ``None`` past :data:`MAX_BODY`, declared or sent."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body: bytes = request.body
    return body if len(body) <= MAX_BODY else None


def _cacheable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "max-age=300"
    return response


def _response(answer: PageResponse) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    if answer.cookie is not None:
        cookie = answer.cookie
        response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path=cookie.path,
                            secure=cookie.secure, httponly=True, samesite="Strict")
    return response
