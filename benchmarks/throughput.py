"""Issue 7: throughput on loopback, and the client's token-endpoint calls.

    python -m benchmarks.throughput [--requests 5000] [--concurrency 50]

Starts, on 127.0.0.1 only, the sample auth server and agent server (uvicorn) and
then, one at a time, the sample resource under uvicorn (Starlette) and under
gunicorn, one process with 8 threads (Flask, Django: ``benchmarks._wsgi_server``),
and the Django sample as it serves itself (ASGI under uvicorn).  The Django
sample's views are ``async def``: under WSGI each request runs them through
``async_to_sync``.  A bounded
load generator (asyncio, raw HTTP/1.1 keep-alive, ``--concurrency`` connections)
sends ``--requests`` pre-signed distinct ``scheme=jwt`` GETs of ``/data-auth``
(protected, level ``authorization``) and as many unsigned GETs of the resource's
metadata document (unprotected), and reports requests per second, p50/p99
latency and errors (anything but a 200).  Every server is stopped at the end.

The client side: an ``agent_auth`` httpx client (token cache on) makes 1,000
requests to the Starlette resource; the token-endpoint calls are counted on the
wire with an event hook (target: one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from aauth_core import dialect
from aauth_core.client import RequestSigner, agent_auth
from aauth_core.client.flow import ClientOptions
from aauth_core.keys import SigningKey
from aauth_core.tokens import mint_auth_token

__all__ = ["run", "table"]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(args: list[str], port: int, timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until its port answers, always stop it."""
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise RuntimeError(f"server {args} exited: {err}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server {args} did not start") from None
                time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------- load generator


