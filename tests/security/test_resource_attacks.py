"""Every resource-side attack through every framework adapter's own test client.

Adapters: Starlette (decorators), FastAPI (``Depends``), Flask (decorators, test
client), Django WSGI (``Client``) and Django ASGI (async views, ``AsyncClient``
with the raw path a real ASGI server sets).  Each builds the app from the
adapter's scenario app builder with the attack's settings, and hands the attack the
app's own :class:`AAuthService` (an aauth-11 row revokes a token in it, as the person
server's revocation would).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from asgiref.sync import async_to_sync
from starlette.testclient import TestClient

from aauth_core.service import AAuthService

from ..conftest import RESOURCE
from .attacks import ATTACKS, Attack, Ctx, Req
from .checks import check_network, check_prelude, check_refusal
from .conftest import AttackWorld

RESOURCE_ATTACKS = [a for a in ATTACKS if "resource" in a.targets]
ADAPTERS = ["starlette", "fastapi", "flask", "django-wsgi", "django-asgi"]

# (status, headers, body, handler ran)
Result = tuple[int, dict[str, str], bytes, bool]
Sender = Callable[[Req], Result]


class Adapted(NamedTuple):
    """One adapter's app for one attack: how to send it a request, and its service."""

    send: Sender
    service: Callable[[], AAuthService]


def _starlette(world: AttackWorld, attack: Attack, kind: str) -> Adapted:
    from aauth_starlette import AAuthMiddleware

    from ..starlette.apps import fastapi_app, resource_settings, starlette_app

    build = starlette_app if kind == "starlette" else fastapi_app
    app = build(world, resource_settings(**attack.settings))
    client = TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)

    def send(req: Req) -> Result:
        before = len(app.state.calls)
        r = client.request(req.method, req.path, headers=req.headers, content=req.body)
        return r.status_code, dict(r.headers), r.content, len(app.state.calls) > before

    def service() -> AAuthService:
        if app.middleware_stack is None:  # built on the first request; build it now, as that would
            app.middleware_stack = app.build_middleware_stack()
        node: Any = app.middleware_stack
        while not isinstance(node, AAuthMiddleware):
            node = node.app
        return node.service

    return Adapted(send, service)


def _flask(world: AttackWorld, attack: Attack) -> Adapted:
    from ..flask.apps import scenario_app

    app = scenario_app(world, "decorators", {f"AAUTH_{k.upper()}": v for k, v in attack.settings.items()})
    calls: list[str] = app.extensions["test_calls"]
    client = app.test_client()

    def send(req: Req) -> Result:
        before = len(calls)
        r = client.open(req.path, method=req.method, headers=req.combined(), data=req.body, base_url=RESOURCE)
        return r.status_code, dict(r.headers), r.get_data(), len(calls) > before

    return Adapted(send, lambda: app.extensions["aauth"].service)


def _django(world: AttackWorld, attack: Attack, is_async: bool, settings: Any) -> Adapted:
    from django.test import Client

    from aauth_django.conf import get_service

    from ..django.clients import RawPathAsyncClient
    from ..django.conftest import AAUTH
    from .django_urls import CALLS

    settings.ROOT_URLCONF = "tests.security.django_urls_async" if is_async else "tests.security.django_urls"
    settings.AAUTH = {**AAUTH, **{k.upper(): v for k, v in attack.settings.items()}}
    CALLS.clear()

    def send(req: Req) -> Result:
        headers = req.combined()
        content_type = headers.pop("Content-Type", None)
        kwargs: dict[str, Any] = {"data": req.body or b"", "headers": headers}
        if content_type is not None:
            kwargs["content_type"] = content_type
        before = len(CALLS)
        if is_async:
            async def go() -> Any:
                return await RawPathAsyncClient().generic(req.method, req.path, **kwargs)

            r = async_to_sync(go)()
        else:
            r = Client(raise_request_exception=False).generic(req.method, req.path, **kwargs)
        return r.status_code, dict(r.headers), r.content, len(CALLS) > before

    return Adapted(send, get_service)


def adapted(request: pytest.FixtureRequest, world: AttackWorld, attack: Attack, adapter: str) -> Adapted:
    if adapter in ("starlette", "fastapi"):
        return _starlette(world, attack, adapter)
    if adapter == "flask":
        return _flask(world, attack)
    request.getfixturevalue("django_service")
    return _django(world, attack, adapter == "django-asgi", request.getfixturevalue("settings"))


def sender(request: pytest.FixtureRequest, world: AttackWorld, attack: Attack, adapter: str) -> Sender:
    return adapted(request, world, attack, adapter).send


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("attack", RESOURCE_ATTACKS, ids=lambda a: a.name)
def test_attack_is_refused(request: pytest.FixtureRequest, world: AttackWorld, attack: Attack,
                           adapter: str) -> None:
    app = adapted(request, world, attack, adapter)
    send = app.send
    built = attack.build(Ctx(world, "resource", service=app.service()))
    reqs = built if isinstance(built, list) else [built]
    for prelude in reqs[:-1]:
        if prelude.before is not None:
            prelude.before()
        status, _, content, _ = send(prelude)
        check_prelude(attack, status, content)
    if reqs[-1].before is not None:
        reqs[-1].before()
    started = time.monotonic()
    status, headers, content, ran = send(reqs[-1])
    elapsed = time.monotonic() - started
    check_refusal(attack, attack.outcome("resource"), status, headers, content, reqs[-1], ran=ran)
    check_network(attack, world)
    if attack.max_seconds is not None:
        assert elapsed < attack.max_seconds, f"{attack.name}: took {elapsed:.2f} s"
