"""Sync decorated scenario routes, plus the extra routes the adapter tests use."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from aauth_django import aauth_required

from . import views


@aauth_required
def form(request: HttpRequest) -> JsonResponse:
    """The view sees the whole body after verification: raw, as a form, as JSON."""
    out = {"body": request.body.decode(), "content_type": request.content_type}
    if request.content_type == "application/x-www-form-urlencoded":
        out["form"] = request.POST.dict()
    elif request.content_type == "application/json":
        out["json"] = json.loads(request.body)
    return JsonResponse(out)


urlpatterns = [
    path("", include("aauth_django.urls")),
    path("data", views.data),
    path("data-jwks", views.data_jwks),
    path("data-auth", views.data_auth),
    path("data-admin", views.data_admin),
    path("upload", views.upload),
    path("files/<path:name>", views.files),
    path("form", form),
    path("open", views.plain),
    path("public/info", views.plain),
    path("cbv", views.CBVData.as_view()),
    path("acbv", views.AsyncCBVData.as_view()),
]


def enforced(request: HttpRequest) -> JsonResponse:
    """A view that demands a level itself; the middleware renders the AAuthError it raises."""
    from aauth_core.context import Requirement
    from aauth_django.request import enforce

    return JsonResponse({"agent": enforce(request, Requirement("identity")).agent})


urlpatterns.append(path("enforced", enforced))
