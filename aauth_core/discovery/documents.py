"""The documents discovery deals in: what a lookup asks for (:class:`Need`) and gets
(:class:`Got`), how a response body becomes one (decode, validate) and how long it
stays fresh.

Every value read from a response is read strictly: odd ``Cache-Control`` values
fall back to defaults, a body that is not the expected JSON (or nests too deeply)
is a ``DiscoveryError``, never a stray exception.  A metadata document must name
the identifier it was fetched for (protocol A8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from .. import dialect
from ..cache import CachedDocument
from ..errors import DiscoveryError
from ..keys import KeyError_, PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..settings import AAuthSettings
from ..wire.http_fields import freshness
from .ssrf import FAILED, blocked, host_of

__all__ = ["Got", "Kind", "Need", "decode", "import_keys", "metadata_need", "strip_slash", "ttl", "validate"]

Kind = Literal["metadata", "jwks", "text"]


@dataclass(frozen=True, slots=True)
class Need:
    """A document a lookup needs.  ``refresh_seen``: refetch unless the cache moved past it."""

    url: str
    kind: Kind
    identifier: str = ""
    well_known: str = ""
    max_bytes: int = 0
    refresh_seen: float | None = None

    @property
    def key(self) -> str:
        return "text:" + self.url if self.kind == "text" else self.url

    @property
    def holds_keys(self) -> bool:
        """A JWKS, or metadata naming one: a change to it may change which keys are current."""
        return self.kind != "text"


@dataclass(frozen=True, slots=True)
class Got:
    """A usable document.  ``from_network``: fetched just now; ``offline``: one of the
    documents given to :class:`~aauth_core.discovery.Discovery` (never cached or memoised);
    ``changed``: fetching it changed a key document (it raised ``keys_version`` by one)."""

    doc: CachedDocument
    from_network: bool = False
    offline: bool = False
    changed: bool = False


def strip_slash(value: str) -> str:
    return value[:-1] if value.endswith("/") else value


#: Every metadata document either profile fetches, and the member naming its party: January's
#: (``agent``, ``resource``, ``issuer``) and aauth-11's ``*.json`` documents (``issuer``).
ID_FIELDS: Mapping[str, str] = MappingProxyType({**dialect.METADATA_ID_FIELD, **AAUTH_11.metadata_id_field})
_ID_FIELDS_11 = frozenset(AAUTH_11.metadata_id_field)


def metadata_need(identifier: str, well_known: str) -> Need:
    """The ``{identifier}/.well-known/{well_known}`` document, refused before any I/O if malformed."""
    if well_known not in ID_FIELDS:
        raise DiscoveryError("unknown metadata document name", code="invalid_metadata")
    if "?" in identifier:
        raise blocked(host_of(identifier), "identifier must not carry a query")
    url = f"{strip_slash(identifier)}/.well-known/{well_known}"
    return Need(url, "metadata", identifier=identifier, well_known=well_known)


def ttl(cache_control: str | None, settings: AAuthSettings) -> float:
    """Seconds a document stays fresh, from ``Cache-Control``, within the configured bounds.

    ``no-store`` / ``no-cache`` get the minimum TTL rather than zero: the verifier
    needs keys on every request, and refetching per request would turn every
    signed request into an outbound fetch (and a denial-of-service amplifier).
    """
    return float(freshness(cache_control, default=settings.discovery_default_ttl,
                           low=settings.discovery_min_ttl, high=settings.discovery_max_ttl))


def validate(need: Need, value: Mapping[str, Any]) -> None:
    """Kind-specific checks, run on every document before it is used (cheap: hot path)."""
    if need.kind == "metadata":
        field = ID_FIELDS[need.well_known]
        named = value.get(field)
        if need.well_known in _ID_FIELDS_11:
            _check_issuer_11(need, named)
        # An origin's empty path and "/" are one URL (RFC 3986 §6.2.3): the only normalising here.
        elif not isinstance(named, str) or strip_slash(named) != strip_slash(need.identifier):
            raise DiscoveryError(
                f"metadata from {host_of(need.url)}: '{field}' does not match the identifier it was fetched for",
                code="metadata_mismatch",
            )
        jwks_uri = value.get("jwks_uri")
        try:
            parts = urlsplit(jwks_uri) if isinstance(jwks_uri, str) else None
        except ValueError:  # "https://[::1": unparseable
            parts = None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            raise DiscoveryError(
                f"metadata from {host_of(need.url)}: 'jwks_uri' is not a URL", code="invalid_metadata"
            )
    elif need.kind == "jwks" and not isinstance(value.get("keys"), list):
        raise DiscoveryError(f"JWKS from {host_of(need.url)} has no 'keys' list", code="invalid_jwks")


def _check_issuer_11(need: Need, named: object) -> None:
    """aauth-11 §11.5.2: ``issuer`` present (``issuer_missing``) and byte-equal to the identifier
    the document was fetched for (``metadata_mismatch``, answered as ``issuer_mismatch``)."""
    if named is None:
        raise DiscoveryError(f"metadata from {host_of(need.url)} has no 'issuer'", code="issuer_missing")
    if named != need.identifier:
        raise DiscoveryError(f"metadata from {host_of(need.url)}: 'issuer' does not match the identifier "
                             "it was fetched for", code="metadata_mismatch")


def decode(need: Need, body: bytes, host: str) -> Mapping[str, Any]:
    """The document in a 200 response body: UTF-8 text, or a JSON object for metadata and JWKS."""
    if need.kind == "text":
        try:
            return {"text": body.decode("utf-8")}
        except UnicodeDecodeError:
            raise DiscoveryError(f"document from {host} is not UTF-8 text", code=FAILED) from None
    code = "invalid_jwks" if need.kind == "jwks" else "invalid_metadata"
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # also digits past int's limit, bad UTF-8
        raise DiscoveryError(f"document from {host} is not valid JSON", code=code) from None
    if not isinstance(value, dict):
        raise DiscoveryError(f"document from {host} is not a JSON object", code=code)
    if _deeper_than(value, _MAX_DEPTH):
        raise DiscoveryError(f"document from {host} is nested too deeply", code=code)
    return value


_MAX_DEPTH = 32
"""Metadata and JWKS documents are a few levels deep; deeper ones are refused so that
no later consumer (a cache that serialises them, a caller walking them) meets a
structure that exhausts the stack."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: Python's extension, not RFC 8259


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def import_keys(value: Mapping[str, Any]) -> tuple[PublicKey, ...]:
    """Every usable signing key of a JWKS; unsupported or malformed entries are skipped."""
    keys: list[PublicKey] = []
    for jwk in value.get("keys", ()):
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        try:
            keys.append(PublicKey.from_jwk(jwk))
        except KeyError_:
            continue
    return tuple(keys)
