"""``aauth request`` against real parties on 127.0.0.1: an agent server, an auth server
and a Starlette resource, all built from the library and served by uvicorn."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.cli import main
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

from ..e2e.conftest import AgentParty, AuthServerParty, Clock, Loopback, Parties, consent_over_http

ROOT = Path(__file__).resolve().parents[2]
SCOPES = ("data.read", "data.write", "data.admin")


@aauth_required("identity")
async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"agent": get_aauth(request).agent})


@aauth_required("authorization", scopes=["data.read"])
async def read(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({"agent": ctx.agent, "user": ctx.sub, "scope": sorted(ctx.scope)})


@aauth_required("authorization", scopes=["data.write"])
async def write(request: Request) -> JSONResponse:
    body = await request.body()  # the middleware verified its Content-Digest before we run
    return JSONResponse({"received": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                         "content_type": request.headers.get("content-type"), "scope": sorted(get_aauth(request).scope)})


def resource(loopback: Loopback, auth_server: AuthServerParty, seen: list[str] | None = None) -> str:
    """The API: ``/whoami`` (identity), ``GET /data`` (data.read), ``POST /data`` (data.write).
    ``seen`` collects every Signature-Key it receives."""
    url = loopback.reserve()
    settings = AAuthSettings(resource_id=url, auth_server=auth_server.url, trusted_issuers=(auth_server.url,),
                             resource_scopes=SCOPES, allow_insecure_loopback=True)
    app = Starlette(routes=[Route("/whoami", whoami), Route("/data", read), Route("/data", write, methods=["POST"])])
    api = AAuthMiddleware(app, settings=settings, keys=[SigningKey.generate(kid="api-1")])

    async def recording(scope, receive, send) -> None:
        if seen is not None and scope["type"] == "http":
            seen.extend(v.decode() for k, v in scope["headers"] if k == b"signature-key")
        await api(scope, receive, send)

    loopback.serve(url, recording)
    return url


@dataclass
class World:
    agent: AgentParty
    auth_server: AuthServerParty
    resource: str
    keyfile: Path
    seen: list[str]  # Signature-Key values the resource received


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    loopback = Loopback()
    try:
        parties = Parties(loopback, Clock())
        agent = parties.agent()
        auth_server = parties.auth_server()  # policy AllowAll
        keyfile = tmp_path_factory.mktemp("keys") / "agent.json"
        keyfile.write_text(json.dumps(agent.key.private_jwk()))
        seen: list[str] = []
        yield World(agent, auth_server, resource(loopback, auth_server, seen), keyfile, seen)
    finally:
        loopback.close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch) -> None:
    """The command honours proxy variables like curl; these tests talk to 127.0.0.1 only."""
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        monkeypatch.delenv(name)


def agent_args(world: World) -> list[str]:
    return ["--key", str(world.keyfile), "--agent-id", world.agent.url, "--allow-loopback"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["request", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- the whole flow


def test_jwks_agent_gets_a_token_and_the_body(world: World, capsys) -> None:
    code, out, err = run(capsys, "GET", f"{world.resource}/data", *agent_args(world))
    assert code == 0, err
    assert json.loads(out) == {"agent": world.agent.url, "user": None, "scope": ["data.read"]}
    assert err == ""
    assert world.auth_server.counter.types[-1] == "auth"


def test_hwk_at_an_identity_route_exits_1_with_the_challenge(world: World, capsys) -> None:
    code, out, err = run(capsys, "GET", f"{world.resource}/whoami", "--hwk", "--allow-loopback")
    assert code == 1
    assert "ephemeral key" in err
    assert "aauth request: HTTP 401 Unauthorized" in err
    assert "Agent-Auth: httpsig; identity" in err and "error: identity_required" in err
    assert json.loads(out)["error"] == "identity_required"
    code, _, err = run(capsys, "GET", f"{world.resource}/whoami", "--hwk", "--allow-loopback", "-v")
    assert code == 1 and err.count(">>> ") == 1, "an hwk-only agent has no identity to retry with"


def test_verbose_shows_each_exchange_with_tokens_decoded(world: World, capsys) -> None:
    world.seen.clear()
    code, out, err = run(capsys, "GET", f"{world.resource}/data", *agent_args(world), "-v")
    assert code == 0, err
    (auth_token,) = [m[1] for v in world.seen if (m := re.search(r'jwt="([^"]+)"', v))]
    assert auth_token not in err and "<auth token #2>" in err
    titles = re.findall(r"^(>>>|<<<) (.*)$", err, re.M)
    assert [t for _, t in titles][:2] == ["request signed with scheme=jwks",
                                          f"401 challenge from 127.0.0.1:{_port(world.resource)}/data"]
    assert "token request (request_type=auth) to the auth server" in err
    assert "retry signed with scheme=jwt" in err
    assert "=== final answer: HTTP 200 OK" in err
    assert "Agent-Auth: httpsig; auth-token; resource_token=\"<resource token #1>\"" in err
    assert "<resource token #1> decoded (signature not checked):" in err
    assert "<auth token #2> decoded (signature not checked):" in err
    assert '"typ": "auth+jwt"' in err and '"scope": "data.read"' in err
    assert "Signature-Input: sig1=(" in err and "Signature: sig1=:" in err
    # No JWT appears raw: every compact JWS in the transcript is a label.
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", err)
    assert json.loads(out)["scope"] == ["data.read"]


def test_post_data_from_a_file_reaches_the_resource_with_its_digest(world: World, tmp_path, capsys) -> None:
    payload = b'{"note": "hello"}\n' + bytes(range(256))
    path = tmp_path / "body.bin"
    path.write_bytes(payload)
    code, out, err = run(capsys, "POST", f"{world.resource}/data", *agent_args(world), "--data", f"@{path}", "-v")
    assert code == 0, err
    answer = json.loads(out)
    assert answer == {"received": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
                      "content_type": "application/octet-stream", "scope": ["data.write"]}
    assert "Content-Digest: sha-256=:" in err


def test_data_from_stdin_and_a_content_type_header(world: World, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"x": 1}')))
    code, out, err = run(capsys, "POST", f"{world.resource}/data", *agent_args(world), "--data", "@-",
                         "-H", "Content-Type: application/json")
    assert code == 0, err
    assert json.loads(out)["content_type"] == "application/json" and json.loads(out)["received"] == 8


def test_scope_asks_the_resource_token_endpoint_first(world: World, capsys) -> None:
    code, out, err = run(capsys, "GET", f"{world.resource}/data", *agent_args(world), "--scope", "data.read data.admin",
                         "-v")
    assert code == 0, err
    assert json.loads(out)["scope"] == ["data.admin", "data.read"]
    titles = [t for _, t in re.findall(r"^(>>>) (.*)$", err, re.M)]
    assert titles == ["resource metadata request", "resource token request (--scope)", "auth server metadata request",
                      "token request (request_type=auth) to the auth server", "request signed with scheme=jwt"]
    assert "401 challenge" not in err


def test_scope_the_resource_does_not_know_is_refused(world: World, capsys) -> None:
    code, out, err = run(capsys, "GET", f"{world.resource}/data", *agent_args(world), "--scope", "data.delete")
    assert (code, out) == (1, "")
    assert "aauth request: invalid_scope: the resource token request answered HTTP 400: unknown scope(s)" in err


def test_consent_prompts_for_the_redirect_and_redeems_the_code(world: World, tmp_path, monkeypatch, capsys) -> None:
    loopback = Loopback()
    try:
        consent_as = Parties(loopback, Clock()).consent_auth_server()
        api = resource(loopback, consent_as)

        class User:
            """Standard input: the user approves at the URL the command printed, then pastes the redirect."""

            def readline(self) -> str:
                url = re.search(r"^  (http\S+)$", capsys.readouterr().err, re.M)
                assert url is not None
                return consent_over_http(url[1]) + "\n"

        monkeypatch.setattr("sys.stdin", User())
        code, out, err = run(capsys, "GET", f"{api}/data", *agent_args(world))
        assert code == 0, err
        assert json.loads(out)["user"] == "testuser"
        assert consent_as.counter.types == ["auth", "code"]

        monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nobody to ask: say where consent is needed
        code, out, err = run(capsys, "GET", f"{api}/data", *agent_args(world))
        assert code == 1 and "Open this URL and approve" in err and "interaction_required" in err
    finally:
        loopback.close()


# ----------------------------------------------------------------------------- refusals


def test_plain_http_without_allow_loopback_names_the_flag(world: World, capsys) -> None:
    code, out, err = run(capsys, "GET", f"{world.resource}/data", "--key", str(world.keyfile),
                         "--agent-id", world.agent.url)
    assert code == 2 and out == ""
    assert "pass --allow-loopback" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["GET", "ftp://127.0.0.1/x", "--hwk"], "absolute http(s) URL"),
    (["GET", "http://10.0.0.1/x", "--allow-loopback"], "use https"),
    (["GET", "https://api.example/", "--key", "/nonexistent/key.json"], "/nonexistent/key.json"),
    (["GET", "https://api.example/", "--agent-id", "https://agent.example"], "--agent-id needs --key"),
    (["GET", "https://api.example/", "-H", "no colon"], "Name: value"),
    (["POST", "https://api.example/", "--data", "@/nonexistent/body"], "cannot read --data file"),
    (["GET", "https://api.example/", "--scope", "data.read"], "--scope needs --agent-id"),
    (["G ET", "https://api.example/"], "not an HTTP method"),
])
def test_usage_errors_exit_2_before_any_request(capsys, argv, message) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_argparse_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["request", "GET", "https://api.example/", "--hwk", "--agent-id", "https://agent.example"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_an_unreachable_server_is_exit_1(capsys) -> None:
    loopback = Loopback()
    url = loopback.reserve()  # bound, never served: the connection is refused
    loopback.close()
    code, out, err = run(capsys, "GET", f"{url}/data", "--hwk", "--allow-loopback", "--timeout", "5")
    assert code == 1 and out == ""
    assert "cannot complete the exchange" in err and "Traceback" not in err


def test_the_installed_console_script(world: World) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aauth"), "request", "GET", f"{world.resource}/data", *agent_args(world)],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["agent"] == world.agent.url
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aauth"), "request", "GET", f"{world.resource}/data"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2 and "--allow-loopback" in result.stderr


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])
