"""HTTP message signatures: the signature base, signing and verification.

Two bases exist (protocol A2).  ``rfc9421`` is the default and ends with the
``"@signature-params"`` line, so ``created`` and the component list are signed.
``demo-2026-01`` reproduces the transcript's base byte for byte — component lines
joined by LF with a trailing LF, no ``@signature-params`` line, ``@query``
without ``?`` — and is only ever used when a setting names it, because it leaves
``created`` unauthenticated.

Written by hand rather than with an RFC 9421 library because no library produces
the ``demo-2026-01`` base or accepts the dialect's Signature-Key component; the
RFC 9421 path is cross-checked against ``http-message-signatures`` in the tests.
Which components a request must cover is :mod:`.coverage`'s concern.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Literal
from urllib.parse import urlsplit

from .. import dialect
from ..cache import BoundedCache
from ..errors import SignatureError
from ..keys import PublicKey, SigningKey
from ..request import Headers, RequestView, canonical_authority
from .content_digest import format_content_digest
from .coverage import required_components
from .signature import format_signature
from .signature_input import SignatureParams, format_signature_input
from .signature_key import SignatureKey

__all__ = ["Base", "SignedHeaders", "component_value", "sign_request", "signature_base", "verify_signature"]

Base = Literal["rfc9421", "demo-2026-01"]


def _target(view: RequestView) -> str:
    return (view.path or "/") + (f"?{view.query}" if view.query is not None else "")


_DERIVED: dict[str, Callable[[RequestView, Base], str]] = {
    "@method": lambda v, b: v.method,
    "@authority": lambda v, b: v.authority,
    "@path": lambda v, b: v.path or "/",
    "@query": lambda v, b: (v.query or "") if b == "demo-2026-01" else f"?{v.query or ''}",
    "@scheme": lambda v, b: v.scheme.lower(),
    "@request-target": lambda v, b: _target(v),
    "@target-uri": lambda v, b: f"{v.scheme.lower()}://{v.authority}{_target(v)}",
}


def component_value(name: str, view: RequestView, *, base: Base = "rfc9421") -> str:
    """The value of one covered component, per RFC 9421 §2 (or the demo base)."""
    derived = _DERIVED.get(name)
    if derived is not None:
        return derived(view, base)
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name!r}", code="unsupported_component")
    return _header_value(view, name.lower())


def _header_value(view: RequestView, name: str) -> str:
    value = view.headers.component(name)
    if value is None:
        raise SignatureError(f"covered header {name!r} is absent from the request", code="missing_component")
    return value


_Line = tuple[str, Callable[[RequestView], str]]

# Values that need neither the base nor a check: plain attribute reads.
_DIRECT: dict[str, Callable[[RequestView], str]] = {
    "@method": attrgetter("method"),
    "@authority": attrgetter("authority"),
    "@path": lambda v: v.path or "/",
}

#: (component list, base) -> its plan.  Bounded: the lists come from request headers.
_PLANS: BoundedCache[tuple[tuple[str, ...], Base], tuple[_Line, ...]] = BoundedCache(256)
_planned = _PLANS.get  # bound once: signature_base looks a plan up on every request


def _plan(components: tuple[str, ...], base: Base) -> tuple[_Line, ...]:
    """Each base line's fixed prefix and how to read its value, decided once per
    component list: agents send the same few lists, so a request only reads values."""
    plan: list[_Line] = []
    for name in components:
        getter: Callable[[RequestView], str]
        if name in _DIRECT:
            getter = _DIRECT[name]
        elif not name.startswith("@"):
            def getter(view: RequestView, name: str = name.lower()) -> str:
                return _header_value(view, name)
        else:
            def getter(view: RequestView, name: str = name) -> str:
                return component_value(name, view, base=base)
        plan.append((f'"{name}": ', getter))
    return _PLANS.put((components, base), tuple(plan))


def signature_base(view: RequestView, params: SignatureParams, *, base: Base = "rfc9421") -> bytes:
    """Build the exact bytes that are signed."""
    plan = _planned((params.components, base))
    if plan is None:
        plan = _plan(params.components, base)
    lines = [prefix + value(view) for prefix, value in plan]
    breaks = len(lines)
    if base == "demo-2026-01":
        lines.append("")
    else:
        lines.append('"@signature-params": ' + (params.serialized or params.serialize()))
    text = "\n".join(lines)
    # One check for every component: a value with a line break of its own would add one.
    if "\r" in text or text.count("\n") != breaks:
        raise SignatureError("a covered component contains a line break", code="invalid_component")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError("covered components must be ASCII", code="invalid_component") from None


def verify_signature(
    view: RequestView, params: SignatureParams, signature: bytes, key: PublicKey, *, base: Base = "rfc9421"
) -> None:
    """Raise unless ``signature`` is ``key``'s signature over the request's base.

    ECDSA P-256 signatures verify in either S form; replay caches key them on
    :func:`~aauth_core.keys.canonical_signature`, so a twin is never a new request."""
    if params.alg is not None and params.alg != key.httpsig_alg:
        raise SignatureError(
            f"signature 'alg' {params.alg!r} does not match the key ({key.httpsig_alg})",
            code="unsupported_algorithm",
        )
    if not key.verify(signature, signature_base(view, params, base=base)):
        raise SignatureError("HTTP message signature does not verify", code="invalid_signature")


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The headers a signer adds: ``Signature-Input``, ``Signature``, ``Signature-Key``
    and, for a body, ``Content-Digest``."""

    headers: Mapping[str, str]
    params: SignatureParams
    base: bytes


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key: SigningKey,
    signature_key: SignatureKey,
    created: int,
    base: Base = "rfc9421",
    expires: int | None = None,
    nonce: str | None = None,
    keyid: str | None = None,
    include_alg: bool = False,
    encoding: Literal["base64url", "base64"] = "base64url",
    content_digest: str | None = None,
    components: Sequence[str] | None = None,
) -> SignedHeaders:
    """Sign a request, covering the components protocol B §2.3 requires.

    ``headers`` are the request's own headers (a ``Content-Type`` is required with
    a body); the returned headers are to be added to them.  ``content_digest`` is a
    caller-computed ``Content-Digest`` for a streamed body that is not in memory
    (``body`` is then ``None`` and ``headers`` carry its ``Content-Length`` or
    ``Transfer-Encoding``); it is ignored when ``body`` is given.  ``components`` replaces
    the January list with the caller's (aauth-11: ``coverage.required_components_11``).
    """
    added: dict[str, str] = {}
    if body or content_digest is not None:
        if not any(k.lower() == "content-type" for k in headers):
            raise ValueError("a request with a body must have a Content-Type to sign")
        digest = format_content_digest(body) if body else content_digest
        assert digest is not None
        added[dialect.CONTENT_DIGEST_HEADER] = digest
    added[dialect.SIGNATURE_KEY_HEADER] = signature_key.raw
    merged = Headers([*((k, v) for k, v in headers.items() if k.lower() not in _REPLACED), *added.items()])
    parts = urlsplit(url)
    view = RequestView(
        method=method.upper(),
        authority=canonical_authority(url),
        path=parts.path or "/",
        query=parts.query if "?" in url.split("#", 1)[0] else None,
        headers=merged,
        body=body or None,
        scheme=parts.scheme,
    )
    params = SignatureParams(
        label=signature_key.label,
        components=tuple(components) if components is not None else required_components(view),
        created=created,
        expires=expires,
        nonce=nonce,
        alg=key.httpsig_alg if include_alg else None,
        keyid=keyid,
    )
    sig_base = signature_base(view, params, base=base)
    signature = key.sign(sig_base)
    added[dialect.SIGNATURE_INPUT_HEADER] = format_signature_input(params)
    added[dialect.SIGNATURE_HEADER] = format_signature(signature_key.label, signature, encoding=encoding)
    return SignedHeaders(headers=added, params=params, base=sig_base)


_REPLACED = frozenset({"signature", "signature-input", "signature-key", "content-digest"})
