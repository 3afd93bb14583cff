"""Undecorated scenario routes: only the middleware's path rules protect them."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("aauth_django.urls")),
    path("data", views.plain),
    path("data-jwks", views.plain),
    path("data-auth", views.plain),
    path("data-admin", views.plain),
    path("upload", views.plain),
    path("files/<path:name>", views.plain),
    path("public/info", views.plain),
]
