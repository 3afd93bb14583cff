"""Issue 15: token-endpoint throughput, one worker, loopback: our aauth-11 person server's
``POST /token`` (a three-party auth token) next to the January auth server's ``POST
/agent/token`` (``request_type=auth``), measured the same way in the same run.

    python -m benchmarks.throughput_11 [--requests 1000] [--seconds 20]

Each server is the Starlette app under uvicorn (one process, one event loop) on 127.0.0.1, with
``AllowAll`` (an explicit autonomous grant, so every request issues a token) and a memory store;
the documents of the other parties (agent provider or agent, resource) come from an in-process
transport and are cached after the ``--warmup`` requests.  Then the load generator of
:mod:`benchmarks.throughput` sends the pre-signed, distinct requests (the body differs, so no
signature is a replay) one after another on one keep-alive connection (concurrency 1) and
reports requests per second, p50/p99 latency and errors (anything but a 200).  The listening
socket has ``TCP_NODELAY`` (else each answer waits for a delayed ACK, ~40 ms).  Bounded by
``--requests`` and ``--seconds``; every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from aauth_core import dialect
from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig
from aauth_core.client import AgentProvider
from aauth_core.discovery import Discovery
from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.personserver import PersonServer, PersonServerConfig
from aauth_core.tokens import mint_resource_token, peek
from aauth_core.tokens.mint_11 import jose_alg, mint_resource_token_11
from aauth_core.wire.coverage import required_components_11
from aauth_starlette.authserver import build_auth_server_app
from aauth_starlette.personserver import build_person_server_app

from ._parties import AGENT, RESOURCE, Parties
from .throughput import _load

__all__ = ["run"]

HOST = "127.0.0.1"
AP = "https://ap.example"
AGENT_11 = "aauth:assistant@ap.example"
CALLBACK = f"{AGENT}/callback"


@contextmanager
def _serve(app: Any, sock: socket.socket) -> Iterator[str]:
    """``app`` under uvicorn in a thread on the bound ``sock``; stopped on exit."""
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://{HOST}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _bound() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no Nagle stalls
    sock.bind((HOST, 0))
    return sock, f"http://{HOST}:{sock.getsockname()[1]}"


def _documents(docs: dict[str, Any]) -> tuple[httpx.MockTransport, httpx.MockTransport]:
    def handle(request: httpx.Request) -> httpx.Response:
        doc = docs.get(str(request.url))
        return httpx.Response(404) if doc is None else httpx.Response(
            200, content=json.dumps(doc).encode(), headers={"Cache-Control": "max-age=86400"})

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    return httpx.MockTransport(handle), httpx.MockTransport(ahandle)


def _measure(origin: str, requests: list[tuple[str, dict[str, str], bytes]], warmup: int,
             seconds: float) -> dict[str, Any]:
    """The warm-up over httpx (each must be a 200), then the rest as raw HTTP/1.1 bytes written
    in one piece on one keep-alive connection (:func:`benchmarks.throughput._load`, concurrency 1)."""
    with httpx.Client(base_url=origin, trust_env=False, timeout=10) as client:
        for path, headers, body in requests[:warmup]:
            got = client.post(path, headers=headers, content=body)
            if got.status_code != 200:
                raise RuntimeError(f"warm-up request refused: {got.status_code} {got.text[:300]}")
    port = int(origin.rsplit(":", 1)[1])
    raw = [_raw_post(port, path, headers, body) for path, headers, body in requests[warmup:]]
    return asyncio.run(_load(port, raw, 1, seconds))


def _raw_post(port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers.items()),
             f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def _person_server(n: int, warmup: int, seconds: float) -> dict[str, Any]:
    provider = AgentProvider(AP, [SigningKey.generate(kid="ap-1")], allow_loopback=True)
    resource_key = SigningKey.generate(kid="api-1")
    resource_jwks = jwks_document([resource_key])
    resource_jwks["keys"][0]["alg"] = jose_alg(resource_key)
    transport, atransport = _documents({
        f"{AP}/.well-known/aauth-agent.json": provider.metadata(), provider.jwks_uri: provider.jwks(),
        f"{RESOURCE}/.well-known/aauth-resource.json": {"issuer": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json"},
        f"{RESOURCE}/jwks.json": resource_jwks})
    sock, issuer = _bound()
    config = PersonServerConfig(issuer=issuer, keys=[SigningKey.generate(kid="ps-1")], subject_secret=b"s" * 32,
                                agents={AGENT_11: "alice"}, allow_insecure_loopback=True,
                                settings={"replay_cache_size": 1_000_000})
    discovery = Discovery(config.service_settings(), transport=transport, async_transport=atransport,
                          resolver=lambda host: ["93.184.216.34"])
    server = PersonServer(config, policy=AllowAll(), discovery=discovery)
    agent_key = SigningKey.generate()
    agent_token = provider.issue_agent_token("assistant", agent_key.public_jwk(), ps=issuer)
    sigkey = SignatureKey.build("jwt", {"jwt": agent_token}, label="sig", fmt="sk")

    def signed(path: str, doc: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps(doc).encode()
        headers = {"Content-Type": "application/json"}
        out = sign_request("POST", issuer + path, headers, body, key=agent_key, signature_key=sigkey,
                           created=int(time.time()), encoding="base64", components=required_components_11(body=True))
        return path, {**headers, **out.headers}, body

    with _serve(build_person_server_app(server), sock) as origin:
        with httpx.Client(base_url=origin, trust_env=False) as client:
            path, headers, body = signed("/person", {"resource": RESOURCE})
            got = client.post(path, headers=headers, content=body)
            if got.status_code != 200:
                raise RuntimeError(f"the person token was refused: {got.status_code} {got.text[:200]}")
            person = got.json()["person_token"]
        claims = peek(person).claims
        rt = mint_resource_token_11(resource_key, iss=RESOURCE, aud=issuer, ps=issuer, sub=claims["sub"],
                                    presented_jti=claims["jti"], agent_jkt=agent_key.thumbprint, now=time.time(),
                                    scope="data.read")
        requests = [signed("/token", {"resource_token": rt, "presented_token": person, "justification": f"r{i}"})
                    for i in range(n + warmup)]
        return _measure(origin, requests, warmup, seconds)


def _auth_server(n: int, warmup: int, seconds: float) -> dict[str, Any]:
    p = Parties()
    p.documents[f"{RESOURCE}/.well-known/aauth-resource"] = {"resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json"}
    p.documents[f"{RESOURCE}/jwks.json"] = jwks_document([p.resource])
    p.documents[f"{AGENT}/.well-known/aauth-agent"]["redirect_uris"] = [CALLBACK]
    sock, issuer = _bound()
    config = AuthServerConfig(issuer=issuer, keys=[p.issuer], allow_insecure_loopback=True,
                              settings={"replay_cache_size": 1_000_000})
    transport, atransport = _documents(p.documents)
    discovery = Discovery(config.verifier_settings(), transport=transport, async_transport=atransport,
                          resolver=lambda host: ["93.184.216.34"])
    server = AuthServer(config, policy=AllowAll(), discovery=discovery)
    sigkey = SignatureKey.build("jwks", {"id": AGENT, "kid": "key-1", "well-known": dialect.WELL_KNOWN_AGENT})

    def signed(i: int) -> tuple[str, dict[str, str], bytes]:
        rt = mint_resource_token(p.resource, iss=RESOURCE, aud=issuer, agent=AGENT, agent_jkt=p.agent.thumbprint,
                                 now=time.time(), scope="data.read", lifetime=600 - i % 300)  # distinct bodies
        body = urlencode({"request_type": "auth", "resource_token": rt, "redirect_uri": CALLBACK}).encode()
        headers = {"Content-Type": dialect.FORM_CONTENT_TYPE}
        out = sign_request("POST", f"{issuer}/agent/token", headers, body, key=p.agent, signature_key=sigkey,
                           created=int(time.time()) - i // 300)
        return "/agent/token", {**headers, **out.headers}, body

    with _serve(build_auth_server_app(server), sock) as origin:
        return _measure(origin, [signed(i) for i in range(n + warmup)], warmup, seconds)


ROWS: dict[str, Callable[[int, int, float], dict[str, Any]]] = {
    "aauth-11 person server POST /token (auth token, three-party)": _person_server,
    "January auth server POST /agent/token (request_type=auth)": _auth_server,
}


def run(n: int = 1000, warmup: int = 50, seconds: float = 20.0) -> dict[str, dict[str, Any]]:
    return {name: measure(n, warmup, seconds) for name, measure in ROWS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    results = run(args.requests, args.warmup, args.seconds)
    print("| token endpoint (one worker, loopback) | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")


if __name__ == "__main__":
    main()
