"""Two person server instances sharing one Redis: a user approves at one worker and the agent
polls the other; codes stay single-use and deliveries happen once, whichever worker answers."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from aauth_core.authserver.store_redis import RedisStore
from aauth_core.discovery import Discovery
from aauth_core.personserver import PersonServer
from aauth_core.personserver.state import open_store
from aauth_starlette.personserver import build_person_server_app

from ..conftest import FrozenClock
from ..redis.conftest import redis_server, redis_url  # noqa: F401 - the fixtures
from .raw import get, person_request
from .stack import PS, RESOURCE, Stack, approve, make_stack, resolver


def second_worker(stack: Stack, store: RedisStore) -> TestClient:
    """Another instance of the same person server (same config and keys), with its own memory."""
    config = stack.ps.config
    discovery = Discovery(config.service_settings(), transport=stack.net, async_transport=stack.net,
                          clock=stack.clock, resolver=resolver)
    other = PersonServer(config, store=store, users=stack.ps.users, discovery=discovery, clock=stack.clock,
                         transport=stack.net, async_transport=stack.net, resolver=resolver)
    return TestClient(build_person_server_app(other), base_url=PS)


@pytest.fixture
def shared(clock: FrozenClock, redis_url: str) -> tuple[Stack, TestClient]:  # noqa: F811
    prefix = f"test-ps:{uuid.uuid4().hex}:"
    stack = make_stack(clock, store=RedisStore(redis_url, prefix=prefix, clock=clock))
    return stack, second_worker(stack, RedisStore(redis_url, prefix=prefix, clock=clock))


def test_approve_at_one_worker_poll_at_the_other(shared: tuple[Stack, TestClient]) -> None:
    stack, worker_b = shared
    reply = person_request(stack, {"resource": RESOURCE, "capabilities": ["interaction"]})  # worker A
    assert reply.status_code == 202
    location = reply.headers["location"]
    requirement = reply.headers["aauth-requirement"]
    code = requirement.split('code="', 1)[1].rstrip('"')
    link = f"{PS}/interaction?code={code}"
    assert get(stack, location, app=worker_b.app).status_code == 202  # B sees A's pending request
    assert approve(worker_b, link).status_code == 200  # the user is served by B
    assert stack.browser().get(link).status_code == 410  # the code is spent for A too
    stack.clock.advance(1)
    done = get(stack, location, app=worker_b.app)
    assert done.status_code == 200 and "person_token" in done.json()
    stack.clock.advance(1)
    assert get(stack, location).status_code == 410  # delivered once: A answers 410


def test_a_consent_remembered_at_one_worker_is_honoured_by_the_other(shared: tuple[Stack, TestClient]) -> None:
    stack, worker_b = shared
    reply = person_request(stack, {"resource": RESOURCE, "capabilities": ["interaction"]})
    code = reply.headers["aauth-requirement"].split('code="', 1)[1].rstrip('"')
    assert approve(stack.browser(), f"{PS}/interaction?code={code}").status_code == 200
    stack.clock.advance(1)
    from .raw import post

    again = post(stack, "/person", {"resource": RESOURCE}, app=worker_b.app)
    assert again.status_code == 200 and "person_token" in again.json()


def test_the_store_url_opens_redis(redis_url: str) -> None:  # noqa: F811
    store = open_store(redis_url)
    assert isinstance(store, RedisStore)
