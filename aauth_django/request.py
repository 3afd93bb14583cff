"""Translation between Django requests/responses and the core's neutral objects.

The signature covers the request target *as sent*, so the path is taken raw
whenever the server hands it over:

* ASGI: ``request.scope["raw_path"]`` (uvicorn, hypercorn, daphne set it);
* WSGI: ``RAW_URI`` (gunicorn, werkzeug) or ``REQUEST_URI`` (uWSGI, werkzeug,
  mod_wsgi);
* otherwise (``wsgiref``, Django's test clients) ``SCRIPT_NAME + PATH_INFO``
  re-quoted (:func:`aauth_core.resource.contract.raw_path_from_environ`, as in Flask).
  That re-quoting is exact for ordinary paths (``/files/caf%C3%A9%20x``) but
  cannot restore what the server decoded away — an encoded ``%2F``, lower-case
  hex — so such signatures fail closed there.  Serve through a server that
  passes the raw target.

The query is ``QUERY_STRING`` as received (``None`` when empty); the body is read
only when the signature covers ``content-digest``, through ``request.body`` which
Django caches, so the view still sees ``request.body``, ``request.POST`` and its
JSON afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.request import Headers, RequestView
from aauth_core.resource.contract import fallback_host, missing_challenge_headers, raw_path_from_environ
from aauth_core.service import PREFLIGHT_REPLY, AAuthService
from aauth_core.settings import route_requirement

from .conf import get_error_handler, get_service

__all__ = [
    "ATTRIBUTE",
    "aenforce",
    "averified",
    "build_view",
    "effective_requirement",
    "enforce",
    "is_preflight",
    "mark_unverified",
    "preflight_response",
    "raw_target",
    "render_error",
    "requirement_of",
    "verified",
]

ATTRIBUTE = "aauth"
"""``request.aauth``: the :class:`VerifiedRequest`, or ``None`` for an unsigned request."""
_UNVERIFIED = "_aauth_unverified"  # set by the middleware on an exempt path: a route demand verifies


def raw_target(request: HttpRequest) -> tuple[str, str | None]:
    """``(raw path, raw query or None)`` of the request target (see the module docstring)."""
    meta = request.META
    query = meta.get("QUERY_STRING") or None
    scope = request.__dict__.get("scope")  # ASGIRequest only; no AttributeError raised per WSGI request
    if isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes) and scope["raw_path"]:
        # Some servers include the query in raw_path; the path is everything before "?".
        return scope["raw_path"].partition(b"?")[0].decode("latin-1"), query
    return raw_path_from_environ(meta, request.path), query


def _body(service: AAuthService, request: HttpRequest) -> bytes:
    """The body to hash, refused with the service's 413 past ``max_body_bytes`` (a declared
    length before Django reads anything)."""
    service.check_declared_length(request.META.get("CONTENT_LENGTH"))
    body: bytes = request.body
    too_large = service.body_too_large(len(body))
    if too_large is not None:
        raise too_large
    return body


def build_view(service: AAuthService, request: HttpRequest, headers: Headers | None = None) -> RequestView:
    """The neutral :class:`RequestView` of a Django request (body only when signed over)."""
    meta = request.META
    if headers is None:  # request.headers' fields, without HttpHeaders' per-request parsing of META
        headers = Headers.from_environ(meta)
    path, query = raw_target(request)
    body = _body(service, request) if service.needs_body(headers) else None
    host = None
    if service.canonical_authority is None:  # only then does the server's own name matter
        host = fallback_host(meta.get("SERVER_NAME"), meta.get("SERVER_PORT"), request.scheme or "http")
    return service.view(method=request.method or "GET", path=path, query=query, headers=headers, body=body,
                        host=host, scheme=request.scheme or "http")


def body_for_form(request: HttpRequest) -> bytes:
    """A body the service parses itself (the resource token form), within ``max_body_bytes``."""
    return _body(get_service(), request)


def mark_unverified(request: HttpRequest) -> None:
    """What the middleware does on an exempt path: no context yet, a route demand verifies."""
    setattr(request, ATTRIBUTE, None)
    setattr(request, _UNVERIFIED, True)


def _known(request: HttpRequest) -> bool:
    """Whether ``request.aauth`` is final (set by the middleware or by an earlier verify)."""
    attributes = request.__dict__  # dictionary lookups: no AttributeError raised and caught per request
    return ATTRIBUTE in attributes and not attributes.get(_UNVERIFIED, False)


def verified(request: HttpRequest) -> VerifiedRequest | None:
    """The request's verified context: the middleware's result, or verify now (no middleware,
    or an exempt path).  Raises :class:`AAuthError` for a signed request that does not verify."""
    if _known(request):
        result: VerifiedRequest | None = getattr(request, ATTRIBUTE)
        return result
    service = get_service()
    context = service.verify(build_view(service, request))
    setattr(request, ATTRIBUTE, context)
    setattr(request, _UNVERIFIED, False)
    return context


async def averified(request: HttpRequest) -> VerifiedRequest | None:
    """:func:`verified` for async code (discovery without blocking the loop)."""
    if _known(request):
        result: VerifiedRequest | None = getattr(request, ATTRIBUTE)
        return result
    service = get_service()
    context = await service.averify(build_view(service, request))
    setattr(request, ATTRIBUTE, context)
    setattr(request, _UNVERIFIED, False)
    return context


def enforce(request: HttpRequest, requirement: Requirement) -> VerifiedRequest:
    """Verify (if not yet done) and demand ``requirement``; raises :class:`AAuthError`."""
    return get_service().require(verified(request), requirement)


async def aenforce(request: HttpRequest, requirement: Requirement) -> VerifiedRequest:
    return get_service().require(await averified(request), requirement)


def is_preflight(request: HttpRequest) -> bool:
    """A CORS preflight, which a protected view answers 204 without running."""
    return request.method == "OPTIONS" and get_service().is_preflight("OPTIONS", Headers.from_environ(request.META))


def preflight_response() -> HttpResponse:
    response = HttpResponse(PREFLIGHT_REPLY.body, status=PREFLIGHT_REPLY.status)
    for name, value in PREFLIGHT_REPLY.headers.items():
        response[name] = value
    return response


def render_error(request: HttpRequest, error: AAuthError) -> HttpResponse:
    """The response for ``error``: ``{"error", "error_description"}`` plus ``Agent-Auth`` (A9),
    or the configured handler's ``(request, error)`` response with the challenge headers it lacks."""
    service = get_service()
    service.log_refusal(error, request.method or "GET", request.path_info, Headers.from_environ(request.META))
    handler = get_error_handler()
    if handler is not None:
        response = handler(request, error)
        for name, value in missing_challenge_headers(error, response.headers.keys()):
            response[name] = value
        return response
    rendered = service.error_response(error)
    response = HttpResponse(rendered.body, status=rendered.status)
    for name, value in rendered.headers.items():
        response[name] = value
    return response


def requirement_of(level: str | Requirement | None = None, scopes: Iterable[str] | str = ()) -> Requirement | None:
    """A route's requirement from a level (or ``"authorization:scope ..."`` spec) and scopes:
    :func:`aauth_core.settings.route_requirement`, the same in every adapter (bad values raise
    :class:`SettingsError` where the route is declared)."""
    return route_requirement(level, scopes)


def effective_requirement(requirement: Requirement | None) -> Requirement:
    """``requirement``, or the configured ``default_requirement`` for ``None``."""
    if requirement is not None:
        return requirement
    return get_service().default_requirement  # parsed once, when the service is built

