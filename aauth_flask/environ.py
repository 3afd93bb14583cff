"""WSGI environ → :class:`RequestView`: raw path and query, headers, and the body only when signed.

The signature covers the path exactly as the client sent it, still percent-encoded.
WSGI's ``PATH_INFO`` is already decoded, so the raw request target is taken from
``RAW_URI`` (gunicorn, werkzeug's server and test client) or ``REQUEST_URI``
(uWSGI, mod_wsgi, werkzeug) when the server provides one.  Without either, the
path is re-quoted from the latin-1 WSGI form of ``SCRIPT_NAME + PATH_INFO``; a
client that percent-encoded characters that need no encoding (``%41`` for ``A``,
an encoded sub-delimiter) then fails verification: closed, never open.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from flask import Request

from aauth_core.request import Headers, RequestView
from aauth_core.resource.contract import fallback_host, raw_path_from_environ
from aauth_core.service import AAuthService

__all__ = ["raw_path", "read_body", "request_view"]

raw_path = raw_path_from_environ
"""The request path as received on the wire (no query): see
:func:`aauth_core.resource.contract.raw_path_from_environ`."""


def request_view(service: AAuthService, request: Request, headers: Headers | None = None) -> RequestView:
    """Build the neutral view of the current request.

    The body is read only when the signature covers ``content-digest``;
    afterwards ``request.stream`` and ``wsgi.input`` are rewound onto the same
    bytes, so ``get_json()``, ``form``, ``data`` and the raw stream all still work
    in the view.  Otherwise the body is left untouched.
    """
    environ = request.environ
    if headers is None:  # request.headers' fields, without werkzeug's per-item work
        headers = Headers.from_environ(environ)
    body: bytes | None = None
    if service.needs_body(headers):
        body = read_body(service, request)
    return service.view(
        method=request.method,
        path=raw_path(environ),
        query=environ.get("QUERY_STRING") or None,
        headers=headers,
        body=body,
        host=_server_host(environ) if service.canonical_authority is None else None,  # else unused
        scheme=request.scheme,
    )


def read_body(service: AAuthService, request: Request) -> bytes:
    """The body, refused with the service's 413 past ``max_body_bytes``: a declared length
    is checked before reading, and at most one byte past the limit is ever read."""
    service.check_declared_length(request.environ.get("CONTENT_LENGTH"))
    body = request.stream.read(service.body_read_limit)
    too_large = service.body_too_large(len(body))
    if too_large is not None:
        raise too_large
    _rewind(request, body)
    return body


def _rewind(request: Request, body: bytes) -> None:
    request.stream = io.BytesIO(body)
    request.environ["wsgi.input"] = io.BytesIO(body)
    request._cached_data = body  # what get_data() returns from now on (werkzeug's own cache)


def _server_host(environ: Mapping[str, Any]) -> str | None:
    """``SERVER_NAME[:SERVER_PORT]``, used only when the request has no Host header."""
    return fallback_host(environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
                         str(environ.get("wsgi.url_scheme", "http")))
