"""The adapter contract: what every framework adapter asks, answered once.

:class:`~aauth_core.service.AAuthService` applies these rules; adapters only
translate their framework's request into the inputs and the answer back into a
response.  ``docs/adapters.md`` states the same contract as a table, and
``tests/conformance`` runs one table of requests through every adapter variant.

The rules, in the order an adapter meets them:

1. The resource's own documents (metadata, JWKS) are served before anything else.
2. A path in ``exempt_paths`` is outside the path rules: the middleware neither
   verifies nor demands there (a webhook may carry a signature of its own).  A
   route decorator still applies, and verifies the request itself.
3. A route is *protected* when a path rule (``protected_paths``, ``protect_all``)
   or a decorator names a requirement.  Both apply when both exist: a decorator
   never weakens a path rule, and ``exempt_paths`` never lifts a decorator.
4. A CORS preflight (``OPTIONS`` with ``Origin`` and
   ``Access-Control-Request-Method``) to a protected route is answered ``204``
   without running the view, while ``allow_options`` is on.  Any other request to
   a protected route, ``OPTIONS`` included, must meet the requirement.
5. Outside exempt paths, every signed request is verified by the middleware; an
   invalid signature is a ``401`` at once, on protected and open routes alike.
6. A custom error handler ``(request, error) -> response`` shapes the body; the
   challenge headers the error carries are added when the handler left them out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlsplit

from ..context import Requirement
from ..errors import AAuthError

__all__ = [
    "Gate",
    "HeaderLookup",
    "PREFLIGHT",
    "Reply",
    "SKIP",
    "Step",
    "declared_length",
    "fallback_host",
    "is_cors_preflight",
    "missing_challenge_headers",
    "raw_path_from_environ",
]


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer the service renders itself (an endpoint of its own, a held call's result),
    which every adapter sends as it is."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class HeaderLookup(Protocol):
    """Any case-insensitive header mapping: ours, Starlette's, werkzeug's, Django's."""

    def get(self, name: str, /) -> object: ...


class Step(enum.Enum):
    """What the middleware does with a request before the app sees it."""

    #: Exempt path: no verification here; a decorator on the route verifies itself.
    SKIP = "skip"
    #: A CORS preflight to a protected route: answer 204, never run the view.
    PREFLIGHT = "preflight"
    #: Verify the request if it is signed, then demand ``Gate.requirement`` if any.
    VERIFY = "verify"


class Gate(NamedTuple):
    """The middleware's decision for one request: a step and the path rule's requirement."""

    step: Step
    requirement: Requirement | None = None


SKIP = Gate(Step.SKIP)
PREFLIGHT = Gate(Step.PREFLIGHT)


def is_cors_preflight(method: str, headers: HeaderLookup) -> bool:
    """A CORS preflight (Fetch standard): ``OPTIONS`` carrying ``Origin`` and
    ``Access-Control-Request-Method``.  A bare ``OPTIONS`` is an ordinary request."""
    return (
        method == "OPTIONS"
        and headers.get("origin") is not None
        and headers.get("access-control-request-method") is not None
    )


def declared_length(value: object) -> int | None:
    """A ``Content-Length`` value as a number, or ``None`` when absent or not plain ASCII digits.

    ``str.isdigit()`` accepts ``"²"``, which ``int()`` refuses: only ``[0-9]+`` counts.
    ``None`` means "unknown": the adapter then reads at most one byte past the limit.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if not isinstance(value, str) or not value or not value.isascii() or not value.isdigit():
        return None
    return int(value) if len(value) <= 19 else 1 << 63  # more digits than any real body: "too large"


def fallback_host(name: object, port: object, scheme: str) -> str | None:
    """``name[:port]`` of the server itself, for the rare request without a ``Host`` header;
    the port is left out when it is the scheme's default."""
    if not isinstance(name, str) or not name:
        return None
    port_text = str(port) if port is not None else ""
    default = "443" if scheme == "https" else "80"
    return f"{name}:{port_text}" if port_text and port_text != default else name


# RFC 3986 pchar minus pct-encoded, plus "/": everything a path may carry unencoded.
_PATH_SAFE = "/:@!$&'()*+,;="


def raw_path_from_environ(environ: Mapping[str, Any], decoded_path: str | None = None) -> str:
    """The request path exactly as received (no query), from a WSGI environ or Django's ``META``.

    ``RAW_URI`` (gunicorn, werkzeug) or ``REQUEST_URI`` (uWSGI, mod_wsgi) when the
    server provides one; otherwise re-quoted: ``decoded_path`` (a text path, e.g.
    Django's ``request.path``, which has replaced ``PATH_INFO`` in ``META``) as
    UTF-8, else the latin-1 WSGI form of ``SCRIPT_NAME + PATH_INFO`` (PEP 3333).
    A client that percent-encoded what needs no encoding then fails verification:
    closed, never open.
    """
    target = environ.get("RAW_URI")
    if type(target) is str and target[:1] == "/":  # the usual case, origin-form
        return target.partition("?")[0]
    for key in ("RAW_URI", "REQUEST_URI"):
        target = environ.get(key)
        if isinstance(target, str) and target:
            return _path_of_target(target)
    if decoded_path is not None:
        return quote(decoded_path.encode("utf-8", "surrogateescape"), safe=_PATH_SAFE) or "/"
    wsgi_path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    try:
        return quote(wsgi_path.encode("latin-1"), safe=_PATH_SAFE) or "/"
    except UnicodeEncodeError:  # not a PEP 3333 string: its UTF-8 bytes are the best guess
        return quote(wsgi_path.encode("utf-8", "surrogateescape"), safe=_PATH_SAFE) or "/"


def _path_of_target(target: str) -> str:
    if target.startswith("/"):  # origin-form (also "//x", which is no authority here)
        return target.split("?", 1)[0] or "/"
    parts = urlsplit(target)  # absolute-form, as sent to proxies
    if parts.scheme and parts.netloc:
        return target[len(parts.scheme) + 3 + len(parts.netloc):].split("?", 1)[0] or "/"
    return target  # asterisk-form ("OPTIONS *") and anything odd: verbatim


def missing_challenge_headers(error: AAuthError, present: Iterable[str]) -> list[tuple[str, str]]:
    """The error's own headers (``Agent-Auth``, ``Retry-After``, ...) that a custom handler's
    response lacks: an error handler shapes the body, it never drops the challenge."""
    have = {name.lower() for name in present}
    return [(name, value) for name, value in error.headers.items() if name.lower() not in have]
