"""What a signature must cover and when it may be used (protocol B §2.3, A8).

Every request covers ``@method``, ``@authority``, ``@path`` and ``signature-key``; a
query adds ``@query``, a body ``content-type`` and ``content-digest``, a ``Nonce``
header ``nonce``.  ``created`` must fall inside the configured window.  Agents send
the same few component lists, so what a list covers is decided once per list and a
request only asks whether it has a query, a body or a nonce.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

from ..cache import BoundedCache
from ..errors import SignatureError
from ..request import RequestView
from .signature_input import SignatureParams

__all__ = [
    "AAUTH_11_BASE_COMPONENTS",
    "AAUTH_11_BODY_COMPONENTS",
    "check_component_name",
    "check_components",
    "check_covers",
    "check_created",
    "required_components",
    "required_components_11",
]


def _required(query: bool, body: bool, nonce: bool) -> tuple[str, ...]:
    out = ["@method", "@authority", "@path"]
    if query:
        out.append("@query")
    if body:
        out += ["content-type", "content-digest"]
    if nonce:
        out.append("nonce")
    out.append("signature-key")
    return tuple(out)


#: Every (query, body, nonce) combination's required list, in the demo's order.
_REQUIRED = {flags: _required(*flags) for flags in product((False, True), repeat=3)}
_CORE = frozenset(_REQUIRED[False, False, False])


def _has_body(view: RequestView) -> bool:
    if view.body is not None:
        return len(view.body) > 0
    h = view.headers
    if "transfer-encoding" in h:
        return True
    length = h.get("content-length")
    return length is not None and length.strip() not in ("", "0")


def required_components(view: RequestView) -> tuple[str, ...]:
    """The components a request must cover (protocol B §2.3), in the demo's order."""
    return _REQUIRED[bool(view.query), _has_body(view), "nonce" in view.headers]


@dataclass(frozen=True, slots=True)
class _Coverage:
    """Which of the B §2.3 requirements one component list meets."""

    lacks_core: bool  # one of the components every request must cover is absent
    query: bool
    body: bool
    nonce: bool


#: Component list -> what it covers.  Bounded: the lists come from request headers.
_COVERAGES: BoundedCache[tuple[str, ...], _Coverage] = BoundedCache(256)
_covered = _COVERAGES.get  # bound once: check_components looks a list up on every request


def _coverage(covered: tuple[str, ...]) -> _Coverage:
    return _COVERAGES.put(covered, _Coverage(
        lacks_core=not _CORE.issubset(covered),
        query="@query" in covered,
        body="content-type" in covered and "content-digest" in covered,
        nonce="nonce" in covered,
    ))


def check_components(params: SignatureParams, view: RequestView) -> None:
    """Refuse a signature that leaves out any required component (A8)."""
    covered = _covered(params.components) or _coverage(params.components)
    if covered.lacks_core or (view.query and not covered.query) or _needs_more(covered, view):
        missing = [c for c in required_components(view) if c not in params.components]
        raise SignatureError(
            f"signature does not cover required component(s): {', '.join(missing)}",
            code="missing_component",
        )


_BODY_OR_NONCE = frozenset({"transfer-encoding", "content-length", "nonce"})


def _needs_more(covered: _Coverage, view: RequestView) -> bool:
    """True when the request has a body or a nonce that ``covered`` leaves out."""
    if covered.body and covered.nonce:
        return False
    if view.body is None and not view.headers.has_any(_BODY_OR_NONCE):
        return False  # the usual GET: one look at the header names
    return (not covered.body and _has_body(view)) or (not covered.nonce and "nonce" in view.headers)


def check_created(params: SignatureParams, now: float, max_age: int, max_future: int) -> None:
    """``created`` is required and must fall inside the window; ``expires`` is honoured."""
    if params.created is None:
        raise SignatureError("signature has no 'created' parameter", code="missing_created")
    if now - params.created > max_age:
        raise SignatureError(f"signature 'created' is older than {max_age} s", code="signature_expired")
    if params.created - now > max_future:
        raise SignatureError(
            f"signature 'created' is more than {max_future} s in the future", code="signature_not_yet_valid"
        )
    if params.expires is not None:
        if params.expires < params.created:
            raise SignatureError("signature 'expires' precedes 'created'", code="invalid_signature_input")
        if now > params.expires:
            raise SignatureError("signature has expired ('expires')", code="signature_expired")


# ----------------------------------------------------------------------------- aauth-11

#: aauth-11 §11.3.3.1: what every request covers.  No ``@query`` unless a resource asks for it.
AAUTH_11_BASE_COMPONENTS = ("@method", "@authority", "@path", "signature-key")
#: What a request with a body to a person server, an access server or a revocation
#: endpoint covers as well (a resource asks through ``additional_signature_components``).
AAUTH_11_BODY_COMPONENTS = ("content-digest", "content-type")


def required_components_11(*, body: bool = False, authorization: bool = False,
                           extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The components an aauth-11 signature must cover, in the order ``required_input``
    lists them: the base set, the body set when ``body`` coverage is required,
    ``authorization`` when the request sends one (a session token), then ``extra`` (a
    resource's ``additional_signature_components``)."""
    out = list(AAUTH_11_BASE_COMPONENTS)
    if body:
        out += AAUTH_11_BODY_COMPONENTS
    if authorization:
        out.append("authorization")
    out += (c for c in extra if c not in out)
    return tuple(out)


def check_covers(params: SignatureParams, required: Iterable[str]) -> None:
    """Refuse a signature that leaves out one of ``required`` (``missing_component``; an
    aauth-11 server answers ``invalid_input`` with ``required`` as ``required_input``)."""
    missing = [c for c in required if c not in params.components]
    if missing:
        raise SignatureError(f"signature does not cover required component(s): {', '.join(missing)}",
                             code="missing_component")


#: Derived components a verifier here can compute (RFC 9421 §2.2; wire.httpsig).
DERIVED_COMPONENTS = frozenset({"@method", "@authority", "@path", "@query", "@scheme", "@request-target",
                                "@target-uri"})
_HEADER_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")


def check_component_name(name: object) -> str:
    """A configured component name: a derived component we compute or a lowercase header
    field name (RFC 9110 token).  Raises ``ValueError`` naming the problem."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a component name must be a non-empty string, got {name!r}")
    if name.startswith("@"):
        if name not in DERIVED_COMPONENTS:
            raise ValueError(f"{name!r} is not a derived component this library computes")
    elif not set(name) <= _HEADER_NAME_CHARS:
        raise ValueError(f"{name!r} is not a lowercase header field name")
    return name
