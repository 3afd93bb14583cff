"""The scenario routes for Django (sync views), recording every time a view body runs.

The views are tests/django/views.py's, decorated the same way; the recorder sits
*inside* the decorator, so a refused request leaves no trace in :data:`CALLS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from aauth_django import aauth_required, authorization_required, identity_required

from ..django import views

__all__ = ["CALLS", "urlpatterns"]

CALLS: list[str] = []


def recorded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        CALLS.append(request.path)
        return view(request, *args, **kwargs)

    return inner


urlpatterns = [
    path("data", aauth_required(recorded(views.plain))),
    path("data-jwks", identity_required(recorded(views.plain))),
    path("data-auth", aauth_required("authorization", scopes=["data.read"])(recorded(views.plain))),
    path("data-admin", authorization_required("data.admin")(recorded(views.plain))),
    path("upload", aauth_required("signature")(recorded(views.plain))),
]
