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
from urllib.parse import quote, urlsplit

from flask import Request

from aauth_core.request import Headers, RequestView
from aauth_core.service import AAuthService

__all__ = ["raw_path", "request_view"]

# RFC 3986 pchar minus pct-encoded, plus "/": everything a path may carry unencoded.
_PATH_SAFE = "/:@!$&'()*+,;="


def raw_path(environ: Mapping[str, Any]) -> str:
    """The request path as received on the wire (no query), see the module docstring."""
    target = environ.get("RAW_URI")
    if type(target) is str and target[:1] == "/":  # the usual case, origin-form: the loop below, short
        return target.partition("?")[0]
    for key in ("RAW_URI", "REQUEST_URI"):
        target = environ.get(key)
        if isinstance(target, str) and target:
            return _path_of_target(target)
    wsgi_path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return quote(wsgi_path.encode("latin-1"), safe=_PATH_SAFE) or "/"


def _path_of_target(target: str) -> str:
    if target.startswith("/"):  # origin-form, the usual case (also "//x", which is no authority here)
        return target.split("?", 1)[0] or "/"
    parts = urlsplit(target)  # absolute-form, as sent to proxies
    if parts.scheme and parts.netloc:
        return target[len(parts.scheme) + 3 + len(parts.netloc):].split("?", 1)[0] or "/"
    return target  # asterisk-form ("OPTIONS *") and anything odd: verbatim


def request_view(service: AAuthService, request: Request) -> RequestView:
    """Build the neutral view of the current request.

    The body is read (``get_data(cache=True)``) only when the signature covers
    ``content-digest``; afterwards ``request.stream`` and ``wsgi.input`` are
    rewound onto the same bytes, so ``get_json()``, ``form``, ``data`` and the raw
    stream all still work in the view.  Otherwise the body is left untouched.
    """
    environ = request.environ
    headers = Headers.from_environ(environ)  # request.headers' fields, without werkzeug's per-item work
    body: bytes | None = None
    if service.needs_body(headers):
        body = _read_body(service, request)
    return service.view(
        method=request.method,
        path=raw_path(environ),
        query=environ.get("QUERY_STRING") or None,
        headers=headers,
        body=body,
        host=_server_host(environ) if service.canonical_authority is None else None,  # else unused
        scheme=request.scheme,
    )


def _read_body(service: AAuthService, request: Request) -> bytes:
    """The body to hash, refused with the service's 413 past ``max_body_bytes``: a declared
    length is checked before reading, a chunked body is read one byte past the limit at most."""
    declared = request.content_length
    if declared is not None:
        too_large = service.body_too_large(declared)
        if too_large is not None:
            raise too_large
        body = request.get_data(cache=True)
    else:
        body = request.stream.read(service.settings.max_body_bytes + 1)
    too_large = service.body_too_large(len(body))
    if too_large is not None:
        raise too_large
    _rewind(request, body)
    return body


def _rewind(request: Request, body: bytes) -> None:
    request.stream = io.BytesIO(body)
    request.environ["wsgi.input"] = io.BytesIO(body)


def _server_host(environ: Mapping[str, Any]) -> str | None:
    """``SERVER_NAME[:SERVER_PORT]``, used only when the request has no Host header."""
    name = environ.get("SERVER_NAME")
    if not name:
        return None
    port = str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return f"{name}:{port}" if port and port != default else str(name)
