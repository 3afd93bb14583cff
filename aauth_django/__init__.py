"""AAuth for Django: middleware (sync and async), view decorators, a class-based-view
mixin, metadata URL patterns, system checks and (in :mod:`aauth_django.drf`) Django
REST framework authentication and permissions.

Quick start::

    INSTALLED_APPS += ["aauth_django"]
    MIDDLEWARE += ["aauth_django.middleware.AAuthMiddleware"]
    AAUTH = {"resource_id": "https://api.example.com", "auth_server": "https://as.example.com",
             "trusted_issuers": ["https://as.example.com"], "signing_keys": ["env:AAUTH_KEY"]}
    urlpatterns += [path("", include("aauth_django.urls"))]

    @aauth_required("authorization", scopes=["data.read"])
    def data(request):
        return JsonResponse({"agent": request.aauth.agent})
"""

from __future__ import annotations

from .conf import get_service, get_settings, set_error_handler, set_service_factory
from .decorators import aauth_required, authorization_required, identity_required, signature_required
from .middleware import AAuthMiddleware
from .mixins import AAuthRequiredMixin

__all__ = [
    "AAuthMiddleware",
    "AAuthRequiredMixin",
    "aauth_required",
    "authorization_required",
    "get_service",
    "get_settings",
    "identity_required",
    "set_error_handler",
    "set_service_factory",
    "signature_required",
]
