"""AAuth for Flask: an extension that verifies signed requests, a decorator, a context proxy.

    aauth = AAuth(app)                     # settings from AAUTH_* config keys

    @app.get("/data")
    @aauth_required("authorization", scopes=["data.read"])
    def data():
        return {"agent": current_aauth.agent}

Every protocol rule lives in :mod:`aauth_core`; this package only translates.
"""

from __future__ import annotations

from .context import current_aauth, get_current_aauth
from .decorators import aauth_required
from .extension import AAuth, DiscoveryFactory
from .state import ErrorHandler, default_error_response
from .views import metadata_blueprint

__all__ = [
    "AAuth",
    "DiscoveryFactory",
    "ErrorHandler",
    "aauth_required",
    "current_aauth",
    "default_error_response",
    "get_current_aauth",
    "metadata_blueprint",
]
