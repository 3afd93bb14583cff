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

from starlette.requests import HTTPConnection

from aauth_core.context import Level, Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.service import AAuthService
from aauth_core.settings import parse_requirement

__all__ = [
    "AAuthHTTPException",
    "SCOPE_KEY",
    "SERVICE_KEY",
    "demand",
    "get_aauth",
    "get_service",
    "requirement_of",
]

SCOPE_KEY = "aauth"
SERVICE_KEY = "aauth.service"


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
    ``default_requirement``); otherwise raise the right challenge."""
    service = get_service(conn)
    try:
        return service.require(get_aauth(conn), requirement or service.default_requirement)
    except AAuthError as exc:
        raise AAuthHTTPException(exc) from None
