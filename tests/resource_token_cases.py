"""``POST /resource/token`` (protocol B §5.4), the same cases for every adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aauth_core import dialect
from aauth_core.tokens import peek

from .conftest import AGENT, ISSUER, RESOURCE, World
from .scenarios import Request, _sign

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Case:
    name: str
    build: Callable[[World], Request]
    status: int
    code: str | None = None


def _post(w: World, body: bytes, **kw: Any) -> Request:
    return _sign(w, "POST", "/resource/token", body=body, headers=FORM, **kw)


CASES = [
    Case("granted", lambda w: _post(w, b"scope=data.read"), 200),
    Case("pseudonymous_key", lambda w: _post(w, b"scope=data.read", scheme="hwk"), 401, "identity_required"),
    Case("unsigned", lambda w: Request("POST", "/resource/token", dict(FORM), b"scope=data.read"), 401,
         "identity_required"),
    Case("no_scope", lambda w: _post(w, b"other=1"), 400, "invalid_request"),
    Case("unknown_scope", lambda w: _post(w, b"scope=data.read+data.admin"), 400, "invalid_scope"),
    Case("repeated_scope", lambda w: _post(w, b"scope=data.read&scope=data.write"), 400, "invalid_request"),
    Case("auth_request_url", lambda w: _post(w, b"auth_request_url=https%3A%2F%2Fx.example"), 400,
         "invalid_request"),
    Case("too_many_fields", lambda w: _post(w, b"scope=data.read&" + b"&".join(b"f%d=1" % i for i in range(40))),
         400, "invalid_request"),
    Case("long_repeated_name", lambda w: _post(w, b"x" * 5000 + b"=1&" + b"x" * 5000 + b"=2"), 400,
         "invalid_request"),
]


def check(case: Case, world: World, status: int, body: dict[str, Any]) -> None:
    assert status == case.status, (case.name, status, body)
    if case.status != 200:
        assert body["error"] == case.code, (case.name, body)
        assert len(body["error_description"]) < 200, "a refusal never echoes a long input back"
        return
    assert body["auth_server"] == ISSUER and body["expires_in"] == 600
    token = peek(body["resource_token"])
    assert token.header["typ"] == dialect.TYP_RESOURCE
    assert (token.claims["iss"], token.claims["aud"], token.claims["agent"]) == (RESOURCE, ISSUER, AGENT)
    assert token.claims["agent_jkt"] == world.agent.key.thumbprint
    assert token.claims["scope"] == "data.read"
