"""``cache_url``: validation, the factory, and the service wired to it."""

from __future__ import annotations

import uuid

import pytest

from aauth_core.cache import MemoryKeyCache, MemoryReplayCache
from aauth_core.cache_redis import RedisKeyCache, RedisReplayCache, TwoLevelKeyCache
from aauth_core.cache_url import cache_from_url, check_cache_url
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError, CacheUnavailable
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings, SettingsError
from aauth_core.verifier import Verifier

from ..conftest import PUBLIC_IP, RESOURCE, World, signed_request, view_of
from .conftest import free_port

# ----------------------------------------------------------------------------- no server needed


@pytest.mark.parametrize("url", ["memory://", "redis://127.0.0.1:6379/0", "rediss://cache.internal:6380",
                                 "unix:///run/redis.sock", "redis://:secret@127.0.0.1/1?fail_open=true",
                                 "redis://127.0.0.1?socket_timeout=1.0&fail_open=0"])
def test_accepted_cache_urls(url: str) -> None:
    check_cache_url(url)
    assert AAuthSettings(cache_url=url).cache_url == url


@pytest.mark.parametrize("url", ["", "memory", "memory://x", "http://127.0.0.1:6379", "redis://", "unix://",
                                 "memcached://127.0.0.1", "redis://127.0.0.1?fail_open=maybe"])
def test_rejected_cache_urls(url: str) -> None:
    with pytest.raises(SettingsError) as info:
        AAuthSettings(cache_url=url)
    assert info.value.code == "invalid_settings"


def test_rejected_cache_url_does_not_echo_a_password() -> None:
    with pytest.raises(SettingsError) as info:
        AAuthSettings(cache_url="redis://:hunter2@127.0.0.1?fail_open=maybe")
    assert "hunter2" not in str(info.value)


def test_cache_url_from_a_flask_style_mapping() -> None:
    s = AAuthSettings.from_mapping({"AAUTH_CACHE_URL": "redis://127.0.0.1:6379/2"}, prefix="AAUTH_")
    assert s.cache_url == "redis://127.0.0.1:6379/2"


def test_memory_url_gives_the_in_process_caches() -> None:
    replay, keys = cache_from_url("memory://", replay_cache_size=7)
    assert isinstance(replay, MemoryReplayCache)
    assert isinstance(keys, MemoryKeyCache)


def test_redis_url_gives_the_shared_caches_without_connecting() -> None:
    replay, keys = cache_from_url(f"redis://127.0.0.1:{free_port()}/0?fail_open=true")
    assert isinstance(replay, RedisReplayCache)
    assert replay.fail_open is True
    assert isinstance(keys, TwoLevelKeyCache)
    replay2, _ = cache_from_url("redis://127.0.0.1:1/0")
    assert isinstance(replay2, RedisReplayCache) and replay2.fail_open is False


def test_default_service_keeps_the_memory_caches(world: World) -> None:
    settings = AAuthSettings(resource_id=RESOURCE)
    service = AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)
    assert isinstance(service.verifier.replay_cache, MemoryReplayCache)


def test_an_injected_replay_cache_wins_over_cache_url(world: World) -> None:
    settings = AAuthSettings(resource_id=RESOURCE, cache_url="redis://127.0.0.1:1/0")
    mine = MemoryReplayCache()
    service = AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings),
                           replay_cache=mine, clock=world.clock)
    assert service.verifier.replay_cache is mine


# ----------------------------------------------------------------------------- with redis-server


def two_workers(world: World, settings: AAuthSettings) -> tuple[AAuthService, AAuthService]:
    """Two services sharing nothing in process: only ``cache_url`` joins them."""
    a, b = (AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)
            for _ in range(2))
    return a, b


@pytest.mark.redis
def test_service_replay_is_shared_through_redis(world: World, redis_url: str) -> None:
    worker_a, worker_b = two_workers(world, AAuthSettings(resource_id=RESOURCE, cache_url=redis_url))
    assert isinstance(worker_a.verifier.replay_cache, RedisReplayCache)
    url = RESOURCE + f"/data?n={uuid.uuid4().hex}"
    headers, _ = signed_request("GET", url, key=world.agent.key)
    view = view_of("GET", url, headers)
    assert worker_a.verify(view) is not None
    with pytest.raises(AAuthError) as info:
        worker_b.verify(view)
    assert info.value.code == "replayed_request"


