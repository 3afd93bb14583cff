"""Token exchange must not widen what the user approved.

The review's story: a user approves ``data.read`` for Resource 1.  Resource 1 exchanges
its upstream auth token for a Resource 2 token asking ``data.read data.write`` in the
user's name.  No user is there to ask, so by default an exchange grants only scopes the
upstream token carries, and asking for more is refused with 400 ``invalid_scope``
(never silently narrowed, unless the operator chose ``narrow_to_upstream_scope``).
Widening takes a policy the operator opts into: :class:`AllowExchangeWidening`, or any
policy whose :class:`Decision` names ``beyond_upstream`` scopes.

Real keys, real JWTs, real signatures; the auth server through its ASGI app and through
both core drivers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.testclient import TestClient

from aauth_core.authserver import (
    AllowAll,
    AllowExchangeWidening,
    AuthServer,
    AuthServerConfig,
    Decision,
    DenyAll,
    MemoryUserStore,
    Policy,
    PolicyRequest,
    RequireConsent,
    ScopeLimits,
)
from aauth_core.request import RequestView
from aauth_starlette.authserver import build_auth_server_app

from ..authserver.conftest import AS, USERS
from ..conftest import AGENT, ISSUER, RESOURCE
from .conftest import DOWNSTREAM, UPSTREAM, AttackWorld

DRIVERS = ["asgi", "core-sync", "core-async"]


def _env(world: AttackWorld, policy: Policy | None = None, **config: Any) -> AS:
    """The auth server under test with its *default* policy unless one is given."""
    cfg = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], trusted_upstreams=(UPSTREAM,), **config)
    server = AuthServer(cfg, policy=policy, users=MemoryUserStore(USERS),
                        discovery=world.discovery(cfg.verifier_settings()), clock=world.clock)
    assert world.upstream is not None and world.downstream is not None
    env = AS(world=world, server=server, upstream=world.upstream, downstream=world.downstream)
    env.app = build_auth_server_app(server)
    return env


def _exchange(env: AS, driver: str, *, upstream_scope: str, downstream_scope: str) -> tuple[int, dict[str, Any]]:
    """Resource 1 exchanges the user's upstream token (``upstream_scope``, for RESOURCE)
    for a token at DOWNSTREAM, whose resource token asks ``downstream_scope``."""
    upstream = env.upstream_token(scope=upstream_scope, sub="alice")
    headers, body = env.sign_as_intermediary(
        {"request_type": "exchange", "resource_token": env.downstream_rt(scope=downstream_scope)}, upstream)
    if driver == "asgi":
        r = TestClient(env.app, base_url=ISSUER).post("/agent/token", headers=headers, content=body)
        assert r.headers["cache-control"] == "no-store"
        return r.status_code, r.json()
    view = RequestView.from_url("POST", f"{ISSUER}/agent/token", headers, body)
    answer = env.server.token(view) if driver == "core-sync" else asyncio.run(env.server.atoken(view))
    return answer.status, dict(answer.body)


def _granted(env: AS, body: dict[str, Any]) -> str:
    claims = env.decode(body["auth_token"], aud=DOWNSTREAM).claims
    assert claims["sub"] == "alice" and claims["agent"] == RESOURCE
    assert claims["act"] == {"agent": AGENT, "sub": "alice"}
    return str(claims["scope"])


# ----------------------------------------------------------------------------- the default refuses widening


@pytest.mark.parametrize("driver", DRIVERS)
def test_default_exchange_refuses_scopes_the_user_never_approved(world: AttackWorld, driver: str) -> None:
    env = _env(world)  # RequireConsent, narrow_to_upstream_scope off: the defaults
    status, body = _exchange(env, driver, upstream_scope="data.read", downstream_scope="data.read data.write")
    assert (status, body["error"]) == (400, "invalid_scope"), body
    assert set(body) == {"error", "error_description"}
    assert "data.write" in body["error_description"] and "data.read" not in body["error_description"]
    assert env.stored() == 0


@pytest.mark.parametrize("policy", [AllowAll(), RequireConsent(ScopeLimits({DOWNSTREAM: ["data.read", "data.write"]}))],
                         ids=["AllowAll", "RequireConsent-with-limits"])
def test_built_in_policies_never_widen_an_exchange(world: AttackWorld, policy: Policy) -> None:
    env = _env(world, policy)
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="data.read data.write")
    assert (status, body["error"]) == (400, "invalid_scope")


def test_a_disjoint_vocabulary_is_refused_by_default(world: AttackWorld) -> None:
    env = _env(world)
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="files.read")
    assert (status, body["error"]) == (400, "invalid_scope")


# ----------------------------------------------------------------------------- what still works


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_seed_flow_with_equal_scopes_is_granted(world: AttackWorld, driver: str) -> None:
    env = _env(world)
    status, body = _exchange(env, driver, upstream_scope="data.read", downstream_scope="data.read")
    assert status == 200, body
    assert _granted(env, body) == "data.read"


def test_a_subset_of_the_upstream_scope_is_granted(world: AttackWorld) -> None:
    env = _env(world)
    status, body = _exchange(env, "core-sync", upstream_scope="data.read data.write", downstream_scope="data.read")
    assert status == 200 and _granted(env, body) == "data.read"


def test_policy_limits_still_narrow_within_the_upstream_scope(world: AttackWorld) -> None:
    env = _env(world, RequireConsent(ScopeLimits({DOWNSTREAM: ["data.read"]})))
    status, body = _exchange(env, "core-sync", upstream_scope="data.read data.write",
                             downstream_scope="data.read data.write")
    assert status == 200 and _granted(env, body) == "data.read"


def test_policy_sees_the_request_and_upstream_scope(world: AttackWorld) -> None:
    seen: list[PolicyRequest] = []

    class Record:
        def decide(self, request: PolicyRequest) -> Decision:
            seen.append(request)
            return Decision.grant()

    env = _env(world, Record())
    _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="data.read data.write")
    (request,) = seen
    assert request.request_type == "exchange" and request.resource == DOWNSTREAM
    assert request.scope == {"data.read", "data.write"} and request.upstream_scope == {"data.read"}


# ----------------------------------------------------------------------------- narrow_to_upstream_scope


def test_narrow_to_upstream_scope_drops_the_excess_instead_of_refusing(world: AttackWorld) -> None:
    env = _env(world, narrow_to_upstream_scope=True)
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="data.read data.write")
    assert status == 200 and _granted(env, body) == "data.read"
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="files.read")
    assert (status, body["error"]) == (403, "access_denied")


# ----------------------------------------------------------------------------- widening is opt-in


@pytest.mark.parametrize("driver", DRIVERS)
def test_allow_exchange_widening_grants_the_listed_scopes(world: AttackWorld, driver: str) -> None:
    env = _env(world, AllowExchangeWidening(RequireConsent(), {DOWNSTREAM: ["data.write"]}))
    status, body = _exchange(env, driver, upstream_scope="data.read", downstream_scope="data.read data.write")
    assert status == 200, body
    assert _granted(env, body) == "data.read data.write"


def test_allow_exchange_widening_grants_nothing_unlisted(world: AttackWorld) -> None:
    env = _env(world, AllowExchangeWidening(RequireConsent(), {DOWNSTREAM: ["data.write"]}))
    status, body = _exchange(env, "core-sync", upstream_scope="data.read",
                             downstream_scope="data.read data.write data.admin")
    assert (status, body["error"]) == (400, "invalid_scope")
    assert "data.admin" in body["error_description"] and "data.write" not in body["error_description"]


def test_allow_exchange_widening_is_per_downstream_resource(world: AttackWorld) -> None:
    env = _env(world, AllowExchangeWidening(RequireConsent(), {"https://elsewhere.example": ["data.write"]}))
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="data.read data.write")
    assert (status, body["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize("base", [DenyAll(), AllowAll(ScopeLimits({DOWNSTREAM: ["data.read"]}))],
                         ids=["deny", "limits"])
def test_allow_exchange_widening_keeps_the_wrapped_decision(world: AttackWorld, base: Policy) -> None:
    env = _env(world, AllowExchangeWidening(base, {DOWNSTREAM: ["data.write"]}))
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="data.read data.write")
    if isinstance(base, DenyAll):
        assert (status, body["error"]) == (403, "access_denied")
    else:  # widening lifts the upstream ceiling, not the wrapped policy's own limits
        assert status == 200 and _granted(env, body) == "data.read"


def test_allow_exchange_widening_leaves_other_request_types_alone() -> None:
    policy = AllowExchangeWidening(RequireConsent(), {RESOURCE: ["data.write"]})
    auth = PolicyRequest("auth", AGENT, RESOURCE, frozenset({"data.read"}))
    assert policy.decide(auth) == RequireConsent().decide(auth)
    exchange = PolicyRequest("exchange", RESOURCE, RESOURCE + "/", frozenset({"data.read"}),
                             upstream_scope=frozenset({"data.read"}))
    assert policy.decide(exchange).beyond_upstream == {"data.write"}
    assert RequireConsent().decide(exchange).beyond_upstream == frozenset()


def test_a_custom_policy_can_map_vocabularies_explicitly(world: AttackWorld) -> None:
    class ReadMapsToFilesRead:
        """Resource 2 calls it files.read: an upstream data.read may become files.read."""

        def decide(self, request: PolicyRequest) -> Decision:
            if request.request_type == "exchange" and "data.read" in (request.upstream_scope or ()):
                return Decision.grant(beyond_upstream={"files.read"})
            return Decision.grant()

    env = _env(world, ReadMapsToFilesRead())
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="files.read")
    assert status == 200 and _granted(env, body) == "files.read"
    status, body = _exchange(env, "core-sync", upstream_scope="data.read", downstream_scope="files.read files.delete")
    assert (status, body["error"]) == (400, "invalid_scope")
