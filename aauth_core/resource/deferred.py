"""aauth-11 deferred delivery of the auth-token challenge (-11 §11.8; checklist RS-36).

With the ``deferred_delivery`` setting, a request that presents a person token (or an auth
token short of scopes) at a route needing an auth token is not answered 401: the resource
*holds the call* and answers ``202 Accepted`` with ``Location: /aauth/pending/<id>``,
``Retry-After``, ``Cache-Control: no-store``, the ``auth-token`` requirement with its resource
token, and ``{"status": "pending"}``.  The agent obtains the auth token and polls the pending
URL with signed GETs:

* from another key (or for an unknown id): 404, nothing revealed;
* still without an auth token that meets the held requirement for the same person: 202 again;
* with one: the held call runs *now*, as if it had arrived with that token (the adapter
  rewrites the poll into the held request and dispatches it through the app), and its
  answer is kept for that token's ``jti``;
* again with the same token: the kept answer (the call never runs twice); with another
  token, or once the token expired: 410 ``expired``.

Held calls live in the process, bounded in number and in bytes (held bodies and kept answers
together; full: the resource answers the ordinary 401 challenge instead, never drops a held
call); with several workers the poll must reach the
worker that holds it (sticky routing) or it gets 404.  This module is the bookkeeping; each
adapter does the rewrite.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote

from ..context import Requirement, VerifiedRequest
from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..request import Headers, RequestView
from .contract import Reply

__all__ = ["PENDING_BODY", "PENDING_PREFIX", "DeferredCalls", "Pending", "Run", "deferred_challenge",
           "held_environ", "held_pairs", "snapshot"]

#: Where pending calls are polled: ``/aauth/pending/<id>``.
PENDING_PREFIX = "/aauth/pending/"
RETRY_AFTER = "1"  # the call runs as soon as the auth token arrives
_NAME = AAUTH_11.name
_BODY_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")
_REQUIREMENT = AAUTH_11.requirement_header or "AAuth-Requirement"
PENDING_BODY = json.dumps({"status": "pending"}).encode()


class Run(NamedTuple):
    """Dispatch ``request`` through the app with ``context``, then :meth:`DeferredCalls.complete`."""

    pending_id: str
    request: RequestView
    context: VerifiedRequest


Pending = Reply | Run


@dataclass
class _Held:
    request: RequestView
    person: tuple[str, str]
    key: str  # the holder's key thumbprint: only it may poll
    requirement: Requirement
    headers: Mapping[str, str]  # the 202's headers (Location, requirement, ...)
    until: float  # the held call is forgotten then (its resource token's lifetime)
    result: Reply | None = None
    result_jti: str | None = None
    result_until: float = 0.0
    running: bool = field(default=False)


def deferred_challenge(headers: Mapping[str, str]) -> AAuthError:
    """The 202 as an :class:`AAuthError` (what ``require`` raises): rendered by
    :meth:`AAuthService.error_response` with ``{"status": "pending"}``."""
    exc = AAuthError("the call is held until an auth token is presented at its pending URL",
                     code="deferred", status_code=202)
    exc.profile = _NAME
    exc._extra_headers.update(headers)
    return exc


class DeferredCalls:
    """Held calls of one resource, by pending id."""

    def __init__(self, *, lifetime: int, link: str | None, clock: Callable[[], float] = time.time,
                 max_held: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.lifetime = lifetime
        self.link = link
        self.clock = clock
        self.max_held = max_held
        self.max_bytes = max_bytes  # held bodies and kept answers together: memory is bounded
        self._held: dict[str, _Held] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def hold(self, request: RequestView, verified: VerifiedRequest, requirement: Requirement,
             requirement_header: str) -> AAuthError | None:
        """Hold ``request``; the 202 to raise, or ``None`` when no slot is free (then the
        caller sends the ordinary 401 challenge)."""
        assert verified.person is not None
        now = self.clock()
        pending_id = secrets.token_urlsafe(18)
        headers = {"Location": PENDING_PREFIX + pending_id, "Retry-After": RETRY_AFTER, "Cache-Control": "no-store",
                   _REQUIREMENT: requirement_header, **({"Link": self.link} if self.link else {})}
        held = _Held(snapshot(request), verified.person, verified.key_thumbprint, requirement, headers,
                     now + self.lifetime)
        size = _size(held.request)
        with self._lock:
            if len(self._held) >= self.max_held or self._bytes + size > self.max_bytes:
                self._purge(now)
                if len(self._held) >= self.max_held or self._bytes + size > self.max_bytes:
                    return None
            self._held[pending_id] = held
            self._bytes += size
        return deferred_challenge(headers)

    def poll(self, pending_id: str, verified: VerifiedRequest) -> Pending:
        """What a signed poll of ``PENDING_PREFIX + pending_id`` gets (see the module docstring)."""
        now = self.clock()
        with self._lock:
            held = self._held.get(pending_id)
            if held is None or held.key != verified.key_thumbprint:
                return _problem(404, "not_found", "no pending call here")
            jti = verified.claims.get("jti") if verified.token_type == AAUTH_11.typ_auth else None
            if held.result is not None:
                if jti is not None and jti == held.result_jti and now < held.result_until:
                    return held.result
                return _problem(410, "expired", "this call was delivered, or its result expired")
            if held.running:
                return Reply(202, dict(held.headers), PENDING_BODY)
            if now >= held.until:
                self._forget(pending_id)
                return _problem(410, "expired", "the held call expired; call the resource again")
            if jti is None or verified.person != held.person or not verified.satisfies(held.requirement):
                return Reply(202, dict(held.headers), PENDING_BODY)
            held.running = True
        return Run(pending_id, held.request, verified)

    def complete(self, run: Run, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> Reply:
        """Keep the held call's answer for the token that ran it, until that token expires."""
        result = Reply(status, dict(headers), body)
        exp = run.context.claims.get("exp")
        with self._lock:
            held = self._held.get(run.pending_id)
            if held is not None:
                held.result, held.running = result, False
                held.result_jti = str(run.context.claims.get("jti"))
                held.result_until = float(exp) if isinstance(exp, int | float) else self.clock()
                self._bytes += len(body)  # kept for replay: counted until forgotten
        return result

    def abandon(self, run: Run) -> None:
        """The dispatch failed before an answer: the next valid poll may run it again."""
        with self._lock:
            held = self._held.get(run.pending_id)
            if held is not None:
                held.running = False

    def __len__(self) -> int:
        return len(self._held)

    def _purge(self, now: float) -> None:
        for key in [k for k, h in self._held.items()
                    if (h.result is None and now >= h.until) or (h.result is not None and now >= h.result_until)]:
            self._forget(key)

    def _forget(self, pending_id: str) -> None:
        held = self._held.pop(pending_id)
        self._bytes -= _size(held.request) + (len(held.result.body) if held.result is not None else 0)


