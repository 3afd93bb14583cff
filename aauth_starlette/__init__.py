"""AAuth for Starlette and FastAPI: pure ASGI middleware, a route decorator, a dependency.

::

    app = Starlette(routes=[...], middleware=[
        Middleware(AAuthMiddleware, resource_id="https://api.example", auth_server="https://as.example",
                   trusted_issuers=["https://as.example"]),
    ])

    @aauth_required("authorization", scopes=["data.read"])
    async def data(request): return JSONResponse(get_aauth(request).to_dict())

FastAPI: ``ctx: VerifiedRequest = Depends(RequireAAuth("authorization", scopes=["data.read"]))``.
``requires_aauth`` and ``AAuth`` are the earlier names of ``aauth_required`` and
``RequireAAuth``, kept as aliases.
"""

from __future__ import annotations

from .context import AAuthHTTPException, AAuthPreflight, get_aauth, get_service
from .decorators import aauth_required, requires_aauth
from .dependencies import AAuth, RequireAAuth
from .middleware import AAuthMiddleware, ErrorHandler
from .user import AAuthUser

__all__ = [
    "AAuth",
    "AAuthHTTPException",
    "AAuthMiddleware",
    "AAuthPreflight",
    "AAuthUser",
    "ErrorHandler",
    "RequireAAuth",
    "aauth_required",
    "get_aauth",
    "get_service",
    "requires_aauth",
]
