"""aauth-11 pending URLs in Django (deferred delivery, RS-36), answered by the middleware
before URL resolution.

A poll gets the service's answer, or the held call: the poll's request object is rewritten in
place into the held request (method, path, headers, body), so what earlier middleware set on
it (``session``, ``user``) stays, and it goes on down the chain with the poll's auth token as
``request.aauth``; Django then resolves the held path.  What the app answers is kept for that
token.  The rules are :mod:`aauth_core.resource.deferred`'s.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from aauth_core.request import Headers
from aauth_core.resource.contract import Reply
from aauth_core.resource.deferred import Run, held_environ
from aauth_core.service import AAuthService

from .request import _UNVERIFIED, ATTRIBUTE, build_view

__all__ = ["apoll", "poll"]


def poll(service: AAuthService, request: HttpRequest, get_response: Callable[[HttpRequest], Any]) -> HttpResponse:
    outcome = service.poll(build_view(service, request, Headers.from_environ(request.META)))
    if not isinstance(outcome, Run):
        return _response(outcome.status, outcome.headers, outcome.body)
    _become_held(request, outcome)
    try:
        response = get_response(request)
    except BaseException:
        _abandon(service, outcome)
        raise
    return _complete(service, outcome, response)


async def apoll(service: AAuthService, request: HttpRequest,
                get_response: Callable[[HttpRequest], Awaitable[Any]]) -> HttpResponse:
    outcome = await service.apoll(build_view(service, request, Headers.from_environ(request.META)))
    if not isinstance(outcome, Run):
        return _response(outcome.status, outcome.headers, outcome.body)
    _become_held(request, outcome)
    try:
        response = await get_response(request)
    except BaseException:
        _abandon(service, outcome)
        raise
    return _complete(service, outcome, response)


def _become_held(request: HttpRequest, run: Run) -> None:
    """Rewrite ``request`` into the held request, verified with the poll's auth token."""
    held = run.request
    meta = held_environ(request.META, held)
    request.META.clear()
    request.META.update(meta)
    request.method = held.method
    request.path_info = meta["PATH_INFO"]
    request.path = f"{meta.get('SCRIPT_NAME', '')}{meta['PATH_INFO']}"
    for cached in ("GET", "headers", "COOKIES", "_post", "_files"):
        request.__dict__.pop(cached, None)
    body = held.body or b""
    request._body = body
    request._stream = io.BytesIO(body)
    request._read_started = False
    request._set_content_type_params(request.META)
    setattr(request, ATTRIBUTE, run.context)
    setattr(request, _UNVERIFIED, False)


def _complete(service: AAuthService, run: Run, response: Any) -> HttpResponse:
    deferred = service.deferred
    assert deferred is not None  # a Run comes only from a service that holds calls
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    reply: Reply = deferred.complete(run, response.status_code, list(response.items()), body)
    return _response(reply.status, reply.headers, reply.body)


def _abandon(service: AAuthService, run: Run) -> None:
    if service.deferred is not None:
        service.deferred.abandon(run)


def _response(status: int, headers: Any, body: bytes) -> HttpResponse:
    response = HttpResponse(body, status=status)
    for name, value in dict(headers).items():
        response[name] = value
    return response
