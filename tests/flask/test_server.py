"""End to end under a real WSGI server on 127.0.0.1: signed requests sent by httpx over a socket."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from ..conftest import AGENT, World, signed_request
from .apps import scenario_app


@pytest.fixture
def server() -> Iterator[BaseWSGIServer]:
    srv = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        thread.join(5)
        srv.server_close()


def test_signed_requests_over_a_real_wsgi_server(world: World, server: BaseWSGIServer) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    app = scenario_app(world, config={"AAUTH_RESOURCE_ID": origin})
    server.app = app  # the port is known only once bound
    calls: list[str] = app.extensions["test_calls"]

    def send(method: str, path: str, sent_path: str | None = None, **kw: Any) -> httpx.Response:
        headers, body = signed_request(method, origin + path, key=world.agent.key, **kw)
        with httpx.Client(trust_env=False, timeout=10) as client:
            request = client.build_request(method, origin + (sent_path or path), headers=headers, content=body)
            assert request.url.raw_path == (sent_path or path).encode()  # httpx sends the path verbatim
            return client.send(request)

    # the raw, percent-encoded path (with an unusual %41) and query survive the real server
    resp = send("GET", "/files/%41bc/caf%C3%A9%20x?b=2&a=%20x", scheme="hwk")
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "Abc/café x" and resp.json()["scheme"] == "hwk"

    body = b'{"hello": "world"}' * 1000
    resp = send("POST", "/upload", body=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["agent"], out["body_length"], out["body_sha256"]) == (AGENT, len(body), hashlib.sha256(body).hexdigest())

    calls.clear()
    resp = send("GET", "/files/caf%C3%A9%20x", sent_path="/files/caf%C3%A9%20y", scheme="hwk")
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_signature")
    assert resp.headers["Agent-Auth"].startswith("httpsig")

    resp = send("GET", "/data-auth")
    assert (resp.status_code, resp.json()["error"]) == (401, "authorization_required")
    assert "resource_token=" in resp.headers["Agent-Auth"]
    assert calls == []

    with httpx.Client(trust_env=False) as client:
        doc = client.get(origin + "/.well-known/aauth-resource").json()
    assert doc["resource"] == origin and doc["jwks_uri"] == origin + "/jwks.json"
