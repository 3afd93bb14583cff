"""AAuth for Starlette and FastAPI: pure ASGI middleware, a route decorator, a dependency.

::

    app = Starlette(routes=[...], middleware=[
        Middleware(AAuthMiddleware, resource_id="https://api.example", auth_server="https://as.example",
                   trusted_issuers=["https://as.example"]),
    ])

    @requires_aauth("authorization", scopes=["data.read"])
    async def data(request): return JSONResponse(get_aauth(request).to_dict())

FastAPI: ``ctx: VerifiedRequest = Depends(AAuth("authorization", scopes=["data.read"]))``.
"""

from __future__ import annotations

from .context import AAuthHTTPException, get_aauth, get_service
from .decorators import requires_aauth
from .dependencies import AAuth
from .middleware import AAuthMiddleware, ErrorHandler
from .user import AAuthUser

__all__ = [
    "AAuth",
    "AAuthHTTPException",
    "AAuthMiddleware",
    "AAuthUser",
    "ErrorHandler",
    "get_aauth",
    "get_service",
    "requires_aauth",
]
