"""Server-side transcript printing for the sample parties (``--debug`` only).

Wraps a party's ASGI or WSGI app and prints each request it receives and the
response it sends, the way the seed transcript shows them.  Demo code: the
library never prints an exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aauth_starlette.middleware import replay_body

from .printer import Printer, shorten

__all__ = ["asgi_logger", "wsgi_logger"]

_SKIP = {"accept-encoding", "connection", "user-agent", "accept"}


def _request_lines(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes) -> list[str]:
    lines = [f"{method} {target} HTTP/1.1"]
    lines += sorted(f"{k.lower()}: {shorten(v)}" for k, v in headers if k.lower() not in _SKIP)
    if body:
        lines += ["", f"[Body ({len(body)} bytes)]", body.decode("utf-8", "replace")]
    return lines


def _response_lines(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> list[str]:
    lines = [f"HTTP/1.1 {status}"]
    lines += sorted(f"{k.lower()}: {shorten(v)}" for k, v in headers)
    lines += ["", f"[Body ({len(body)} bytes)]", body.decode("utf-8", "replace")[:2000]]
    return lines


def asgi_logger(app: ASGIApp, who: str, printer: Printer) -> ASGIApp:
    """Print what an ASGI party receives and answers (documents and JWKS excluded)."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/.well-known/") or scope["path"] == "/jwks.json":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        printer.section(f">>> {who} REQUEST received", _request_lines(scope["method"], target, headers, body))

        status = 0
        out_headers: list[tuple[str, str]] = []
        out_body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, out_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                out_body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    printer.section(f"<<< {who} RESPONSE", _response_lines(status, out_headers, b"".join(out_body)))
            await send(message)

        await app(scope, replay_body(body, receive), capture)

    return logged


def wsgi_logger(app: Callable[..., Any], who: str, printer: Printer) -> Callable[..., Any]:
    """Print what a WSGI party receives and answers."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/.well-known/") or path == "/jwks.json":
            return app(environ, start_response)
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        headers = [(k[5:].replace("_", "-").lower(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"]))
        printer.section(f">>> {who} REQUEST received", _request_lines(environ["REQUEST_METHOD"], target, headers, body))
        captured: dict[str, Any] = {}

        def capture(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = int(status.split()[0]), response_headers
            return start_response(status, response_headers, exc_info)

        result = list(app(environ, capture))
        printer.section(f"<<< {who} RESPONSE", _response_lines(captured.get("status", 0), captured.get("headers", []),
                                                                 b"".join(result)))
        return result

    return logged
