"""Per-app AAuth machinery (``app.extensions["aauth"]``) and the request checks built on it.

Every check goes through :class:`AppState`: verify the current request once
(the result, or the error, is kept on ``g``), apply a :class:`Requirement` with
``service.require`` and render any :class:`AAuthError` as a Flask response.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.request import Headers
from aauth_core.resource.contract import Step, missing_challenge_headers
from aauth_core.service import PREFLIGHT_REPLY, AAuthService
from aauth_core.settings import route_requirement

from .context import ENVIRON_OUTCOME, G_CONTEXT
from .environ import request_view

__all__ = ["AppState", "ErrorHandler", "EXTENSION_KEY", "default_error_response", "make_requirement",
           "preflight_response", "state_for"]

log = logging.getLogger("aauth.flask")

EXTENSION_KEY = "aauth"
_UNSET: Any = object()

ErrorHandler = Callable[[Request, AAuthError], ResponseReturnValue]
"""Builds the response for a refused request, ``(request, error)``: anything a Flask view may
return.  The challenge headers the error carries are added when the response lacks them."""


class AppState:
    """One app's service and error handler, shared by the hook, decorators and blueprints."""

    __slots__ = ("error_handler", "service")

    def __init__(self, service: AAuthService, error_handler: ErrorHandler | None = None) -> None:
        self.service = service
        self.error_handler = _checked_handler(error_handler)

    def verified(self) -> VerifiedRequest | None:
        """Verify the current request once per request; raises :class:`AAuthError` when invalid.

        Verifying twice would trip the replay cache, so the outcome is kept with the
        request (see :mod:`aauth_flask.context`) and mirrored to ``g.aauth``.
        """
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup, not one per attribute
        return self._verified(req, None)

    def _verified(self, req: Request, hook_g: Any, headers: Headers | None = None) -> VerifiedRequest | None:
        """:meth:`verified` for a request in hand.  From the hook, ``hook_g`` is the real
        ``g``, and ``g.aauth`` is set on every path: the new context, else ``None``."""
        environ = req.environ
        outcome = environ.get(ENVIRON_OUTCOME, _UNSET)
        if outcome is not _UNSET:  # verified before (e.g. a held call run with its poll's token)
            if hook_g is not None:
                setattr(hook_g, G_CONTEXT, outcome if isinstance(outcome, VerifiedRequest) else None)
            if isinstance(outcome, AAuthError):
                raise outcome
            return outcome if isinstance(outcome, VerifiedRequest) else None
        try:
            verified = self.service.verify(request_view(self.service, req, headers))
        except BaseException as exc:
            if isinstance(exc, AAuthError):
                environ[ENVIRON_OUTCOME] = exc
            if hook_g is not None:
                setattr(hook_g, G_CONTEXT, None)
            raise
        environ[ENVIRON_OUTCOME] = verified
        setattr(g if hook_g is None else hook_g, G_CONTEXT, verified)
        return verified

    def before_request(self) -> Response | None:
        """The app-wide hook (see :func:`verify_request`), bound to this app's state: no
        ``current_app`` lookup per request."""
        req = request._get_current_object()  # type: ignore[attr-defined]  # the real objects: no proxy per attribute
        # g may outlive a request (a reused app context): g.aauth is set on every path, so it
        # never shows a stale context.
        app_g = g._get_current_object()
        service = self.service
        headers = Headers.from_environ(req.environ)  # one lazy view for the gate and the RequestView
        step, requirement = service.gate(req.method, req.path, headers)
        if step is not Step.VERIFY:
            setattr(app_g, G_CONTEXT, None)
            return preflight_response() if step is Step.PREFLIGHT else None  # SKIP: a decorator verifies
        try:
            verified = self._verified(req, app_g, headers)
            if requirement is not None:
                service.require(verified, requirement)
        except AAuthError as exc:
            return self.render(exc)
        return None

    def check(self, requirement: Requirement | None) -> Response | None:
        """Verify (if not yet done) and demand ``requirement``; a response when refused."""
        try:
            verified = self.verified()
            if requirement is not None:
                self.service.require(verified, requirement)
        except AAuthError as exc:
            return self.render(exc)
        return None

    def demand(self, requirement: Requirement | None) -> Response | None:
        """What decorators and protected blueprints run (``None``: the ``default_requirement``):
        a CORS preflight is answered 204 without the view; anything else must meet the requirement."""
        service = self.service
        if request.method == "OPTIONS" and service.is_preflight("OPTIONS", request.headers):
            return preflight_response()
        return self.check(requirement or service.default_requirement)

    def render(self, error: AAuthError) -> Response:
        """The refusal: the custom handler's response (challenge headers added if missing) or the default."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        self.service.log_refusal(error, req.method, req.path, req.headers)
        if self.error_handler is None:
            return default_error_response(self.service, error)
        response = current_app.make_response(self.error_handler(req, error))
        for name, value in missing_challenge_headers(error, response.headers.keys()):
            response.headers[name] = value
        return response


def preflight_response() -> Response:
    """The ``204`` a protected route gives a CORS preflight (after_request hooks, e.g. CORS, still run)."""
    return Response(PREFLIGHT_REPLY.body, status=PREFLIGHT_REPLY.status, headers=dict(PREFLIGHT_REPLY.headers))


def _checked_handler(handler: Callable[..., ResponseReturnValue] | None) -> ErrorHandler | None:
    """The handler as ``(request, error)``; the earlier one-argument ``(error)`` form is adapted
    with a DeprecationWarning."""
    if handler is None:
        return None
    try:
        params = [p for p in inspect.signature(handler).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return handler
    if len(params) == 1:
        warnings.warn("error_handler(error) is deprecated: take (request, error)", DeprecationWarning, stacklevel=4)
        old = handler
        return lambda _request, error: old(error)
    return handler


def default_error_response(service: AAuthService, error: AAuthError) -> Response:
    """``{"error", "error_description"}`` JSON with the ``Agent-Auth`` challenge (protocol A9)."""
    rendered = service.error_response(error)
    return Response(rendered.body, status=rendered.status, headers=dict(rendered.headers))


def state_for(app: Flask | None = None) -> AppState:
    """The :class:`AppState` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    state = target.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AppState):
        raise RuntimeError("AAuth is not initialised for this app: call AAuth(app) or aauth.init_app(app)")
    return state


def verify_request() -> Response | None:
    """The app-wide ``before_request`` hook: verify any signed request, enforce path rules.

    Exempt paths are left alone (a decorator on such a route still verifies
    lazily); a CORS preflight to a route a path rule protects is answered 204.  Path rules match
    the decoded, routed path (``request.path``), the one Flask dispatches on.
    :meth:`AAuth.init_app` installs :meth:`AppState.before_request`, the same hook
    already bound to the app's state.
    """
    return state_for().before_request()


def make_requirement(level: str | Requirement | None = None, scopes: str | Iterable[str] = ()) -> Requirement | None:
    """``("authorization", ["data.read"])`` or ``"authorization:data.read"`` → :class:`Requirement`;
    nothing → ``None`` (the ``default_requirement``); scopes alone → ``authorization``."""
    return route_requirement(level, scopes)
