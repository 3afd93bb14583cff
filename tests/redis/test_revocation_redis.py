"""aauth-11 revocation across workers: two resources (two "workers", two :class:`AAuthService`
instances) sharing one real ``redis-server`` through ``cache_url``.  A person server revokes
an auth token at worker A; worker B refuses it at once.  Redis down: the token is refused
with 503 ``cache_unavailable`` (fail closed), never accepted."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from aauth_core.cache.redis_revocation import RedisRevocationList
from aauth_core.keys import SigningKey
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import NOW, RESOURCE, World, view_of
from ..profile11.mint import PS, publish_server, sign11
from ..profile11.test_person_auth_11 import auth_token
from ..profile11.test_resource_11 import URL, send
from ..profile11.test_revocation_11 import revocation
from .conftest import RedisServer

pytestmark = [pytest.mark.redis]


@pytest.fixture
def ps_key(world: World) -> SigningKey:
    key = SigningKey.generate(kid="ps-key-1")
    publish_server(world.network, key, PS, "aauth-person.json")
    return key


@pytest.fixture
def agent_key() -> SigningKey:
    return SigningKey.generate()


def worker(world: World, cache_url: str) -> AAuthService:
    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), person_servers=(PS,), cache_url=cache_url)
    return AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)


def test_a_revocation_at_one_worker_is_honoured_by_the_other(world: World, ps_key: SigningKey,
                                                           agent_key: SigningKey, redis_url: str) -> None:
    a, b = worker(world, redis_url), worker(world, redis_url)
    assert isinstance(b.revocations, RedisRevocationList)
    jti = f"at-{uuid.uuid4().hex}"
    token = auth_token(ps_key, agent_key, jti=jti)
    assert send(b, sign11("GET", URL, agent_key, token), level="authorization")[0] == 200
    headers, body = revocation(ps_key, {"jti": jti, "exp": NOW + 3600})
    reply = a.revoke(view_of("POST", RESOURCE + "/aauth/revoke", headers, body))
    assert (reply.status, reply.body) == (200, b"")
    world.clock.advance(1)
    status, hdrs, answer, _ = send(b, sign11("GET", URL, agent_key, token, created=NOW + 1), level="authorization")
    assert status == 401 and parse_signature_error(hdrs["Signature-Error"]).error == "revoked_jwt", answer


def test_the_async_paths_share_the_list_too(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                            redis_url: str) -> None:
    a, b = worker(world, redis_url), worker(world, redis_url)
    jti = f"at-{uuid.uuid4().hex}"
    headers, body = revocation(ps_key, {"jti": jti, "exp": NOW + 3600})

    async def go() -> tuple[int, Any]:
        reply = await a.arevoke(view_of("POST", RESOURCE + "/aauth/revoke", headers, body))
        assert reply.status == 200
        view = view_of("GET", URL, sign11("GET", URL, agent_key, auth_token(ps_key, agent_key, jti=jti)))
        try:
            await b.averify(view)
        except Exception as exc:
            return getattr(exc, "status_code", 0), getattr(exc, "code", "")
        return 200, None

    assert asyncio.run(go()) == (401, "revoked_jwt")


def test_an_expired_revocation_leaves_redis(world: World, redis_url: str) -> None:
    store = RedisRevocationList(redis_url, clock=world.clock, skew=0)
    store.revoke(PS, "short", NOW + 1)
    assert store.is_revoked(PS, "short")
    store.revoke(PS, "past", NOW - 10)  # nothing to remember
    assert not store.is_revoked(PS, "past")
    store.close()


def test_redis_down_refuses_the_token_with_503(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                               own_redis: RedisServer) -> None:
    """Fail closed: a revoked token must never pass because the list could not be read."""
    b = worker(world, own_redis.url)
    own_redis.stop()
    try:
        reply_status, _, answer, _ = send(b, sign11("GET", URL, agent_key, auth_token(ps_key, agent_key)),
                                          level="authorization")
        assert (reply_status, answer["error"]) == (503, "cache_unavailable")
        headers, body = revocation(ps_key, {"jti": "x", "exp": NOW + 3600})
        reply = b.revoke(view_of("POST", RESOURCE + "/aauth/revoke", headers, body))
        assert reply.status == 503 and json.loads(reply.body)["error"] == "cache_unavailable"
    finally:
        own_redis.start()
