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
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, UnauthenticatedUser
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aauth_core.cache import ReplayCache
from aauth_core.context import VerifiedRequest
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.request import SIGNATURE_HEADERS, Headers
from aauth_core.resource import RESOURCE_TOKEN_PATH
from aauth_core.resource.contract import Step, missing_challenge_headers
from aauth_core.resource.deferred import PENDING_PREFIX
from aauth_core.service import DOCUMENT_CACHE_CONTROL, DOCUMENT_PATHS, REVOCATION_PATH_11, AAuthService
from aauth_core.settings import AAuthSettings, SettingsError

from .asgi import read_body, replay_body, view_of
from .context import SCOPE_KEY, SERVICE_KEY, UNVERIFIED_KEY, AAuthHTTPException, AAuthPreflight, preflight_response
from .deferred import serve_pending
from .user import AAuthUser, credentials_for

__all__ = ["AAuthMiddleware", "ErrorHandler", "DOCUMENT_CACHE_CONTROL", "replay_body"]

log = logging.getLogger("aauth.starlette")

ErrorHandler = Callable[[Request, AAuthError], "Response | Awaitable[Response]"]
"""Builds the response for a refused request, ``(request, error) -> response``; sync or async.
The challenge headers the error carries are added when the handler's response lacks them."""

_DOCUMENT_PATHS = DOCUMENT_PATHS  # what service.document() may answer
_ENDPOINT_PATHS = frozenset({RESOURCE_TOKEN_PATH, REVOCATION_PATH_11})  # POSTs the service answers itself


