"""Scenario routes as plain, decorated (sync and async), class-based and DRF views."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.http import HttpRequest, JsonResponse
from django.views import View
from rest_framework.response import Response
from rest_framework.views import APIView

from aauth_core.context import VerifiedRequest
from aauth_django import aauth_required, authorization_required, identity_required
from aauth_django.drf import RequiresAAuth
from aauth_django.mixins import AAuthRequiredMixin


def payload(request: HttpRequest, ctx: VerifiedRequest | None, name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verified": ctx is not None}
    if ctx is not None:
        out.update(ctx.to_dict())
        out["scope"] = ctx.scope_text
    if request.path_info == "/upload":
        body = request.body
        out["body_length"] = len(body)
        out["body_sha256"] = hashlib.sha256(body).hexdigest()
    if name is not None:
        out["name"] = name
    return out


def plain(request: HttpRequest, name: str | None = None) -> JsonResponse:
    return JsonResponse(payload(request, getattr(request, "aauth", None), name))


# ------------------------------------------------------------------ sync, decorated

data = aauth_required(plain)  # bare: default_requirement ("signature")
data_jwks = identity_required(plain)
data_auth = aauth_required("authorization", scopes=["data.read"])(plain)
data_admin = authorization_required("data.admin")(plain)
upload = aauth_required("signature")(plain)
files = aauth_required("signature")(plain)


# ------------------------------------------------------------------ async, decorated


async def aplain(request: HttpRequest, name: str | None = None) -> JsonResponse:
    return JsonResponse(payload(request, request.aauth, name))


adata = aauth_required(aplain)
adata_jwks = aauth_required("identity")(aplain)
adata_auth = aauth_required("authorization:data.read")(aplain)
adata_admin = aauth_required(scopes="data.admin")(aplain)
aupload = aauth_required(aplain)
afiles = aauth_required(aplain)


# ------------------------------------------------------------------ class-based views


class CBVData(AAuthRequiredMixin, View):
    aauth_level = "authorization"
    aauth_scopes = ("data.read",)

    def get(self, request: HttpRequest) -> JsonResponse:
        assert self.aauth is request.aauth
        return JsonResponse(payload(request, self.aauth))

    def post(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"posted": request.POST.get("x")})


class AsyncCBVData(AAuthRequiredMixin, View):
    aauth_level = "identity"

    async def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(payload(request, self.aauth))


# ------------------------------------------------------------------ DRF


def drf_view(requirement: str) -> type[APIView]:
    class ScenarioView(APIView):
        permission_classes: ClassVar[list[Any]] = [RequiresAAuth(requirement)]

        def get(self, request: Any, name: str | None = None) -> Response:
            assert request.auth is None or request.user.aauth is request.auth
            return Response(payload(request._request, request.auth, name))

        post = get

    return ScenarioView


class DRFEcho(APIView):
    """request.data must still parse after the body was verified."""

    permission_classes: ClassVar[list[Any]] = [RequiresAAuth("signature")]

    def post(self, request: Any) -> Response:
        return Response({"data": request.data, "user": str(request.user), "agent": request.auth.agent})


class DRFIsAuthenticated(APIView):
    from rest_framework.permissions import IsAuthenticated

    permission_classes: ClassVar[list[Any]] = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response({"user": request.user.pk})


class DRFPermissionOnly(APIView):
    """No AAuth authentication class: the permission finds (or makes) the verified context itself."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = [RequiresAAuth("identity")]

    def get(self, request: Any) -> Response:
        return Response({"agent": request._request.aauth.agent, "auth": request.auth})
