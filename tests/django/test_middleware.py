"""AAuthMiddleware: body handling, raw paths, OPTIONS, path rules, settings reload, hooks, metadata."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from django.test import Client, override_settings

from aauth_core.discovery import Discovery
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_django import set_error_handler, set_service_factory
from aauth_django.middleware import AAuthMiddleware

from ..conftest import AGENT, PUBLIC_IP, RESOURCE, World, signed_request
from ..scenarios import AUTH_CHALLENGE, IDENTITY_CHALLENGE, Request, _sign
from .clients import RawPathAsyncClient, asend, send
from .conftest import AAUTH

FORM = urlencode({"name": "café", "n": "1"}).encode()


def _form(world: World) -> Request:
    return _sign(world, "POST", "/form", body=FORM, headers={"Content-Type": "application/x-www-form-urlencoded"})


# ------------------------------------------------------------------ the body after verification


def test_view_gets_the_form_body_after_verification(world: World, client: Client) -> None:
    response = send(client, _form(world))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["form"] == {"name": "café", "n": "1"}
    assert body["body"] == FORM.decode()


def test_view_gets_the_json_body_after_verification(world: World, client: Client) -> None:
    response = send(client, _sign(world, "POST", "/form", body=b'{"a": [1, 2]}'))
    assert response.status_code == 200, response.content
    assert response.json()["json"] == {"a": [1, 2]}


async def test_view_gets_the_body_after_verification_under_asgi(world: World) -> None:
    response = await asend(RawPathAsyncClient(), _form(world))
    assert response.status_code == 200, response.content
    assert response.json()["form"] == {"name": "café", "n": "1"}


def test_a_tampered_form_body_is_refused_before_the_view(world: World, client: Client) -> None:
    req = _form(world)
    req.body = FORM.replace(b"1", b"2")
    response = send(client, req)
    assert response.status_code == 401 and response.json()["error"] == "digest_mismatch"


def test_an_oversized_body_is_refused_before_the_view(world: World, client: Client, settings: Any) -> None:
    """Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds what verification reads: 400, view never runs."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(client, _sign(world, "POST", "/upload", body=b"x" * 2000))
    assert response.status_code == 400
    assert b"body_length" not in response.content


# ------------------------------------------------------------------ sync and async paths


def _strict_factory(world: World, *, allow_sync: bool, allow_async: bool):
    """Discovery whose forbidden transport fails the test if the wrong I/O path is ever taken."""

    def forbidden(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"wrong I/O path used for {request.url}")

    async def aforbidden(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"wrong I/O path used for {request.url}")

    def build(settings: AAuthSettings) -> AAuthService:
        discovery = Discovery(
            settings,
            transport=world.network.transport if allow_sync else httpx.MockTransport(forbidden),
            async_transport=world.network.async_transport if allow_async else httpx.MockTransport(aforbidden),
            clock=world.clock, resolver=lambda host: [PUBLIC_IP])
        return AAuthService(settings, keys=[world.resource.key], discovery=discovery, clock=world.clock)

    return build


def test_wsgi_verifies_with_sync_io(world: World, client: Client) -> None:
    set_service_factory(_strict_factory(world, allow_sync=True, allow_async=False))
    response = send(client, _sign(world, "GET", "/data-jwks"))
    assert response.status_code == 200, response.content
    assert response.json()["agent"] == AGENT


async def test_asgi_verifies_with_async_io(world: World) -> None:
    set_service_factory(_strict_factory(world, allow_sync=False, allow_async=True))
    response = await asend(RawPathAsyncClient(), _sign(world, "GET", "/data-jwks"))
    assert response.status_code == 200, response.content
    assert response.json()["agent"] == AGENT


def test_middleware_is_sync_and_async_capable() -> None:
    async def aget(request: Any) -> HttpResponse:
        return HttpResponse()

    assert AAuthMiddleware.sync_capable and AAuthMiddleware.async_capable
    assert iscoroutinefunction(AAuthMiddleware(aget))
    assert not iscoroutinefunction(AAuthMiddleware(lambda request: HttpResponse()))


# ------------------------------------------------------------------ verification on any route


def test_unsigned_request_passes_with_no_context(client: Client) -> None:
    response = client.get("/open")
    assert response.status_code == 200 and response.json() == {"verified": False}


def test_signed_request_on_an_open_route_is_verified(world: World, client: Client) -> None:
    response = send(client, _sign(world, "GET", "/open"))
    assert response.json()["agent"] == AGENT


def test_invalid_signature_on_an_open_route_is_refused_at_once(world: World, client: Client) -> None:
    req = _sign(world, "GET", "/open")
    req.headers["Signature"] = req.headers["Signature"][:-5] + "AAAA:"
    response = send(client, req)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert response["Agent-Auth"].startswith("httpsig")


