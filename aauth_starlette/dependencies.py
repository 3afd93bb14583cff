"""FastAPI dependency: ``ctx: VerifiedRequest = Depends(RequireAAuth("authorization", scopes=["data.read"]))``.

Returns the verified context or raises :class:`AAuthHTTPException`; the middleware
renders that as ``{"error", "error_description"}`` with the ``Agent-Auth``
challenge, so no exception handler needs registering.  A CORS preflight raises
:class:`AAuthPreflight`, answered ``204`` without running the path operation.
For an optional context, ``Depends(get_aauth)`` returns it or ``None``.
``AAuth`` is the earlier name of :class:`RequireAAuth`.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.settings import route_requirement

from .context import ademand

__all__ = ["AAuth", "RequireAAuth"]


class RequireAAuth:
    """A reusable dependency demanding ``level`` and ``scopes`` (see :func:`aauth_required`)."""

    def __init__(self, level: str | Requirement | None = None, scopes: Iterable[str] | str = ()) -> None:
        self.requirement = route_requirement(level, scopes)

    async def __call__(self, request: Request) -> VerifiedRequest:
        return await ademand(request, self.requirement)

    def __repr__(self) -> str:
        if self.requirement is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({self.requirement.level!r}, scopes={sorted(self.requirement.scopes)!r})"


AAuth = RequireAAuth
"""The earlier name of :class:`RequireAAuth`, kept as an alias."""
