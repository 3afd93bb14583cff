"""View decorators: demand a level (and scopes) of the request's verified context.

Each works bare or with arguments, on sync and async function views::

    @aauth_required                                  # the configured default_requirement
    @aauth_required("identity")
    @aauth_required("authorization", scopes=["data.read"])
    @aauth_required("authorization:data.read")
    @identity_required
    @authorization_required("data.read", "data.write")

An unsatisfied requirement is answered with the core's challenge (401, or 403 for
missing scopes).  Without :class:`~aauth_django.middleware.AAuthMiddleware` the
decorator verifies the request itself.  A CORS preflight is answered 204 without
running the view while ``allow_options`` is on; any other request, ``OPTIONS``
included, must meet the requirement.  Decorated views are ``csrf_exempt`` (pass ``csrf_exempt=False`` to keep
Django's check): they only run for a request bearing a verified signature, which a
browser cannot attach cross-site without a CORS preflight the site allowed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest

from aauth_core.context import Requirement
from aauth_core.errors import AAuthError

from .request import (
    aenforce,
    effective_requirement,
    enforce,
    is_preflight,
    preflight_response,
    render_error,
    requirement_of,
)

__all__ = ["aauth_required", "authorization_required", "identity_required", "signature_required"]

View = TypeVar("View", bound=Callable[..., Any])


def _protect(view: View, requirement: Requirement | None, csrf_exempt: bool) -> View:
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if is_preflight(request):
                return preflight_response()
            try:
                await aenforce(request, effective_requirement(requirement))
            except AAuthError as error:
                return render_error(request, error)
            return await view(request, *args, **kwargs)

        wrapper: Any = async_wrapper
    else:

        @functools.wraps(view)
        def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if is_preflight(request):
                return preflight_response()
            try:
                enforce(request, effective_requirement(requirement))
            except AAuthError as error:
                return render_error(request, error)
            return view(request, *args, **kwargs)

        wrapper = sync_wrapper
    wrapper.aauth_requirement = requirement  # read by the system checks
    if csrf_exempt:
        wrapper.csrf_exempt = True
    return wrapper  # type: ignore[no-any-return]


@overload
def aauth_required(view: View, /) -> View: ...
@overload
def aauth_required(
    level: str | Requirement | None = None, /, *, scopes: Iterable[str] | str = (), csrf_exempt: bool = True
) -> Callable[[View], View]: ...
def aauth_required(
    view_or_level: Any = None, /, *, scopes: Iterable[str] | str = (), csrf_exempt: bool = True
) -> Any:
    """Demand ``level`` (``signature`` / ``identity`` / ``person`` / ``authorization``, or a spec such as
    ``"authorization:data.read"``) and ``scopes``; bare, the configured ``default_requirement``."""
    if callable(view_or_level) and not isinstance(view_or_level, (str, Requirement)):
        return _protect(view_or_level, None, True)
    requirement = requirement_of(view_or_level, scopes)
    return lambda view: _protect(view, requirement, csrf_exempt)


@overload
def signature_required(view: View, /) -> View: ...
@overload
def signature_required(view: None = None, /) -> Callable[[View], View]: ...
def signature_required(view: Any = None, /) -> Any:
    """Any valid signature (``hwk`` included)."""
    decorator = aauth_required("signature")
    return decorator(view) if view is not None else decorator


@overload
def identity_required(view: View, /) -> View: ...
@overload
def identity_required(view: None = None, /) -> Callable[[View], View]: ...
def identity_required(view: Any = None, /) -> Any:
    """An identified agent: ``jwks``, ``x509`` or an agent token."""
    decorator = aauth_required("identity")
    return decorator(view) if view is not None else decorator


def authorization_required(*scopes: Any) -> Any:
    """An auth token granting every scope named: ``@authorization_required("data.read")``;
    bare (``@authorization_required``) any auth token."""
    if len(scopes) == 1 and callable(scopes[0]):
        return aauth_required("authorization")(scopes[0])
    return aauth_required("authorization", scopes=[str(s) for s in scopes])