class AAuthMiddleware:
    """Verify AAuth-signed requests for the wrapped ASGI app.

    ``Middleware(AAuthMiddleware, resource_id=..., trusted_issuers=[...])`` or
    ``AAuthMiddleware(app, settings=AAuthSettings(...))``: keyword arguments are
    :class:`AAuthSettings` field names (merged over ``settings`` when both are
    given).  ``keys``, ``discovery``, ``clock`` and ``replay_cache`` are injected
    into the service; ``service`` passes a ready one instead.  ``error_handler``
    customises every refusal.  ``other_auth`` (a Starlette ``AuthenticationBackend``,
    e.g. an OAuth bearer-token backend) may claim an *unsigned* request first: when it
    authenticates one, the path rules are lifted for it and its user and credentials
    fill ``request.user`` / ``request.auth`` (the AAuth context stays ``None``, so a
    route decorator still refuses it); when it returns ``None`` or raises
    ``AuthenticationError``, the request is treated like any unsigned one.

    A configuration error (an unknown setting, a key that cannot be loaded) fails the
    ASGI lifespan startup with its message, so the server refuses to start instead of
    answering every request with a 500.
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
        other_auth: AuthenticationBackend | None = None,
        **setting_values: Any,
    ) -> None:
        self.app = app
        self.error_handler = _checked_handler(error_handler)
        self.other_auth = other_auth
        #: Why the service could not be built; reported at lifespan startup (see the class doc).
        self.startup_error: Exception | None = None
        if service is not None:
            if settings is not None or setting_values:
                raise TypeError("pass either service= or settings, not both")
            self._service: AAuthService | None = service
        else:
            try:
                resolved = _settings(settings, setting_values)
                extra: dict[str, Any] = {}
                if clock is not None:
                    extra["clock"] = clock
                self._service = AAuthService(resolved, keys=keys, discovery=discovery, replay_cache=replay_cache,
                                             **extra)
            except (AAuthError, OSError, ValueError, TypeError) as exc:  # SettingsError and key loading
                log.error("AAuth configuration error: %s", _describe(exc))
                self.startup_error = exc
                self._service = None
        # Wrapping a Starlette/FastAPI app from the outside puts this middleware beyond
        # Starlette's ServerErrorMiddleware, which would turn a decorator's or a
        # dependency's challenge into a 500 before it got here: render it inside.
        add_handler = getattr(app, "add_exception_handler", None)
        handled = False
        if callable(add_handler):
            add_handler(AAuthHTTPException, self._exception_handler)
            add_handler(AAuthPreflight, self._preflight_handler)
            handled = True
        # Only around an app that might let an AAuthHTTPException out before it started its
        # response does ``send`` need watching (a per-request closure).  With the handler
        # above, Starlette's ExceptionMiddleware (what a Middleware(...) entry usually wraps)
        # renders the exception itself; a whole Starlette (or FastAPI) app does too, and ends
        # in ServerErrorMiddleware, which sends a response before it re-raises anything.
        self._track_start = not (handled and isinstance(app, (Starlette, ExceptionMiddleware)))

    @property
    def service(self) -> AAuthService:
        """The service; raises the configuration error when it could not be built."""
        if self._service is None:
            assert self.startup_error is not None
            raise self.startup_error
        return self._service

    @property
    def settings(self) -> AAuthSettings:
        return self.service.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websocket: untouched, unless startup must fail
            if self._service is None and scope["type"] == "lifespan":
                await self._fail_startup(receive, send)
                return
            await self.app(scope, receive, send)
            return
        service = self._service
        if service is None:
            raise self.startup_error  # type: ignore[misc]  # set whenever _service is None
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
        if (path in _ENDPOINT_PATHS or path.startswith(PENDING_PREFIX)) and await self._endpoint(
                method, path, scope, receive, send, headers):
            return
        step, requirement = service.gate(method, path, headers)
        verified: VerifiedRequest | None = None
        if step is Step.VERIFY:
            try:
                verified, receive = await self._verify(scope, receive, service, headers)
                if verified is None and self.other_auth is not None and await self._claimed(scope):
                    requirement = None  # another scheme authenticated this unsigned request
                if requirement is not None:
                    verified = service.require(verified, requirement)
            except AAuthError as exc:
                await self._refuse(exc, scope, receive, send)
                return
            except _ClientGone:
                return
        elif step is Step.PREFLIGHT:
            await preflight_response()(scope, receive, send)
            return
        else:  # Step.SKIP: an exempt path; a route demand verifies for itself
            scope[UNVERIFIED_KEY] = True
        _attach(scope, verified)

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
        except AAuthPreflight:
            if started:
                raise
            await preflight_response()(scope, receive, send)

    @staticmethod
    async def _verify(scope: Scope, receive: Receive, service: AAuthService,
                      headers: Headers) -> tuple[VerifiedRequest | None, Receive]:
        """Verify a signed request (reading the body when the signature covers it); the
        ``receive`` the app must use from now on (the buffered body replayed)."""
        if not headers.has_any(SIGNATURE_HEADERS):
            return None, receive
        view = view_of(service, scope, headers)
        if service.needs_body(headers):
            body = await read_body(receive, service, headers)
            if body is None:
                raise _ClientGone
            view = view._replace(body=body)
            receive = replay_body(body, receive)
        return await service.averify(view), receive

    async def _claimed(self, scope: Scope) -> bool:
        """Whether ``other_auth`` authenticates this unsigned request (its user then fills the scope)."""
        assert self.other_auth is not None
        try:
            result = await self.other_auth.authenticate(HTTPConnection(scope))
        except AuthenticationError:
            return False
        if result is None:
            return False
        scope["auth"], scope["user"] = result
        return True

    async def _fail_startup(self, receive: Receive, send: Send) -> None:
        """Answer the lifespan startup with ``lifespan.startup.failed``: the server exits with the message."""
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed",
                        "message": f"AAuth configuration error: {_describe(self.startup_error)}"})

    async def _resource_token(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """``POST /resource/token`` (B §5.4), answered by the service."""
        service = self.service
        view = view_of(service, scope, headers)
        try:
            body = await read_body(receive, service, headers)
        except AAuthError as exc:
            await self._refuse(exc, scope, receive, send)
            return
        if body is None:
            return
        reply = await service.aresource_token(view._replace(body=body))
        await Response(reply.body, status_code=reply.status, headers=dict(reply.headers))(scope, receive, send)

    async def _endpoint(self, method: str, path: str, scope: Scope, receive: Receive, send: Send,
                        headers: Headers) -> bool:
        """The service's own endpoints, when this service has them: the resource token
        endpoint, and aauth-11's revocation endpoint (RS-60) and pending URLs (RS-36), which
        verify their requests themselves.  ``False``: not ours, route it as usual."""
        service = self.service
        if path.startswith(PENDING_PREFIX):
            if service.deferred is None:
                return False
            await serve_pending(self.app, service, scope, receive, send, headers, attach=_attach)
            return True
        if method != "POST":
            return False
        if path == RESOURCE_TOKEN_PATH:
            if service.resource is None:
                return False
            await self._resource_token(scope, receive, send, headers)
            return True
        if service.revocation is None:
            return False
        try:
            body = await read_body(receive, service, headers)
        except AAuthError as exc:
            await self._refuse(exc, scope, receive, send)
            return True
        if body is not None:
            reply = await service.arevoke(view_of(service, scope, headers)._replace(body=body))
            await Response(reply.body, status_code=reply.status, headers=dict(reply.headers))(scope, receive, send)
        return True

    async def _refuse(self, error: AAuthError, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._response_for(error, Request(scope, receive))
        await response(scope, receive, send)

    async def _exception_handler(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AAuthHTTPException)
        return await self._response_for(exc.error, request)

    async def _preflight_handler(self, request: Request, exc: Exception) -> Response:
        return preflight_response()

    async def _response_for(self, error: AAuthError, request: Request) -> Response:
        self.service.log_refusal(error, request.method, request.url.path, request.headers)
        if self.error_handler is not None:
            result = self.error_handler(request, error)
            response = await result if inspect.isawaitable(result) else result
            for name, value in missing_challenge_headers(error, response.headers.keys()):
                response.headers[name] = value
            return response
        rendered = self.service.error_response(error)
        return Response(rendered.body, status_code=rendered.status, headers=dict(rendered.headers))


class _ClientGone(Exception):
    """The client disconnected before sending the whole body: nothing to answer."""


def _attach(scope: Scope, verified: VerifiedRequest | None) -> None:
    """The context in its slots: ``scope["aauth"]``, and ``request.user``/``request.auth`` unless
    another authentication middleware set them first."""
    scope[SCOPE_KEY] = verified
    if "user" in scope:
        return
    if verified is None:
        scope["user"] = UnauthenticatedUser()
        scope["auth"] = AuthCredentials()
    else:
        scope["user"] = AAuthUser(verified)
        scope["auth"] = credentials_for(verified)


def _checked_handler(handler: ErrorHandler | None) -> ErrorHandler | None:
    """The handler as ``(request, error)``; the earlier ``(error, request)`` order, recognised by
    the first parameter's annotation (``AAuthError``) or name (``error``, ``exc``, ``err``, ``e``),
    is adapted with a DeprecationWarning."""
    if handler is None:
        return None
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return handler
    if not params:
        return handler
    first = params[0].annotation
    if first is AAuthError or (isinstance(first, str) and first.rsplit(".", 1)[-1] == "AAuthError") \
            or params[0].name in ("error", "exc", "err", "e"):
        import warnings

        warnings.warn("error_handler(error, request) is deprecated: take (request, error)", DeprecationWarning,
                      stacklevel=3)
        old = handler
        return lambda request, error: old(error, request)  # type: ignore[arg-type]
    return handler


def _describe(exc: BaseException | None) -> str:
    description = getattr(exc, "description", None)
    return str(description or exc)


def _settings(settings: AAuthSettings | None, values: dict[str, Any]) -> AAuthSettings:
    """Keyword arguments are settings names; unknown ones are an error, not a silent default."""
    unknown = sorted(set(values) - {f.name for f in fields(AAuthSettings)})
    if unknown:
        raise SettingsError(f"unknown AAuth setting(s): {', '.join(unknown)}")
    return settings.replace(**values) if settings is not None else AAuthSettings(**values)


def _document_response(document: bytes) -> Response:
    return Response(document, media_type="application/json", headers={"Cache-Control": DOCUMENT_CACHE_CONTROL})
