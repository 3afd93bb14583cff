"""The access server's store on a real redis-server: a request pending at one worker is
decided and collected at another, an auth token issued by one is revoked by another, and a
store that is down issues nothing (503 ``cache_unavailable``)."""

from __future__ import annotations

import pytest

from aauth_core.accessserver import AccessDecision, AccessRequest, AccessServer

from ..conftest import FrozenClock
from ..redis.conftest import RedisServer, own_redis, redis_server, redis_url  # noqa: F401 - fixtures
from .harness import FourParty, build, claims_of

pytestmark = pytest.mark.redis


class Approval:
    def decide(self, request: AccessRequest) -> AccessDecision:
        return AccessDecision.need_approval()


def other_worker(four: FourParty) -> AccessServer:
    s = four.server
    return AccessServer(s.config, policy=s.policy, clock=s.clock, resolver=s.resolver,
                        transport=s._revoker.transport, async_transport=s._revoker.async_transport)


def test_pending_at_one_worker_collected_at_another(clock: FrozenClock, redis_url: str) -> None:  # noqa: F811
    four = build(clock, policy=Approval(), store_url=redis_url)
    status, headers, _ = four.federate()
    assert status == 202
    worker = other_worker(four)
    assert worker.approve(headers["Location"].rsplit("/", 1)[1])
    four.server = worker
    four.clock.advance(1)
    status, _, body = four.poll(headers["Location"])
    assert status == 200 and claims_of(body["auth_token"])["aud"] == "https://api.example"


def test_revoked_by_another_worker(clock: FrozenClock, redis_url: str) -> None:  # noqa: F811
    four = build(clock, store_url=redis_url)
    _, _, body = four.federate()
    result = other_worker(four).revoke(claims_of(body["auth_token"])["jti"])
    assert result.status == "revoked" and four.revocations_sent[0]["status"] == 200


def test_a_store_that_is_down_issues_nothing(clock: FrozenClock, own_redis: RedisServer) -> None:  # noqa: F811
    four = build(clock, store_url=own_redis.url)
    body = four.body()
    own_redis.stop()
    status, headers, answer = four.federate(body)
    assert status == 503 and answer["error"] == "cache_unavailable" and "auth_token" not in answer
    assert headers["Content-Type"] == "application/problem+json"
