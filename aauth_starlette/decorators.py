"""``aauth_required``: a route demands a level (and scopes) of the verified context.

Works bare (``@aauth_required``) or with arguments
(``@aauth_required("authorization", scopes=["data.read"])``), on sync and async
Starlette endpoints and on FastAPI path operations.  ``functools.wraps`` keeps the
signature, so FastAPI still sees the real parameters; the endpoint must take the
``Request`` (any name, found among the arguments).  An unsatisfied demand raises
:class:`AAuthHTTPException`, which the middleware renders as the challenge; a CORS
preflight is answered ``204`` without running the endpoint.  ``requires_aauth`` is
the same decorator under its earlier name.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from starlette.requests import HTTPConnection

from aauth_core.context import Requirement
from aauth_core.settings import route_requirement

from .context import AAuthPreflight, ademand, demand, preflight_response

__all__ = ["aauth_required", "requires_aauth"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def aauth_required(func: F, /) -> F: ...


@overload
def aauth_required(
    level: str | Requirement | None = None, /, *, scopes: Iterable[str] | str = ()
) -> Callable[[F], F]: ...


@overload
def aauth_required(*, level: str | Requirement | None = None, scopes: Iterable[str] | str = ()) -> Callable[[F], F]: ...


def aauth_required(
    target: Any = None, /, *, level: str | Requirement | None = None, scopes: Iterable[str] | str = ()
) -> Any:
    """Demand ``level`` (``signature``, ``identity``, ``person`` (aauth-11), ``authorization``) and
    ``scopes`` of the caller.

    No level and no scopes: the configured ``default_requirement``; scopes alone:
    ``authorization``.  Bad arguments raise :class:`SettingsError` at import time."""
    if callable(target) and not isinstance(target, (str, Requirement)):
        return _decorate(target, None)  # bare: the configured default_requirement, read per request
    if target is not None and level is not None:
        raise TypeError("give the level once, positionally or as level=")
    requirement = route_requirement(target if target is not None else level, scopes)

    def decorator(func: F) -> F:
        return _decorate(func, requirement)

    return decorator


requires_aauth = aauth_required
"""The earlier name of :func:`aauth_required`, kept as an alias."""


def _decorate(func: F, requirement: Requirement | None) -> F:
    _check_takes_request(func)
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                await ademand(_find_connection(func, args, kwargs), requirement)
            except AAuthPreflight:
                return preflight_response()
            return await func(*args, **kwargs)

        async_wrapper.aauth_requirement = requirement  # type: ignore[attr-defined]
        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            demand(_find_connection(func, args, kwargs), requirement)
        except AAuthPreflight:
            return preflight_response()
        return func(*args, **kwargs)

    wrapper.aauth_requirement = requirement  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _check_takes_request(func: Callable[..., Any]) -> None:
    """Fail at import time, not on the first request, when there is no request to look at."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("request", "websocket"):
            return
        ann = p.annotation
        if (isinstance(ann, type) and issubclass(ann, HTTPConnection)) or (
            isinstance(ann, str) and ann.rsplit(".", 1)[-1] in ("Request", "HTTPConnection", "WebSocket")
        ):
            return
    raise TypeError(f"@aauth_required needs {getattr(func, '__qualname__', func)!r} to take the Request")


def _find_connection(func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> HTTPConnection:
    for value in args:
        if isinstance(value, HTTPConnection):
            return value
    for value in kwargs.values():
        if isinstance(value, HTTPConnection):
            return value
    raise TypeError(f"@aauth_required: no Request was passed to {getattr(func, '__qualname__', func)!r}")
