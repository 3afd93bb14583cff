"""Strict JSON for token headers and payloads, so a token means one thing to every party.

Refused at the parse: duplicate member names (parsers disagree on which one wins,
RFC 7519 §4), numbers outside the I-JSON range (RFC 7493 §2.2, before any arithmetic
can overflow), non-standard constants, and nesting deeper than :data:`MAX_JSON_DEPTH`.
Decoded values are deep-frozen (read-only mappings, tuples for arrays); :func:`thaw`
turns them back into plain JSON-ready values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ..keys import b64url_decode
from .refusal import show, token_error

__all__ = ["MAX_JSON_DEPTH", "decode_object", "thaw", "thaw_mapping"]

#: Deepest JSON nesting accepted in a header or payload; guards the parser and ``act`` walking.
MAX_JSON_DEPTH: Final = 32
# I-JSON (RFC 7493 §2.2): the integers an IEEE double holds exactly.  Token JSON outside
# this range is refused at the parse, before any arithmetic can overflow.
_MAX_SAFE_INTEGER: Final = 2**53 - 1
_MAX_SAFE_DIGITS: Final = len(str(_MAX_SAFE_INTEGER))


class _DuplicateMemberError(ValueError):
    pass


class _NumberRangeError(ValueError):
    pass


def _freeze_list(items: list[Any]) -> tuple[Any, ...]:
    return tuple(_freeze_list(v) if isinstance(v, list) else v for v in items)


def _frozen_object(pairs: list[tuple[str, Any]]) -> Mapping[str, Any]:
    # Duplicate member names are refused: different JSON parsers keep different
    # duplicates, and a token must mean one thing to every party (RFC 7519 §4).
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise _DuplicateMemberError(name)
        obj[name] = _freeze_list(value) if isinstance(value, list) else value
    return MappingProxyType(obj)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_int(text: str) -> int:
    # Length first: int() of a long digit string is costly (and raises beyond 4300 digits).
    if len(text) > _MAX_SAFE_DIGITS + 1:
        raise _NumberRangeError(text)
    value = int(text)
    if not -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        raise _NumberRangeError(text)
    return value


def _parse_float(text: str) -> float:
    value = float(text)  # "1e400" is inf here, which JSON cannot mean
    if not math.isfinite(value):
        raise _NumberRangeError(text)
    return value


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """Cheap bracket-depth scan so a nesting bomb never reaches the JSON parser."""
    if text.count("{") + text.count("[") <= limit:
        return False  # the common case: too few brackets to be deep at all
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "{[":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def decode_object(segment: str, what: str) -> Mapping[str, Any]:
    """One base64url token segment as a deep-frozen JSON object; ``what`` names it in errors."""
    try:
        text = b64url_decode(segment).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise token_error("malformed_token", f"token {what} is not base64url-encoded UTF-8") from None
    if _too_deep(text, MAX_JSON_DEPTH):
        raise token_error("malformed_token", f"token {what} JSON is nested too deeply")
    try:
        value = json.loads(text, object_pairs_hook=_frozen_object, parse_constant=_reject_constant,
                           parse_int=_parse_int, parse_float=_parse_float)
    except _DuplicateMemberError as exc:
        raise token_error("malformed_token", f"token {what} repeats the member {show(exc.args[0])}") from None
    except _NumberRangeError:
        raise token_error("malformed_token", f"token {what} has a number outside the I-JSON range") from None
    except (ValueError, RecursionError):
        raise token_error("malformed_token", f"token {what} is not valid JSON") from None
    if not isinstance(value, Mapping):
        raise token_error("malformed_token", f"token {what} is not a JSON object")
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable copy of a (possibly frozen) JSON value: dicts and lists."""
    if isinstance(value, Mapping):
        return thaw_mapping(value)
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def thaw_mapping(value: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`thaw` for an object."""
    return {str(k): thaw(v) for k, v in value.items()}
