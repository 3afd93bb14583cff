"""``aauth request --profile aauth-11`` against real parties on 127.0.0.1: our agent provider
(``AgentProvider.asgi_app``), a small person server (test-only: our JSON endpoints over our
minters and our verifier, until issue 15 brings the real one) and a Starlette resource with
``profiles=("aauth-11",)``, all served by uvicorn; the loopback identifiers are allowed by the
development switch (P7) on every side."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth_core.cli import main
from aauth_core.client.agent_provider import AgentProvider
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import mint_auth_token_11, mint_person_token_11
from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

from ..e2e.conftest import Loopback


@aauth_required("identity")
async def whoami(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({"agent": ctx.agent, "profile": ctx.profile})


@aauth_required("authorization", scopes=["data.read"])
async def read(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    return JSONResponse({"person": list(ctx.person or ()), "scope": sorted(ctx.scope), "profile": ctx.profile})


def person_server(url: str, ap: str) -> tuple[Any, list[str]]:
    """``/.well-known/aauth-person.json``, its JWKS, ``POST /person`` and ``POST /token``: the
    agent's requests verified by our middleware (agent-token mode), tokens minted by our minters.
    Test policy: one person (``person-1``), every request approved at once."""
    key = SigningKey.generate(kid="ps-1")
    calls: list[str] = []

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": url, "jwks_uri": f"{url}/jwks.json", "person_token_endpoint": f"{url}/person",
                             "auth_token_endpoint": f"{url}/token"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [{**key.public_jwk(), "alg": "Ed25519"}]})

    @aauth_required("identity")
    async def person(request: Request) -> JSONResponse:
        calls.append("person")
        ctx, body = get_aauth(request), await request.json()
        token = mint_person_token_11(key, iss=url, aud=body["resource"], sub="person-1", cnf_jwk=ctx.key.jwk,
                                     now=_now(), tenant="acme")
        return JSONResponse({"person_token": token, "expires_in": 3600})

    @aauth_required("identity")
    async def token(request: Request) -> Response:
        calls.append("token")
        ctx, body = get_aauth(request), await request.json()
        resource_token = peek(body["resource_token"]).claims
        if resource_token["aud"] != url or resource_token["agent_jkt"] != ctx.key_thumbprint:
            return JSONResponse({"error": "invalid_resource_token"}, status_code=400,
                                media_type="application/problem+json")
        auth = mint_auth_token_11(key, iss=url, aud=resource_token["iss"], ps=url, sub=resource_token["sub"],
                                  cnf_jwk=ctx.key.jwk, now=_now(), scope=resource_token.get("scope"),
                                  tenant=resource_token.get("tenant"))
        return JSONResponse({"auth_token": auth, "expires_in": 3600})

    app = Starlette(routes=[Route("/.well-known/aauth-person.json", metadata), Route("/jwks.json", jwks),
                            Route("/person", person, methods=["POST"]), Route("/token", token, methods=["POST"])])
    settings = AAuthSettings(resource_id=url, profiles=("aauth-11",), allow_insecure_loopback=True)
    return AAuthMiddleware(app, settings=settings, keys=[key]), calls


def _now() -> float:
    import time

    return time.time()


@dataclass
class Parties11:
    resource: str
    keyfile: Path
    agent_token: str
    ps_calls: list[str]


@pytest.fixture(scope="module")
def parties() -> Iterator[Parties11]:
    loopback = Loopback()
    try:
        ap_url, ps_url, rs_url = loopback.reserve(), loopback.reserve(), loopback.reserve()
        provider = AgentProvider(ap_url, [SigningKey.generate(kid="ap-1")], allow_loopback=True)
        loopback.serve(ap_url, provider.asgi_app())
        ps_app, calls = person_server(ps_url, ap_url)
        loopback.serve(ps_url, ps_app)
        settings = AAuthSettings(resource_id=rs_url, profiles=("aauth-11",), person_servers=(ps_url,),
                                 resource_scopes=("data.read",), allow_insecure_loopback=True)
        api = Starlette(routes=[Route("/whoami", whoami), Route("/data", read)])
        loopback.serve(rs_url, AAuthMiddleware(api, settings=settings, keys=[SigningKey.generate(kid="rs-1")]))
        agent_key = SigningKey.generate(kid="agent-1")
        token = provider.issue_agent_token("cli", agent_key.public_jwk(), ps=ps_url)
        keyfile = Path(os.environ.get("TMPDIR", "/tmp")) / f"aauth-cli11-{os.getpid()}.json"
        keyfile.write_text(json.dumps(agent_key.private_jwk()))
        keyfile.chmod(0o600)
        try:
            yield Parties11(rs_url, keyfile, token, calls)
        finally:
            keyfile.unlink()
    finally:
        loopback.close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["request", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def args_11(p: Parties11) -> list[str]:
    return ["--profile", "aauth-11", "--key", str(p.keyfile), "--agent-token", p.agent_token, "--allow-loopback"]


def test_an_agent_token_route(parties: Parties11, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "GET", f"{parties.resource}/whoami", *args_11(parties))
    assert code == 0, err
    body = json.loads(out)
    assert body["profile"] == "aauth-11" and body["agent"].startswith("aauth:cli@127.0.0.1:")


def test_the_three_party_flow_through_the_person_server(parties: Parties11,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """person-token challenge → person server → auth-token challenge → person server → 200."""
    before = list(parties.ps_calls)
    code, out, err = run(capsys, "GET", f"{parties.resource}/data", *args_11(parties))
    assert code == 0, err
    assert json.loads(out)["scope"] == ["data.read"] and json.loads(out)["person"][1] == "person-1"
    assert parties.ps_calls[len(before):] == ["person", "token"]
    assert parties.agent_token not in err  # nothing secret printed


def test_the_agent_token_from_a_file(parties: Parties11, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "agent.jwt"
    token_file.write_text(parties.agent_token + "\n")
    argv = [a if a != parties.agent_token else f"@{token_file}" for a in args_11(parties)]
    code, _, err = run(capsys, "GET", f"{parties.resource}/whoami", *argv)
    assert code == 0, err


def test_a_january_call_at_an_11_only_resource_shows_the_signature_error(
        parties: Parties11, capsys: pytest.CaptureFixture[str]) -> None:
    """P2: an -11-only resource reads every Signature-Key as SK-09; January's transcript form is
    not a Dictionary, so the refusal is ``invalid_signature``, shown with its header."""
    code, _, err = run(capsys, "GET", f"{parties.resource}/whoami", "--hwk", "--allow-loopback")
    assert code == 1 and "Signature-Error: error=invalid_signature" in err and "error: invalid_signature" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--profile", "aauth-11", "--allow-loopback"], "needs --key and --agent-token"),
    (["--profile", "aauth-11", "--hwk", "--allow-loopback"], "--hwk is not used under aauth-11"),
    (["--agent-token", "x", "--allow-loopback"], "--agent-token is an aauth-11 option"),
    (["--profile", "aauth-11", "--key", "KEY", "--agent-token", "not-a-jwt", "--allow-loopback"], "not a JWT"),
])
def test_usage_errors(parties: Parties11, capsys: pytest.CaptureFixture[str], argv: list[str],
                      message: str) -> None:
    argv = [str(parties.keyfile) if a == "KEY" else a for a in argv]
    before = list(parties.ps_calls)
    assert main(["request", "GET", f"{parties.resource}/whoami", *argv]) == 2
    assert message in capsys.readouterr().err and parties.ps_calls == before


def test_a_january_token_is_refused_as_an_agent_token(parties: Parties11, capsys: pytest.CaptureFixture[str]) -> None:
    january = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJhZ2VudCtqd3QifQ.e30.c2ln"
    argv = ["--profile", "aauth-11", "--key", str(parties.keyfile), "--agent-token", january, "--allow-loopback"]
    assert main(["request", "GET", f"{parties.resource}/whoami", *argv]) == 2
    assert "must be an aa-agent+jwt" in capsys.readouterr().err
