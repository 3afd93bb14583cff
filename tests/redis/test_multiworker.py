"""Two uvicorn worker processes sharing one Redis ``cache_url``: a replay across workers is refused.

The workers are real processes on free 127.0.0.1 ports; the same signed bytes
accepted by worker A are sent to worker B.  With ``memory://`` (the negative
control) worker B accepts them, which is exactly why multi-worker deployments
need the shared cache.  Every process is killed by a finalizer.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aauth_core.keys import SigningKey

from ..conftest import signed_request
from .app import RESOURCE_ID
from .conftest import RedisServer, free_port, stop_process, wait_for_port

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = httpx.Timeout(10.0)


@contextlib.contextmanager
def workers(cache_url: str, count: int = 2) -> Iterator[list[str]]:
    """``count`` uvicorn processes serving tests.redis.app; yields their base URLs."""
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for i in range(count):
            port = free_port()
            env = {**os.environ, "AAUTH_TEST_CACHE_URL": cache_url, "AAUTH_TEST_WORKER": "AB"[i],
                   "PYTHONPATH": str(ROOT)}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "tests.redis.app:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            ))
            bases.append(f"http://127.0.0.1:{port}")
        for process, base in zip(processes, bases, strict=True):
            wait_for_port(int(base.rsplit(":", 1)[1]), timeout=20, process=process)
        yield bases
    finally:
        for process in processes:
            stop_process(process)
            if process.stderr is not None:
                process.stderr.close()


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    from .conftest import _server

    yield from _server()


@pytest.fixture(scope="module")
def redis_workers(shared_redis: RedisServer) -> Iterator[list[str]]:
    with workers(shared_redis.url) as bases:
        yield bases


def sign(key: SigningKey, method: str = "GET", path: str = "/data", body: bytes | None = None
         ) -> tuple[dict[str, str], bytes | None]:
    return signed_request(method, RESOURCE_ID + path, key=key, scheme="hwk", body=body, created=int(time.time()))


def send(base: str, headers: dict[str, str], body: bytes | None = None, method: str = "GET") -> httpx.Response:
    with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        return client.request(method, base + "/data", headers=headers, content=body)


def test_replay_to_a_second_worker_is_refused(redis_workers: list[str]) -> None:
    worker_a, worker_b = redis_workers
    headers, _ = sign(SigningKey.generate())
    first = send(worker_a, headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"worker": "A", "scheme": "hwk", "body_length": 0}
    replay = send(worker_b, headers)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed_request"
    assert "Agent-Auth" in replay.headers
    again = send(worker_a, headers)  # and on the first worker too
    assert again.json()["error"] == "replayed_request"


def test_each_worker_accepts_fresh_signatures(redis_workers: list[str]) -> None:
    for base, name in zip(redis_workers, "AB", strict=True):
        headers, _ = sign(SigningKey.generate())  # Ed25519 is deterministic: same key + second = same bytes
        response = send(base, headers)
        assert response.status_code == 200
        assert response.json()["worker"] == name


def test_replayed_body_request_is_refused_on_the_other_worker(redis_workers: list[str]) -> None:
    body = b'{"amount": 100}'
    headers, _ = sign(SigningKey.generate(), "POST", body=body)
    assert send(redis_workers[1], headers, body, "POST").status_code == 200
    replay = send(redis_workers[0], headers, body, "POST")
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed_request"


def test_without_a_shared_cache_the_replay_gets_through() -> None:
    """Negative control: ``memory://`` workers each remember only their own signatures."""
    with workers("memory://") as (worker_a, worker_b):
        headers, _ = sign(SigningKey.generate())
        assert send(worker_a, headers).status_code == 200
        assert send(worker_b, headers).status_code == 200
        assert send(worker_b, headers).json()["error"] == "replayed_request"


def test_workers_fail_closed_while_redis_is_down(shared_redis: RedisServer, redis_workers: list[str]) -> None:
    shared_redis.stop()
    try:
        for base in redis_workers:
            headers, _ = sign(SigningKey.generate())
            response = send(base, headers)
            assert response.status_code == 503
            assert response.json()["error"] == "cache_unavailable"
    finally:
        shared_redis.start()
    headers, _ = sign(SigningKey.generate())
    assert send(redis_workers[0], headers).status_code == 200
    assert send(redis_workers[1], headers).json()["error"] == "replayed_request"
