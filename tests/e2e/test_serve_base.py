"""``python -m sample_apps serve resource --base ...``: the signature bases a sample resource accepts.

Each resource is a real server process on 127.0.0.1 (its own process group, killed at the
end); requests are signed with the library's signer, as the reference demo signs them
(``demo-2026-01``) or per RFC 9421.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("starlette", "flask", "django")
WARNING = "accepts the demo-2026-01 signature base"
#: (framework, serve options) that must accept rfc9421 only: explicitly in every framework, and by default.
RFC9421_ONLY = [("starlette", ()), *((framework, ("--base", "rfc9421")) for framework in FRAMEWORKS)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def resource(tmp_path: Path, *args: str) -> Iterator[tuple[str, Path]]:
    """A sample resource process; yields its origin and the file its stderr goes to."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = tmp_path / f"resource-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sample_apps", "serve", "resource", "--port", str(port), *args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while True:
                assert proc.poll() is None, f"the resource exited: {log.read_text()}"
                try:
                    if client.get(f"{origin}/.well-known/aauth-resource").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"the resource did not start: {log.read_text()}"
                time.sleep(0.05)
        yield origin, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def send(url: str, base: str) -> httpx.Response:
    """``GET url`` signed with an inline key (``hwk``) over ``base``."""
    key = SigningKey.generate()
    sk = SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"})
    signed = sign_request("GET", url, {}, None, key=key, signature_key=sk, created=int(time.time()),
                          base=base, nonce=secrets.token_urlsafe(12))  # type: ignore[arg-type]
    with httpx.Client(timeout=30.0, trust_env=False) as client:
        return client.get(url, headers=dict(signed.headers))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_base_both_accepts_the_demo_base(tmp_path: Path, framework: str) -> None:
    with resource(tmp_path, "--base", "both", "--framework", framework) as (origin, log):
        demo = send(f"{origin}/data", "demo-2026-01")
        assert demo.status_code == 200, demo.text
        assert send(f"{origin}/data", "rfc9421").status_code == 200
        assert send(f"{origin}/data", "rfc9421").json() == demo.json()  # the same verified view
    assert WARNING in log.read_text()


def test_base_demo_only_refuses_rfc9421(tmp_path: Path) -> None:
    with resource(tmp_path, "--base", "demo-2026-01") as (origin, log):
        assert send(f"{origin}/data", "demo-2026-01").status_code == 200
        refused = send(f"{origin}/data", "rfc9421")
        assert refused.status_code == 401, refused.text
    assert WARNING in log.read_text()


@pytest.mark.parametrize(("framework", "args"), RFC9421_ONLY,
                         ids=[f"{fw} {' '.join(args) or 'default'}" for fw, args in RFC9421_ONLY])
def test_rfc9421_refuses_the_demo_base(tmp_path: Path, framework: str, args: tuple[str, ...]) -> None:
    with resource(tmp_path, *args, "--framework", framework) as (origin, log):
        refused = send(f"{origin}/data", "demo-2026-01")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "invalid_signature", refused.text
        assert send(f"{origin}/data", "rfc9421").status_code == 200
    assert WARNING not in log.read_text()
