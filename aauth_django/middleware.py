"""``AAuthMiddleware``: verify every signed request, enforce the path rules.

Middleware verifies, decorators demand (architecture convention 4): a signed
request is verified and its :class:`~aauth_core.context.VerifiedRequest` stored
on ``request.aauth``; an invalid signature is answered 401 at once, never treated
as anonymous; an unsigned request passes with ``request.aauth = None``.  Then the
path rules of ``AAUTH`` (``protect_all`` / ``exempt_paths`` / ``protected_paths``)
are applied to ``request.path_info`` — the decoded path Django routes on, so a
percent-encoded spelling cannot dodge a rule.  ``exempt_paths`` only lift the
path rules: a signed request to an exempt path is still verified.  CORS preflight
(``OPTIONS``) passes untouched, unverified, while ``allow_options`` is on.  A view
may also raise an :class:`AAuthError` itself; ``process_exception`` renders it.

Works under WSGI and ASGI: the async path awaits ``AAuthService.averify`` so key
discovery never blocks the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from aauth_core.context import VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.service import AAuthService

from .conf import get_service
from .request import ATTRIBUTE, build_view, render_error

__all__ = ["AAuthMiddleware"]

log = logging.getLogger("aauth.django")


class AAuthMiddleware:
    """Add to ``MIDDLEWARE``; sync and async capable."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        service = get_service()
        if request.method == "OPTIONS" and self._preflight(service, request):
            return self.get_response(request)
        try:
            self._apply(service, request, service.verify(build_view(service, request)))
        except AAuthError as error:
            return self._refuse(request, error)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        service = get_service()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        if request.method == "OPTIONS" and self._preflight(service, request):
            return await get_response(request)
        try:
            self._apply(service, request, await service.averify(build_view(service, request)))
        except AAuthError as error:
            return self._refuse(request, error)
        return await get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Render an :class:`AAuthError` a view raised (e.g. from :func:`aauth_django.request.enforce`)."""
        if isinstance(exception, AAuthError):
            return self._refuse(request, exception)
        return None

    @staticmethod
    def _preflight(service: AAuthService, request: HttpRequest) -> bool:
        if request.method == "OPTIONS" and service.settings.allow_options:
            setattr(request, ATTRIBUTE, None)
            return True
        return False

    @staticmethod
    def _apply(service: AAuthService, request: HttpRequest, context: VerifiedRequest | None) -> None:
        setattr(request, ATTRIBUTE, context)
        requirement = service.path_rules(request.method or "GET", request.path_info)[1]  # requirement_for_path
        if requirement is not None:
            service.require(context, requirement)

    @staticmethod
    def _refuse(request: HttpRequest, error: AAuthError) -> HttpResponse:
        log.info("AAuth refused %s %s: %s (%d)", request.method, request.path_info, error.code, error.status_code)
        return render_error(request, error)
