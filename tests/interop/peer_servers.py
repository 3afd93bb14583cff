"""Live peers on 127.0.0.1 for the aauth-11 rows (test_peers_ps_11.py, test_peers_resource_11.py).

Identifiers stay -11 identifiers (``https://ps.example``, no port): a :class:`LoopbackNet` gives
each identifier's host a listening socket on 127.0.0.1, and every client, ours and the peers',
reaches ``https://<host>`` at ``http://127.0.0.1:<port>`` with the ``Host`` header still
``<host>``, so a signature over ``@authority`` verifies as it would on the real network.  A host
that is not on the table is refused before a packet is sent: nothing leaves 127.0.0.1.

Our side's servers (:class:`DocumentServer`: an agent provider's and a resource's metadata and
JWKS; our real resource, ``ours11.py``) run in a thread with uvicorn (``tests/servers.py``), or
werkzeug's WSGI server for a WSGI app; a peer's server runs as a subprocess
under the peer's own interpreter (``peers/ps_server.py``, ``peers/rs_server.py``, protocol in
``peers/loopback.py``), on a socket bound here and inherited, so there is no port race.  Every
server is stopped and reaped when its ``with`` ends, and its port is checked to refuse
connections: no listener is left behind.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import httpx
import httpx2
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from aauth_core.profile.identifiers import check_server_identifier

from ..servers import serve_asgi
from .peer_runner import _ENV, DRIVERS, INTEROP, _missing

SERVER_PEERS = "introspection-aauth 0.1.0 and uvicorn 0.55.0"
READY_TIMEOUT = 60.0  # seconds for a driver to import its peer and start serving
STOP_TIMEOUT = 15.0


class _URL(Protocol):
    """What httpx's and httpx2's ``URL`` share, for the one rewrite both transports make."""

    @property
    def scheme(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int | None: ...


def loopback_port(url: _URL, routes: Mapping[str, int]) -> int | None:
    """The 127.0.0.1 port serving ``url``, or None: only ``https://<host>`` with no port maps."""
    if url.scheme != "https" or url.port is not None:
        return None
    return routes.get(url.host)


class LoopbackTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """httpx, blocking and awaitable: ``https://<host>`` → ``http://127.0.0.1:<port>``, Host kept."""

    def __init__(self, routes: Mapping[str, int]) -> None:
        self._routes = routes
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()

    def _rewrite(self, request: httpx.Request) -> httpx.Request:
        """A copy for the loopback port: the caller's request keeps its URL (a client reads it
        back, e.g. to resolve a ``Location`` against it)."""
        port = loopback_port(request.url, self._routes)
        if port is None:
            raise httpx.ConnectError(f"{request.url.host} is not on the loopback table", request=request)
        return httpx.Request(request.method, request.url.copy_with(scheme="http", host="127.0.0.1", port=port),
                             headers=request.headers, stream=request.stream, extensions=request.extensions)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._sync.handle_request(self._rewrite(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._async.handle_async_request(self._rewrite(request))

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


class LoopbackTransport2(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """The same for httpx2 (our client speaks both)."""

    def __init__(self, routes: Mapping[str, int]) -> None:
        self._routes = routes
        self._sync = httpx2.HTTPTransport()
        self._async = httpx2.AsyncHTTPTransport()

    def _rewrite(self, request: httpx2.Request) -> httpx2.Request:
        port = loopback_port(request.url, self._routes)
        if port is None:
            raise httpx2.ConnectError(f"{request.url.host} is not on the loopback table", request=request)
        return httpx2.Request(request.method, request.url.copy_with(scheme="http", host="127.0.0.1", port=port),
                              headers=request.headers, stream=request.stream, extensions=request.extensions)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._sync.handle_request(self._rewrite(request))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._async.handle_async_request(self._rewrite(request))

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


class LoopbackNet:
    """The host table: which 127.0.0.1 port serves each identifier's host."""

    def __init__(self) -> None:
        self.routes: dict[str, int] = {}

    def listen(self, *identifiers: str) -> socket.socket:
        """A listening socket on a free 127.0.0.1 port, serving ``identifiers`` (-11 server
        identifiers, ``https://host``, each on one port only)."""
        hosts = [check_server_identifier(identifier).removeprefix("https://") for identifier in identifiers]
        if taken := [host for host in hosts if host in self.routes]:
            raise ValueError(f"already served: {taken}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.routes.update(dict.fromkeys(hosts, sock.getsockname()[1]))
        return sock

    def transport(self) -> LoopbackTransport:
        return LoopbackTransport(self.routes)

    def transport2(self) -> LoopbackTransport2:
        return LoopbackTransport2(self.routes)

    def client(self) -> httpx.Client:
        """Our blocking client on the table (no redirects, as every AAuth fetch)."""
        return httpx.Client(transport=self.transport(), follow_redirects=False, timeout=30)


def assert_no_listener(port: int) -> None:
    """Nothing accepts connections on ``port`` any more."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"a listener is left on 127.0.0.1:{port}"


class DocumentServer:
    """Our side's static documents (metadata, JWKS) by URL, as an ASGI app that routes on ``Host``;
    it records every URL fetched, so a test can show that a peer really fetched them."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.fetched: list[str] = []

    def publish(self, url: str, document: Any) -> None:
        self.documents[url] = document

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        url = f"https://{host}{scope['path']}"
        self.fetched.append(url)
        document = self.documents.get(url) if scope["method"] == "GET" else None
        status, body = (404, b"") if document is None else (200, json.dumps(document).encode())
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def recorded(app: Any, fetched: list[str]) -> Any:
    """``app`` (ASGI), recording in ``fetched`` the URL of every request it gets."""

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            fetched.append(f"https://{host}{scope['path']}")
        await app(scope, receive, send)

    return recording


def recorded_wsgi(app: Any, fetched: list[str]) -> Any:
    """``app`` (WSGI), recording in ``fetched`` the URL of every request it gets."""

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        fetched.append(f"https://{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '')}")
        return app(environ, start_response)

    return recording


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log (a query string is nobody's business in a test log)."""


@contextmanager
def serve_wsgi_ours(app: Any, sock: socket.socket) -> Iterator[int]:
    """Serve our WSGI ``app`` (Flask, Django) with werkzeug's threaded server, in a thread, on
    ``sock`` (from :meth:`LoopbackNet.listen`); its port."""
    port = sock.getsockname()[1]
    try:
        server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler,
                             fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate of the listener
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT)
    assert_no_listener(port)


@contextmanager
def serve_ours(app: Any, sock: socket.socket) -> Iterator[int]:
    """Serve our ASGI ``app`` in a thread on ``sock`` (from :meth:`LoopbackNet.listen`); its port."""
    port = sock.getsockname()[1]
    with serve_asgi(app, sock=sock):
        yield port
    assert_no_listener(port)


def _server_python() -> str:
    python, stamp = INTEROP / "py" / "bin" / "python", INTEROP / "py" / ".stamp"
    if not python.is_file() or not stamp.is_file():
        _missing(SERVER_PEERS, ".interop/py has no completed install")
    if "introspection-aauth" not in stamp.read_text() or "uvicorn" not in stamp.read_text():
        _missing(SERVER_PEERS, ".interop/py predates them")
    return str(python)


def _tail(log: Any) -> str:
    log.seek(0)
    return str(log.read().decode("utf-8", "replace")[-3000:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End of stdin asks the driver to stop; reaped in any case."""
    assert proc.stdin is not None and proc.stdout is not None
    with suppress(OSError):  # it is gone already
        proc.stdin.close()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)
    proc.stdout.close()


@contextmanager
def peer_server(driver: str, net: LoopbackNet, sock: socket.socket, config: Mapping[str, Any]) -> Iterator[int]:
    """Run ``peers/<driver>`` on ``sock`` (from :meth:`LoopbackNet.listen`), configured with
    ``config`` plus the host table, which must already name every host it will fetch; its port."""
    port, fd = sock.getsockname()[1], sock.fileno()
    with tempfile.TemporaryFile() as log:
        try:
            python = _server_python()
            proc = subprocess.Popen([python, "-E", "-s", str(DRIVERS / driver)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log, pass_fds=(fd,), env=_ENV, cwd=str(INTEROP))
        finally:
            sock.close()  # the driver holds the listener now (or nobody does)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            with suppress(BrokenPipeError):  # a driver that died at import: its stderr says why, below
                proc.stdin.write(json.dumps({**config, "fd": fd, "routes": net.routes}).encode() + b"\n")
                proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
            line = proc.stdout.readline() if ready else b""
            if line.strip() != b'{"ready": true}':
                pytest.fail(f"peer server {driver} did not start:\n{_tail(log)}", pytrace=False)
            yield port
        finally:
            _stop(proc)
        if proc.returncode != 0:
            pytest.fail(f"peer server {driver} failed (exit {proc.returncode}):\n{_tail(log)}", pytrace=False)
    assert_no_listener(port)
