"""aauth-11 pending URLs in Starlette (deferred delivery, RS-36): the poll's answer, or the
held call run now through the app with the poll's auth token as its context.

The rules (who may poll, when the call runs, what is replayed) are
:mod:`aauth_core.resource.deferred`'s; this module only turns a held :class:`RequestView`
back into an ASGI scope and body, and captures what the app answers so the service can
keep it for the token that ran it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aauth_core.context import VerifiedRequest
from aauth_core.request import Headers
from aauth_core.resource.contract import Reply
from aauth_core.resource.deferred import Run, held_pairs
from aauth_core.service import AAuthService

from .asgi import view_of
from .context import UNVERIFIED_KEY

__all__ = ["serve_pending"]


async def serve_pending(app: ASGIApp, service: AAuthService, scope: Scope, receive: Receive, send: Send,
                        headers: Headers, *, attach: Callable[[Scope, VerifiedRequest | None], None]) -> None:
    outcome = await service.apoll(view_of(service, scope, headers))
    answer = await _run_held(app, service, outcome, scope, receive, attach) if isinstance(outcome, Run) else outcome
    await Response(answer.body, status_code=answer.status, headers=dict(answer.headers))(scope, receive, send)


async def _run_held(app: ASGIApp, service: AAuthService, run: Run, scope: Scope, receive: Receive,
                    attach: Callable[[Scope, VerifiedRequest | None], None]) -> Reply:
    held = run.request
    body = held.body or b""
    inner: Scope = {k: v for k, v in scope.items() if k not in ("user", "auth", UNVERIFIED_KEY)}
    inner.update(method=held.method, path=unquote(held.path), raw_path=held.path.encode("latin-1"),
                 query_string=(held.query or "").encode("latin-1"),
                 headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in held_pairs(held)])
    attach(inner, run.context)
    delivered = False

    async def held_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # a disconnect, when the poller goes away

    answer = _Captured()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            answer.chunks.append(message.get("body", b""))

    deferred = service.deferred
    assert deferred is not None  # a Run comes only from a service that holds calls
    try:
        await app(inner, held_receive, capture)
    except BaseException:
        deferred.abandon(run)
        raise
    return deferred.complete(run, answer.status, answer.headers, b"".join(answer.chunks))


@dataclass
class _Captured:
    """What the app answered the held call."""

    status: int = 500
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