async def _load(port: int, requests: list[bytes], concurrency: int, timeout: float) -> dict[str, Any]:
    """Send ``requests`` (raw HTTP/1.1 bytes) over ``concurrency`` keep-alive connections."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
        """The status line and whether the server will close; the body (length or chunked) is consumed."""
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before a response")
        length, chunked, close = 0, False, status_line.startswith(b"HTTP/1.0")
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                close = value.strip().lower() == "close"
        if chunked:
            while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
                await reader.readexactly(size + 2)
            while await reader.readline() not in (b"\r\n", b""):
                pass  # trailers
        else:
            await reader.readexactly(length)
        return status_line, close

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while queue:
            raw = queue.pop()
            try:
                t0 = time.perf_counter()
                for attempt in (1, 2):  # a kept-alive connection the server closed while idle: reconnect once
                    if writer is None:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    assert reader is not None
                    writer.write(raw)
                    try:
                        status_line, close = await read_response(reader)
                        break
                    except ConnectionResetError:
                        writer.close()
                        reader = writer = None
                        if attempt == 2:
                            raise
                latencies.append(time.perf_counter() - t0)
                parts = status_line.split()
                if len(parts) < 2 or parts[1] != b"200":
                    error(parts[1].decode() if len(parts) > 1 else "bad response")
                if close:
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                error(type(exc).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout)
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(requests), "rps": len(requests) / wall,
        "p50_ms": 1e3 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1e3 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def _raw_get(port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


# ---------------------------------------------------------------------------- parties


class _Loopback:
    """Keys on disk and the URLs of the auth server, the agent server and the resource."""

    def __init__(self, tmp: Path) -> None:
        self.agent = SigningKey.generate(kid="key-1")
        self.issuer = SigningKey.generate(kid="auth-key-1")
        self.resource = SigningKey.generate(kid="resource-key-1")
        self.files = {}
        for name, key in (("agent", self.agent), ("authserver", self.issuer), ("resource", self.resource)):
            path = tmp / f"{name}.jwk"
            path.write_text(json.dumps(key.private_jwk()))
            os.chmod(path, 0o600)
            self.files[name] = str(path)
        self.as_port, self.agent_port = _free_port(), _free_port()
        self.as_url, self.agent_url = f"http://{HOST}:{self.as_port}", f"http://{HOST}:{self.agent_port}"

    def token(self, resource_url: str, now: int) -> str:
        return mint_auth_token(self.issuer, iss=self.as_url, aud=resource_url, cnf_jwk=self.agent.public_jwk(),
                               now=now, agent=self.agent_url, scope="data.read data.write")

    def signed(self, port: int, n: int, tag: str = "") -> list[bytes]:
        """``n`` distinct signed GETs of ``/data-auth?i=..`` (created now, one token)."""
        resource_url = f"http://{HOST}:{port}"
        now = int(time.time())
        signer = RequestSigner.jwt(self.agent, self.token(resource_url, now))
        out = []
        for i in range(n):
            path = f"/data-auth?i={tag}{i}"
            signed = signer.sign("GET", resource_url + path, {}, None, created=now)
            out.append(_raw_get(port, path, dict(signed.headers)))
        return out


def _resource_args(lb: _Loopback, framework: str, port: int) -> list[str]:
    """``django-asgi``: the Django sample as the sample app serves it (ASGI under uvicorn)."""
    common = ["resource", "--framework", framework.removesuffix("-asgi"), "--port", str(port),
              "--auth-server", lb.as_url, "--key", lb.files["resource"]]
    if framework in ("starlette", "django-asgi"):
        return ["-m", "sample_apps", "serve", *common]
    return ["-m", "benchmarks._wsgi_server", *common]


def _client_token_calls(lb: _Loopback, port: int, n: int) -> dict[str, Any]:
    """``n`` requests through ``agent_auth`` (token cache on); token-endpoint calls on the wire."""
    calls: list[str] = []

    def hook(request: httpx.Request) -> None:
        if request.url.port == lb.as_port and request.method == "POST":
            calls.append(str(request.url))

    signer = RequestSigner.jwks(lb.agent, lb.agent_url)
    auth = agent_auth(signer, options=ClientOptions(allow_insecure_loopback=True))
    ok = 0
    with httpx.Client(auth=auth, event_hooks={"request": [hook]}, timeout=30) as client:
        t0 = time.perf_counter()
        for i in range(n):
            ok += client.get(f"http://{HOST}:{port}/data-auth?i={i}").status_code == 200
        wall = time.perf_counter() - t0
    return {"requests": n, "ok": ok, "token_calls": len(calls), "seconds": wall}


def run(requests: int = 5000, concurrency: int = 50, client_requests: int = 1000) -> dict[str, Any]:
    results: dict[str, Any] = {"load": {}, "requests": requests, "concurrency": concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        lb = _Loopback(Path(tmp))
        with _server(["-m", "sample_apps", "serve", "authserver", "--port", str(lb.as_port),
                      "--key", lb.files["authserver"]], lb.as_port), \
             _server(["-m", "sample_apps", "serve", "agent", "--port", str(lb.agent_port),
                      "--key", lb.files["agent"]], lb.agent_port):
            for framework in ("starlette", "flask", "django", "django-asgi"):
                port = _free_port()
                with _server(_resource_args(lb, framework, port), port):
                    asyncio.run(_load(port, lb.signed(port, 1, "warm"), 1, 30))  # warm: discovers the AS keys
                    meta = f"/.well-known/{dialect.WELL_KNOWN_RESOURCE}"
                    open_reqs = [_raw_get(port, f"{meta}?i={i}", {}) for i in range(requests)]
                    results["load"][f"{framework} unprotected"] = asyncio.run(
                        _load(port, open_reqs, concurrency, 300))
                    signed = lb.signed(port, requests)
                    results["load"][f"{framework} protected"] = asyncio.run(_load(port, signed, concurrency, 300))
                    if framework == "starlette" and client_requests:
                        results["client"] = _client_token_calls(lb, port, client_requests)
    return results


def table(r: dict[str, Any]) -> str:
    lines = [f"{r['requests']} requests at concurrency {r['concurrency']}, loopback:", "",
             "| server | route | req/s | p50 ms | p99 ms | errors |", "|---|---|---:|---:|---:|---:|"]
    servers = {"starlette": "Starlette / uvicorn", "flask": "Flask / gunicorn gthread (WSGI)",
               "django": "Django / gunicorn gthread (WSGI)",
               "django-asgi": "Django / uvicorn (ASGI, as the sample serves it)"}
    for name, m in r["load"].items():
        framework, kind = name.split()
        route = "`/data-auth`, jwt, authorization" if kind == "protected" else "metadata document, unsigned"
        errs = f"{m['errors']}" + (f" {m['error_kinds']}" if m["errors"] else "")
        lines.append(f"| {servers[framework]} | {kind}: {route} | {m['rps']:.0f} | {m['p50_ms']:.1f} "
                     f"| {m['p99_ms']:.1f} | {errs} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--client-requests", type=int, default=1000)
    args = parser.parse_args()
    r = run(args.requests, args.concurrency, args.client_requests)
    print(table(r))
    if "client" in r:
        c = r["client"]
        print(f"client: {c['requests']} requests, {c['ok']} OK, {c['token_calls']} token-endpoint call(s)")


if __name__ == "__main__":
    main()