def test_view_raising_an_aauth_error_is_rendered(world: World, client: Client) -> None:
    response = send(client, _sign(world, "GET", "/enforced", scheme="hwk"))
    assert response.status_code == 401
    assert response.json()["error"] == "identity_required"
    assert response["Agent-Auth"] == IDENTITY_CHALLENGE
    assert send(client, _sign(world, "GET", "/enforced")).json() == {"agent": AGENT}


# ------------------------------------------------------------------ raw path


def test_raw_uri_is_preferred_over_the_decoded_path(world: World, client: Client) -> None:
    """%2F is decoded to "/" by every WSGI server; only RAW_URI / REQUEST_URI keep it."""
    req = _sign(world, "GET", "/files/a%2Fb", scheme="hwk")
    for key in ("RAW_URI", "REQUEST_URI"):
        response = send(client, req, **{key: "/files/a%2Fb"})
        assert response.status_code == 200, (key, response.content)
        assert response.json()["name"] == "a/b"
        world.clock.advance(1)
        req = _sign(world, "GET", "/files/a%2Fb", scheme="hwk", created=int(world.clock()))


def test_absolute_form_raw_uri(world: World, client: Client) -> None:
    req = _sign(world, "GET", "/data?x=1", scheme="hwk")
    response = send(client, req, RAW_URI="http://api.example/data?x=1")
    assert response.status_code == 200, response.content


