"""FastAPI dependency: ``ctx: VerifiedRequest = Depends(AAuth("authorization", scopes=["data.read"]))``.

Returns the verified context or raises :class:`AAuthHTTPException`; the middleware
renders that as ``{"error", "error_description"}`` with the ``Agent-Auth``
challenge, so no exception handler needs registering.  For an optional context,
``Depends(get_aauth)`` returns it or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from aauth_core.context import Requirement, VerifiedRequest

from .context import demand, requirement_of

__all__ = ["AAuth"]


class AAuth:
    """A reusable dependency demanding ``level`` and ``scopes`` (see :func:`requires_aauth`)."""

    def __init__(self, level: str | Requirement = "signature", scopes: Iterable[str] | str = ()) -> None:
        self.requirement = requirement_of(level, scopes)

    async def __call__(self, request: Request) -> VerifiedRequest:
        return demand(request, self.requirement)

    def __repr__(self) -> str:
        return f"AAuth({self.requirement.level!r}, scopes={sorted(self.requirement.scopes)!r})"
