"""aauth-11 through every framework (P6 in all three adapters), and the January contract
table unchanged on a dual-stack resource."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aauth_core.keys import SigningKey
from aauth_core.wire.signature_error import parse_signature_error

from ..conformance import apps
from ..conformance import test_contract as contract
from ..conftest import NOW, RESOURCE, World
from .mint import AGENT_ID, agent_token, sign11

DUAL = ("aauth-2026-01", "aauth-11")
BUILDERS: dict[str, Callable[[World, bool], apps.Send]] = {
    "starlette": lambda w, h: apps._starlette(w, h),
    "flask": lambda w, h: apps._flask(w, h),
    "django": lambda w, h: apps._django(w, h, style="function"),
    "django-drf": lambda w, h: apps._django(w, h, style="drf"),
}


@pytest.fixture
def dual_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(apps.SETTINGS, "profiles", DUAL)


@pytest.mark.usefixtures("dual_stack")
@pytest.mark.parametrize("name", list(BUILDERS))
def test_an_aauth_11_agent_in_every_adapter(world: World, ap_key: SigningKey, agent_key: SigningKey,
                                           name: str) -> None:
    send = BUILDERS[name](world, False)
    token = agent_token(ap_key, agent_key)
    status, _, body, ran = send("GET", "/protected", sign11("GET", RESOURCE + "/protected", agent_key, token))
    assert (status, ran) == (200, True), body
    assert json.loads(body)["agent"] == AGENT_ID

    expired = agent_token(ap_key, agent_key, now=NOW - 7200)
    status, headers, body, ran = send("GET", "/protected", sign11("GET", RESOURCE + "/protected", agent_key,
                                                                   expired, created=NOW + 1))
    assert (status, ran) == (401, False)
    assert parse_signature_error(headers["signature-error"]).error == "expired_jwt"
    assert headers["content-type"].startswith("application/problem+json") and "agent-auth" not in headers
    assert json.loads(body)["error"] == "expired_jwt"

    status, headers, body, ran = send("GET", "/protected", {})
    assert (status, ran) == (401, False)
    assert headers["aauth-requirement"] == "requirement=agent-token" and "agent-auth" in headers

    status, headers, body, _ = send("GET", "/ruled/scoped", sign11("GET", RESOURCE + "/ruled/scoped", agent_key,
                                                                   token, created=NOW + 2))
    assert status == 401 and not any(h.startswith("signature-") for h in headers)


@pytest.mark.usefixtures("dual_stack")
@pytest.mark.parametrize("name", ["starlette", "flask", "django"])
def test_the_january_contract_table_holds_on_a_dual_stack_resource(world: World, name: str) -> None:
    variant = apps.Variant(name, BUILDERS[name])
    send = variant.build(world, False)
    mismatches: list[Any] = []
    for route, kind, method in contract._rows():
        problem = contract._mismatch(variant, route, kind, method,
                                     send(method, route.path, contract._headers(world, route, kind, method)))
        if problem:
            mismatches.append(problem)
    assert mismatches == []
