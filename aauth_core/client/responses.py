"""Reading what resources and auth servers answer: challenges, error codes, JSON bodies,
endpoints; and the guards on redirected or non-replayable requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .. import dialect
from ..discovery import check_url
from ..errors import AAuthError, DiscoveryError, HeaderError
from ..headers import AgentAuthChallenge, parse_agent_auth
from ..tokens import peek
from .values import STATE, ClientOptions, RequestLike, ResponseLike, SignState

log = logging.getLogger("aauth.client")

__all__ = ["challenge_of", "check_guarded", "endpoint_of", "error_code", "host", "json_object", "not_replayable",
           "redirected", "reject_constant", "safe_url", "scope_of"]


def not_replayable() -> AAuthError:
    return AAuthError(
        "the server asked for a retry (Agent-Auth challenge) but the request body is a stream that was "
        "already sent and cannot be replayed; send bytes (or a re-readable body) instead",
        code="body_not_replayable", status_code=400,
    )


def challenge_of(response: ResponseLike) -> AgentAuthChallenge | None:
    value = response.headers.get(dialect.CHALLENGE_HEADER)
    if not value:
        return None
    try:
        return parse_agent_auth(value)
    except HeaderError:
        log.info("aauth client: unparseable Agent-Auth challenge ignored")
        return None


def error_code(response: ResponseLike) -> str | None:
    """The ``error`` of a JSON error body (A9), if the response has one."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def check_guarded(request: RequestLike, response: ResponseLike) -> None:
    """A client that followed a redirect without our guard may have copied signature
    headers to another origin; refuse to treat that answer as authenticated."""
    state = request.extensions.get(STATE)
    if redirected(request, response) and isinstance(state, SignState) and not state.guarded:
        raise AAuthError(
            "the client followed a redirect without the AAuth redirect guard; create the client with "
            "auth.client(...) or install_redirect_guard(client)", code="unguarded_redirect", status_code=500,
        )


def redirected(request: Any, response: Any) -> bool:
    """True when the client followed a redirect for ``request`` (httpx's ``history`` also
    lists earlier auth-flow responses, so compare the request objects instead)."""
    final = getattr(response, "request", None)
    return final is not None and final is not request


def endpoint_of(meta: Mapping[str, Any], name: str, options: ClientOptions) -> str:
    value = meta.get(name)
    if not isinstance(value, str) or not value:
        raise DiscoveryError(f"auth server metadata has no {name}", code="discovery_failed")
    check_url(value, allow_insecure_loopback=options.allow_insecure_loopback, resolver=options.resolver)
    return value


def reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def json_object(content: bytes, error: type[AAuthError], code: str, what: str) -> dict[str, Any]:
    try:  # NaN/Infinity are not JSON; ints beyond 4300 digits raise ValueError
        doc = json.loads(content, parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile server's nesting bomb included
        raise error(f"{what} is not JSON", code=code) from None
    if not isinstance(doc, dict):
        raise error(f"{what} is not a JSON object", code=code)
    return doc


def scope_of(resource_token: str) -> str | None:
    """The scope a resource token asks for, read without verification (it is only a cache key)."""
    try:
        scope = peek(resource_token).claims.get("scope")
    except AAuthError:
        return None
    return scope if isinstance(scope, str) else None


def host(url: str) -> str:
    return urlsplit(url).netloc


def safe_url(request: RequestLike) -> str:
    parts = urlsplit(str(request.url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
