"""``AAuthRequiredMixin`` for class-based views (sync and async handlers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest

from aauth_core.context import Requirement, VerifiedRequest
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

__all__ = ["AAuthRequiredMixin"]


class AAuthRequiredMixin:
    """Put first in the bases; demands ``aauth_level`` and ``aauth_scopes`` before ``dispatch``.

    ``aauth_level`` ``None`` (and no scopes) means the configured
    ``default_requirement``; scopes alone mean ``authorization``.  A CORS preflight
    is answered 204 without dispatching.  The verified
    context is ``request.aauth`` (also ``self.aauth``).  Views are ``csrf_exempt``
    unless ``aauth_csrf_exempt = False`` (see :mod:`aauth_django.decorators`).
    """

    aauth_level: ClassVar[str | None] = None
    aauth_scopes: ClassVar[Iterable[str] | str] = ()
    aauth_csrf_exempt: ClassVar[bool] = True
    aauth: VerifiedRequest | None = None

    @classmethod
    def get_aauth_requirement(cls) -> Requirement | None:
        return requirement_of(cls.aauth_level, cls.aauth_scopes)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        cls.get_aauth_requirement()  # fail at URL-conf time on a bad level
        if cls.aauth_csrf_exempt:
            view.csrf_exempt = True
        return view

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "view_is_async", False):
            return self._adispatch(request, *args, **kwargs)
        if is_preflight(request):
            return preflight_response()
        try:
            self.aauth = enforce(request, effective_requirement(self.get_aauth_requirement()))
        except AAuthError as error:
            return render_error(request, error)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _adispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if is_preflight(request):
            return preflight_response()
        try:
            self.aauth = await aenforce(request, effective_requirement(self.get_aauth_requirement()))
        except AAuthError as error:
            return render_error(request, error)
        return await super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