@pytest.mark.redis
async def test_service_replay_is_shared_through_redis_async(world: World, redis_url: str) -> None:
    worker_a, worker_b = two_workers(world, AAuthSettings(resource_id=RESOURCE, cache_url=redis_url))
    url = RESOURCE + f"/data?n={uuid.uuid4().hex}"
    headers, _ = signed_request("GET", url, key=world.agent.key)
    view = view_of("GET", url, headers)
    assert await worker_b.averify(view) is not None
    with pytest.raises(AAuthError) as info:
        await worker_a.averify(view)
    assert info.value.code == "replayed_request"


@pytest.mark.redis
async def test_service_fails_closed_without_redis(world: World) -> None:
    settings = AAuthSettings(resource_id=RESOURCE, cache_url=f"redis://127.0.0.1:{free_port()}/0")
    service, _ = two_workers(world, settings)
    url = RESOURCE + "/data"
    headers, _ = signed_request("GET", url, key=world.agent.key)
    view = view_of("GET", url, headers)
    with pytest.raises(CacheUnavailable) as info:
        service.verify(view)
    assert info.value.code == "cache_unavailable"
    assert info.value.status_code == 503
    with pytest.raises(CacheUnavailable):
        await service.averify(view)
    rendered = service.error_response(info.value)
    assert rendered.status == 503
    assert b"cache_unavailable" in rendered.body


@pytest.mark.redis
def test_service_fail_open_accepts_without_redis(world: World) -> None:
    settings = AAuthSettings(resource_id=RESOURCE, cache_url=f"redis://127.0.0.1:{free_port()}/0?fail_open=true")
    service, _ = two_workers(world, settings)
    url = RESOURCE + "/data"
    headers, _ = signed_request("GET", url, key=world.agent.key)
    assert service.verify(view_of("GET", url, headers)) is not None


@pytest.mark.redis
def test_key_documents_are_shared_through_redis(world: World, redis_url: str) -> None:
    """Worker B verifies a jwks-scheme request without fetching what worker A fetched."""
    settings = AAuthSettings(resource_id=RESOURCE)
    prefix = f"aauth:keys:{uuid.uuid4().hex}:"  # a namespace of this test's own in the shared server
    verifiers = []
    for _ in range(2):
        keys = TwoLevelKeyCache(RedisKeyCache(redis_url, prefix=prefix, clock=world.clock), clock=world.clock)
        discovery = Discovery(settings, transport=world.network.transport,
                              async_transport=world.network.async_transport, clock=world.clock,
                              resolver=lambda host: [PUBLIC_IP], cache=keys)
        verifiers.append(Verifier(settings, discovery=discovery, clock=world.clock))
    url = RESOURCE + "/data"
    headers, _ = signed_request("GET", url, key=world.agent.key)
    assert verifiers[0].verify(view_of("GET", url, headers)) is not None
    fetched = sum(world.network.calls.values())
    assert fetched >= 1
    headers2, _ = signed_request("GET", url + "?again", key=world.agent.key)
    assert verifiers[1].verify(view_of("GET", url + "?again", headers2)) is not None
    assert sum(world.network.calls.values()) == fetched  # served from Redis, not refetched


def test_a_bare_verifier_honours_cache_url(world: World) -> None:
    """The auth server builds its own Verifier: it must share replays too, not silently keep them local."""
    settings = AAuthSettings(cache_url="redis://127.0.0.1:1/0")
    assert isinstance(Verifier(settings, discovery=world.discovery(settings)).replay_cache, RedisReplayCache)
    memory = AAuthSettings()
    assert isinstance(Verifier(memory, discovery=world.discovery(memory)).replay_cache, MemoryReplayCache)
    off = AAuthSettings(cache_url="redis://127.0.0.1:1/0", replay_protection=False)
    assert Verifier(off, discovery=world.discovery(off)).replay_cache is None
