"""Where the verified context lives in an ASGI scope, and how routes demand more of it.

The middleware stores the :class:`VerifiedRequest` (or ``None``) under
``scope["aauth"]`` and the :class:`AAuthService` under ``scope["aauth.service"]``.
Decorators and dependencies call :func:`demand`, which raises
:class:`AAuthHTTPException`; the middleware turns that into the JSON error with its
``Agent-Auth`` challenge, so no exception handler has to be registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import anyio.from_thread
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from aauth_core.context import Level, Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.request import SIGNATURE_HEADERS, Headers
from aauth_core.service import PREFLIGHT_REPLY, AAuthService
from aauth_core.settings import parse_requirement

from .asgi import read_body, view_of

__all__ = [
    "AAuthHTTPException",
    "AAuthPreflight",
    "SCOPE_KEY",
    "SERVICE_KEY",
    "UNVERIFIED_KEY",
    "ademand",
    "demand",
    "get_aauth",
    "get_service",
    "preflight_response",
    "requirement_of",
]

SCOPE_KEY = "aauth"
SERVICE_KEY = "aauth.service"
#: Set by the middleware on an exempt path, where it verified nothing: a route demand verifies.
UNVERIFIED_KEY = "aauth.unverified"


class AAuthHTTPException(Exception):
    """A route refused the request; carries the :class:`AAuthError` and its rendering.

    Deliberately *not* a subclass of Starlette's ``HTTPException``: the framework's
    handler would render it as ``{"detail": ...}``.  Left unhandled, it travels out
    to :class:`AAuthMiddleware`, which renders ``{"error", "error_description"}`` with
    the challenge (or the configured ``error_handler``).  ``status_code``,
    ``headers`` and ``detail`` mirror ``HTTPException`` for code that inspects it.
    """

    def __init__(self, error: AAuthError) -> None:
        super().__init__(error.description)
        self.error = error

    @property
    def status_code(self) -> int:
        return self.error.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.error.headers

    @property
    def detail(self) -> dict[str, Any]:
        return self.error.to_dict()

    def __repr__(self) -> str:
        return f"AAuthHTTPException({self.error!r})"


class AAuthPreflight(Exception):
    """A CORS preflight reached a protected route: answered ``204`` by the middleware, the
    route never runs (what a FastAPI dependency raises; a decorator returns the response)."""


def preflight_response() -> Response:
    return Response(PREFLIGHT_REPLY.body, status_code=PREFLIGHT_REPLY.status, headers=dict(PREFLIGHT_REPLY.headers))


def get_aauth(conn: HTTPConnection) -> VerifiedRequest | None:
    """The verified context of this request, or ``None`` when it was not signed."""
    value = conn.scope.get(SCOPE_KEY)
    return value if isinstance(value, VerifiedRequest) else None


def get_service(conn: HTTPConnection) -> AAuthService:
    """The service the middleware runs; a clear error when the middleware is missing."""
    service = conn.scope.get(SERVICE_KEY)
    if not isinstance(service, AAuthService):
        raise RuntimeError("AAuthMiddleware is not installed: add Middleware(AAuthMiddleware, ...) to the app")
    return service


def requirement_of(level: Level | str | Requirement = "signature", scopes: Iterable[str] | str = ()) -> Requirement:
    """``("authorization", ["data.read"])`` or ``"authorization:data.read"`` → :class:`Requirement`."""
    return parse_requirement(level, scopes)


def demand(conn: HTTPConnection, requirement: Requirement | None) -> VerifiedRequest:
    """The context if it meets ``requirement`` (``None``: the configured
    ``default_requirement``); otherwise raise the right challenge.

    For sync endpoints (Starlette runs them in a worker thread): on an exempt path,
    where the middleware verified nothing, the request is verified here."""
    service = _checked_service(conn)
    if conn.scope.get(UNVERIFIED_KEY):
        anyio.from_thread.run(_verify_now, conn)
    return _require(conn, service, requirement)


async def ademand(conn: HTTPConnection, requirement: Requirement | None) -> VerifiedRequest:
    """:func:`demand` for async endpoints and dependencies."""
    service = _checked_service(conn)
    if conn.scope.get(UNVERIFIED_KEY):
        await _verify_now(conn)
    return _require(conn, service, requirement)


def _checked_service(conn: HTTPConnection) -> AAuthService:
    """The service, after the preflight rule: a CORS preflight never reaches the route."""
    service = get_service(conn)
    if conn.scope.get("method") == "OPTIONS" and service.is_preflight("OPTIONS", conn.headers):
        raise AAuthPreflight
    return service


def _require(conn: HTTPConnection, service: AAuthService, requirement: Requirement | None) -> VerifiedRequest:
    try:
        return service.require(get_aauth(conn), requirement or service.default_requirement)
    except AAuthError as exc:
        raise AAuthHTTPException(exc) from None


async def _verify_now(conn: HTTPConnection) -> None:
    """Verify a signed request the middleware left alone (an exempt path), once."""
    scope = conn.scope
    scope[UNVERIFIED_KEY] = False
    headers = Headers.from_asgi(scope["headers"])
    if not headers.has_any(SIGNATURE_HEADERS):
        return
    service = get_service(conn)
    view = view_of(service, scope, headers)
    try:
        if service.needs_body(headers):
            if not isinstance(conn, Request):
                raise AAuthError("a signature over the body needs an HTTP request", code="invalid_request",
                                 status_code=400)
            body = await read_body(conn.receive, service, headers)
            if body is None:
                raise AAuthError("the client went away before sending the whole body", code="invalid_request",
                                 status_code=400)
            conn._body = body  # what Request.body() returns from now on (its own cache)
            view = view._replace(body=body)
        scope[SCOPE_KEY] = await service.averify(view)
    except AAuthError as exc:
        raise AAuthHTTPException(exc) from None
