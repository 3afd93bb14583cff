"""Signature-Error, Accept-Signature-Scheme and Accept-Signature-Alg (SK-09 §4, §5).

``Signature-Error`` is an RFC 9651 Dictionary: ``error`` a Token naming the failure (the
codes of SK-09 §5.4), ``required_input`` an Inner List of Strings with ``invalid_input``,
and unknown members ignored (kept in ``extra`` and written back, so a value round-trips).
Under aauth-11 it rides on every signature failure, always a ``401``; the header, not the
body, is authoritative.  The two ``Accept-Signature-*`` headers are Lists of Tokens naming
what the server accepts (``jwt``; ``Ed25519, ES256``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ..errors import HeaderError
from . import sf
from .checks import check_length, parse_dictionary

__all__ = [
    "AAUTH_SIGNATURE_ERRORS",
    "SIGNATURE_ERRORS",
    "SignatureErrorField",
    "format_accept_signature",
    "format_signature_error",
    "parse_accept_signature",
    "parse_signature_error",
]

_CODE = "invalid_signature_error"

#: SK-09 §5.4 (the Signature Error Code registry's initial contents).
SIGNATURE_ERRORS: Final = frozenset({
    "unsupported_algorithm", "unsupported_scheme", "cache_miss", "invalid_signature", "invalid_input",
    "invalid_request", "invalid_key", "unknown_key", "issuer_missing", "issuer_mismatch", "invalid_jwt",
    "expired_jwt", "revoked_jwt", "clock_skew",
})
#: The codes an aauth-11 server sends (reference §4.3): not ``invalid_request`` nor ``cache_miss``.
AAUTH_SIGNATURE_ERRORS: Final = SIGNATURE_ERRORS - {"invalid_request", "cache_miss"}


@dataclass(frozen=True, slots=True)
class SignatureErrorField:
    """One ``Signature-Error`` value."""

    error: str
    #: The components the server requires (with ``invalid_input``), in its order.
    required_input: tuple[str, ...] | None = None
    #: Members SK-09 does not define, as received.
    extra: Mapping[str, sf.Item | sf.InnerList] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def known(self) -> bool:
        """True for a code SK-09 defines (a client treats any other as a generic failure)."""
        return self.error in SIGNATURE_ERRORS


def parse_signature_error(value: str) -> SignatureErrorField:
    """Parse a ``Signature-Error`` value; ``HeaderError`` (``invalid_signature_error``) when
    ``error`` is absent or not a Token, or ``required_input`` is not an Inner List of Strings."""
    check_length("Signature-Error", value, _CODE)
    members = parse_dictionary("Signature-Error", value, _CODE)
    error = members.pop("error", None)
    if not isinstance(error, sf.Item) or not isinstance(error.value, sf.Token):
        raise HeaderError("Signature-Error needs an 'error' token", code=_CODE)
    required = members.pop("required_input", None)
    components: tuple[str, ...] | None = None
    if required is not None:
        if not isinstance(required, sf.InnerList) or not all(_is_string(i.value) for i in required.items):
            raise HeaderError("Signature-Error 'required_input' must be a list of strings", code=_CODE)
        components = tuple(str(i.value) for i in required.items)
    return SignatureErrorField(str(error.value), components, MappingProxyType(members))


def _is_string(value: sf.BareItem) -> bool:
    return isinstance(value, str) and not isinstance(value, sf.Token)


def format_signature_error(value: SignatureErrorField) -> str:
    """Serialise canonically (RFC 9651: ``, `` between members).  Only SK-09's codes are
    written: a typo must not reach a client as a code no one defines."""
    if value.error not in SIGNATURE_ERRORS:
        raise ValueError(f"{value.error!r} is not a Signature-Error code")
    parts = [f"error={value.error}"]
    if value.required_input is not None:
        inner = sf.InnerList(tuple(sf.Item(c, {}) for c in value.required_input), {})
        parts.append(f"required_input={sf.serialize_inner_list(inner)}")
    for name, member in value.extra.items():
        text = "=" + sf.serialize_inner_list(member) if isinstance(member, sf.InnerList) else _serialize_member(member)
        parts.append(name + text)
    return ", ".join(parts)


def _serialize_member(item: sf.Item) -> str:
    # A Dictionary member whose value is true is written bare, with its parameters.
    if item.value is True:
        return sf.serialize_params(item.params)
    return "=" + sf.serialize_item(item)


def format_accept_signature(names: Iterable[str]) -> str:
    """``Accept-Signature-Scheme`` / ``Accept-Signature-Alg``: Tokens, in preference order."""
    names = tuple(names)
    if not names or not all(sf.is_token(n) for n in names):
        raise ValueError("Accept-Signature-* lists one or more tokens")
    return ", ".join(names)


def parse_accept_signature(value: str) -> tuple[str, ...]:
    """The Tokens of an ``Accept-Signature-*`` value, in order; members that are not Tokens
    are ignored, as unknown tokens are (SK-09 §4.1)."""
    check_length("Accept-Signature", value, _CODE)
    try:
        members = sf.parse_list(value)
    except sf.ParseError as exc:
        raise HeaderError(f"Accept-Signature is malformed: {exc}", code=_CODE) from None
    return tuple(str(m.value) for m in members if isinstance(m, sf.Item) and isinstance(m.value, sf.Token))
