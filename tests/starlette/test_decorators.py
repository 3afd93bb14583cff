"""``requires_aauth`` and the FastAPI dependency outside the scenario table."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.settings import SettingsError
from aauth_starlette import AAuth, AAuthHTTPException, get_aauth, requires_aauth
from aauth_starlette.context import demand

from ..conftest import AGENT, RESOURCE, World
from ..scenarios import _jwt, _sign
from .apps import aauth_middleware


@requires_aauth
def bare(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    assert ctx is not None
    return JSONResponse({"scheme": ctx.scheme})


@requires_aauth(level="identity")
async def by_keyword(request: Request) -> JSONResponse:
    return JSONResponse({"agent": get_aauth(request).agent})  # type: ignore[union-attr]


class Endpoint(HTTPEndpoint):
    @requires_aauth("authorization:data.read")
    async def get(self, request: Request) -> JSONResponse:
        return JSONResponse({"scope": get_aauth(request).scope_text})  # type: ignore[union-attr]


def test_bare_decorator_follows_the_default_requirement_setting(world: World) -> None:
    """Bare means "the project's default", the same in Flask, Starlette and Django."""
    from .apps import resource_settings

    app = Starlette(routes=[Route("/bare", bare)],
                    middleware=[aauth_middleware(world, resource_settings(default_requirement="identity"))])
    with TestClient(app, base_url=RESOURCE) as client:
        req = _sign(world, "GET", "/bare", scheme="hwk")
        pseudonymous = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/bare")
        identified = client.get(req.path, headers=req.headers)
    assert (pseudonymous.status_code, pseudonymous.json()["error"]) == (401, "identity_required")
    assert identified.json() == {"scheme": "jwks"}


def test_decorator_forms_on_starlette_endpoints(world: World) -> None:
    app = Starlette(routes=[Route("/bare", bare), Route("/kw", by_keyword), Route("/cls", Endpoint)],
                    middleware=[aauth_middleware(world)])
    with TestClient(app, base_url=RESOURCE) as client:
        unsigned = client.get("/bare")
        req = _sign(world, "GET", "/bare", scheme="hwk")
        signed = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/kw", scheme="hwk")
        pseudonymous = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/kw")
        identified = client.get(req.path, headers=req.headers)
        req = _jwt(world, "GET", "/cls", world.auth_token())
        authorized = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/cls")
        challenged = client.get(req.path, headers=req.headers)
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "signature_required")
    assert signed.json() == {"scheme": "hwk"}
    assert (pseudonymous.status_code, pseudonymous.json()["error"]) == (401, "identity_required")
    assert identified.json() == {"agent": AGENT}
    assert authorized.json() == {"scope": "data.read data.write"}
    assert (challenged.status_code, challenged.json()["error"]) == (401, "authorization_required")


def test_decorator_keeps_the_signature_and_records_the_requirement() -> None:
    assert bare.__name__ == "bare"
    assert bare.aauth_requirement is None  # type: ignore[attr-defined]  # the configured default_requirement
    assert by_keyword.aauth_requirement == Requirement("identity")  # type: ignore[attr-defined]


def test_decorator_refuses_what_it_cannot_enforce() -> None:
    with pytest.raises(TypeError, match="Request"):
        requires_aauth(lambda: None)
    with pytest.raises(TypeError):
        requires_aauth("identity", level="identity")
    with pytest.raises(SettingsError):
        requires_aauth("superuser")
    with pytest.raises(SettingsError):
        requires_aauth("identity", scopes=["data.read"])  # scopes only at the authorization level


def test_missing_middleware_is_a_clear_error() -> None:
    app = Starlette(routes=[Route("/bare", bare)])
    with TestClient(app, base_url=RESOURCE) as client, pytest.raises(RuntimeError, match="AAuthMiddleware"):
        client.get("/bare")


def test_exception_carries_http_exception_fields(world: World) -> None:
    err = AAuthError("no", code="identity_required", challenge="httpsig; identity=?1")
    exc = AAuthHTTPException(err)
    assert exc.status_code == 401 and exc.headers["Agent-Auth"] == "httpsig; identity=?1"
    assert exc.detail == {"error": "identity_required", "error_description": "no"}


def fastapi_app(world: World) -> FastAPI:
    app = FastAPI(middleware=[aauth_middleware(world)])

    @app.get("/items/{item_id}")
    @requires_aauth("authorization", scopes=["data.read"])
    async def item(item_id: int, request: Request, q: str = "none") -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "agent": get_aauth(request).agent}  # type: ignore[union-attr]

    @app.get("/sync/{name}")
    @requires_aauth
    def sync_item(name: str, req: Request) -> dict[str, Any]:
        return {"name": name, "scheme": get_aauth(req).scheme}  # type: ignore[union-attr]

    @app.get("/optional")
    async def optional(ctx: VerifiedRequest | None = Depends(get_aauth)) -> dict[str, Any]:
        return {"agent": None if ctx is None else ctx.agent, "signed": ctx is not None}

    return app


def test_decorator_on_fastapi_path_operations(world: World) -> None:
    with TestClient(fastapi_app(world), base_url=RESOURCE) as client:
        req = _jwt(world, "GET", "/items/7?q=hello", world.auth_token())
        ok = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/items/7")
        challenged = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/items/x", scheme="hwk")
        invalid_param = client.get(req.path, headers=req.headers)
        req = _sign(world, "GET", "/sync/abc", scheme="hwk")
        sync_ok = client.get(req.path, headers=req.headers)
        sync_unsigned = client.get("/sync/abc")
    assert ok.json() == {"item_id": 7, "q": "hello", "agent": AGENT}
    assert (challenged.status_code, challenged.json()["error"]) == (401, "authorization_required")
    assert challenged.headers["agent-auth"].startswith("httpsig; auth-token; resource_token=")
    assert invalid_param.status_code == 422  # FastAPI still validates the real signature
    assert sync_ok.json() == {"name": "abc", "scheme": "hwk"}
    assert (sync_unsigned.status_code, sync_unsigned.json()["error"]) == (401, "signature_required")


def test_fastapi_optional_context_dependency(world: World) -> None:
    with TestClient(fastapi_app(world), base_url=RESOURCE) as client:
        unsigned = client.get("/optional").json()
        req = _sign(world, "GET", "/optional")
        signed = client.get(req.path, headers=req.headers).json()
    assert unsigned == {"agent": None, "signed": False}
    assert signed == {"agent": AGENT, "signed": True}


def test_dependency_requirement_forms() -> None:
    assert AAuth().requirement is None  # no arguments: the configured default_requirement, as a bare decorator
    assert AAuth(scopes=["data.read"]).requirement == Requirement("authorization", frozenset({"data.read"}))
    assert AAuth("authorization:data.read", scopes=["data.write"]).requirement == Requirement(
        "authorization", frozenset({"data.read", "data.write"}))
    with pytest.raises(SettingsError):
        AAuth("identity", scopes="data.read")


async def test_demand_outside_a_request_with_no_service_fails_clearly() -> None:
    scope = {"type": "http", "headers": [], "method": "GET", "path": "/"}
    with pytest.raises(RuntimeError):
        demand(Request(scope), Requirement())


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
def test_a_decorated_route_on_an_exempt_path_verifies_a_signed_body_itself(world: World, sync: bool) -> None:
    """The middleware leaves exempt paths alone; the decorator verifies, reading the body within
    max_body_bytes, and the endpoint still reads the same bytes."""
    import hashlib

    from .apps import resource_settings

    async def aupload(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"agent": get_aauth(request).agent, "sha256": hashlib.sha256(body).hexdigest()})

    def supload(request: Request) -> JSONResponse:
        return JSONResponse({"agent": get_aauth(request).agent})

    endpoint = requires_aauth("identity")(supload if sync else aupload)
    settings = resource_settings(exempt_paths=("/.well-known/", "/jwks.json", "/hooks/"))
    app = Starlette(routes=[Route("/hooks/upload", endpoint, methods=["POST"])],
                    middleware=[aauth_middleware(world, settings)])
    body = b'{"event": "x"}' * 100
    req = _sign(world, "POST", "/hooks/upload", body=body)
    with TestClient(app, base_url=RESOURCE) as client:
        ok = client.post(req.path, headers=req.headers, content=req.body)
        tampered = client.post(req.path, headers=req.headers, content=body + b" ")
    assert ok.status_code == 200, ok.text
    assert ok.json()["agent"] == AGENT
    if not sync:
        assert ok.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert (tampered.status_code, tampered.json()["error"]) == (401, "digest_mismatch")
