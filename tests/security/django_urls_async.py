"""The scenario routes for Django as async views, recording every time a view body runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from aauth_django import aauth_required

from ..django import views
from .django_urls import CALLS

__all__ = ["urlpatterns"]


def recorded(view: Callable[..., Awaitable[HttpResponse]]) -> Callable[..., Awaitable[HttpResponse]]:
    async def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        CALLS.append(request.path)
        return await view(request, *args, **kwargs)

    return inner


urlpatterns = [
    path("data", aauth_required(recorded(views.aplain))),
    path("data-jwks", aauth_required("identity")(recorded(views.aplain))),
    path("data-auth", aauth_required("authorization:data.read")(recorded(views.aplain))),
    path("data-admin", aauth_required(scopes="data.admin")(recorded(views.aplain))),
    path("upload", aauth_required(recorded(views.aplain))),
]
