"""``aauth_starlette.mcp`` without an MCP SDK: finding the request behind a tool's context,
demanding a requirement, the decorator, and the OAuth-beside-AAuth error handler."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from aauth_core.client import RequestSigner, agent_auth
from aauth_core.keys import SigningKey
from aauth_starlette import AAuthMiddleware
from aauth_starlette.mcp import (
    AAuthToolError,
    aauth_from_context,
    aauth_tool,
    bearer_challenge,
    request_from_context,
    require_aauth,
)

API = "https://api.example"


class Context:  # what the SDKs call their tool context; only the name matters to aauth_tool
    def __init__(self, request: Any) -> None:
        self.request_context = SimpleNamespace(request=request)


def _app(endpoint: Any, **settings: Any) -> TestClient:
    app = Starlette(routes=[Route("/mcp", endpoint, methods=["GET", "POST"])])
    return TestClient(AAuthMiddleware(app, resource_id=API, keys=[SigningKey.generate(kid="r")], **settings),
                      base_url=API, raise_server_exceptions=False)


def test_the_request_is_found_in_every_sdks_context() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    class Outside:  # mcp's Context.request_context raises outside a request
        @property
        def request_context(self) -> Any:
            raise ValueError("Context is not available outside of a request")

    assert request_from_context(request) is request
    assert request_from_context(Context(request)) is request                 # ctx.request_context.request
    assert request_from_context(SimpleNamespace(request=request)) is request  # a low-level ServerRequestContext
    assert request_from_context(SimpleNamespace(request_context=None)) is None
    assert request_from_context(Outside()) is None
    assert request_from_context(Context(None)) is None                       # stdio: no HTTP request
    assert aauth_from_context(Context(request)) is None


def test_demands_in_a_tool() -> None:
    seen: dict[str, Any] = {}

    async def tool(request: Request) -> JSONResponse:
        ctx = Context(request)
        seen["caller"] = aauth_from_context(ctx)
        try:
            require_aauth(ctx, "identity")
        except AAuthToolError as refusal:
            return JSONResponse({"refused": str(refusal), "code": refusal.code})
        return JSONResponse({"ok": True})

    client = _app(tool)
    signed = agent_auth(RequestSigner.hwk(SigningKey.generate()), library="httpx2")
    answer = client.post("/mcp", auth=signed).json()
    assert seen["caller"].scheme == "hwk"
    assert answer["code"] == "identity_required"
    assert answer["refused"].startswith("identity_required: this resource requires an identified agent")
    assert answer["refused"].endswith("; this tool needs an identified agent")


def test_a_tool_without_the_middleware_does_not_run() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    with pytest.raises(RuntimeError, match="AAuthMiddleware"):
        require_aauth(Context(request))
    with pytest.raises(RuntimeError, match="AAuthMiddleware"):
        require_aauth(Context(None))

    async def exempt(request: Request) -> JSONResponse:
        with pytest.raises(RuntimeError, match="exempt_paths"):
            require_aauth(Context(request))
        return JSONResponse({})

    assert _app(exempt, exempt_paths=["/mcp"]).get("/mcp").status_code == 200


def test_the_decorator_keeps_the_tools_signature_and_demands() -> None:
    @aauth_tool(scopes=["notes.write"])
    async def write(text: str, ctx: Context) -> str:
        return text

    @aauth_tool
    def read(ctx: Context) -> str:
        return "note"

    assert list(inspect.signature(write).parameters) == ["text", "ctx"]
    assert inspect.iscoroutinefunction(write) and not inspect.iscoroutinefunction(read)
    assert write.aauth_requirement.scopes == {"notes.write"}  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="context"):
        aauth_tool(lambda text: text)

    async def endpoint(request: Request) -> JSONResponse:
        try:
            read(Context(request))
        except AAuthToolError as refusal:
            return JSONResponse({"code": refusal.code, "needs": refusal.requirement.level})
        return JSONResponse({"ok": True})

    assert _app(endpoint).get("/mcp").json() == {"code": "signature_required", "needs": "signature"}


def test_bearer_challenge_beside_the_agent_auth_challenge() -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({})

    metadata = f"{API}/.well-known/oauth-protected-resource/mcp"
    client = _app(endpoint, protect_all=True, error_handler=bearer_challenge(metadata))
    bare = client.post("/mcp")
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == f'Bearer resource_metadata="{metadata}"'
    assert bare.headers["agent-auth"] == "httpsig"
    assert bare.json()["error"] == "signature_required"
    wrong = client.post("/mcp", headers={"Authorization": "Bearer nope"})
    assert wrong.headers["www-authenticate"].startswith('Bearer error="invalid_token", resource_metadata=')
    signed = client.post("/mcp", auth=agent_auth(RequestSigner.hwk(SigningKey.generate()), library="httpx2"))
    assert signed.status_code == 200
