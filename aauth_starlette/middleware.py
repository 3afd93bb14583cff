"""``AAuthMiddleware``: pure ASGI, translating between ASGI and :class:`AAuthService`.

Per HTTP request: an unsigned request passes through with ``scope["aauth"] = None``
unless a path rule demands more; a signed one is verified (reading the body only
when the signature covers ``content-digest``, then replaying exactly those bytes
to the app) and an invalid signature is answered with a 401 at once.  The
resource's metadata and JWKS documents are served here too.  Every protocol rule
lives in ``aauth_core``; this module only moves bytes.

Behind a reverse proxy, configure ``resource_id`` (the canonical authority comes
from it); only without one, ``trust_forwarded=True`` takes the authority from
``X-Forwarded-Host`` / ``Forwarded``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from typing import Any

from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, UnauthenticatedUser
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aauth_core.cache import ReplayCache
from aauth_core.context import VerifiedRequest
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.request import SIGNATURE_HEADERS, Headers, RequestView
from aauth_core.resource import RESOURCE_TOKEN_PATH
from aauth_core.service import DOCUMENT_CACHE_CONTROL, JWKS_PATH, METADATA_PATH, AAuthService
from aauth_core.settings import AAuthSettings, SettingsError

from .context import SCOPE_KEY, SERVICE_KEY, AAuthHTTPException
from .user import AAuthUser, credentials_for

__all__ = ["AAuthMiddleware", "ErrorHandler", "DOCUMENT_CACHE_CONTROL", "replay_body"]

log = logging.getLogger("aauth.starlette")

ErrorHandler = Callable[[AAuthError, Request], "Response | Awaitable[Response]"]
"""Builds the response for a refused request; may be sync or async."""

_DOCUMENT_PATHS = frozenset({METADATA_PATH, JWKS_PATH})  # what service.document() may answer



class AAuthMiddleware:
    """Verify AAuth-signed requests for the wrapped ASGI app.

    ``Middleware(AAuthMiddleware, resource_id=..., trusted_issuers=[...])`` or
    ``AAuthMiddleware(app, settings=AAuthSettings(...))``: keyword arguments are
    :class:`AAuthSettings` field names (merged over ``settings`` when both are
    given).  ``keys``, ``discovery``, ``clock`` and ``replay_cache`` are injected
    into the service; ``service`` passes a ready one instead.  ``error_handler``
    customises every refusal.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: AAuthSettings | None = None,
        *,
        keys: Sequence[SigningKey] | None = None,
        discovery: Discovery | None = None,
        clock: Callable[[], float] | None = None,
        replay_cache: ReplayCache | None = None,
        error_handler: ErrorHandler | None = None,
        service: AAuthService | None = None,
        **setting_values: Any,
    ) -> None:
        self.app = app
        self.error_handler = error_handler
        if service is not None:
            if settings is not None or setting_values:
                raise TypeError("pass either service= or settings, not both")
            self.service = service
        else:
            resolved = _settings(settings, setting_values)
            extra: dict[str, Any] = {}
            if clock is not None:
                extra["clock"] = clock
            self.service = AAuthService(resolved, keys=keys, discovery=discovery, replay_cache=replay_cache, **extra)
        # Wrapping a Starlette/FastAPI app from the outside puts this middleware beyond
        # Starlette's ServerErrorMiddleware, which would turn a decorator's or a
        # dependency's challenge into a 500 before it got here: render it inside.
        add_handler = getattr(app, "add_exception_handler", None)
        handled = False
        if callable(add_handler):
            add_handler(AAuthHTTPException, self._exception_handler)
            handled = True
        # Only around an app that might let an AAuthHTTPException out before it started its
        # response does ``send`` need watching (a per-request closure).  With the handler
        # above, Starlette's ExceptionMiddleware (what a Middleware(...) entry usually wraps)
        # renders the exception itself; a whole Starlette (or FastAPI) app does too, and ends
        # in ServerErrorMiddleware, which sends a response before it re-raises anything.
        self._track_start = not (handled and isinstance(app, (Starlette, ExceptionMiddleware)))

    @property
    def settings(self) -> AAuthSettings:
        return self.service.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websocket: untouched
            await self.app(scope, receive, send)
            return
        service = self.service
        scope[SERVICE_KEY] = service
        scope[SCOPE_KEY] = None
        method: str = scope["method"]
        path: str = scope["path"]

        if path in _DOCUMENT_PATHS and method in ("GET", "HEAD"):
            document = service.document(path)
            if document is not None:
                await _document_response(document)(scope, receive, send)
                return

        headers = Headers.from_asgi(scope["headers"])
        if method == "POST" and path == RESOURCE_TOKEN_PATH and service.resource is not None:
            await self._resource_token(scope, receive, send, headers)
            return
        verified: VerifiedRequest | None = None
        exempt, requirement = service.path_rules(method, path)
        if not exempt:
            if headers.has_any(SIGNATURE_HEADERS):
                view = self._view(scope, headers)
                if service.needs_body(headers):
                    try:
                        body = await _read_body(receive, service)
                    except AAuthError as exc:
                        await self._refuse(exc, scope, receive, send)
                        return
                    if body is None:
                        return  # the client went away before sending the whole body
                    view = view._replace(body=body)
                    receive = replay_body(body, receive)
                try:
                    verified = await service.averify(view)
                except AAuthError as exc:
                    await self._refuse(exc, scope, receive, send)
                    return
            if requirement is not None:
                try:
                    verified = service.require(verified, requirement)
                except AAuthError as exc:
                    await self._refuse(exc, scope, receive, send)
                    return

        scope[SCOPE_KEY] = verified
        if "user" not in scope:  # another authentication middleware ran first: leave its answer
            if verified is None:
                scope["user"] = UnauthenticatedUser()
                scope["auth"] = AuthCredentials()
            else:
                scope["user"] = AAuthUser(verified)
                scope["auth"] = credentials_for(verified)

        if not self._track_start:  # nothing that escapes the app is left to render (see __init__)
            await self.app(scope, receive, send)
            return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except AAuthHTTPException as exc:
            if started:
                raise
            await self._refuse(exc.error, scope, receive, send)

    async def _resource_token(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """``POST /resource/token`` (B §5.4), answered by the service."""
        view = self._view(scope, headers)
        try:
            body = await _read_body(receive, self.service)
        except AAuthError as exc:
            await self._refuse(exc, scope, receive, send)
            return
        if body is None:
            return
        reply = await self.service.aresource_token(view._replace(body=body))
        await Response(reply.body, status_code=reply.status, headers=dict(reply.headers))(scope, receive, send)

    def _view(self, scope: Scope, headers: Headers) -> RequestView:
        """Raw path and query as received (the signature covers those bytes), no body yet."""
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        query = scope.get("query_string", b"").decode("latin-1") or None  # ASGI cannot tell "/p?" from "/p"
        host = None
        if self.service.canonical_authority is None:  # only then does the server's address matter
            server = scope.get("server")
            if server and server[0]:
                host = f"{server[0]}:{server[1]}" if server[1] is not None else server[0]
        return self.service.view(method=scope["method"], path=path.partition("?")[0], query=query,
                                 headers=headers, host=host, scheme=scope.get("scheme", "https"))

    async def _refuse(self, error: AAuthError, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._response_for(error, Request(scope, receive))
        await response(scope, receive, send)

    async def _exception_handler(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AAuthHTTPException)
        return await self._response_for(exc.error, request)

    async def _response_for(self, error: AAuthError, request: Request) -> Response:
        log.debug("refused %s %s: %s (%d)", request.method, request.url.path, error.code, error.status_code)
        if self.error_handler is not None:
            result = self.error_handler(error, request)
            return await result if inspect.isawaitable(result) else result
        rendered = self.service.error_response(error)
        return Response(rendered.body, status_code=rendered.status, headers=dict(rendered.headers))


def _settings(settings: AAuthSettings | None, values: dict[str, Any]) -> AAuthSettings:
    """Keyword arguments are settings names; unknown ones are an error, not a silent default."""
    unknown = sorted(set(values) - {f.name for f in fields(AAuthSettings)})
    if unknown:
        raise SettingsError(f"unknown AAuth setting(s): {', '.join(unknown)}")
    return settings.replace(**values) if settings is not None else AAuthSettings(**values)


def _document_response(document: bytes) -> Response:
    return Response(document, media_type="application/json", headers={"Cache-Control": DOCUMENT_CACHE_CONTROL})


async def _read_body(receive: Receive, service: AAuthService) -> bytes | None:
    """The whole request body, or ``None`` if the client disconnected first.

    Raises the service's 413 as soon as the body grows past ``max_body_bytes``, so
    an unbounded upload is never buffered."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        too_large = service.body_too_large(size)
        if too_large is not None:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the buffered body once, then defers to the server
    (for any ASGI layer that reads the body before the app does)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
