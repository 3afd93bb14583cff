"""Async decorated scenario routes."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("aauth_django.urls")),
    path("data", views.adata),
    path("data-jwks", views.adata_jwks),
    path("data-auth", views.adata_auth),
    path("data-admin", views.adata_admin),
    path("upload", views.aupload),
    path("files/<path:name>", views.afiles),
]