def _size(request: RequestView) -> int:
    """What a held call costs: its body and its header values (tokens included)."""
    return len(request.body or b"") + sum(len(v) for n in request.headers for v in request.headers.get_all(n))


def snapshot(view: RequestView) -> RequestView:
    """The request as it is now: WSGI adapters' header views read the live environ, which
    the server may reuse once the request is answered."""
    headers = view.headers
    pairs = [(name, value) for name in list(headers) for value in headers.get_all(name)]
    return view._replace(headers=Headers(pairs))


def held_pairs(view: RequestView) -> list[tuple[str, str]]:
    """The held request's header fields, as (name, value) pairs."""
    return [(name, value) for name in view.headers for value in view.headers.get_all(name)]


def held_environ(environ: Mapping[str, Any], view: RequestView) -> dict[str, Any]:
    """A WSGI environ for the held request, from the poll's: the server's keys kept, the
    method, target, headers and body the held request's (for the Flask and Django adapters)."""
    out = {k: v for k, v in environ.items() if not k.startswith("HTTP_") and k not in _BODY_KEYS}
    raw_path = view.path or "/"
    out["REQUEST_METHOD"] = view.method
    out["PATH_INFO"] = unquote(raw_path, encoding="latin-1")  # WSGI: the decoded path, latin-1
    out["QUERY_STRING"] = view.query or ""
    target = raw_path + (f"?{view.query}" if view.query is not None else "")
    out["RAW_URI"] = out["REQUEST_URI"] = target
    for name, value in held_pairs(view):
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        out[key] = f"{out[key]},{value}" if key in out else value
    body = view.body or b""
    out["wsgi.input"] = io.BytesIO(body)
    out["CONTENT_LENGTH"] = str(len(body))
    return out


def _problem(status: int, code: str, detail: str) -> Reply:
    body = json.dumps({"error": code, "detail": detail}).encode()
    return Reply(status, {"Content-Type": "application/problem+json", "Cache-Control": "no-store"}, body)
