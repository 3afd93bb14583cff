"""The agent client's values: options, the body it signs over, per-request state, and the
small URL and form helpers the flow and the httpx classes share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from ..discovery import Resolver

if TYPE_CHECKING:
    from .signer import RequestSigner

__all__ = ["SENT", "STATE", "Body", "ClientOptions", "Flow", "RequestFactory", "RequestLike", "ResponseLike",
           "SentSignatures", "SignState", "encode_form", "origin_of"]

#: Where a request keeps its SignState (``request.extensions[STATE]``).
STATE = "aauth"


class RequestLike(Protocol):
    method: str
    url: Any
    headers: MutableMapping[str, str]
    extensions: MutableMapping[str, Any]


class ResponseLike(Protocol):
    status_code: int
    headers: Mapping[str, str]
    history: Sequence[Any]
    content: bytes


RequestFactory = Callable[[str, str, Mapping[str, str], bytes | None], Any]
Flow = Generator[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How the agent behaves (safe defaults: docs/architecture.md, "secure defaults").

    ``clock``: unix seconds (tests inject a frozen one).  ``token_cache_margin``:
    stop using a token this many seconds before it expires (for the default
    cache; a :class:`TokenCache` passed in keeps its own margin).
    ``allow_insecure_loopback`` / ``resolver``: the SSRF guard's development switch
    and DNS resolver, as in :func:`aauth_core.discovery.check_url`.
    ``redirect_uri``: sent with ``auth``/``code`` requests (default
    ``{agent}/callback``).  ``start_pseudonymous``: sign with ``hwk`` until a
    challenge asks for an identity.  ``metadata_ttl``: how long auth-server
    metadata is reused.  ``max_rounds``: bound on challenge rounds per request.
    ``debug``: log full requests like the seed transcript — tokens included, so
    for demos only.  The interaction handler is called synchronously, also from
    an ``AsyncClient``: in async applications it should not block for long.
    """

    clock: Callable[[], float] = time.time
    token_cache_margin: float = 60.0
    allow_insecure_loopback: bool = False
    resolver: Resolver | None = None
    redirect_uri: str | None = None
    start_pseudonymous: bool = False
    metadata_ttl: float = 300.0
    max_rounds: int = 3
    debug: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """The request body as the signer sees it.

    ``content``: the bytes (``None`` without a body).  ``digest``: a caller-supplied
    ``Content-Digest`` for a streamed body that is not in memory; such a body is
    not ``replayable`` and is never re-sent.
    """

    content: bytes | None = None
    digest: str | None = None
    replayable: bool = True


@dataclass(slots=True)
class SignState:
    """Attached to a signed request (``extensions["aauth"]``) so the redirect guard can
    tell a redirected copy from the original and re-sign or strip it."""

    method: str
    url: str
    signer: RequestSigner = field(repr=False)
    guarded: bool = False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` — the resource key of the token cache."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port is not None and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def encode_form(pairs: Sequence[tuple[str, str]]) -> bytes:
    """``k=v&k=v`` as the transcript sends it: JWTs and URLs stay readable (``:`` and ``/``
    unescaped), everything a form parser would misread is percent-encoded."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=':/')}" for k, v in pairs).encode("ascii")


class SentSignatures:
    """Signatures this process sent during the current second, across every client.

    Ed25519 is deterministic: the same request signed twice in one second by the
    same key (two calls, or two clients) is byte-identical, and a resource's replay
    cache rightly refuses the second.  A signature seen before gets a random
    ``nonce`` parameter instead, so the usual case keeps the transcript's shape.
    """

    def __init__(self) -> None:
        self._second = -1
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first_use(self, created: int, signature: str) -> bool:
        with self._lock:
            if created != self._second:
                self._second, self._seen = created, set()
            if signature in self._seen:
                return False
            self._seen.add(signature)
            return True


SENT = SentSignatures()
