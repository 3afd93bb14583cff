"""Pending answers under aauth-11 (-11 §11.8, reference §2.2 "Polling"): a ``202`` with
``Location`` is polled with signed ``GET``s until it settles.

The rules, once for the person server's endpoints and a resource's deferred delivery:
wait ``Retry-After`` (5 s when absent), plus 5 s more after every ``429``; an unknown
``status`` in the body is still pending; ``Location`` must stay on the origin of the
server that sent it; a ``202`` may carry ``requirement=interaction`` (the user is sent to
``{url}?code={code}``, once) or ``approval`` (keep waiting).  Polling is bounded.

Waiting is an effect: the flow yields a :class:`Wait` and the httpx driver sleeps
(blocking or awaited), so a test injects its clock and never waits for real.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from ..discovery.ssrf import blocked
from ..errors import AAuthError, HeaderError, TokenEndpointError
from ..profile.aauth_11 import AAUTH_11
from ..wire.http_fields import bounded_int
from ..wire.requirement import AAuthRequirement, parse_requirement
from .interaction import InteractionHandler
from .responses import reject_constant
from .values import Flow, ResponseLike, origin_of

__all__ = ["PollingOptions", "Wait", "interaction_url", "poll", "problem_error", "requirement_of", "retry_after"]

log = logging.getLogger("aauth.client")

_REQUIREMENT = AAUTH_11.requirement_header or "AAuth-Requirement"
_MAX_CODE = 64


async def _anyio_sleep(seconds: float) -> None:
    import anyio  # httpx's and httpx2's own dependency: asyncio and trio alike

    await anyio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class PollingOptions:
    """How the agent waits on pending answers.

    ``prefer_wait``: the ``Prefer: wait=<n>`` sent to the person server (``None``: not
    sent).  ``default_interval``: the wait when ``Retry-After`` is absent; ``slow_down``:
    added after each ``429``; ``max_interval``: the longest single wait (a larger
    ``Retry-After`` is capped); ``max_polls``: polls per pending answer before giving up
    (``pending_timeout``).  ``sleep`` / ``asleep``: how to wait, blocking and awaited
    (tests pass their clock's ``advance``).
    """

    prefer_wait: int | None = 30
    default_interval: float = 5.0
    slow_down: float = 5.0
    max_interval: float = 300.0
    max_polls: int = 120
    sleep: Callable[[float], None] = time.sleep
    asleep: Callable[[float], Awaitable[None]] = _anyio_sleep

    def __post_init__(self) -> None:
        if self.max_polls < 1 or self.default_interval < 0 or self.slow_down < 0 or self.max_interval < 0:
            raise ValueError("polling bounds must be positive")
        if self.prefer_wait is not None and self.prefer_wait < 0:
            raise ValueError("prefer_wait must not be negative")


@dataclass(frozen=True, slots=True)
class Wait:
    """An effect the flow yields: pause ``seconds`` before its next request."""

    seconds: float
    sleep: Callable[[float], None]
    asleep: Callable[[float], Awaitable[None]]


def retry_after(response: ResponseLike) -> float | None:
    """``Retry-After`` in delta-seconds; an HTTP-date or garbage counts as absent."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    seconds = bounded_int(value.strip(), 86_400)
    return float(seconds) if seconds is not None else None


def requirement_of(response: ResponseLike) -> AAuthRequirement | None:
    """The ``AAuth-Requirement`` of a response; an unparseable one is ignored (and logged)."""
    value = response.headers.get(_REQUIREMENT)
    if not value:
        return None
    try:
        return parse_requirement(value)
    except HeaderError:
        log.info("aauth client: unparseable AAuth-Requirement ignored")
        return None


def _body(response: ResponseLike) -> dict[str, Any]:
    try:
        doc = json.loads(response.content, parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def problem_error(response: ResponseLike, what: str, default: str) -> TokenEndpointError:
    """A refusal as an error carrying the problem+json ``error`` code (-11 §11.9.2), its
    ``detail`` (shortened) in the message, and the HTTP status."""
    body = _body(response)
    code = body.get("error")
    if not isinstance(code, str) or not 0 < len(code) <= _MAX_CODE or not (
            code.isascii() and code.replace("_", "").isalnum()):
        code = default
    detail = body.get("detail")
    text = f": {detail[:200]}" if isinstance(detail, str) and detail else ""
    status = response.status_code if response.status_code >= 400 else 400
    return TokenEndpointError(f"{what} answered HTTP {response.status_code} ({code}){text}", code=code,
                              status_code=status)


def interaction_url(url: str, code: str) -> str:
    """Where the user goes for ``requirement=interaction`` (-11 §11.6.3): ``{url}?code={code}``."""
    sep = "&" if urlsplit(url).query else "?"
    return f"{url}{sep}{urlencode({'code': code})}"


def _location(sent_url: str, response: ResponseLike, previous: str | None) -> str:
    value = response.headers.get("location")
    if not value:
        if previous is None:
            raise AAuthError("a 202 answer carries no Location to poll", code="invalid_token_response",
                             status_code=400)
        return previous
    url = urljoin(sent_url, value.strip())
    if origin_of(url) != origin_of(sent_url) or urlsplit(url).username is not None or "#" in url:
        raise blocked(urlsplit(sent_url).hostname or "", "a pending Location must stay on the origin that sent it")
    return url


def _check_interaction(requirement: AAuthRequirement, allow_insecure_loopback: bool) -> str:
    url, code = requirement.url, requirement.code
    if not url or not code:
        raise AAuthError("requirement=interaction without url and code", code="unsupported_requirement",
                         status_code=400)
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and allow_insecure_loopback
    if parts.scheme != "https" and not loopback:
        raise AAuthError("an interaction url must be https", code="unsupported_requirement", status_code=400)
    return interaction_url(url, code)


@dataclass
class _Poll:
    """One pending answer being followed."""

    options: PollingOptions
    interaction: InteractionHandler
    allow_insecure_loopback: bool
    on_auth_token: Callable[[AAuthRequirement], Flow] | None
    shown: set[str]

    def requirement(self, response: ResponseLike) -> Flow:
        requirement = requirement_of(response)
        if requirement is None or requirement.requirement == "approval":
            return None
        if requirement.requirement == "interaction":
            target = _check_interaction(requirement, self.allow_insecure_loopback)
            if target not in self.shown:
                self.shown.add(target)
                log.info("aauth client: user interaction required; handing the URL to the interaction handler")
                self.interaction(target)
            return None
        if requirement.requirement == "auth-token" and self.on_auth_token is not None:
            yield from self.on_auth_token(requirement)
            return None
        raise AAuthError(f"a pending answer requires {requirement.requirement!r}, which this agent cannot provide",
                         code="unsupported_requirement", status_code=400)


def poll(response: ResponseLike, sent_url: str, get: Callable[[str], Flow], *, options: PollingOptions,
         interaction: InteractionHandler, allow_insecure_loopback: bool = False,
         on_auth_token: Callable[[AAuthRequirement], Flow] | None = None) -> Flow:
    """Follow ``response`` (a ``202``, or the ``429`` of a poll) until an answer that is
    neither; return that answer.  ``get(url)`` sends one signed poll and returns its
    response; ``on_auth_token`` answers a ``requirement=auth-token`` (deferred delivery)."""
    state = _Poll(options, interaction, allow_insecure_loopback, on_auth_token, set())
    interval = options.default_interval
    location: str | None = None
    for _ in range(options.max_polls):
        if response.status_code == 202:
            location = _location(sent_url, response, location)
            yield from state.requirement(response)
            status = _body(response).get("status")  # unknown values are pending too (-11 §11.8)
            log.debug("aauth client: pending (%s)", status if isinstance(status, str) else "no status")
            wait = retry_after(response)
            wait = interval if wait is None else wait
        elif response.status_code == 429 and location is not None:
            interval += options.slow_down  # slow_down: every later wait is longer
            wait = max(retry_after(response) or 0.0, interval)
        else:
            return response
        yield Wait(min(wait, options.max_interval), options.sleep, options.asleep)
        response = yield from get(location)
        sent_url = location
    raise AAuthError(f"still pending after {options.max_polls} polls", code="pending_timeout", status_code=504)
