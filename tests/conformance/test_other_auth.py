"""Another authentication scheme claims an unsigned request first (Starlette's ``other_auth``,
docs/adapters.md rule 5a), through every Starlette variant of the contract table.

The table's rows, plus: an unsigned request the other scheme authenticates passes the path
rules (its user in ``request.user``, no AAuth context) but never a route decorator; one it
does not authenticate is any unsigned request; a signed request is AAuth's alone (the other
scheme is not even asked); on an exempt path nothing is asked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, SimpleUser
from starlette.requests import HTTPConnection

from ..conftest import AGENT, RESOURCE, World, signed_request
from .apps import _starlette
from .routes import ROUTES
from .test_contract import expected

CLAIM = {"Authorization": "Token ok"}


class TokenBackend(AuthenticationBackend):
    """The app's own scheme: ``Authorization: Token ok`` is user ``oauth-user``."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        self.asked.append(conn.url.path)
        value = conn.headers.get("authorization")
        if value is None:
            return None
        if value != "Token ok":
            raise AuthenticationError("bad token")
        return AuthCredentials(["authenticated"]), SimpleUser("oauth-user")


VARIANTS: dict[str, dict[str, Any]] = {
    "starlette": {},
    "starlette-wrapped": {"wrapped": True},
    "fastapi-depends": {"fastapi": True},
}


@pytest.mark.parametrize("handler", [False, True], ids=["default", "handler"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_other_auth_claims_unsigned_requests_first(world: World, variant: str, handler: bool) -> None:
    backend = TokenBackend()
    send = _starlette(world, handler, other_auth=backend, **VARIANTS[variant])
    problems = []
    for route in ROUTES:
        for method in ("GET", "POST"):
            status, headers, body, ran = send(method, route.path, dict(CLAIM))
            decorated = route.decorator is not None
            want = (401, False) if decorated else (200, True)
            if (status, ran) != want:
                problems.append(f"claimed {method} {route.path}: got {status}, ran={ran}; want {want}")
            elif ran:
                user = json.loads(body)["user"]
                want_user = None if route.exempt else "oauth-user"
                if user != want_user:
                    problems.append(f"claimed {method} {route.path}: user {user!r}; want {want_user!r}")
            elif "agent-auth" not in headers:
                problems.append(f"claimed {method} {route.path}: 401 without the challenge")
            status, _, _, ran = send(method, route.path, {"Authorization": "Token nope"})
            unclaimed = (401, False) if route.protected else (200, True)
            if (status, ran) != unclaimed:
                problems.append(f"unclaimed {method} {route.path}: got {status}, ran={ran}; want {unclaimed}")
    asked = len(backend.asked)
    for route in ROUTES:
        headers = signed_request("GET", RESOURCE + route.path, key=world.agent.key)[0]
        status, _, body, ran = send("GET", route.path, {**headers, **CLAIM})
        want_status, _, _ = expected(route, "jwks")  # exactly the table's row for an identified agent
        want_agent = None if route.exempt and route.decorator is None else AGENT
        if status != want_status or (status == 200 and json.loads(body).get("agent", want_agent) != want_agent):
            problems.append(f"signed GET {route.path}: got {status} {body[:80]!r}")
    if len(backend.asked) != asked:
        problems.append("the other scheme was asked about a signed request")
    assert not any(path.startswith("/exempt/") for path in backend.asked), "asked on an exempt path"
    assert problems == [], f"{variant}: " + "\n".join(problems)
