"""The aauth-11 demos as a user runs them: ``python -m sample_apps three-party|four-party|call-chaining``.

Each flow starts the agent provider, our person server (and access server) and the sample
resources as separate server processes on 127.0.0.1, runs our -11 agent against them and
prints its verdict.  The flow must exit 0 with every check passed, print tokens only as
decoded claims, and leave no listener behind.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
#: The checks each flow must report, passed (its verdict's steps, by name).
THREE_PARTY = ["Agent token", "Requirements", "Person token", "Resource token", "Auth token",
               "The resource saw person (ps, sub)", "One person-token and one auth-token request at the PS",
               "No act claim anywhere", "TEST 1"]
CHECKS = {
    "three-party": [*THREE_PARTY, "TEST 2"],
    "four-party": ["Federated", *THREE_PARTY],
    "call-chaining": ["Upstream", "Resource 1 is its own agent", "Chaining requests at the PS", "Downstream tokens",
                      "No copied sub", "Scope never widens", "The resource saw person (ps, sub)",
                      "No act claim anywhere", "TEST 1"],
}
RUNS = [
    ["three-party"],  # Django resource
    ["three-party", "--r1", "flask"],
    ["four-party"],  # Django resource, Starlette person and access servers
    ["four-party", "--r1", "starlette"],
    ["call-chaining"],  # Django → Flask; Resource 1 calls with the async client
    ["call-chaining", "--r1", "flask", "--r2", "starlette"],  # Resource 1 calls with the sync client
]
#: A whole compact JWT (header and payload are JSON objects): never printed, only its claims.
RAW_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run([sys.executable, "-m", "sample_apps", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _listening(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _verdict(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    verdict: dict[str, Any] = json.loads(completed.stdout[completed.stdout.index("{"):])
    return verdict


@pytest.mark.parametrize("argv", RUNS, ids=[" ".join(r) for r in RUNS])
def test_demo_passes_with_its_checks_and_leaves_no_listener(argv: list[str]) -> None:
    completed = _run(*argv, "--json")
    report = completed.stdout + completed.stderr[-4000:]
    assert completed.returncode == 0, report
    verdict = _verdict(completed)
    assert verdict["flow"] == argv[0]
    assert verdict["passed"] is True and verdict["error"] is None, report
    steps = {step["step"]: step["passed"] for step in verdict["steps"]}
    assert steps == dict.fromkeys(CHECKS[argv[0]], True), report
    assert len(verdict["parties"]) >= 3
    left = [url for url in verdict["parties"] if _listening(url)]
    assert not left, f"still listening after the flow: {left}"


def test_quiet_prints_the_verdict_only() -> None:
    completed = _run("three-party", "--quiet")
    assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
    lines = [line for line in completed.stdout.splitlines() if line.strip() and not line.startswith("=")]
    assert len(lines) == 1 and re.fullmatch(r"three-party: PASSED \(10/10 checks, [0-9.]+ s\)", lines[0]), lines


def test_transcript_shows_each_exchange_with_tokens_as_decoded_claims() -> None:
    """The default (debug) output: every party's side of each exchange, each token as a
    reference and its decoded claims; no whole token, no private key."""
    completed = _run("four-party")
    out = completed.stdout
    assert completed.returncode == 0, out[-4000:] + completed.stderr[-4000:]
    for seen in (">>> AGENT REQUEST to", "<<< PERSON SERVER RESPONSE", ">>> ACCESS SERVER REQUEST received",
                 "<<< RESOURCE 1 RESPONSE", "requirement=person-token", "requirement=auth-token",
                 "Consent: the person server runs its explicit autonomous-grant policy"):
        assert seen in out, seen
    for typ in ("aa-agent+jwt", "aa-person+jwt", "aa-resource+jwt", "aa-auth+jwt"):
        assert re.search(rf"<{re.escape(typ)} jti=[A-Za-z0-9_-]+> \(decoded\)", out), typ
    assert '"dwk": "aauth-access.json"' in out  # the access server's auth token, decoded
    assert not RAW_JWT.search(out), "a whole token was printed"
    assert '"d":' not in out, "a private key was printed"


def test_a_bad_registration_is_refused_with_a_clear_error() -> None:
    """``serve personserver --register`` takes AGENT=USER; anything else stops before serving."""
    completed = _run("serve", "personserver", "--port", "1", "--register", "aauth:assistant@127.0.0.1:8001")
    assert completed.returncode != 0
    assert "--register takes AGENT=USER" in completed.stderr + completed.stdout
