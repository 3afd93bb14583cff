"""aauth-11 deferred delivery (RS-36) through every adapter: a person token at an auth-token
route gets 202 and a pending URL; the held call runs once, when the agent polls with an auth
token for the same person and key; its answer is replayed to that token, 410 to any other."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from django.test.utils import override_settings

from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_core.wire.requirement import parse_requirement

from ..conftest import NOW, RESOURCE, World
from .mint import PS, agent_token, sign11
from .test_person_auth_11 import auth_token, person_token

Send = Callable[[str, str, dict[str, str], bytes | None], tuple[int, dict[str, str], bytes]]
SETTINGS: dict[str, Any] = {"resource_id": RESOURCE, "profiles": ("aauth-11",), "person_servers": (PS,),
                            "resource_scopes": ("data.read", "data.write"), "deferred_delivery": True}
RAN: list[Any] = []


def _starlette(world: World) -> Send:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

    @aauth_required("authorization", scopes=["data.read"])
    async def data(request: Request) -> JSONResponse:
        ctx = get_aauth(request)
        RAN.append(("GET", request.url.path))
        return JSONResponse({"person": list(ctx.person or ()), "scope": sorted(ctx.scope)})

    @aauth_required("authorization", scopes=["data.write"])
    async def notes(request: Request) -> JSONResponse:
        body = await request.body()
        RAN.append(("POST", body))
        return JSONResponse({"received": body.decode(), "type": request.headers.get("content-type")}, status_code=201)

    settings = AAuthSettings(**SETTINGS)
    app = AAuthMiddleware(Starlette(routes=[Route("/data", data), Route("/notes", notes, methods=["POST"])]),
                          settings=settings, keys=[world.resource.key], discovery=world.discovery(settings),
                          clock=world.clock)
    client = TestClient(app, base_url=RESOURCE)

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        r = client.request(method, path, headers=headers, content=body)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return send


def _flask(world: World) -> Send:
    from flask import Flask, jsonify
    from flask import request as flask_request

    from aauth_flask import AAuth, aauth_required, current_aauth

    app = Flask("deferred")
    app.config.update({f"AAUTH_{k.upper()}": v for k, v in SETTINGS.items()})
    AAuth(app, keys=[world.resource.key], discovery=world.discovery, clock=world.clock)

    @app.get("/data")
    @aauth_required("authorization", scopes=["data.read"])
    def data() -> Any:
        RAN.append(("GET", flask_request.path))
        return jsonify(person=list(current_aauth.person or ()), scope=sorted(current_aauth.scope))

    @app.post("/notes")
    @aauth_required("authorization", scopes=["data.write"])
    def notes() -> Any:
        body = flask_request.get_data()
        RAN.append(("POST", body))
        return jsonify(received=body.decode(), type=flask_request.content_type), 201

    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        r = client.open(path, method=method, headers=headers, data=body, base_url=RESOURCE)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data()

    return send


def _django(world: World) -> Send:
    from django.http import HttpRequest, JsonResponse
    from django.test import Client
    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt

    from aauth_django import aauth_required, set_service_factory

    from ..django.conftest import factory_for

    @aauth_required("authorization", scopes=["data.read"])
    def data(request: HttpRequest) -> JsonResponse:
        RAN.append(("GET", request.path))
        return JsonResponse({"person": list(request.aauth.person or ()), "scope": sorted(request.aauth.scope)})

    @csrf_exempt
    @aauth_required("authorization", scopes=["data.write"])
    def notes(request: HttpRequest) -> JsonResponse:
        RAN.append(("POST", request.body))
        return JsonResponse({"received": request.body.decode(), "type": request.content_type}, status=201)

    class URLConf:
        urlpatterns: ClassVar[list[Any]] = [path("data", data), path("notes", notes)]

    DJANGO_OVERRIDES.append(override_settings(ROOT_URLCONF=URLConf, AAUTH={k.upper(): v for k, v in SETTINGS.items()}))
    DJANGO_OVERRIDES[-1].enable()
    clear_url_caches()
    set_service_factory(factory_for(world))
    client = Client()

    def send(method: str, path_: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        r = client.generic(method, path_, data=body or b"", content_type=headers.get("Content-Type", ""),
                           headers=extra, HTTP_HOST="api.example", secure=True)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return send


BUILDERS: dict[str, Callable[[World], Send]] = {"starlette": _starlette, "flask": _flask, "django": _django}
DJANGO_OVERRIDES: list[Any] = []


@pytest.fixture(params=list(BUILDERS))
def send(request: pytest.FixtureRequest, world: World) -> Iterator[Send]:
    from django.urls import clear_url_caches

    RAN.clear()
    try:
        yield BUILDERS[request.param](world)
    finally:
        from aauth_django import set_service_factory

        while DJANGO_OVERRIDES:
            DJANGO_OVERRIDES.pop().disable()
            clear_url_caches()
            set_service_factory(None)


class Agent:
    """Signs as the agent, one second apart (each signature distinct)."""

    def __init__(self, world: World, key: SigningKey, send: Send) -> None:
        self.world, self.key, self.send = world, key, send

    def __call__(self, method: str, path: str, token: str, body: bytes | None = None,
                 key: SigningKey | None = None) -> tuple[int, dict[str, str], bytes]:
        self.world.clock.advance(1)
        headers = sign11(method, RESOURCE + path, key or self.key, token, created=int(self.world.clock()), body=body,
                         components=("@method", "@authority", "@path", "signature-key")
                         + (("content-digest", "content-type") if body else ()))
        return self.send(method, path, headers, body)


def test_a_held_get_runs_once_with_the_auth_token(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                                  ap_key: SigningKey, send: Send) -> None:
    agent = Agent(world, agent_key, send)
    status, headers, body = agent("GET", "/data", person_token(ps_key, agent_key))
    assert status == 202 and json.loads(body) == {"status": "pending"} and RAN == []
    location = headers["location"]
    assert location.startswith("/aauth/pending/") and headers["retry-after"] == "1"
    assert headers["cache-control"] == "no-store" and headers["link"].endswith('rel="aauth-resource"')
    requirement = parse_requirement(headers["aauth-requirement"])
    assert requirement.requirement == "auth-token" and requirement.resource_token

    # still no auth token: pending again; an agent token or another key learns nothing
    assert agent("GET", location, person_token(ps_key, agent_key))[0] == 202
    assert agent("GET", location, agent_token(ap_key, agent_key))[0] == 202
    other = SigningKey.generate()
    assert agent("GET", location, auth_token(ps_key, other), key=other)[0] == 404
    assert agent("GET", location, auth_token(ps_key, agent_key, sub="someone-else"))[0] == 202
    assert RAN == []

    token = auth_token(ps_key, agent_key, jti="at-held")
    status, _, body = agent("GET", location, token)
    assert status == 200 and json.loads(body)["scope"] == ["data.read"] and RAN == [("GET", "/data")]
    status, _, again = agent("GET", location, token)  # replayed, never run twice
    assert (status, again) == (200, body) and len(RAN) == 1
    assert agent("GET", location, auth_token(ps_key, agent_key, jti="at-other"))[0] == 410


def test_a_held_post_keeps_its_body(world: World, ps_key: SigningKey, agent_key: SigningKey, send: Send) -> None:
    agent = Agent(world, agent_key, send)
    status, headers, _ = agent("POST", "/notes", person_token(ps_key, agent_key), body=b'{"note": "hi"}')
    assert status == 202 and RAN == []
    status, _, body = agent("GET", headers["location"], auth_token(ps_key, agent_key, scope="data.write"))
    assert status == 201 and json.loads(body) == {"received": '{"note": "hi"}', "type": "application/json"}
    assert RAN == [("POST", b'{"note": "hi"}')]


def test_pending_urls_refuse_the_unsigned_the_unknown_and_the_expired(world: World, ps_key: SigningKey,
                                                                      agent_key: SigningKey, send: Send) -> None:
    agent = Agent(world, agent_key, send)
    _, headers, _ = agent("GET", "/data", person_token(ps_key, agent_key))
    location = headers["location"]
    status, hdrs, _ = send("GET", location, {}, None)
    assert status == 401 and hdrs["aauth-requirement"] == "requirement=agent-token"
    assert agent("GET", "/aauth/pending/nope", auth_token(ps_key, agent_key))[0] == 404
    world.clock.advance(300)  # the resource token's lifetime: the held call is forgotten
    status, _, body = agent("GET", location, auth_token(ps_key, agent_key, now=world.clock()))
    assert status == 410 and json.loads(body)["error"] == "expired" and RAN == []


def test_when_the_held_calls_are_full_the_ordinary_401_is_sent(world: World, ps_key: SigningKey,
                                                               agent_key: SigningKey) -> None:
    """Memory is bounded in bytes and in number: a call that does not fit is challenged with 401,
    never held half-way or dropped later."""
    from .test_person_auth_11 import service
    from .test_resource_11 import URL
    from .test_resource_11 import send as service_send

    svc = service(world, deferred_delivery=True)
    assert svc.deferred is not None
    status, headers, body, _ = service_send(svc, sign11("GET", URL, agent_key, person_token(ps_key, agent_key)),
                                            level="authorization:data.read")
    assert status == 202 and body == {"status": "pending"} and len(svc.deferred) == 1
    svc.deferred.max_bytes = 10
    world.clock.advance(1)
    status, headers, body, _ = service_send(svc, sign11("GET", URL, agent_key, person_token(ps_key, agent_key),
                                                        created=NOW + 1), level="authorization:data.read")
    assert status == 401 and parse_requirement(headers["AAuth-Requirement"]).requirement == "auth-token"
    assert len(svc.deferred) == 1
