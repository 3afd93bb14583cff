"""Every sample flow as a user runs it: ``python -m sample_apps FLOW --json`` in a subprocess.

Each flow starts its parties as separate server processes on 127.0.0.1 and prints a
JSON verdict; the flow must exit 0 and report ``"passed": true``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FLOWS = [
    ["token-exchange"],
    ["hwk"],
    ["jwks"],
    ["authorization"],
    ["consent"],
    ["delegation"],
    ["chain"],
    ["mcp"],  # an MCP server behind AAuth, called with the mcp SDK's client
    ["token-exchange", "--r1", "flask", "--r2", "starlette"],  # frameworks mixed across the exchange
]


@pytest.mark.parametrize("argv", FLOWS, ids=[" ".join(f) for f in FLOWS])
def test_sample_flow(argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    completed = subprocess.run(
        [sys.executable, "-m", "sample_apps", *argv, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    report = completed.stdout + completed.stderr[-4000:]
    assert completed.returncode == 0, report
    verdict = json.loads(completed.stdout[completed.stdout.index("{"):])
    assert verdict["flow"] == argv[0]
    assert verdict["passed"] is True and verdict["error"] is None, report
    assert verdict["steps"] and all(step["passed"] for step in verdict["steps"]), report


@pytest.mark.parametrize("options", [["--json"], ["--json", "--r1", "starlette"]], ids=["--json", "--json --r1"])
def test_options_alone_run_the_default_flow(options: list[str]) -> None:
    """``python -m sample_apps --quiet`` (what ``bash scripts/demo.sh --quiet`` runs): token-exchange."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    completed = subprocess.run(
        [sys.executable, "-m", "sample_apps", *options], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    report = completed.stdout + completed.stderr[-4000:]
    assert completed.returncode == 0, report
    verdict = json.loads(completed.stdout[completed.stdout.index("{"):])
    assert verdict["flow"] == "token-exchange" and verdict["passed"] is True, report
