"""Shared by the server drivers (ps_server.py, rs_server.py; run under .interop/py, imported from
the driver's own folder): the loopback host table and serving an ASGI app on an inherited socket.

The protocol between a server driver and tests/interop/peer_servers.py:

* the test binds a listening socket on 127.0.0.1 and passes its descriptor (``pass_fds``);
* stdin, first line: the driver's JSON configuration, with ``fd`` (that socket) and ``routes``
  (``{host: port}``: where each identifier's host listens on 127.0.0.1, the driver's own included);
* stdout: one line ``{"ready": true}`` once uvicorn serves;
* end of stdin: the driver stops serving and exits.

A peer's outbound requests to ``https://<host>`` go to ``http://127.0.0.1:<port>`` with the
``Host`` header still ``<host>``; a host outside the table is refused before any packet is sent.
Nothing here prints a token, a key or a signature.
"""

import asyncio
import json
import socket
import sys
import threading

import httpx
import httpx2
import uvicorn


def read_config():
    """The configuration line the test writes first on stdin."""
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("no configuration on stdin")
    return json.loads(line)


def _loopback_url(url, routes):
    """``https://<host>/…`` as ``http://127.0.0.1:<port>/…``, or None for a URL off the table."""
    port = routes.get(url.host)
    if url.scheme != "https" or url.port is not None or port is None:
        return None
    return url.copy_with(scheme="http", host="127.0.0.1", port=int(port))


class LoopbackTransport2(httpx2.AsyncBaseTransport):
    """For introspection-aauth's ``httpx2.AsyncClient``: the host table, nothing else."""

    def __init__(self, routes):
        self._routes = dict(routes)
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        url = _loopback_url(request.url, self._routes)
        if url is None:
            raise httpx2.ConnectError(f"{request.url.host} is not on the loopback table", request=request)
        request.url = url  # the Host header keeps the identifier's host
        return await self._inner.handle_async_request(request)

    async def aclose(self):
        await self._inner.aclose()


class LoopbackTransport(httpx.BaseTransport):
    """For aauth's blocking JWKS fetcher (``httpx.Client``): the same table."""

    def __init__(self, routes):
        self._routes = dict(routes)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request):
        url = _loopback_url(request.url, self._routes)
        if url is None:
            raise httpx.ConnectError(f"{request.url.host} is not on the loopback table", request=request)
        request.url = url
        return self._inner.handle_request(request)

    def close(self):
        self._inner.close()


def by_host(apps):
    """One ASGI app per identifier host; any other ``Host`` is 421 Misdirected Request."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        target = apps.get(host)
        if target is None:
            await send({"type": "http.response.start", "status": 421, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await target(scope, receive, send)

    return app


def serve(app, fd):
    """Serve ``app`` on the inherited listening socket until stdin ends."""
    sock = socket.socket(fileno=fd)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))

    def stop_at_end_of_stdin():
        sys.stdin.read()
        server.should_exit = True

    async def main():
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(json.dumps({"ready": True}), flush=True)
            threading.Thread(target=stop_at_end_of_stdin, daemon=True).start()
        await task

    asyncio.run(main())
    sock.close()