def test_without_a_raw_uri_an_encoded_slash_fails_closed(world: World, client: Client) -> None:
    response = send(client, _sign(world, "GET", "/files/a%2Fb", scheme="hwk"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"


def test_asgi_raw_path_with_the_query_included(world: World) -> None:
    """Some ASGI servers put the query into raw_path as well; only the part before '?' is the path."""

    class QueryInRawPath(RawPathAsyncClient):
        def generic(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            coro = super().generic(method, path, *args, **kwargs)
            self.raw_path = path.encode()
            return coro

    req = _sign(world, "GET", "/files/a%2Fb?q=%20", scheme="hwk")
    response = async_to_sync(asend)(QueryInRawPath(), req)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "a/b"


def test_asgi_raw_path_keeps_an_encoded_slash(world: World) -> None:
    response = async_to_sync(asend)(RawPathAsyncClient(), _sign(world, "GET", "/files/a%2Fb", scheme="hwk"))
    assert response.status_code == 200, response.content


# ------------------------------------------------------------------ OPTIONS and path rules


@pytest.mark.urls("tests.django.urls_rules")
def test_preflight_is_answered_unauthenticated(client: Client, settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "protect_all": True}
    preflight = client.options("/data", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (preflight.status_code, preflight.content) == (204, b"")
    assert client.options("/data").status_code == 401  # a bare OPTIONS is no preflight
    assert client.get("/data").status_code == 401
    settings.AAUTH = {**AAUTH, "protect_all": True, "allow_options": False}
    response = client.options("/data", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 401 and response.json()["error"] == "signature_required"


def test_options_never_runs_a_decorated_view_unverified(client: Client) -> None:
    preflight = client.options("/data-auth", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (preflight.status_code, preflight.content) == (204, b"")
    assert client.options("/data-auth").status_code == 401
    assert client.get("/data-auth").status_code == 401


@pytest.mark.urls("tests.django.urls_rules")
def test_protect_all_with_exempt_paths(world: World, client: Client, settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "protect_all": True, "default_requirement": "identity",
                      "exempt_paths": ["/.well-known/", "/jwks.json", "/public/"]}
    assert client.get("/public/info").json() == {"verified": False}
    assert client.get("/.well-known/aauth-resource").status_code == 200
    assert client.get("/jwks.json").status_code == 200
    response = client.get("/data")
    assert response.status_code == 401 and response.json()["error"] == "identity_required"
    assert response["Agent-Auth"] == IDENTITY_CHALLENGE
    response = send(client, _sign(world, "GET", "/data", scheme="hwk"))
    assert response.status_code == 401 and response.json()["error"] == "identity_required"
    assert send(client, _sign(world, "GET", "/data")).status_code == 200


@pytest.mark.urls("tests.django.urls_rules")
def test_path_rules_match_the_decoded_path(world: World, client: Client, settings: Any) -> None:
    """/d%61ta-auth routes to /data-auth, so the rule for /data-auth must apply to it."""
    settings.AAUTH = {**AAUTH, "protected_paths": {"/data-auth": "authorization:data.read"}}
    response = send(client, _sign(world, "GET", "/d%61ta-auth"), RAW_URI="/d%61ta-auth")
    assert response.status_code == 401 and response.json()["error"] == "authorization_required"
    assert response["Agent-Auth"].startswith(AUTH_CHALLENGE)


@pytest.mark.urls("tests.django.urls_rules")
def test_without_the_middleware_path_rules_do_not_apply(client: Client, settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "protect_all": True}
    settings.MIDDLEWARE = []
    assert client.get("/data").status_code == 200


# ------------------------------------------------------------------ settings


def test_settings_reload_on_override(world: World, client: Client) -> None:
    stale = _sign(world, "GET", "/data", created=int(world.clock()) - 120)
    assert send(client, stale).json()["error"] == "signature_expired"
    with override_settings(AAUTH={**AAUTH, "created_max_age": 300}):
        assert send(client, stale).status_code == 200
    again = _sign(world, "GET", "/data", created=int(world.clock()) - 121)
    assert send(client, again).json()["error"] == "signature_expired"


def test_lowercase_and_uppercase_keys(client: Client, settings: Any) -> None:
    settings.AAUTH = {"resource_id": "https://lower.example", "AUTH_SERVER": "https://as.example"}
    assert client.get("/.well-known/aauth-resource").json()["resource"] == "https://lower.example"


@pytest.mark.parametrize("value, message", [
    (None, "AAUTH is missing"),
    ([("resource_id", RESOURCE)], "must be a dict"),
    ({"resource_idd": RESOURCE}, "unknown AAuth setting"),
    ({"created_max_age": -1}, "non-negative"),
])
def test_invalid_settings_fail_loudly(client: Client, settings: Any, value: Any, message: str) -> None:
    if value is None:
        del settings.AAUTH
    else:
        settings.AAUTH = value
    with pytest.raises(ImproperlyConfigured, match=message):
        client.get("/open")


def test_no_resource_id_uses_the_host_as_authority(world: World, client: Client, settings: Any) -> None:
    settings.AAUTH = {}
    headers, _ = signed_request("GET", "http://testserver/data", key=world.agent.key, scheme="hwk")
    response = client.get("/data", headers=headers)
    assert response.status_code == 200, response.content
    assert client.get("/.well-known/aauth-resource").status_code == 404


# ------------------------------------------------------------------ hooks


def test_error_handler_hook(world: World, client: Client) -> None:
    seen: list[str] = []

    def handler(request: Any, error: Any) -> HttpResponse:
        seen.append(error.code)
        return JsonResponse({"problem": error.code}, status=error.status_code)  # the challenge is added

    set_error_handler(handler)
    try:
        response = client.get("/data-auth")
    finally:
        set_error_handler(None)
    assert response.status_code == 401 and response.json() == {"problem": "identity_required"}
    assert response["Agent-Auth"] == IDENTITY_CHALLENGE and seen == ["identity_required"]


def test_the_earlier_three_argument_error_handler_still_works(client: Client) -> None:
    def handler(request: Any, error: Any, rendered: Any) -> HttpResponse:
        return JsonResponse({"problem": error.code}, status=rendered.status)

    with pytest.warns(DeprecationWarning, match="request, error"):
        set_error_handler(handler)
    try:
        response = client.get("/data-auth")
    finally:
        set_error_handler(None)
    assert response.status_code == 401 and response["Agent-Auth"] == IDENTITY_CHALLENGE


def teapot(request: Any, error: Any) -> HttpResponse:
    return HttpResponse(error.code, status=418)


_WORLD: list[World] = []


def dotted_factory(settings: AAuthSettings) -> AAuthService:
    from .conftest import factory_for

    return factory_for(_WORLD[0])(settings)


def test_dotted_path_hooks(world: World, client: Client, settings: Any) -> None:
    set_service_factory(None)
    _WORLD[:] = [world]
    settings.AAUTH_SERVICE_FACTORY = f"{__name__}.dotted_factory"
    settings.AAUTH_ERROR_HANDLER = f"{__name__}.teapot"
    assert send(client, _sign(world, "GET", "/data-jwks")).json()["agent"] == AGENT  # World's discovery
    response = client.get("/data")
    assert (response.status_code, response.content) == (418, b"signature_required")


def test_unimportable_hook_fails_loudly(client: Client, settings: Any) -> None:
    set_service_factory(None)
    settings.AAUTH_SERVICE_FACTORY = "no.such.factory"
    with pytest.raises(ImproperlyConfigured, match="AAUTH_SERVICE_FACTORY"):
        client.get("/open")


# ------------------------------------------------------------------ metadata documents


def test_metadata_and_jwks_urls(world: World, client: Client) -> None:
    metadata = client.get("/.well-known/aauth-resource")
    assert metadata.status_code == 200 and metadata["Content-Type"] == "application/json"
    doc = metadata.json()
    assert doc["resource"] == RESOURCE and doc["jwks_uri"] == f"{RESOURCE}/jwks.json"
    jwks = client.get("/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == ["resource-key-1"]
    assert jwks["keys"][0]["x"] == world.resource.key.public_jwk()["x"]
    assert all("d" not in k for k in jwks["keys"])
    assert "max-age" in metadata["Cache-Control"]
    assert client.post("/jwks.json").status_code == 405
    assert client.head("/.well-known/aauth-resource").status_code == 200


def test_metadata_urls_follow_settings(client: Client, settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "resource_id": "https://other.example"}
    assert json.loads(client.get("/.well-known/aauth-resource").content)["resource"] == "https://other.example"
