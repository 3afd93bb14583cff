"""Every fenced code block in ``docs/`` and ``README.md`` is exercised.

* ``python`` blocks run as programs in a fresh interpreter, in a scratch directory
  per page (``file=`` blocks are written there first, so later blocks import them);
* ``bash`` blocks run under ``bash -eu -o pipefail`` with the installed ``aauth``
  console script first on ``PATH``;
* ``json`` / ``toml`` blocks are parsed; ``http`` blocks are parsed as a message and
  every AAuth header in them goes through the library's own parser;
* a ``text`` block marked ``<!-- doctest: output -->`` must be exactly what the shell
  block before it printed (unmarked ``text`` blocks, such as log lines, are shown as-is).

Every process gets ``tests/docs/_guard`` on ``PYTHONPATH``: its ``sitecustomize``
refuses any DNS lookup or connection that is not loopback, so a snippet that would
touch the network fails instead.  The environment also provides what a reader
would have after the docs' setup steps: ``AAUTH_RESOURCE_KEY`` and ``AAUTH_AS_KEY``
(private JWKs, as ``aauth keygen`` writes them) and ``TOKEN`` (an auth token to decode).
The ``file=`` blocks of ``docs/testing.md`` (the in-process network helper) are
shared: every page's scratch directory starts with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from aauth_core.headers import parse_agent_auth, parse_signature, parse_signature_input, parse_signature_key
from aauth_core.keys import SigningKey
from aauth_core.tokens import mint_auth_token

from .login_checks import LOGIN_CHECKS
from .snippets import DOCS, LANGUAGES, PAGES, ROOT, Block, blocks_of

GUARD = Path(__file__).with_name("_guard")
MARKER = "DOCTEST-NETWORK-BLOCKED"
VENV_BIN = ROOT / ".venv" / "bin"
SHARED_PAGE = DOCS / "testing.md"
TIMEOUT = 180


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "django_settings_module")
           and not k.startswith(("AAUTH_", "PYTEST_"))}
    bin_dir = VENV_BIN if VENV_BIN.is_dir() else Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    # The guard first; the scratch directory (snippets import their own files); the repository
    # (the packages, in case the editable install predates some of them).
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(workdir), str(ROOT)])
    key = SigningKey.generate(kid="resource-1")
    env["AAUTH_RESOURCE_KEY"] = json.dumps(key.private_jwk())
    env["AAUTH_AS_KEY"] = json.dumps(SigningKey.generate(kid="as-1").private_jwk())  # an auth server's, likewise
    issuer = SigningKey.generate(kid="as-1")
    env["TOKEN"] = mint_auth_token(
        issuer, iss="https://as.example", aud="https://api.example", cnf_jwk=key.public_jwk(),
        now=1_768_786_273, agent="https://agent.example", scope="data.read", lifetime=3600,
    )
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: list[str], block: Block, workdir: Path, env: dict[str, str], *, expect: int = 0,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                            input=stdin)
    assert MARKER not in result.stderr, f"{block.where}: the snippet tried to use the network:\n{result.stderr}"
    assert result.returncode == expect, (
        f"{block.where}: exit {result.returncode}, expected {expect}\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}"
    )
    return result


# ----------------------------------------------------------------------------- paired checks


def _check_demo_scripts(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """``bash scripts/*.sh`` lines: the scripts exist and parse (running them would start the suite)."""
    for line in block.code.splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["bash"]:
            script = ROOT / words[1]
            assert script.is_file(), f"{block.where}: {words[1]} does not exist"
            _run(["bash", "-n", str(script)], block, workdir, env)


def _check_pip_extras(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """``pip install "aauth-kit[...]"``: the distribution name and every extra exist."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"])
    for line in block.code.splitlines():
        for word in line.replace('"', " ").replace("'", " ").split():
            if word.startswith("aauth-kit"):
                name, _, rest = word.partition("[")
                assert name == project["name"], f"{block.where}: distribution is {project['name']}"
                for extra in filter(None, rest.rstrip("]").split(",")):
                    assert extra in extras, f"{block.where}: no extra {extra!r}"


def _check_django_project(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """The page's Django files make a project that passes ``manage.py check`` (AAuth checks included)."""
    code = ("import django, os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'settings'\ndjango.setup()\n"
            "from django.core.management import call_command\ncall_command('check', fail_level='WARNING')\n")
    _run([sys.executable, "-c", code], block, workdir, env)


def _check_uvicorn_target(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """``uvicorn module:attr`` lines name an importable ASGI app (serving it would block)."""
    for line in block.code.splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["uvicorn"]:
            module, _, attr = words[1].partition(":")
            _run([sys.executable, "-c", f"import {module}; assert callable({module}.{attr})"], block, workdir, env)


def _check_flask_run(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """``flask --app X run``: the app is found and its routes are listed (serving it would block)."""
    for line in block.code.splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["flask"] and "--app" in words:
            target = words[words.index("--app") + 1]
            _run([str(VENV_BIN / "flask"), "--app", target, "routes"], block, workdir, env)


_APP_FLOW = """
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig
from aauth_core.client import AgentServer, ClientOptions, agent_auth
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware
from aauth_starlette.authserver import build_auth_server_app
from inprocess import Hosts, resolver

from app import app

net = Hosts()
agent = AgentServer("https://agent.example", [SigningKey.generate(kid="agent-1")])
net.asgi("agent.example", Starlette(routes=[
    Route("/.well-known/aauth-agent", lambda r: JSONResponse(agent.metadata())),
    Route("/jwks.json", lambda r: JSONResponse(agent.jwks())),
]))
config = AuthServerConfig(issuer="https://as.example", keys=[SigningKey.generate(kid="as-1")])
net.asgi("as.example", build_auth_server_app(AuthServer(config, policy=AllowAll(), discovery=Discovery(
    config.verifier_settings(), transport=net, async_transport=net, resolver=resolver))))
# The page's app, unchanged except for an in-process discovery client (its stack is built on first use).
(entry,) = [m for m in app.user_middleware if m.cls is AAuthMiddleware]
entry.kwargs["discovery"] = Discovery(AAuthSettings(), transport=net, async_transport=net, resolver=resolver)
net.asgi("api.example", app)

with agent_auth(agent.signer(), options=ClientOptions(resolver=resolver)).client(transport=net) as client:
    response = client.get("https://api.example/data")
assert response.status_code == 200, response.text
assert response.json()["agent"] == "https://agent.example", response.text
"""


def _check_app_flow(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """The page's ``app.py`` (a FastAPI/Starlette app with AAuthMiddleware and a ``/data`` route that
    needs an auth token) passes the whole flow: agent, challenge, auth server, retry."""
    script = workdir / "_doc_check_app_flow.py"
    script.write_text(_APP_FLOW, encoding="utf-8")
    _run([sys.executable, str(script)], block, workdir, env)


def _check_quickstart(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """The README Quickstart's serving blocks: each command exists with the options it uses (running
    them serves forever; tests/e2e/test_readme_quickstart.py runs them for real on loopback)."""
    if block.lang == "python":
        return  # written as app.py and compiled like every python block
    for line in block.code.splitlines():
        words = line.split("#")[0].replace("&", " ").split()
        if words[:1] == ["aauth"]:
            _run([str(VENV_BIN / "aauth"), words[1], "--help"], block, workdir, env)
        elif words[:1] == ["uvicorn"]:
            _check_uvicorn_target(block, workdir, env)
        elif words:
            raise AssertionError(f"{block.where}: unexpected command in the Quickstart: {line!r}")


_MCP_FLOW = """
import asyncio, importlib, socket, threading, time

import httpx2, uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig
from aauth_core.client import AgentServer, ClientOptions, agent_auth
from aauth_core.keys import SigningKey
from aauth_starlette import AAuthMiddleware
from aauth_starlette.agent import build_agent_app
from aauth_starlette.authserver import build_auth_server_app


def bound():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


servers = []


def serve(app, sock, lifespan="off"):
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    servers.append(server)


agent_sock, agent_url = bound()
as_sock, issuer = bound()
mcp_sock, resource = bound()
agent = AgentServer(agent_url, [SigningKey.generate(kid="agent-1")])
serve(build_agent_app(agent), agent_sock)
serve(build_auth_server_app(AuthServer(AuthServerConfig(issuer=issuer, keys=[SigningKey.generate(kid="as-1")],
                                                        allow_insecure_loopback=True), policy=AllowAll())), as_sock)

# The page's app, its AAuth identifiers moved to these loopback parties (nothing else changed).
app = importlib.import_module(MODULE).app
loopback = dict(resource_id=resource, auth_server=issuer, trusted_issuers=[issuer], allow_insecure_loopback=True)
if isinstance(app, AAuthMiddleware):
    other_auth = app.other_auth
    app = AAuthMiddleware(app.app, settings=app.settings.replace(**loopback), other_auth=other_auth,
                          error_handler=app.error_handler)
else:
    (entry,) = [m for m in app.user_middleware if m.cls is AAuthMiddleware]
    other_auth = entry.kwargs.get("other_auth")
    entry.kwargs.update(loopback)
serve(app, mcp_sock, lifespan="on")


async def main():
    async with httpx2.AsyncClient() as http:
        bare = await http.post(f"{resource}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize"},
                               headers={"Accept": "application/json, text/event-stream"})
    assert bare.status_code == 401 and bare.headers["agent-auth"].startswith("httpsig"), bare.headers
    if other_auth is not None:
        assert bare.headers["www-authenticate"].startswith("Bearer resource_metadata="), bare.headers
    auth = agent_auth(agent.signer(), library="httpx2", options=ClientOptions(allow_insecure_loopback=True))
    async with Client(streamable_http_client(f"{resource}/mcp", http_client=auth.async_client())) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error and agent_url in result.content[0].text, result


asyncio.run(main())
for server in servers:
    server.should_exit = True
"""


def _check_mcp_server(block: Block, workdir: Path, env: dict[str, str]) -> None:
    """The page's MCP server module (``file=``, exposing ``app``): served on loopback with an agent and
    an auth server, a bare request gets the challenge (both, with ``other_auth``), and the mcp SDK's
    client, through ``agent_auth``, calls its ``whoami`` tool and sees the agent."""
    assert block.file is not None and block.file.endswith(".py"), f"{block.where}: check=mcp-server needs file="
    script = workdir / "_doc_check_mcp_server.py"
    script.write_text(f"MODULE = {block.file[:-3]!r}\n" + _MCP_FLOW, encoding="utf-8")
    _run([sys.executable, str(script)], block, workdir, env)


CHECKS: dict[str, Callable[[Block, Path, dict[str, str]], None]] = {
    "app-flow": _check_app_flow,
    "mcp-server": _check_mcp_server,
    "quickstart": _check_quickstart,
    "demo-scripts": _check_demo_scripts,
    "pip-extras": _check_pip_extras,
    "django-project": _check_django_project,
    "uvicorn-target": _check_uvicorn_target,
    "flask-run": _check_flask_run,
    **LOGIN_CHECKS,
}
#: Checks that replace running a shell block (the block would install, serve or recurse).
INSTEAD_OF_RUNNING = frozenset({"demo-scripts", "pip-extras", "uvicorn-target", "flask-run", "quickstart"})


# ----------------------------------------------------------------------------- per-language


def _check_http(block: Block) -> None:
    head, _, body = block.code.partition("\n\n")
    lines = head.strip().splitlines()
    assert lines, f"{block.where}: empty http block"
    first = lines[0].split()
    assert first[0].startswith("HTTP/") or first[-1].startswith("HTTP/"), f"{block.where}: no start line"
    parsers = {"agent-auth": parse_agent_auth, "signature-key": parse_signature_key,
               "signature-input": parse_signature_input, "signature": parse_signature}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        assert sep and name.strip() and " " not in name.strip(), f"{block.where}: bad header line {line!r}"
        parser = parsers.get(name.strip().lower())
        if parser is not None:
            parser(value.strip())
    if body.strip() and "json" in head.lower():
        json.loads(body)


def _write(block: Block, workdir: Path) -> None:
    assert block.file is not None
    target = workdir / block.file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.code, encoding="utf-8")


def _shared_files(workdir: Path) -> None:
    if SHARED_PAGE.is_file():
        for block in blocks_of(SHARED_PAGE):
            if block.file is not None:
                _write(block, workdir)


def exercise(page: Path, workdir: Path) -> int:
    """Run every block of ``page`` in order; returns how many blocks were exercised."""
    env = _env(workdir)
    _shared_files(workdir)
    blocks = blocks_of(page)
    program: list[Block] = []
    last_output: str | None = None  # standard output of the last shell block run

    def flush() -> None:
        if program:
            source = "\n".join(f"# --- {b.where}\n{b.code}" for b in program)
            script = workdir / f"_doc_snippet_{program[0].line}.py"
            script.write_text(source, encoding="utf-8")
            _run([sys.executable, str(script)], program[0], workdir, env)
            program.clear()

    for block in blocks:
        assert block.lang in LANGUAGES, f"{block.where}: fence language {block.lang!r} is not exercised"
        unknown = set(block.directives) - {"file", "continue", "expect-exit", "check", "output"}
        assert not unknown, f"{block.where}: unknown doctest directive(s) {sorted(unknown)}"
        check = block.directives.get("check")
        assert check is None or check in CHECKS, f"{block.where}: unknown check {check!r}"
        if block.lang == "python":
            compile(block.code, block.where, "exec")
            if block.file is not None:
                flush()
                _write(block, workdir)
            elif "continue" in block.directives:
                assert program, f"{block.where}: 'continue' without a python block before it"
                program.append(block)
            else:
                flush()
                program.append(block)
        else:
            flush()
            if block.lang == "bash":
                if block.file is not None:
                    _write(block, workdir)
                elif check not in INSTEAD_OF_RUNNING:
                    last_output = _run(["bash", "-eu", "-o", "pipefail", "-c", block.code], block, workdir, env,
                                       expect=int(block.directives.get("expect-exit", "0"))).stdout
            elif block.lang == "json":
                json.loads(block.code)
            elif block.lang == "toml":
                tomllib.loads(block.code)
            elif block.lang == "http":
                _check_http(block)
            elif block.lang == "text" and "output" in block.directives:
                assert last_output is not None, f"{block.where}: no shell block ran before this output"
                assert block.code == last_output, (
                    f"{block.where}: the shown output differs from what the command printed:\n{last_output}")
            if block.file is not None and block.lang != "bash":
                _write(block, workdir)
        if check is not None:
            flush()
            CHECKS[check](block, workdir, env)
    flush()
    return len(blocks)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_code_block_runs(page: Path, tmp_path: Path) -> None:
    exercise(page, tmp_path)


def test_every_page_is_tested() -> None:
    expected = {"index", "quickstart-starlette", "quickstart-flask", "quickstart-django", "client", "authserver",
                "settings", "errors", "proxy", "cli", "testing", "mcp"}
    assert expected <= {p.stem for p in PAGES}
    assert sum(len(blocks_of(p)) for p in PAGES) > 0


def test_the_network_guard_works(tmp_path: Path) -> None:
    """The guard itself: a snippet that fetches a real name fails the page."""
    block = Block(ROOT / "README.md", 1, "python", "import httpx\nhttpx.get('https://api.example/')\n")
    with pytest.raises(AssertionError, match="network"):
        _run([sys.executable, "-c", block.code], block, tmp_path, _env(tmp_path), expect=1)
