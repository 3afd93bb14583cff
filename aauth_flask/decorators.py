"""``aauth_required``: demand a level (and scopes) of a view, bare or with arguments, sync or async."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast, overload

from aauth_core.context import Requirement

from .state import make_requirement, state_for

__all__ = ["aauth_required"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def aauth_required(view: F, /) -> F: ...


@overload
def aauth_required(
    level: str | Requirement | None = None, /, *, scopes: str | Iterable[str] = ()
) -> Callable[[F], F]: ...


def aauth_required(
    view_or_level: Any = None, /, *, scopes: str | Iterable[str] = ()
) -> Any:
    """Refuse the view with the right challenge unless the request meets the requirement.

    ``@aauth_required`` (the configured ``default_requirement``, ``signature`` unless
    changed), ``@aauth_required("identity")``,
    ``@aauth_required("authorization", scopes=["data.read"])`` or
    ``@aauth_required("authorization:data.read")``.  Coroutine views get an async
    wrapper (Flask runs them through ``ensure_sync``).  A refused authorization
    carries a fresh resource token; missing scopes give 403 ``insufficient_scope``.
    A CORS preflight is answered 204 without running the view; any other request,
    ``OPTIONS`` included, must meet the requirement.  Scopes without a level mean
    ``authorization``.  Bad arguments raise :class:`SettingsError` when the module
    is imported, not per request.
    """
    if callable(view_or_level) and not isinstance(view_or_level, (str, Requirement)):
        return _wrap(view_or_level, None)
    requirement = make_requirement(view_or_level, scopes)
    return lambda view: _wrap(view, requirement)


def _wrap(view: F, requirement: Requirement | None) -> F:
    """``requirement`` ``None``: the app's ``default_requirement``, read per request."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = state_for().demand(requirement)
            if refused is not None:
                return refused
            return await view(*args, **kwargs)

        async_wrapper.aauth_requirement = requirement  # type: ignore[attr-defined]
        return cast(F, async_wrapper)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = state_for().demand(requirement)
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    wrapper.aauth_requirement = requirement  # type: ignore[attr-defined]
    return cast(F, wrapper)
