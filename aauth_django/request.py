"""Translation between Django requests/responses and the core's neutral objects.

The signature covers the request target *as sent*, so the path is taken raw
whenever the server hands it over:

* ASGI: ``request.scope["raw_path"]`` (uvicorn, hypercorn, daphne set it);
* WSGI: ``RAW_URI`` (gunicorn, werkzeug) or ``REQUEST_URI`` (uWSGI, werkzeug,
  mod_wsgi);
* otherwise (``wsgiref``, Django's test clients) ``request.path`` re-quoted with
  Django's :func:`~django.utils.encoding.escape_uri_path`.  That re-quoting is
  exact for ordinary paths (``/files/caf%C3%A9%20x``) but cannot restore what the
  server decoded away — an encoded ``%2F``, lower-case hex, or ``;``/``=`` the
  client left bare — so such signatures fail closed there.  Serve through a
  server that passes the raw target.

The query is ``QUERY_STRING`` as received (``None`` when empty); the body is read
only when the signature covers ``content-digest``, through ``request.body`` which
Django caches, so the view still sees ``request.body``, ``request.POST`` and its
JSON afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.utils.encoding import escape_uri_path

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.request import Headers, RequestView
from aauth_core.service import AAuthService
from aauth_core.settings import SettingsError, parse_requirement

from .conf import get_error_handler, get_service

__all__ = [
    "ATTRIBUTE",
    "aenforce",
    "averified",
    "build_view",
    "effective_requirement",
    "enforce",
    "raw_target",
    "render_error",
    "requirement_of",
    "verified",
]

ATTRIBUTE = "aauth"
"""``request.aauth``: the :class:`VerifiedRequest`, or ``None`` for an unsigned request."""


def raw_target(request: HttpRequest) -> tuple[str, str | None]:
    """``(raw path, raw query or None)`` of the request target (see the module docstring)."""
    meta = request.META
    query = meta.get("QUERY_STRING") or None
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes) and scope["raw_path"]:
        # Some servers include the query in raw_path; the path is everything before "?".
        return scope["raw_path"].partition(b"?")[0].decode("latin-1"), query
    raw = meta.get("RAW_URI") or meta.get("REQUEST_URI")
    if raw:
        if not raw.startswith("/"):  # absolute-form request target
            raw = urlsplit(raw).path or "/"
        return raw.partition("?")[0] or "/", query
    return escape_uri_path(request.path), query


def _body(service: AAuthService, request: HttpRequest) -> bytes:
    """The body to hash, refused with the service's 413 past ``max_body_bytes`` (a declared
    length before Django reads anything)."""
    declared = str(request.META.get("CONTENT_LENGTH") or "")
    too_large = service.body_too_large(int(declared)) if declared.isdigit() else None
    if too_large is None:
        body: bytes = request.body
        too_large = service.body_too_large(len(body))
    if too_large is not None:
        raise too_large
    return body


def build_view(service: AAuthService, request: HttpRequest) -> RequestView:
    """The neutral :class:`RequestView` of a Django request (body only when signed over)."""
    meta = request.META
    headers = Headers.from_environ(meta)  # request.headers' fields, without HttpHeaders' per-request parsing
    path, query = raw_target(request)
    body = _body(service, request) if service.needs_body(headers) else None
    host = None
    if service.canonical_authority is None:  # only then does the server's own name matter
        host = meta.get("SERVER_NAME", "")
        port = str(meta.get("SERVER_PORT", ""))
        if port and port not in ("80", "443"):
            host = f"{host}:{port}"
    return service.view(method=request.method or "GET", path=path, query=query, headers=headers, body=body,
                        host=host, scheme=request.scheme or "http")


def verified(request: HttpRequest) -> VerifiedRequest | None:
    """The request's verified context: the middleware's result, or verify now (no middleware).

    Raises :class:`AAuthError` for a signed request that does not verify.
    """
    if hasattr(request, ATTRIBUTE):
        result: VerifiedRequest | None = getattr(request, ATTRIBUTE)
        return result
    service = get_service()
    context = service.verify(build_view(service, request))
    setattr(request, ATTRIBUTE, context)
    return context


async def averified(request: HttpRequest) -> VerifiedRequest | None:
    """:func:`verified` for async code (discovery without blocking the loop)."""
    if hasattr(request, ATTRIBUTE):
        result: VerifiedRequest | None = getattr(request, ATTRIBUTE)
        return result
    service = get_service()
    context = await service.averify(build_view(service, request))
    setattr(request, ATTRIBUTE, context)
    return context


def enforce(request: HttpRequest, requirement: Requirement) -> VerifiedRequest:
    """Verify (if not yet done) and demand ``requirement``; raises :class:`AAuthError`."""
    return get_service().require(verified(request), requirement)


async def aenforce(request: HttpRequest, requirement: Requirement) -> VerifiedRequest:
    return get_service().require(await averified(request), requirement)


def render_error(request: HttpRequest, error: AAuthError) -> HttpResponse:
    """The response for ``error``: ``{"error", "error_description"}`` plus ``Agent-Auth`` (A9),
    or whatever the configured error handler makes of it."""
    rendered = get_service().error_response(error)
    handler = get_error_handler()
    if handler is not None:
        return handler(request, error, rendered)
    response = HttpResponse(rendered.body, status=rendered.status)
    for name, value in rendered.headers.items():
        response[name] = value
    return response


def requirement_of(level: str | Requirement | None = None, scopes: Iterable[str] | str = ()) -> Requirement | None:
    """A route's requirement from a level (or ``"authorization:scope ..."`` spec) and scopes.

    ``None`` means "the project's ``default_requirement``", resolved per request so a
    settings change applies.  Scopes without a level mean ``authorization``.  Bad
    values raise ``ValueError`` where the route is declared, not per request.
    """
    scope_set = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
    if level is None and not scope_set:
        return None
    try:
        return parse_requirement("authorization" if level is None else level, scope_set)
    except SettingsError as exc:
        raise ValueError(exc.description) from None


def effective_requirement(requirement: Requirement | None) -> Requirement:
    """``requirement``, or the configured ``default_requirement`` for ``None``."""
    if requirement is not None:
        return requirement
    return get_service().default_requirement  # parsed once, when the service is built
