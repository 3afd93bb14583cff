"""Run an interop peer's driver (``tests/interop/peers/``) under the peer's own interpreter.

The peers live in ``.interop/`` (``scripts/interop-peers.sh``), never in our venv: a driver reads
one JSON request on stdin and prints one JSON answer.  A peer environment that is missing fails
the test in CI (``CI`` set: CI must run these) and skips it elsewhere, naming the reason.
Nothing here opens a socket: the drivers answer key discovery from the documents they are given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / ".interop"
DRIVERS = Path(__file__).resolve().parent / "peers"
PY_PEERS = "aauth-signing 0.2.0, regent-httpsig 0.7.3"
NODE_PEER = "@hellocoop/httpsig 2.2.0"

#: Our interpreter's environment, less what would lead a peer's interpreter into our venv.
_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
_ENV["PYTHONNOUSERSITE"] = "1"
_ENV["PYTHONDONTWRITEBYTECODE"] = "1"


def _missing(what: str, why: str) -> NoReturn:
    message = (f"interop peer {what} is not installed ({why}); scripts/interop-peers.sh installs it "
               "into .interop/ (scripts/test.sh runs it)")
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the peer interop tests: {message}", pytrace=False)
    pytest.skip(message)


def _python() -> str:
    python = INTEROP / "py" / "bin" / "python"
    if not (INTEROP / "py" / ".stamp").is_file() or not python.is_file():
        _missing(PY_PEERS, ".interop/py has no completed install")
    return str(python)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        _missing(NODE_PEER, "node is not on PATH")
    if not (INTEROP / "node" / ".stamp").is_file():
        _missing(NODE_PEER, ".interop/node has no completed install")
    return node


def run_driver(driver: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run ``peers/<driver>`` on ``request``; its JSON answer.  A driver crash fails the test
    with the driver's stderr (a refusal is an answer, not a crash)."""
    if driver.endswith(".mjs"):
        argv = [_node(), str(DRIVERS / driver)]
        env = {**_ENV, "HELLOCOOP_PREFIX": str(INTEROP / "node")}
    else:
        # -E -s: no PYTHON* variables, no user site; unlike -I the driver's folder stays on the
        # path (its shared jwk_keys.py), and nothing of ours is there or installed in that env.
        argv = [_python(), "-E", "-s", str(DRIVERS / driver)]
        env = _ENV
    proc = subprocess.run(argv, input=json.dumps(request), capture_output=True, text=True, timeout=60,
                          env=env, cwd=str(INTEROP), check=False)
    if proc.returncode != 0:
        pytest.fail(f"peer driver {driver} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", pytrace=False)
    try:
        answer: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"peer driver {driver} printed no JSON: {proc.stdout[:500]!r} {proc.stderr[-1000:]}")
    return answer

