"""Settings and the shared :class:`AAuthService` for a Django project.

Plain values live in ``settings.AAUTH = {...}`` (keys in either case, mapped onto
:class:`~aauth_core.settings.AAuthSettings`).  Things that are objects rather than
values — signing keys, the discovery client, a clock, a replay cache — come from a
*service factory*; how errors are rendered from an *error handler*.  Both are set
either with a dotted path in settings or programmatically:

``AAUTH_SERVICE_FACTORY = "myproject.aauth.build_service"`` or
:func:`set_service_factory`
    ``factory(settings: AAuthSettings) -> AAuthService``.
``AAUTH_ERROR_HANDLER = "myproject.aauth.render_error"`` or :func:`set_error_handler`
    ``handler(request, error: AAuthError) -> HttpResponse``, as in every adapter; the
    challenge headers the error carries are added when the response lacks them.  The
    earlier ``(request, error, rendered)`` form still works, with a DeprecationWarning.

Everything is read lazily on first use and dropped when Django's ``setting_changed``
signal names one of these settings, so ``override_settings(AAUTH=...)`` just works.
"""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from aauth_core.errors import AAuthError
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings, SettingsError

__all__ = [
    "ErrorHandler",
    "ServiceFactory",
    "WATCHED_SETTINGS",
    "get_error_handler",
    "get_service",
    "get_settings",
    "has_service_factory",
    "load_settings",
    "reset",
    "set_error_handler",
    "set_service_factory",
]

WATCHED_SETTINGS = frozenset({"AAUTH", "AAUTH_SERVICE_FACTORY", "AAUTH_ERROR_HANDLER"})


class ServiceFactory(Protocol):
    """Builds the project's :class:`AAuthService` from its settings."""

    def __call__(self, settings: AAuthSettings, /) -> AAuthService: ...


class ErrorHandler(Protocol):
    """Turns an :class:`AAuthError` into a Django response."""

    def __call__(self, request: HttpRequest, error: AAuthError, /) -> HttpResponse: ...


_lock = threading.RLock()
_state: dict[str, Any] = {}
_factory: ServiceFactory | None = None
_error_handler: ErrorHandler | None = None


def load_settings(value: Any) -> AAuthSettings:
    """``settings.AAUTH`` → :class:`AAuthSettings`; raises :class:`SettingsError` when invalid."""
    if value is None:
        raise SettingsError("settings.AAUTH is missing; set AAUTH = {'resource_id': 'https://...', ...}")
    if not isinstance(value, Mapping):
        raise SettingsError(f"settings.AAUTH must be a dict, got {type(value).__name__}")
    try:
        return AAuthSettings.from_mapping(value)
    except SettingsError:
        raise
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid AAUTH setting: {exc}") from None


def get_settings() -> AAuthSettings:
    """The project's :class:`AAuthSettings`, built once per settings change."""
    with _lock:
        if "settings" not in _state:
            try:
                _state["settings"] = load_settings(getattr(django_settings, "AAUTH", None))
            except SettingsError as exc:
                raise ImproperlyConfigured(exc.description) from None
        result: AAuthSettings = _state["settings"]
        return result


def get_service() -> AAuthService:
    """The shared :class:`AAuthService` (one per process, rebuilt when settings change)."""
    service: AAuthService | None = _state.get("service")  # built already: no lock per request
    if service is not None:
        return service
    with _lock:
        if "service" not in _state:
            _state["service"] = _service_factory()(get_settings())
        service = _state["service"]
        assert service is not None
        return service


def get_error_handler() -> ErrorHandler | None:
    """The configured error handler, or ``None`` for the default JSON + challenge response."""
    if _error_handler is not None:
        return _error_handler
    path = getattr(django_settings, "AAUTH_ERROR_HANDLER", None)
    if not path:
        return None
    with _lock:
        if "error_handler" not in _state:
            _state["error_handler"] = _two_arguments(_import(path, "AAUTH_ERROR_HANDLER"))
        handler: ErrorHandler = _state["error_handler"]
        return handler


def has_service_factory() -> bool:
    """Whether a factory (programmatic or ``AAUTH_SERVICE_FACTORY``) builds the service."""
    return _factory is not None or bool(getattr(django_settings, "AAUTH_SERVICE_FACTORY", None))


def set_service_factory(factory: ServiceFactory | Callable[[AAuthSettings], AAuthService] | None) -> None:
    """Inject how the service is built (keys, discovery, clock, replay cache); ``None`` restores
    ``AAUTH_SERVICE_FACTORY`` or the default.  Takes precedence over the setting."""
    global _factory
    with _lock:
        _factory = factory
        reset()


def set_error_handler(handler: ErrorHandler | Callable[..., HttpResponse] | None) -> None:
    """Inject how AAuth errors become responses; ``None`` restores the default."""
    global _error_handler
    with _lock:
        _error_handler = None if handler is None else _two_arguments(handler)
        reset()


def _two_arguments(handler: Callable[..., HttpResponse]) -> ErrorHandler:
    """The handler as ``(request, error)``; the earlier ``(request, error, rendered)`` form is
    adapted with a DeprecationWarning."""
    try:
        params = [p for p in inspect.signature(handler).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):
        return handler
    if len(params) != 3:
        return handler
    warnings.warn("an AAuth error handler taking (request, error, rendered) is deprecated: take (request, error)",
                  DeprecationWarning, stacklevel=3)

    def adapted(request: HttpRequest, error: AAuthError) -> HttpResponse:
        return handler(request, error, get_service().error_response(error))

    return adapted


def reset() -> None:
    """Forget the cached settings and service; the next request rebuilds them."""
    with _lock:
        _state.clear()


def _service_factory() -> ServiceFactory:
    if _factory is not None:
        return _factory
    path = getattr(django_settings, "AAUTH_SERVICE_FACTORY", None)
    if path:
        factory: ServiceFactory = _import(path, "AAUTH_SERVICE_FACTORY")
        return factory
    return AAuthService


def _import(path: Any, name: str) -> Any:
    if callable(path):
        return path
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{name} {path!r} cannot be imported: {exc}") from None


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in WATCHED_SETTINGS:
        reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="aauth_django.conf")
