"""The ``AAuth`` Flask extension: settings from ``AAUTH_*`` config, one service per app."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from flask import Blueprint, Flask, Response

from aauth_core.cache import ReplayCache
from aauth_core.context import Requirement
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings

from .deferred import PendingCalls
from .state import EXTENSION_KEY, AppState, ErrorHandler, make_requirement, state_for
from .views import metadata_blueprint

__all__ = ["AAuth", "DiscoveryFactory"]

DiscoveryFactory = Callable[[AAuthSettings], Discovery]
"""Builds the discovery client from an app's settings (one extension may serve several apps)."""


class AAuth:
    """Verify AAuth-signed requests in one or more Flask apps.

    ``AAuth(app)`` or ``aauth = AAuth(); aauth.init_app(app)``.  Settings are the
    app's ``AAUTH_*`` config keys (``AAUTH_RESOURCE_ID``, ``AAUTH_TRUSTED_ISSUERS``,
    ...), read once by :meth:`init_app`; an unknown ``AAUTH_`` key raises there.
    ``keys``, ``discovery`` (or a factory taking the app's settings), ``clock``
    and ``replay_cache`` are injected into each app's service; ``error_handler``
    renders every refusal.  ``serve_metadata=False`` leaves the metadata and JWKS
    routes to you (see :func:`metadata_blueprint`).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        keys: Sequence[SigningKey] | None = None,
        discovery: Discovery | DiscoveryFactory | None = None,
        clock: Callable[[], float] | None = None,
        replay_cache: ReplayCache | None = None,
        error_handler: ErrorHandler | None = None,
        serve_metadata: bool = True,
    ) -> None:
        self.keys = keys
        self.discovery = discovery
        self.clock = clock
        self.replay_cache = replay_cache
        self.error_handler = error_handler
        self.serve_metadata = serve_metadata
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the app's service from its config, install the hook and the metadata routes."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("AAuth is already initialised for this app")
        settings = AAuthSettings.from_mapping(app.config, prefix="AAUTH_")
        clock = self.clock or time.time
        discovery = self.discovery
        if discovery is not None and not isinstance(discovery, Discovery):
            discovery = discovery(settings)
        service = AAuthService(settings, keys=self.keys, discovery=discovery, replay_cache=self.replay_cache,
                               clock=clock)
        state = AppState(service, self.error_handler)
        app.extensions[EXTENSION_KEY] = state
        app.before_request(state.before_request)  # verify_request, bound to this app's state
        if service.deferred is not None:  # aauth-11 deferred delivery: polls are answered before routing
            app.wsgi_app = PendingCalls(app.wsgi_app, service)  # type: ignore[method-assign]
        if self.serve_metadata:
            app.register_blueprint(metadata_blueprint())

    def service_for(self, app: Flask | None = None) -> AAuthService:
        """The :class:`AAuthService` of ``app`` (default: the current app)."""
        return state_for(app).service

    @property
    def service(self) -> AAuthService:
        """The current app's service (needs an app context)."""
        return state_for().service

    def protect_blueprint(
        self, bp: Blueprint, level: str | Requirement | None = None, *, scopes: str | Iterable[str] = ()
    ) -> Blueprint:
        """Demand ``level`` (and ``scopes``; nothing: the ``default_requirement``) of every route
        of ``bp``, as :func:`aauth_required` does; returns ``bp``.

        Call it before ``app.register_blueprint(bp)`` (Flask freezes a registered blueprint).
        """
        requirement = make_requirement(level, scopes)

        def protect() -> Response | None:
            return state_for().demand(requirement)

        bp.before_request(protect)
        return bp
