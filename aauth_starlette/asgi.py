"""ASGI scope → :class:`RequestView` and the bounded body read, shared by the middleware and
the route demands (which verify themselves on exempt paths)."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from aauth_core.request import Headers, RequestView
from aauth_core.resource.contract import fallback_host
from aauth_core.service import AAuthService

__all__ = ["read_body", "replay_body", "view_of"]


def view_of(service: AAuthService, scope: Scope, headers: Headers) -> RequestView:
    """Raw path and query as received (the signature covers those bytes), no body yet."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = scope.get("query_string", b"").decode("latin-1") or None  # ASGI cannot tell "/p?" from "/p"
    scheme = scope.get("scheme", "https")
    host = None
    if service.canonical_authority is None:  # only then does the server's address matter
        server = scope.get("server")
        if server:
            host = fallback_host(server[0], server[1], scheme)
    return service.view(method=scope["method"], path=path.partition("?")[0], query=query,
                        headers=headers, host=host, scheme=scheme)


async def read_body(receive: Receive, service: AAuthService, headers: Headers) -> bytes | None:
    """The whole request body, or ``None`` if the client disconnected first.

    A declared ``Content-Length`` over ``max_body_bytes`` is refused (413) before a
    byte is read; otherwise reading stops as soon as the body grows past the limit,
    so an unbounded upload is never buffered."""
    service.check_declared_length(headers.get("content-length"))
    limit = service.body_read_limit
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size >= limit:
            too_large = service.body_too_large(size)
            if too_large is not None:
                raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the buffered body once, then defers to the server
    (for any ASGI layer that reads the body before the app does)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

