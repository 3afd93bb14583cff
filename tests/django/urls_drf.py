"""DRF APIViews for the scenario routes."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("data", views.drf_view("signature").as_view()),
    path("data-jwks", views.drf_view("identity").as_view()),
    path("data-auth", views.drf_view("authorization:data.read").as_view()),
    path("data-admin", views.drf_view("authorization:data.admin").as_view()),
    path("upload", views.drf_view("signature").as_view()),
    path("files/<path:name>", views.drf_view("signature").as_view()),
    path("echo", views.DRFEcho.as_view()),
    path("is-authenticated", views.DRFIsAuthenticated.as_view()),
    path("permission-only", views.DRFPermissionOnly.as_view()),
]
