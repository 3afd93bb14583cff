"""aauth-11 pending URLs in Flask (deferred delivery, RS-36), as WSGI middleware around the
app's ``wsgi_app`` (installed by :class:`~aauth_flask.AAuth` when ``deferred_delivery`` is on).

A poll is answered before Flask routes it: the answer the service gives, or the held call
rebuilt as a WSGI environ (:func:`aauth_core.resource.deferred.held_environ`) and run through
the app with the poll's auth token as its context (the ``before_request`` hook finds it
under ``aauth.outcome`` and verifies nothing again).  What the app answers is kept for that
token; the rules are :mod:`aauth_core.resource.deferred`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from aauth_core.request import Headers
from aauth_core.resource.contract import raw_path_from_environ
from aauth_core.resource.deferred import PENDING_PREFIX, Run, held_environ
from aauth_core.service import AAuthService

from .context import ENVIRON_OUTCOME
from .environ import _server_host

__all__ = ["PendingCalls"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PendingCalls:
    """``app.wsgi_app = PendingCalls(app.wsgi_app, service)``."""

    def __init__(self, wsgi_app: WSGIApp, service: AAuthService) -> None:
        self.wsgi_app = wsgi_app
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO", "")).startswith(PENDING_PREFIX):
            return self.wsgi_app(environ, start_response)
        service = self.service
        view = service.view(method=str(environ.get("REQUEST_METHOD", "GET")), path=raw_path_from_environ(environ),
                            query=environ.get("QUERY_STRING") or None, headers=Headers.from_environ(environ),
                            host=_server_host(environ) if service.canonical_authority is None else None,
                            scheme=str(environ.get("wsgi.url_scheme", "http")))
        outcome = service.poll(view)
        if isinstance(outcome, Run):
            outcome = self._run_held(environ, outcome)
        start_response(_status_line(outcome.status), list(outcome.headers.items()))
        return [outcome.body]

    def _run_held(self, environ: dict[str, Any], run: Run) -> Any:
        deferred = self.service.deferred
        assert deferred is not None  # a Run comes only from a service that holds calls
        inner = held_environ(environ, run.request)
        inner[ENVIRON_OUTCOME] = run.context
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
            return lambda data: None

        try:
            result = self.wsgi_app(inner, capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except BaseException:
            deferred.abandon(run)
            raise
        return deferred.complete(run, captured.get("status", 500), captured.get("headers", []), body)


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
