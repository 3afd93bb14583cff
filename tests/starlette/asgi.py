"""Drive an ASGI app directly, for what a test client cannot show: chunked bodies, disconnects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message


@dataclass
class Exchange:
    """One request sent message by message; what the server side saw."""

    chunks: Sequence[bytes] = ()
    disconnect_early: bool = False  # send http.disconnect instead of the last chunk
    receive_calls: int = 0
    sent: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        self.receive_calls += 1
        index = self.receive_calls - 1
        if index < len(self.chunks):
            last = index == len(self.chunks) - 1
            if last and self.disconnect_early:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": self.chunks[index], "more_body": not last}
        if not self.chunks and index == 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def http_scope(method: str, target: str, headers: Mapping[str, str], *, host: str = "api.example") -> dict[str, Any]:
    raw_path, _, query = target.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
        "path": unquote(raw_path), "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", host.encode())] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": (host, 443), "client": ("127.0.0.1", 50000),
    }


async def run(app: ASGIApp, scope: dict[str, Any], exchange: Exchange) -> Exchange:
    await app(scope, exchange.receive, exchange.send)
    return exchange
