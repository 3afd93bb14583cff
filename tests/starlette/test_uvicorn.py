"""End to end under a real uvicorn server on 127.0.0.1, verifying with the async pipeline."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aauth_core.discovery import Discovery

from ..conftest import AGENT, PUBLIC_IP, World
from ..scenarios import _jwt, _sign
from ..servers import serve_asgi
from .apps import resource_settings, starlette_app


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the blocking transport was used for {request.url}")


@pytest.fixture
def server(world: World) -> Iterator[str]:
    settings = resource_settings()
    # only the async transport works: the middleware must use the async verifier
    discovery = Discovery(settings, transport=httpx.MockTransport(_never),
                          async_transport=world.network.async_transport, clock=world.clock,
                          resolver=lambda host: [PUBLIC_IP])
    app = starlette_app(world, settings, discovery=discovery)
    with serve_asgi(app) as url:
        yield url


def test_signed_requests_under_uvicorn(world: World, server: str) -> None:
    body = b'{"hello": "uvicorn"}' * 1000
    with httpx.Client(base_url=server) as client:
        req = _jwt(world, "GET", "/data-auth?x=1", world.auth_token())
        authorized = client.get(req.path, headers=req.headers)
        req = _sign(world, "POST", "/upload", body=body)
        uploaded = client.post(req.path, headers=req.headers, content=req.body)
        unsigned = client.get("/data-jwks")
        first = _jwt(world, "GET", "/data-auth?x=1", world.auth_token())
        replayed = client.get(first.path, headers=first.headers)  # an exact repeat of the first request
        metadata = client.get("/.well-known/aauth-resource")
    assert authorized.status_code == 200, authorized.text
    assert authorized.json()["agent"] == AGENT and authorized.json()["scope"] == "data.read data.write"
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "identity_required")
    assert unsigned.headers["agent-auth"] == "httpsig; identity=?1"
    assert (replayed.status_code, replayed.json()["error"]) == (401, "replayed_request")
    assert metadata.status_code == 200


@pytest.mark.parametrize("setting, named", [
    ('signing_keys=["env:AAUTH_KEY_NOBODY_SET"]', "AAUTH_KEY_NOBODY_SET"),
    ('signing_keys=["/nonexistent/aauth-key.json"]', "/nonexistent/aauth-key.json"),
    ("protect_everything=True", "protect_everything"),
])
def test_uvicorn_refuses_to_start_with_a_broken_setting(tmp_path: Any, setting: str, named: str) -> None:
    """A misconfiguration stops the server at startup with the setting named, never a 500 per request."""
    (tmp_path / "broken_app.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.middleware import Middleware\n"
        "from aauth_starlette import AAuthMiddleware\n"
        "app = Starlette(middleware=[Middleware(AAuthMiddleware, resource_id='https://api.example', "
        f"{setting})])\n")
    env = {k: v for k, v in os.environ.items() if k != "AAUTH_KEY_NOBODY_SET"}
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "broken_app:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Application startup failed" in done.stderr and named in done.stderr
    assert "lifespan' protocol appears unsupported" not in done.stderr
