"""URL patterns for the metadata documents and the resource token endpoint:
``path("", include("aauth_django.urls"))``."""

from __future__ import annotations

from django.urls import path

from aauth_core.resource import RESOURCE_TOKEN_PATH
from aauth_core.service import JWKS_PATH, METADATA_PATH, METADATA_PATH_11, REVOCATION_PATH_11

from . import views

__all__ = ["app_name", "urlpatterns"]

app_name = "aauth"

urlpatterns = [
    path(METADATA_PATH.lstrip("/"), views.metadata, name="metadata"),
    path(METADATA_PATH_11.lstrip("/"), views.metadata_11, name="metadata_11"),
    path(JWKS_PATH.lstrip("/"), views.jwks, name="jwks"),
    path(RESOURCE_TOKEN_PATH.lstrip("/"), views.resource_token, name="resource_token"),
    path(REVOCATION_PATH_11.lstrip("/"), views.revocation, name="revocation"),
]
