"""``aauth dev``: the local stack's keys, documents and what it prints (served for real in
tests/e2e/test_readme_quickstart.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aauth_core.cli import main
from aauth_core.keys import load_signing_key
from aauth_starlette.dev import DevStack


def test_the_stack_keeps_its_keys_private_and_across_restarts(tmp_path: Path) -> None:
    stack = DevStack(tmp_path / "dev", resource_port=9100, auth_port=9101, agent_port=9102)
    apps = stack.apps()
    assert set(apps) == {9101, 9102}
    files = sorted(p.name for p in (tmp_path / "dev").iterdir())
    assert files == ["agent.json", "authserver.json", "resource.json"]
    assert stat.S_IMODE((tmp_path / "dev").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (tmp_path / "dev").iterdir())
    first = load_signing_key(tmp_path / "dev" / "agent.json").thumbprint
    stack.apps()  # a restart loads, never replaces, the keys
    assert load_signing_key(tmp_path / "dev" / "agent.json").thumbprint == first


def test_the_documents_name_the_loopback_parties(tmp_path: Path) -> None:
    stack = DevStack(tmp_path, resource_port=9100, auth_port=9101, agent_port=9102)
    apps = stack.apps()
    agent = TestClient(apps[9102]).get("/.well-known/aauth-agent").json()
    assert agent["agent"] == "http://127.0.0.1:9102" and agent["jwks_uri"] == "http://127.0.0.1:9102/jwks.json"
    keys = TestClient(apps[9102]).get("/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == ["agent-1"] and all("d" not in k for k in keys)
    assert TestClient(apps[9101]).get("/.well-known/aauth-issuer").json()["issuer"] == "http://127.0.0.1:9101"


def test_the_banner_prints_the_settings_and_the_request_line(tmp_path: Path) -> None:
    banner = DevStack(tmp_path, consent=True).banner()
    assert 'resource_id="http://127.0.0.1:8000"' in banner and "allow_insecure_loopback=True" in banner
    assert f"aauth request GET http://127.0.0.1:8000/data --key {tmp_path / 'agent.json'}" in banner
    assert "never for production" in banner and "'dev'" in banner


@pytest.mark.parametrize("ports", [["--auth-port", "8000"], ["--agent-port", "70000"]])
def test_bad_ports_are_a_usage_error(ports: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", *ports]) == 2
    assert "port" in capsys.readouterr().err
