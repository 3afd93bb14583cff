"""The shared scenario table through Django: WSGI (Client) and ASGI (AsyncClient), with
decorated sync and async views, undecorated views under path rules, and DRF APIViews,
with and without the middleware."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import AsyncClient, Client

from ..conftest import World
from ..scenarios import SCENARIOS, Request, Scenario
from .clients import RawPathAsyncClient, asend, send
from .conftest import AAUTH

RULES = {
    **AAUTH,
    "PROTECT_ALL": True,
    "DEFAULT_REQUIREMENT": "signature",
    "PROTECTED_PATHS": {"/data-jwks": "identity", "/data-auth": "authorization:data.read",
                        "/data-admin": "authorization:data.admin"},
}

# mode -> (urlconf, AAUTH, MIDDLEWARE or None to keep, async?)
MODES: dict[str, tuple[str, dict[str, Any], list[str] | None, bool]] = {
    "wsgi-decorated": ("tests.django.urls", AAUTH, None, False),
    "asgi-decorated": ("tests.django.urls_async", AAUTH, None, True),
    "wsgi-decorated-no-middleware": ("tests.django.urls", AAUTH, [], False),
    "asgi-decorated-no-middleware": ("tests.django.urls_async", AAUTH, [], True),
    "wsgi-path-rules": ("tests.django.urls_rules", RULES, None, False),
    "asgi-path-rules": ("tests.django.urls_rules", RULES, None, True),
    "wsgi-drf": ("tests.django.urls_drf", AAUTH, None, False),
    "asgi-drf": ("tests.django.urls_drf", AAUTH, None, True),
    "wsgi-drf-no-middleware": ("tests.django.urls_drf", AAUTH, [], False),
}


def check(s: Scenario, req: Request, response: Any) -> None:
    assert response["Content-Type"] == "application/json", (s.name, response.content[:200])
    body = response.json()
    if s.status == 200:
        assert response.status_code == 200, (s.name, body)
        assert body["verified"] is True
        for key, value in s.context.items():
            assert body[key] == value, (s.name, key, body[key])
        if req.route == "/upload":
            assert body["body_sha256"] == hashlib.sha256(req.body or b"").hexdigest()
        assert "Agent-Auth" not in response
        return
    assert (response.status_code, body.get("error")) == (s.status, s.code), (s.name, body)
    assert set(body) == {"error", "error_description"}
    assert response["Agent-Auth"].startswith(s.challenge or ""), response["Agent-Auth"]
    assert response["Cache-Control"] == "no-store"
    assert "eyJ" not in body["error_description"]  # never echo tokens


@pytest.fixture(params=list(MODES), ids=list(MODES))
def mode(request: pytest.FixtureRequest, settings: Any) -> bool:
    urlconf, aauth, middleware, is_async = MODES[request.param]
    settings.ROOT_URLCONF = urlconf
    settings.AAUTH = aauth
    if middleware is not None:
        settings.MIDDLEWARE = middleware
    return is_async


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
async def test_scenario(world: World, mode: bool, s: Scenario) -> None:
    req = s.build(world)
    response = None
    if mode:
        client = RawPathAsyncClient()
        for _ in range(s.repeat):
            response = await asend(client, req)
    else:
        from asgiref.sync import sync_to_async

        client = Client()

        def run() -> Any:
            out = None
            for _ in range(s.repeat):
                out = send(client, req)
            return out

        response = await sync_to_async(run)()
    check(s, req, response)


def test_asgi_without_raw_path_falls_back_to_the_requoted_path(world: World, settings: Any) -> None:
    """Django's plain AsyncClient sets no raw_path: the re-quoted decoded path still matches
    an ordinary percent-encoded path.  (Non-ASCII paths cannot be tested this way: that client
    decodes scope["path"] as latin-1, which no real ASGI server does.)"""
    from asgiref.sync import async_to_sync

    from ..scenarios import _sign

    settings.ROOT_URLCONF = "tests.django.urls_async"
    req = _sign(world, "GET", "/files/a%20b", scheme="hwk")
    response = async_to_sync(asend)(AsyncClient(), req)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "a b"
