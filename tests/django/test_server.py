"""End to end over a real socket on 127.0.0.1: Django's WSGIHandler under werkzeug's server
(which passes RAW_URI / REQUEST_URI) and Django's ASGIHandler under uvicorn (``raw_path``).
A signed request whose path keeps an encoded ``%2F`` and ``%20`` must verify."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler

from ..conftest import AGENT, RESOURCE, World, signed_request
from ..servers import serve_asgi

pytestmark = pytest.mark.e2e

PATH = "/files/reports%2F2026%20q1.csv"


@pytest.fixture
def wsgi_server() -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def asgi_server() -> Iterator[str]:
    with serve_asgi(ASGIHandler()) as url:
        yield url


def _exchange(world: World, base: str) -> None:
    # Signed for the resource's canonical authority; delivered to the loopback server.
    headers, _ = signed_request("GET", RESOURCE + PATH, key=world.agent.key)
    with httpx.Client(base_url=base, trust_env=False) as client:
        response = client.get(PATH, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["agent"] == AGENT
        assert response.json()["name"] == "reports/2026 q1.csv"

        replay = client.get(PATH, headers=headers)
        assert replay.status_code == 401 and replay.json()["error"] == "replayed_request"

        tampered = client.get(PATH.replace("%2F", "/"), headers=headers)
        assert tampered.status_code == 401 and tampered.json()["error"] == "invalid_signature"
        assert tampered.headers["Agent-Auth"].startswith("httpsig")

        unsigned = client.get("/data-auth")
        assert unsigned.status_code == 401 and unsigned.json()["error"] == "identity_required"

        metadata = client.get("/.well-known/aauth-resource")
        assert metadata.json()["resource"] == RESOURCE


def test_signed_request_over_wsgi_server(world: World, wsgi_server: str) -> None:
    _exchange(world, wsgi_server)


def test_signed_request_over_asgi_server(world: World, asgi_server: str) -> None:
    _exchange(world, asgi_server)
