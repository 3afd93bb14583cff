"""The README Quickstart, run literally: its blocks, in order, on 127.0.0.1, ending in a 200.

The blocks marked ``check=quickstart`` are taken from README.md as written: the python
block becomes ``app.py``, each shell line runs as the reader would type it (a line
ending in ``&`` in the background).  Before a foreground line runs, the background
servers must be listening: ``aauth dev`` on its documented ports, ``uvicorn`` on its
``--port``.  Every process started here is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ..docs.snippets import ROOT, blocks_of

pytestmark = pytest.mark.e2e

VENV_BIN = ROOT / ".venv" / "bin"
DEV_PORTS = (8001, 8002)  # aauth dev's auth server and agent identity (its documented defaults)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(ports: list[int], processes: list[subprocess.Popen[str]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(_listening(p) for p in ports):
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{process.args} exited with {process.returncode}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listened on 127.0.0.1 ports {ports} within {timeout} s")
        time.sleep(0.1)


def _ports_of(words: list[str]) -> list[int]:
    if words[:2] == ["aauth", "dev"]:
        return list(DEV_PORTS)
    if "--port" in words:
        return [int(words[words.index("--port") + 1])]
    return []


def test_the_readme_quickstart_ends_in_a_200(tmp_path: Path) -> None:
    blocks = [b for b in blocks_of(ROOT / "README.md") if b.directives.get("check") == "quickstart"]
    assert [b.lang for b in blocks] == ["bash", "python", "bash"], "the Quickstart's shape changed"
    busy = [p for p in (8000, *DEV_PORTS) if _listening(p)]
    assert not busy, f"the Quickstart needs 127.0.0.1 ports {busy} free"
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env = {k: v for k, v in env.items() if not k.startswith(("AAUTH_", "PYTEST_"))}
    background: list[subprocess.Popen[str]] = []
    listening: list[int] = []
    final: subprocess.CompletedProcess[str] | None = None
    try:
        for block in blocks:
            if block.lang == "python":
                (tmp_path / block.directives["file"]).write_text(block.code)
                continue
            for line in block.code.splitlines():
                line = line.split("#")[0].strip()
                if not line:
                    continue
                words = shlex.split(line.rstrip("&"))
                if line.endswith("&"):
                    background.append(subprocess.Popen(words, cwd=tmp_path, env=env, text=True,
                                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                       start_new_session=True))
                    listening += _ports_of(words)
                    continue
                _wait(listening, background)
                final = subprocess.run(words, cwd=tmp_path, env=env, text=True, capture_output=True, timeout=60)
    finally:
        for process in background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
    assert final is not None
    assert final.returncode == 0, f"exit {final.returncode}\n--- stdout\n{final.stdout}\n--- stderr\n{final.stderr}"
    assert json.loads(final.stdout) == {"agent": "http://127.0.0.1:8002", "scope": ["data.read"]}
    assert not any(_listening(p) for p in (8000, *DEV_PORTS)), "a Quickstart server was left listening"
