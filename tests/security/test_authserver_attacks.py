"""Every auth-server attack against the token endpoint: over HTTP through the auth
server's ASGI app (Starlette's TestClient), and through the core's sync driver
(``AuthServer.token``), which takes the blocking discovery path."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, MemoryUserStore
from aauth_core.request import RequestView
from aauth_starlette.authserver import build_auth_server_app

from ..authserver.conftest import AS as ASEnv
from ..authserver.conftest import USERS
from ..conftest import ISSUER
from .attacks import ATTACKS, Attack, Ctx, Req
from .checks import check_network, check_prelude, check_refusal
from .conftest import UPSTREAM, AttackWorld

AS_ATTACKS = [a for a in ATTACKS if "authserver" in a.targets]
DRIVERS = ["asgi", "core-sync"]
_APP_LAYER = {"body_oversized"}  # the 64 KiB body limit belongs to the HTTP app, not the core


def build_env(world: AttackWorld, attack: Attack) -> ASEnv:
    config: dict[str, Any] = dict(attack.as_config)
    policy = config.pop("policy", AllowAll())
    settings = {k: v for k, v in attack.settings.items() if k != "max_body_bytes"}
    cfg = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], trusted_upstreams=(UPSTREAM,),
                           settings=settings, **config)
    server = AuthServer(cfg, policy=policy, users=MemoryUserStore(USERS),
                        discovery=world.discovery(cfg.verifier_settings()), clock=world.clock)
    assert world.upstream is not None and world.downstream is not None
    env = ASEnv(world=world, server=server, upstream=world.upstream, downstream=world.downstream)
    env.app = build_auth_server_app(server)
    return env


# Attacks on the HTTP app's own limits run only through it: the core driver bypasses the app.
CASES = [pytest.param(attack, driver, id=f"{attack.name}-{driver}")
         for attack in AS_ATTACKS for driver in DRIVERS
         if not (driver == "core-sync" and attack.name in _APP_LAYER)]


@pytest.mark.parametrize(("attack", "driver"), CASES)
def test_attack_is_refused(world: AttackWorld, attack: Attack, driver: str) -> None:
    env = build_env(world, attack)
    client = TestClient(env.app, base_url=ISSUER, raise_server_exceptions=False)

    def send(req: Req) -> tuple[int, dict[str, str], bytes]:
        if driver == "asgi":
            r = client.request(req.method, req.path, headers=req.headers, content=req.body)
            return r.status_code, dict(r.headers), r.content
        answer = env.server.token(RequestView.from_url(req.method, ISSUER + req.path, req.headers, req.body))
        return answer.status, dict(answer.headers), answer.content()

    built = attack.build(Ctx(world, "authserver", env))
    reqs = built if isinstance(built, list) else [built]
    for prelude in reqs[:-1]:
        status, _, content = send(prelude)
        check_prelude(attack, status, content)
    stored = env.stored()
    started = time.monotonic()
    status, headers, content = send(reqs[-1])
    elapsed = time.monotonic() - started
    issued = b"auth_token" in content or b"request_token" in content or b"refresh_token" in content
    check_refusal(attack, attack.outcome("authserver"), status, headers, content, reqs[-1], ran=issued)
    assert env.stored() <= stored, f"{attack.name}: a refused request left state behind"
    check_network(attack, world)
    if attack.max_seconds is not None:
        assert elapsed < attack.max_seconds, f"{attack.name}: took {elapsed:.2f} s"
