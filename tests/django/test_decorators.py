"""View decorators and the class-based-view mixin."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from aauth_core.context import Requirement
from aauth_core.settings import SettingsError
from aauth_django import aauth_required, authorization_required, identity_required, signature_required
from aauth_django.mixins import AAuthRequiredMixin

from ..conftest import AGENT, World
from ..scenarios import AUTH_CHALLENGE, IDENTITY_CHALLENGE, _jwt, _sign
from .clients import RawPathAsyncClient, asend, send
from .conftest import AAUTH


def view(request: Any) -> HttpResponse:
    return HttpResponse("ok")


async def aview(request: Any) -> HttpResponse:
    return HttpResponse("ok")


@pytest.mark.parametrize("decorated, expected", [
    (aauth_required(view), None),
    (aauth_required()(view), None),
    (aauth_required("identity")(view), Requirement("identity")),
    (aauth_required("authorization:data.read")(view), Requirement("authorization", frozenset({"data.read"}))),
    (aauth_required(scopes=["a", "b"])(view), Requirement("authorization", frozenset({"a", "b"}))),
    (aauth_required("authorization", scopes="a b")(view), Requirement("authorization", frozenset({"a", "b"}))),
    (aauth_required(Requirement("identity"))(aview), Requirement("identity")),
    (signature_required(view), Requirement("signature")),
    (signature_required()(aview), Requirement("signature")),
    (identity_required(aview), Requirement("identity")),
    (identity_required()(view), Requirement("identity")),
    (authorization_required(view), Requirement("authorization")),
    (authorization_required("x", "y")(aview), Requirement("authorization", frozenset({"x", "y"}))),
])
def test_decorator_forms(decorated: Any, expected: Requirement | None) -> None:
    assert decorated.aauth_requirement == expected
    assert decorated.csrf_exempt is True
    assert decorated.__name__ in ("view", "aview")


def test_decorator_keeps_async_views_async() -> None:
    from asgiref.sync import iscoroutinefunction

    assert iscoroutinefunction(aauth_required(aview))
    assert not iscoroutinefunction(aauth_required(view))


@pytest.mark.parametrize("bad", [
    lambda: aauth_required("superuser"),
    lambda: aauth_required("signature", scopes=["data.read"]),
    lambda: aauth_required("identity:data.read"),
])
def test_bad_requirements_fail_where_declared(bad: Any) -> None:
    with pytest.raises(SettingsError):  # the same error as in every adapter (still a ValueError)
        bad()


def test_bare_decorator_follows_default_requirement(world: World, client: Client, settings: Any) -> None:
    req = _sign(world, "GET", "/data", scheme="hwk")
    settings.AAUTH = {**AAUTH, "default_requirement": "identity"}
    response = send(client, req)
    assert response.status_code == 401 and response.json()["error"] == "identity_required"


def test_csrf_exempt_by_default_and_opt_out(world: World, settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware", "aauth_django.middleware.AAuthMiddleware"]
    client = Client(enforce_csrf_checks=True)
    assert send(client, _sign(world, "POST", "/upload", body=b"{}")).status_code == 200
    assert send(client, _sign(world, "POST", "/open", body=b"{}")).status_code == 403  # undecorated: CSRF applies
    req = _jwt(world, "POST", "/cbv", world.auth_token(), body=b"x=1",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert send(client, req).status_code == 200  # the mixin too
    kept = aauth_required("signature", csrf_exempt=False)(view)
    assert not getattr(kept, "csrf_exempt", False)


# ------------------------------------------------------------------ class-based views


def test_mixin_refuses_and_challenges(world: World, client: Client) -> None:
    response = send(client, _sign(world, "GET", "/cbv"))
    assert response.status_code == 401 and response.json()["error"] == "authorization_required"
    assert response["Agent-Auth"].startswith(AUTH_CHALLENGE)
    response = client.get("/cbv")
    assert response.status_code == 401 and response["Agent-Auth"] == IDENTITY_CHALLENGE
    response = send(client, _jwt(world, "GET", "/cbv", world.auth_token(scope="data.write")))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


def test_mixin_passes_context(world: World, client: Client) -> None:
    response = send(client, _jwt(world, "GET", "/cbv", world.auth_token()))
    assert response.status_code == 200, response.content
    assert response.json()["agent"] == AGENT and response.json()["scope"] == "data.read data.write"


def test_mixin_post_form(world: World, client: Client) -> None:
    req = _jwt(world, "POST", "/cbv", world.auth_token(), body=b"x=1",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = send(client, req)
    assert response.status_code == 200 and response.json() == {"posted": "1"}


def test_mixin_answers_a_preflight_and_challenges_bare_options(client: Client) -> None:
    preflight = client.options("/cbv", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (preflight.status_code, preflight.content) == (204, b"")
    assert client.options("/cbv").status_code == 401


async def test_async_mixin(world: World) -> None:
    client = RawPathAsyncClient()
    response = await asend(client, _sign(world, "GET", "/acbv", scheme="hwk"))
    assert response.status_code == 401 and response.json()["error"] == "identity_required"
    response = await asend(client, _sign(world, "GET", "/acbv"))
    assert response.status_code == 200 and response.json()["agent"] == AGENT


def test_async_mixin_without_middleware(world: World, client: Client, settings: Any) -> None:
    settings.MIDDLEWARE = []
    response = send(client, _sign(world, "GET", "/acbv"))
    assert response.status_code == 200 and response.json()["agent"] == AGENT


def test_mixin_bad_level_fails_at_urlconf_time() -> None:
    from django.views import View

    class Bad(AAuthRequiredMixin, View):
        aauth_level = "root"

    with pytest.raises(ValueError):
        Bad.as_view()
