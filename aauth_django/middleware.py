"""``AAuthMiddleware``: verify every signed request, enforce the path rules.

Middleware verifies, decorators demand (docs/adapters.md): a signed request is
verified and its :class:`~aauth_core.context.VerifiedRequest` stored on
``request.aauth``; an invalid signature is answered 401 at once, never treated
as anonymous; an unsigned request passes with ``request.aauth = None``.  Then the
path rules of ``AAUTH`` (``protect_all`` / ``exempt_paths`` / ``protected_paths``)
are applied to ``request.path_info`` — the decoded path Django routes on, so a
percent-encoded spelling cannot dodge a rule.  On an exempt path nothing is
verified here (a decorated view there verifies for itself).  A CORS preflight to
a route a path rule protects is answered 204 while ``allow_options`` is on; put
a CORS middleware (django-cors-headers) before this one to answer it with CORS
headers.  A view may also raise an :class:`AAuthError` itself;
``process_exception`` renders it.

Works under WSGI and ASGI: the async path awaits ``AAuthService.averify`` so key
discovery never blocks the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from aauth_core.errors import AAuthError
from aauth_core.request import Headers
from aauth_core.resource.contract import Step
from aauth_core.resource.deferred import PENDING_PREFIX

from . import deferred
from .conf import get_service
from .request import ATTRIBUTE, build_view, mark_unverified, preflight_response, render_error

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
        if service.deferred is not None and request.path_info.startswith(PENDING_PREFIX):
            return deferred.poll(service, request, self.get_response)  # aauth-11 held calls (RS-36)
        headers = Headers.from_environ(request.META)  # a view over META, not request.headers (a full parse)
        gate = service.gate(request.method or "GET", request.path_info, headers)
        if gate.step is Step.VERIFY:
            try:
                context = service.verify(build_view(service, request, headers))
                setattr(request, ATTRIBUTE, context)
                if gate.requirement is not None:
                    service.require(context, gate.requirement)
            except AAuthError as error:
                return render_error(request, error)
        elif gate.step is Step.PREFLIGHT:
            return preflight_response()
        else:
            mark_unverified(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        service = get_service()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        if service.deferred is not None and request.path_info.startswith(PENDING_PREFIX):
            return await deferred.apoll(service, request, get_response)
        headers = Headers.from_environ(request.META)
        gate = service.gate(request.method or "GET", request.path_info, headers)
        if gate.step is Step.VERIFY:
            try:
                context = await service.averify(build_view(service, request, headers))
                setattr(request, ATTRIBUTE, context)
                if gate.requirement is not None:
                    service.require(context, gate.requirement)
            except AAuthError as error:
                return render_error(request, error)
        elif gate.step is Step.PREFLIGHT:
            return preflight_response()
        else:
            mark_unverified(request)
        return await get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Render an :class:`AAuthError` a view raised (e.g. from :func:`aauth_django.request.enforce`)."""
        if isinstance(exception, AAuthError):
            return render_error(request, exception)
        return None

