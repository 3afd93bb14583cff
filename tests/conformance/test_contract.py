"""The adapter contract (docs/adapters.md), one table through every adapter variant.

Each row is a request kind sent with a method to a route; the expected answer is
worked out from what the route declares (routes.py) by the rules of
:mod:`aauth_core.resource.contract`, never from what an adapter happens to do.  A variant
that disagrees with the table, in status, error code, whether the route's code
ran, or a missing challenge header, fails with every mismatching row listed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import AGENT, RESOURCE, World, signed_request
from .apps import VARIANTS, Result, Variant
from .routes import METHODS, ROUTES, Route

PREFLIGHT = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
#: What each kind of request proves: nothing, a key, an agent identity, a data.read grant.
LEVEL = {"unsigned": 0, "bare-options": 0, "hwk": 1, "jwks": 2, "auth-token": 3}


def _need(route: Route) -> tuple[int, str | None]:
    """The level a route demands, and the code of its first refusal (path rule before decorator)."""
    if route.ruled and not route.exempt:
        if route.decorator and route.decorator.startswith("authorization"):
            return 3, None  # identity at the path rule, then the decorator's authorization
        return 2, None
    if route.decorator == "identity":
        return 2, None
    return 0, None


def expected(route: Route, kind: str) -> tuple[int, str | None, bool]:
    """``(status, error code, route ran)`` under the contract."""
    if kind == "preflight":
        return (204, None, False) if route.protected else (200, None, True)
    verifies = not route.exempt or route.decorator is not None  # the middleware, or the decorator itself
    if kind == "tampered":
        return (401, "invalid_signature", False) if verifies else (200, None, True)
    need, _ = _need(route)
    level = LEVEL[kind]
    if level >= need:
        return 200, None, True
    code = "identity_required" if level < 2 else "authorization_required"
    return 401, code, False


def _rows() -> list[tuple[Route, str, str]]:
    rows: list[tuple[Route, str, str]] = []
    for route in ROUTES:
        rows += [(route, "unsigned", m) for m in METHODS if m != "OPTIONS"]
        rows += [(route, "bare-options", "OPTIONS"), (route, "preflight", "OPTIONS")]
        rows += [(route, "hwk", m) for m in METHODS]
        rows += [(route, "jwks", m) for m in METHODS]
        rows += [(route, "auth-token", "GET"), (route, "auth-token", "DELETE"), (route, "tampered", "GET"),
                 (route, "tampered", "POST")]
    return rows


def _headers(world: World, route: Route, kind: str, method: str) -> dict[str, str]:
    url = RESOURCE + route.path
    if kind in ("unsigned", "bare-options"):
        return {"Origin": "https://app.example"} if kind == "bare-options" else {}
    if kind == "preflight":
        return dict(PREFLIGHT)
    if kind == "hwk":
        return signed_request(method, url, key=world.agent.key, scheme="hwk")[0]
    if kind == "jwks":
        return signed_request(method, url, key=world.agent.key)[0]
    if kind == "auth-token":
        token = world.auth_token(scope="data.read")
        return signed_request(method, url, key=world.agent.key, scheme="jwt", params={"jwt": token})[0]
    assert kind == "tampered"  # signed for another path: the signature cannot verify here
    return signed_request(method, RESOURCE + "/elsewhere", key=world.agent.key)[0]


def _mismatch(variant: Variant, route: Route, kind: str, method: str, result: Result) -> str | None:
    status, headers, body, ran = result
    want_status, want_code, want_ran = expected(route, kind)
    where = f"{method} {route.path} ({kind})"
    if (status, ran) != (want_status, want_ran):
        return f"{where}: got {status}, ran={ran}; want {want_status}, ran={want_ran}"
    if status == 401 and "agent-auth" not in headers:
        return f"{where}: 401 without the Agent-Auth challenge"
    if want_code is not None and method != "HEAD":
        try:
            document: Any = json.loads(body)
        except ValueError:
            return f"{where}: body is not JSON: {body[:80]!r}"
        code = document.get("handled") if variant.handler else document.get("error")
        if code != want_code:
            return f"{where}: error {code!r}; want {want_code!r}"
    if status == 204 and body:
        return f"{where}: a 204 with a body"
    if status == 200 and method != "HEAD" and kind in ("jwks", "auth-token"):
        # Exempt, undecorated: nothing verified the request, so the route sees no agent.
        want_agent = None if route.exempt and route.decorator is None else AGENT
        agent = json.loads(body).get("agent", want_agent)
        if agent != want_agent:
            return f"{where}: the route saw agent {agent!r}; want {want_agent!r}"
    return None


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_every_variant_follows_the_contract_table(world: World, variant: Variant) -> None:
    send = variant.build(world, variant.handler)
    mismatches = []
    for route, kind, method in _rows():
        result = send(method, route.path, _headers(world, route, kind, method))
        problem = _mismatch(variant, route, kind, method, result)
        if problem:
            mismatches.append(problem)
    assert mismatches == [], f"{variant.name} departs from the contract:\n" + "\n".join(mismatches)


def test_the_table_covers_every_route_kind_and_method() -> None:
    rows = _rows()
    assert {r.path for r, _, _ in rows} == {r.path for r in ROUTES}
    assert {m for _, _, m in rows} == set(METHODS)
    assert {k for _, k, _ in rows} == {*LEVEL, "preflight", "tampered"}
