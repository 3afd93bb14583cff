"""AAuthMiddleware: body handling, pass-through, path rules, documents, users, error hooks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from aauth_core.cache import MemoryReplayCache
from aauth_core.errors import AAuthError
from aauth_core.service import AAuthService
from aauth_core.settings import SettingsError
from aauth_starlette import AAuthHTTPException, AAuthMiddleware, AAuthUser, get_aauth

from ..conftest import AGENT, ISSUER, RESOURCE, World, signed_request
from ..scenarios import _jwt, _sign
from .apps import aauth_middleware, resource_settings, starlette_app
from .asgi import Exchange, http_scope, run


def raw_recorder() -> tuple[Any, list[Message], list[Scope]]:
    """A bare ASGI app that records every message it receives and the scope it saw."""
    messages: list[Message] = []
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                break
        if messages[-1]["type"] != "http.disconnect":
            messages.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app, messages, scopes


def wrap(world: World, app: Any, **overrides: Any) -> AAuthMiddleware:
    settings = resource_settings(**overrides)
    return AAuthMiddleware(app, settings=settings, keys=[world.resource.key], discovery=world.discovery(settings),
                           clock=world.clock)


def whoami(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({
        "aauth": None if ctx is None else ctx.to_dict(),
        "user": request.user.display_name, "authenticated": request.user.is_authenticated,
        "auth_scopes": request.auth.scopes, "aauth_user": isinstance(request.user, AAuthUser),
    })


def plain_app(world: World, *, middleware: list[Middleware] | None = None, **overrides: Any) -> Starlette:
    routes = [Route("/{path:path}", whoami, methods=["GET", "POST", "OPTIONS", "DELETE"])]
    return Starlette(routes=routes, middleware=middleware or [aauth_middleware(world, resource_settings(**overrides))])


# ----------------------------------------------------------------------------- bodies


async def test_chunked_signed_body_is_verified_and_replayed_whole(world: World) -> None:
    body = b'{"part": 1, ' + b'"x": "' + b"y" * 50_000 + b'"}'
    headers, _ = signed_request("POST", RESOURCE + "/upload", key=world.agent.key, body=body)
    chunks = [body[:7], body[7:30_000], body[30_000:]]
    exchange = await run(starlette_app(world), http_scope("POST", "/upload", headers), Exchange(chunks))
    assert exchange.status == 200, exchange.body
    seen = json.loads(exchange.body)
    assert seen["body_length"] == len(body) and seen["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_replayed_body_is_one_message_then_disconnect_passes_through(world: World) -> None:
    body = b"a" * 1000 + b"b" * 1000
    headers, _ = signed_request("POST", RESOURCE + "/upload", key=world.agent.key, body=body)
    inner, messages, _ = raw_recorder()
    exchange = await run(wrap(world, inner), http_scope("POST", "/upload", headers),
                         Exchange([body[:500], body[500:]]))
    assert exchange.status == 200
    assert messages == [{"type": "http.request", "body": body, "more_body": False}, {"type": "http.disconnect"}]


async def test_tampered_chunked_body_is_refused_before_the_app(world: World) -> None:
    body = b'{"a": 1}'
    headers, _ = signed_request("POST", RESOURCE + "/upload", key=world.agent.key, body=body)
    inner, messages, _ = raw_recorder()
    exchange = await run(wrap(world, inner), http_scope("POST", "/upload", headers), Exchange([b'{"a": ', b"2}"]))
    assert exchange.status == 401
    assert json.loads(exchange.body)["error"] == "digest_mismatch"
    assert messages == []


async def test_oversized_signed_body_is_refused_with_413_before_it_is_buffered(world: World) -> None:
    body = b"z" * 3000
    headers, _ = signed_request("POST", RESOURCE + "/upload", key=world.agent.key, body=body)
    inner, messages, _ = raw_recorder()
    exchange = await run(wrap(world, inner, max_body_bytes=1024), http_scope("POST", "/upload", headers),
                         Exchange([body[:1000], body[1000:2000], body[2000:]]))
    assert exchange.status == 413
    assert json.loads(exchange.body)["error"] == "body_too_large"
    assert messages == []


async def test_client_disconnect_while_buffering_ends_quietly(world: World) -> None:
    body = b"x" * 100
    headers, _ = signed_request("POST", RESOURCE + "/upload", key=world.agent.key, body=body)
    inner, messages, _ = raw_recorder()
    exchange = await run(wrap(world, inner), http_scope("POST", "/upload", headers),
                         Exchange([body[:50], body[50:]], disconnect_early=True))
    assert exchange.sent == [] and messages == []


async def test_unsigned_streaming_body_reaches_the_app_unbuffered(world: World) -> None:
    exchange = Exchange([b"one", b"two", b"three"])
    seen_at: list[int] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen_at.append(exchange.receive_calls)  # how far the server had been read when this arrived
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await run(wrap(world, inner), http_scope("POST", "/stream", {"Transfer-Encoding": "chunked"}), exchange)
    assert exchange.status == 204
    assert seen_at == [1, 2, 3]


async def test_signed_request_without_body_is_not_read(world: World) -> None:
    headers, _ = signed_request("GET", RESOURCE + "/data", key=world.agent.key)
    inner, messages, scopes = raw_recorder()
    exchange = await run(wrap(world, inner), http_scope("GET", "/data", headers), Exchange())
    assert exchange.status == 200
    assert messages[0] == {"type": "http.request", "body": b"", "more_body": False}  # straight from the server
    assert scopes[0]["aauth"].agent == AGENT


# ----------------------------------------------------------------------------- pass-through and path rules


def test_unsigned_request_to_unprotected_route_passes_with_no_context(world: World) -> None:
    with TestClient(plain_app(world), base_url=RESOURCE) as client:
        response = client.get("/open")
    assert response.status_code == 200
    assert response.json()["aauth"] is None
    assert response.json()["authenticated"] is False


def test_cors_preflight_is_answered_without_the_app_when_everything_is_protected(world: World) -> None:
    app = plain_app(world, protect_all=True)
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with TestClient(app, base_url=RESOURCE) as client:
        answered = client.options("/data", headers=preflight)
        bare_options = client.options("/data", headers={"Origin": "https://app.example"})
        refused = client.get("/data")
    assert (answered.status_code, answered.content) == (204, b"")
    assert bare_options.status_code == 401 and bare_options.json()["error"] == "signature_required"
    assert refused.status_code == 401 and refused.json()["error"] == "signature_required"


def test_protect_all_refuses_unsigned_and_accepts_signed(world: World) -> None:
    headers, _ = signed_request("GET", RESOURCE + "/anything", key=world.agent.key, scheme="hwk")
    with TestClient(plain_app(world, protect_all=True), base_url=RESOURCE) as client:
        refused = client.get("/anything")
        accepted = client.get("/anything", headers=headers)
        metadata = client.get("/.well-known/aauth-resource")
    assert (refused.status_code, refused.json()["error"]) == (401, "signature_required")
    assert refused.headers["agent-auth"].startswith("httpsig")
    assert accepted.status_code == 200 and accepted.json()["aauth"]["scheme"] == "hwk"
    assert metadata.status_code == 200


def test_protect_all_with_a_default_requirement(world: World) -> None:
    headers, _ = signed_request("GET", RESOURCE + "/anything", key=world.agent.key, scheme="hwk")
    app = plain_app(world, protect_all=True, default_requirement="identity")
    with TestClient(app, base_url=RESOURCE) as client:
        refused = client.get("/anything", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "identity_required")


def test_path_prefix_protection(world: World) -> None:
    app = plain_app(world, protected_paths={"/api": "authorization:data.read"})
    with TestClient(app, base_url=RESOURCE) as client:
        unsigned = client.get("/api/items")
        encoded = client.get("/ap%69/items")  # decodes to /api/items, as the router sees it
        req = _sign(world, "GET", "/api/items")
        identity = client.get(req.path, headers=req.headers)
        req = _jwt(world, "GET", "/api/items", world.auth_token())
        authorized = client.get(req.path, headers=req.headers)
        req = _jwt(world, "GET", "/api/items?x=1", world.auth_token(scope="data.write"))
        wrong_scope = client.get(req.path, headers=req.headers)
        beside = client.get("/apix")
        outside = client.get("/open")
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "identity_required")
    assert (encoded.status_code, encoded.json()["error"]) == (401, "identity_required")
    assert (identity.status_code, identity.json()["error"]) == (401, "authorization_required")
    assert identity.headers["agent-auth"].startswith("httpsig; auth-token; resource_token=")
    assert authorized.status_code == 200 and authorized.json()["aauth"]["agent"] == AGENT
    assert (wrong_scope.status_code, wrong_scope.json()["error"]) == (403, "insufficient_scope")
    assert beside.status_code == 200 and beside.json()["aauth"] is None
    assert outside.status_code == 200


def test_invalid_signature_is_refused_even_on_unprotected_routes(world: World) -> None:
    req = _sign(world, "GET", "/open")
    with TestClient(plain_app(world), base_url=RESOURCE) as client:
        response = client.delete("/open", headers=req.headers)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_signature")
    assert response.headers["agent-auth"].startswith("httpsig")


def test_lifespan_and_websocket_scopes_pass_untouched(world: World) -> None:
    events: list[str] = []

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"aauth" in websocket.scope: True})
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(routes=[WebSocketRoute("/ws", ws)], lifespan=lifespan, middleware=[aauth_middleware(world)])
    with TestClient(app, base_url=RESOURCE) as client, client.websocket_connect("/ws") as socket:
        assert socket.receive_json() == {"false": True}
    assert events == ["startup", "shutdown"]


# ----------------------------------------------------------------------------- documents


def test_metadata_and_jwks_routes(world: World) -> None:
    with TestClient(plain_app(world, protect_all=True), base_url=RESOURCE) as client:
        metadata = client.get("/.well-known/aauth-resource")
        jwks = client.get("/jwks.json")
        posted = client.post("/jwks.json")
    assert metadata.status_code == 200 and metadata.headers["content-type"] == "application/json"
    assert "max-age=300" in metadata.headers["cache-control"]
    assert metadata.json()["jwks_uri"] == RESOURCE + "/jwks.json"
    assert RESOURCE in metadata.json().values()
    assert jwks.status_code == 200 and "max-age=300" in jwks.headers["cache-control"]
    assert [k["kid"] for k in jwks.json()["keys"]] == ["resource-key-1"]
    assert all("d" not in k for k in jwks.json()["keys"])  # public keys only
    assert posted.status_code == 200 and posted.json()["aauth"] is None  # exempt, and left to the app


# ----------------------------------------------------------------------------- users


def test_request_user_and_auth_are_set_for_a_verified_agent(world: World) -> None:
    with TestClient(plain_app(world), base_url=RESOURCE) as client:
        req = _jwt(world, "GET", "/who", world.auth_token())
        agent = client.get(req.path, headers=req.headers).json()
        req = _sign(world, "GET", "/who", scheme="hwk")
        pseudonymous = client.get(req.path, headers=req.headers).json()
    assert agent["user"] == AGENT and agent["authenticated"] and agent["aauth_user"]
    assert agent["auth_scopes"] == ["authenticated", "data.read", "data.write"]
    assert pseudonymous["user"] == world.agent.key.thumbprint
    assert pseudonymous["auth_scopes"] == ["authenticated"]


class _Alice(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser]:
        return AuthCredentials(["session"]), SimpleUser("alice")


def test_request_user_set_by_an_earlier_authentication_middleware_is_kept(world: World) -> None:
    middleware = [Middleware(AuthenticationMiddleware, backend=_Alice()), aauth_middleware(world)]
    req = _jwt(world, "GET", "/who", world.auth_token())
    with TestClient(plain_app(world, middleware=middleware), base_url=RESOURCE) as client:
        seen = client.get(req.path, headers=req.headers).json()
    assert seen["user"] == "alice" and seen["auth_scopes"] == ["session"] and not seen["aauth_user"]
    assert seen["aauth"]["agent"] == AGENT  # the AAuth context is still there


# ----------------------------------------------------------------------------- error handler


@pytest.mark.parametrize("asynchronous", [False, True])
def test_custom_error_handler(world: World, asynchronous: bool) -> None:
    seen: list[tuple[str, str]] = []

    def render(request: Request, error: AAuthError) -> Response:
        seen.append((error.code, request.url.path))
        return PlainTextResponse(f"no: {error.code}", status_code=error.status_code)  # the challenge is added

    async def arender(request: Request, error: AAuthError) -> Response:
        return render(request, error)

    app = starlette_app(world, error_handler=arender if asynchronous else render)
    with TestClient(app, base_url=RESOURCE) as client:
        bad = client.get("/data", headers=_sign(world, "GET", "/data-jwks").headers)  # refused by the middleware
        req = _sign(world, "GET", "/data-auth")
        challenged = client.get(req.path, headers=req.headers)  # refused by the decorator
    assert (bad.status_code, bad.text) == (401, "no: invalid_signature")
    assert bad.headers["agent-auth"].startswith("httpsig")
    assert (challenged.status_code, challenged.text) == (401, "no: authorization_required")
    assert challenged.headers["agent-auth"].startswith("httpsig; auth-token; resource_token=")
    assert seen == [("invalid_signature", "/data"), ("authorization_required", "/data-auth")]
    assert app.state.calls == []


# ----------------------------------------------------------------------------- settings


def test_settings_from_keyword_arguments(world: World) -> None:
    middleware = Middleware(AAuthMiddleware, resource_id=RESOURCE, trusted_issuers=[ISSUER], auth_server=ISSUER,
                            protected_paths={"/api": "identity"}, keys=[world.resource.key], clock=world.clock)
    app = Starlette(routes=[Route("/{p:path}", whoami)], middleware=[middleware])
    with TestClient(app, base_url=RESOURCE) as client:
        assert client.get("/api/x").json()["error"] == "identity_required"
        assert client.get("/.well-known/aauth-resource").json()["jwks_uri"] == RESOURCE + "/jwks.json"


def test_keyword_arguments_override_a_settings_object(world: World) -> None:
    mw = AAuthMiddleware(whoami, settings=resource_settings(), keys=[world.resource.key], protect_all=True)
    assert mw.settings.protect_all and mw.settings.resource_id == RESOURCE


def test_unknown_setting_fails_the_lifespan_startup_and_every_request(world: World) -> None:
    mw = AAuthMiddleware(whoami, resource_id=RESOURCE, protect_everything=True)
    assert isinstance(mw.startup_error, SettingsError)
    sent: list[dict[str, Any]] = []
    incoming = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(mw({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "protect_everything" in sent[0]["message"]
    with pytest.raises(SettingsError, match="protect_everything"):
        TestClient(mw).get("/")


def test_service_or_settings_not_both(world: World) -> None:
    service = AAuthService(resource_settings(), keys=[world.resource.key])
    assert AAuthMiddleware(whoami, service=service).service is service
    with pytest.raises(TypeError):
        AAuthMiddleware(whoami, service=service, protect_all=True)


def test_forwarded_host_is_used_only_when_trusted(world: World) -> None:
    """Without a resource_id the Host decides @authority; X-Forwarded-Host only with trust_forwarded."""
    headers, _ = signed_request("GET", RESOURCE + "/data", key=world.agent.key, scheme="hwk")
    headers = {**headers, "X-Forwarded-Host": "api.example"}
    results = {}
    for trusted in (False, True):
        app = plain_app(world, resource_id=None, trust_forwarded=trusted, auth_server=None)
        with TestClient(app, base_url="http://internal:8080") as client:
            results[trusted] = client.get("/data", headers=headers)
    assert (results[False].status_code, results[False].json()["error"]) == (401, "invalid_signature")
    assert results[True].status_code == 200 and results[True].json()["aauth"]["scheme"] == "hwk"


def test_injected_replay_cache_is_shared_between_workers(world: World) -> None:
    shared = MemoryReplayCache(clock=world.clock)
    req = _sign(world, "GET", "/data")
    statuses = []
    for _ in range(2):  # two "workers", one shared cache
        with TestClient(plain_app(world, middleware=[aauth_middleware(world, replay_cache=shared)]),
                        base_url=RESOURCE) as client:
            response = client.get(req.path, headers=req.headers)
            statuses.append((response.status_code, response.json().get("error")))
    assert statuses == [(200, None), (401, "replayed_request")]
    assert len(shared) == 1


async def test_refusal_after_the_response_started_is_not_rendered_twice(world: World) -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise AAuthHTTPException(AAuthError("late", code="identity_required"))

    exchange = Exchange()
    with pytest.raises(AAuthHTTPException):
        await run(wrap(world, inner), http_scope("GET", "/late", {}), exchange)
    assert [m["type"] for m in exchange.sent] == ["http.response.start"]


def test_head_on_metadata_and_signed_requests_to_exempt_paths_are_not_verified(world: World) -> None:
    bogus = _sign(world, "GET", "/elsewhere").headers  # would fail verification on /jwks.json
    with TestClient(plain_app(world), base_url=RESOURCE) as client:
        head = client.head("/.well-known/aauth-resource")
        exempt = client.post("/jwks.json", headers=bogus)
    assert head.status_code == 200 and head.headers["content-type"] == "application/json"
    assert exempt.status_code == 200 and exempt.json()["aauth"] is None
