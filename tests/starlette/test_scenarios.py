"""The shared scenario table through Starlette's TestClient: a Starlette app and a FastAPI app."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from ..conftest import RESOURCE, World
from ..scenarios import SCENARIOS, Request, Scenario
from .apps import fastapi_app, starlette_app

APPS: dict[str, Callable[[World], Any]] = {
    "starlette": starlette_app,
    "fastapi": fastapi_app,
    # AAuthMiddleware(app) around a finished app, outside Starlette's ServerErrorMiddleware:
    # decorator and dependency challenges must still render, not become 500s.
    "starlette-wrapped": lambda w: starlette_app(w, outside=True),
    "fastapi-wrapped": lambda w: fastapi_app(w, outside=True),
}


def check(s: Scenario, req: Request, response: httpx2.Response, handler_ran: bool) -> None:
    """The same assertions as tests/core/test_verifier.py, read off the HTTP response."""
    if s.status == 200:
        assert response.status_code == 200, f"{s.name}: {response.status_code} {response.text}"
        assert handler_ran
        seen = response.json()
        for k, v in s.context.items():
            assert seen[k] == v, (s.name, k, seen[k])
        if req.body is not None:
            assert seen["body_length"] == len(req.body)
            assert seen["body_sha256"] == hashlib.sha256(req.body).hexdigest()
        return
    assert not handler_ran, f"{s.name} was accepted"
    assert response.status_code == s.status, f"{s.name}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == s.code, f"{s.name}: {body}"
    assert "eyJ" not in body["error_description"]  # never echo tokens
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["agent-auth"].startswith(s.challenge or ""), response.headers["agent-auth"]


@pytest.mark.parametrize("kind", sorted(APPS))
@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
def test_scenario(world: World, kind: str, s: Scenario) -> None:
    app = APPS[kind](world)
    req = s.build(world)
    with TestClient(app, base_url=RESOURCE) as client:
        for _ in range(s.repeat):
            before = len(app.state.calls)
            response = client.request(req.method, req.path, headers=req.headers, content=req.body)
    check(s, req, response, len(app.state.calls) > before)
