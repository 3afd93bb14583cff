"""The scenario routes as a Flask app: requirements by decorator or by ``AAUTH_PROTECTED_PATHS``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from aauth_flask import AAuth, aauth_required, current_aauth, get_current_aauth

from ..conftest import ISSUER, RESOURCE, World
from ..scenarios import ROUTES, Request

CONFIG: dict[str, Any] = {
    "AAUTH_RESOURCE_ID": RESOURCE,
    "AAUTH_AUTH_SERVER": ISSUER,
    "AAUTH_TRUSTED_ISSUERS": [ISSUER],
    "AAUTH_RESOURCE_SCOPES": ["data.read", "data.write"],
}

PATH_RULES = {
    "/data": "signature",
    "/data-jwks": "identity",
    "/data-auth": "authorization:data.read",
    "/data-admin": "authorization:data.admin",
    "/upload": "signature",
    "/files": "signature",
}


def new_app(world: World, name: str = "aauth-test", config: dict[str, Any] | None = None,
            **aauth_kwargs: Any) -> tuple[Flask, AAuth]:
    """A Flask app with AAuth wired to the test world: frozen clock, in-process discovery, the resource key."""
    app = Flask(name)
    app.config.update(CONFIG)
    app.config.update(config or {})
    aauth_kwargs.setdefault("keys", [world.resource.key])
    aauth = AAuth(app, discovery=world.discovery, clock=world.clock, **aauth_kwargs)
    return app, aauth


def echo(name: str | None = None) -> dict[str, Any]:
    """What the handler saw: the context, the body it received, the decoded path parameter."""
    ctx = get_current_aauth()
    assert ctx is not None
    out = ctx.to_dict()
    out["scope"] = ctx.scope_text
    if request.method == "POST":
        body = request.get_data()
        out["body_length"] = len(body)
        out["body_sha256"] = hashlib.sha256(body).hexdigest()
    if name is not None:
        out["name"] = name
    return out


def scenario_app(world: World, mode: str = "decorators", config: dict[str, Any] | None = None,
                 **aauth_kwargs: Any) -> Flask:
    """The routes of tests/scenarios.py; half of the views are coroutines."""
    config = dict(config or {})
    if mode == "rules":
        config["AAUTH_PROTECTED_PATHS"] = PATH_RULES
    app, _ = new_app(world, f"scenarios-{mode}", config, **aauth_kwargs)
    calls: list[str] = []
    app.extensions["test_calls"] = calls

    def guard(route: str) -> Callable[[Any], Any]:
        if mode == "decorators":
            return aauth_required(ROUTES[route])
        return lambda view: view

    @app.get("/data")
    @guard("/data")
    def data() -> dict[str, Any]:
        calls.append("/data")
        assert current_aauth  # the proxy is truthy when a context is attached
        return {**current_aauth.to_dict(), "scope": current_aauth.scope_text}

    @app.get("/data-jwks")
    @guard("/data-jwks")
    async def data_jwks() -> dict[str, Any]:
        calls.append("/data-jwks")
        return echo()

    @app.get("/data-auth")
    @guard("/data-auth")
    def data_auth() -> dict[str, Any]:
        calls.append("/data-auth")
        return echo()

    @app.get("/data-admin")
    @guard("/data-admin")
    async def data_admin() -> dict[str, Any]:
        calls.append("/data-admin")
        return echo()

    @app.post("/upload")
    @guard("/upload")
    async def upload() -> dict[str, Any]:
        calls.append("/upload")
        return echo()

    @app.get("/files/<path:name>")
    @guard("/files/")
    def files(name: str) -> dict[str, Any]:
        calls.append("/files/")
        return echo(name)

    return app


def send(client: FlaskClient, req: Request) -> TestResponse:
    """Send a scenario request through Flask's test client, raw path and all."""
    return client.open(req.path, method=req.method, headers=req.headers, data=req.body, base_url=RESOURCE)
