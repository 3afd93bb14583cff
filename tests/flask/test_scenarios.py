"""The shared scenario table through Flask's test client, with decorators and with path rules."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.test import TestResponse

from ..conftest import World
from ..scenarios import SCENARIOS, Request, Scenario
from .apps import scenario_app, send


def check(s: Scenario, req: Request, resp: TestResponse, calls: list[str]) -> None:
    body = resp.get_json()
    if s.status == 200:
        assert resp.status_code == 200, (s.name, body)
        for key, value in s.context.items():
            assert body[key] == value, (s.name, key, body[key])
        if req.body is not None:
            assert body["body_sha256"] == hashlib.sha256(req.body).hexdigest()
        assert calls, "the handler ran"
        return
    assert (resp.status_code, body["error"]) == (s.status, s.code), (s.name, body)
    challenge = resp.headers.get("Agent-Auth")
    assert challenge is not None and challenge.startswith(s.challenge or ""), challenge
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "eyJ" not in body["error_description"]  # never echo tokens
    assert calls == [], f"{s.name}: the handler ran on a refused request"


@pytest.mark.parametrize("mode", ["decorators", "rules"])
@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
def test_scenario(world: World, s: Scenario, mode: str) -> None:
    app = scenario_app(world, mode)
    calls: list[str] = app.extensions["test_calls"]
    req = s.build(world)
    client = app.test_client()
    resp = None
    for i in range(s.repeat):
        if i == s.repeat - 1:
            calls.clear()  # only the last answer is checked
        resp = send(client, req)
    assert resp is not None
    check(s, req, resp, calls)
