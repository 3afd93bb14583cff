"""The aauth-11 endpoints a resource answers itself, behind :class:`AAuthService`'s methods:
the revocation endpoint (RS-60) and the pending URLs of held calls (RS-36).

Each is written once, sync and async; every refusal is logged once and rendered in the
profile's shape (:meth:`AAuthService.error_response`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import Requirement, VerifiedRequest
from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..request import RequestView
from .deferred import PENDING_PREFIX, Pending

if TYPE_CHECKING:
    from .service import AAuthService, ErrorResponse, Reply

__all__ = ["apoll", "arevoke", "poll", "revoke"]

_SIGNED = Requirement("signature")


def _refused(service: AAuthService, view: RequestView, exc: AAuthError) -> ErrorResponse:
    service.log_refusal(exc, view.method, view.path, view.headers)
    return service.error_response(exc)


def _not_here(what: str) -> AAuthError:
    exc = AAuthError(f"this resource has no {what}", code="not_found", status_code=404)
    exc.profile = AAUTH_11.name
    return exc


def revoke(service: AAuthService, view: RequestView) -> Reply | ErrorResponse:
    from .service import Reply

    try:
        if service.revocation is None:
            raise _not_here("revocation endpoint")
        service.revocation.handle(view)
    except AAuthError as exc:
        return _refused(service, view, exc)
    return Reply(200, {"Cache-Control": "no-store"}, b"")


async def arevoke(service: AAuthService, view: RequestView) -> Reply | ErrorResponse:
    from .service import Reply

    try:
        if service.revocation is None:
            raise _not_here("revocation endpoint")
        await service.revocation.ahandle(view)
    except AAuthError as exc:
        return _refused(service, view, exc)
    return Reply(200, {"Cache-Control": "no-store"}, b"")


def _decide(service: AAuthService, view: RequestView, verified: VerifiedRequest | None) -> Pending:
    deferred = service.deferred
    if deferred is None or view.method not in ("GET", "HEAD"):
        raise _not_here("pending call here")
    verified = service.require(verified, _SIGNED)  # an unsigned poll gets the signature challenge
    return deferred.poll(view.path[len(PENDING_PREFIX):], verified)


def poll(service: AAuthService, view: RequestView) -> Pending | ErrorResponse:
    try:
        return _decide(service, view, service.verify(view))
    except AAuthError as exc:
        return _refused(service, view, exc)


async def apoll(service: AAuthService, view: RequestView) -> Pending | ErrorResponse:
    try:
        return _decide(service, view, await service.averify(view))
    except AAuthError as exc:
        return _refused(service, view, exc)
