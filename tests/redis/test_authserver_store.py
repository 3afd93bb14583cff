"""The auth server's store on a real redis-server: shared by workers, single-use codes,
and no token issued when its grant could not be recorded."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, Lifetimes, MemoryUserStore
from aauth_core.authserver.store import MemoryStore, store_from_url
from aauth_core.authserver.store_redis import RedisStore
from aauth_core.errors import CacheUnavailable
from aauth_core.settings import SettingsError
from aauth_starlette.authserver import build_auth_server_app

from ..authserver.conftest import AS, ISSUER, REDIRECT, USERS
from ..conftest import World

pytestmark = pytest.mark.redis


def _store(url: str) -> RedisStore:
    return RedisStore(url, prefix=f"aauth:test:{uuid.uuid4().hex}:")


def test_put_get_take_delete(redis_url: str) -> None:
    store = _store(redis_url)
    store.put("code", "k1", {"agent": "a"}, time.time() + 60)
    assert store.get("code", "k1") == {"agent": "a"}
    assert store.take("code", "k1") == {"agent": "a"}
    assert store.take("code", "k1") is None  # single use
    store.put("session", "s", {"u": 1}, time.time() + 60)
    store.delete("session", "s")
    assert store.get("session", "s") is None


def test_entries_expire_with_their_grant(redis_url: str) -> None:
    store = _store(redis_url)
    store.put("pending", "p", {"x": 1}, time.time() + 0.2)
    assert store.get("pending", "p") == {"x": 1}
    time.sleep(0.35)
    assert store.get("pending", "p") is None


def test_a_code_is_redeemed_once_among_racing_workers(redis_url: str) -> None:
    prefix = f"aauth:test:{uuid.uuid4().hex}:"
    RedisStore(redis_url, prefix=prefix).put("code", "c", {"agent": "a"}, time.time() + 60)
    workers = [RedisStore(redis_url, prefix=prefix) for _ in range(5)]
    winners: list[object] = []
    barrier = threading.Barrier(50)

    def redeem(i: int) -> None:
        barrier.wait()
        got = workers[i % 5].take("code", "c")
        if got is not None:
            winners.append(got)

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert winners == [{"agent": "a"}]


def test_async_twins(redis_url: str) -> None:
    store = _store(redis_url)

    async def scenario() -> tuple[object, object, object]:
        await store.aput("refresh", "r", {"scope": "a b"}, time.time() + 60)
        got = await store.aget("refresh", "r")
        taken = await store.atake("refresh", "r")
        again = await store.atake("refresh", "r")
        return got, taken, again

    assert asyncio.run(scenario()) == ({"scope": "a b"}, {"scope": "a b"}, None)


def test_store_url_selects_the_backend(redis_url: str) -> None:
    assert isinstance(store_from_url("memory://"), MemoryStore)
    assert isinstance(store_from_url(redis_url), RedisStore)
    for bad in ("postgres://x", f"{redis_url}?fail_open=true"):
        with pytest.raises(SettingsError):
            AuthServerConfig(issuer=ISSUER, keys=[], store_url=bad)


def test_redis_down_fails_closed(own_redis) -> None:  # type: ignore[no-untyped-def]
    store = _store(own_redis.url)
    own_redis.stop()
    with pytest.raises(CacheUnavailable) as err:
        store.put("code", "c", {"a": 1}, time.time() + 60)
    assert (err.value.code, err.value.status_code) == ("cache_unavailable", 503)
    with pytest.raises(CacheUnavailable):
        store.take("code", "c")


def _auth_server(world: World, store_url: str) -> AS:
    from aauth_core import dialect
    from aauth_core.keys import SigningKey

    from ..conftest import Party

    config = AuthServerConfig(issuer=ISSUER, keys=[world.issuer.key], store_url=store_url,
                              lifetimes=Lifetimes(refresh_token=3600))
    server = AuthServer(config, policy=AllowAll(), users=MemoryUserStore(USERS),
                        discovery=world.discovery(config.verifier_settings()), clock=world.clock)
    party = Party("https://unused.example", SigningKey.generate(kid="k"), dialect.WELL_KNOWN_ISSUER)
    return AS(world=world, server=server, upstream=party, downstream=party, app=build_auth_server_app(server))


async def test_the_auth_server_issues_nothing_it_could_not_record(world: World, own_redis) -> None:  # type: ignore[no-untyped-def]
    """With refresh tokens on, a grant is recorded before the token is returned: Redis down → 503, no token."""
    env = _auth_server(world, own_redis.url)
    granted = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                              "redirect_uri": REDIRECT})
    assert granted.status_code == 200 and "refresh_token" in granted.json()
    own_redis.stop()
    refused = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                              "redirect_uri": REDIRECT})
    assert refused.status_code == 503, refused.text
    assert "auth_token" not in refused.text and "eyJ" not in refused.text


async def test_a_refresh_token_recorded_by_one_worker_is_honoured_by_another(world: World, redis_url: str) -> None:
    worker_a, worker_b = _auth_server(world, redis_url), _auth_server(world, redis_url)
    first = await worker_a.post({"request_type": "auth", "resource_token": worker_a.resource_token(),
                                 "redirect_uri": REDIRECT})
    refresh = first.json()["refresh_token"]
    world.clock.advance(2)
    again = await worker_b.post({"request_type": "refresh", "refresh_token": refresh})
    assert again.status_code == 200, again.text
    assert worker_b.decode(again.json()["auth_token"]).claims["agent"] == world.agent.id
