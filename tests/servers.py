"""A real uvicorn server on a free 127.0.0.1 port, in a thread, for the length of a ``with``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_asgi(app: Any, *, sock: socket.socket | None = None, startup_timeout: float = 10.0,
               lifespan: str = "off") -> Iterator[str]:
    """Serve ``app``; yields its base URL.  The socket is bound first (no port race); pass
    your own bound ``sock`` when the app must know its URL before it is built.  ``lifespan="on"``
    for an app that starts something at startup (an MCP server's session manager)."""
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
