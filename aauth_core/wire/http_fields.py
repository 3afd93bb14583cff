"""Strict readers for the response header fields discovery acts on (``Cache-Control``, ``Content-Length``).

A fetched document's headers come from whichever host a peer named, so they are
read to the letter of RFC 9110 / 9111: numbers are ASCII digits only
(``str.isdigit`` also accepts ``²``, which ``int`` rejects, and ``٦``, which it
reads) and are never converted past the bound the caller needs (``int`` refuses
strings of more than 4300 digits).  Anything else reads as absent, so the caller
falls back to its default instead of raising.
"""

from __future__ import annotations

import re

__all__ = ["bounded_int", "cache_directives", "freshness"]

_DIGITS = re.compile(r"[0-9]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


def bounded_int(text: str, bound: int) -> int | None:
    """``text`` (``[0-9]+``, nothing else) as an integer capped at ``bound``; ``None`` if it is not that."""
    if not _DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(bound)):
        return bound
    return min(int(digits), bound)


def _elements(value: str) -> list[str]:
    """Split a list field at commas outside quoted strings (``private="a, b"`` is one element)."""
    return value.split(",") if '"' not in value else _split_outside_quotes(value)


def _split_outside_quotes(value: str) -> list[str]:
    out: list[str] = []
    start = i = 0
    while i < len(value):
        c = value[i]
        if c == '"':
            i += 1
            while i < len(value) and value[i] != '"':
                i += 2 if value[i] == "\\" else 1
        elif c == ",":
            out.append(value[start:i])
            start = i + 1
        i += 1
    out.append(value[start:])
    return out


def cache_directives(value: str | None) -> dict[str, list[str | None]]:
    """``Cache-Control`` as lower-cased directive name → every argument given for it.

    An argument is a token or the content of a quoted string (RFC 9111 §5.2 asks
    recipients to accept both); an element whose name is not a token is skipped.
    """
    directives: dict[str, list[str | None]] = {}
    if not value:
        return directives
    for element in _elements(value):
        name, eq, arg = element.strip(" \t").partition("=")
        if not _TOKEN.fullmatch(name):
            continue
        quoted = _QUOTED.fullmatch(arg)
        directives.setdefault(name.lower(), []).append(
            None if not eq else _ESCAPE.sub(r"\1", quoted.group(1)) if quoted else arg
        )
    return directives


def freshness(value: str | None, *, default: int, low: int, high: int) -> int:
    """Seconds a fetched document stays fresh, within ``[low, high]``.

    ``no-store`` / ``no-cache`` give ``low`` (not zero: see :func:`aauth_core.discovery.documents.ttl`).
    ``s-maxage``, else ``max-age``, when given exactly once as ``[0-9]+``; a
    repeated, empty, signed, non-ASCII or otherwise odd value is ignored, and with
    none usable the answer is ``default``.
    """
    directives = cache_directives(value)
    if "no-store" in directives or "no-cache" in directives:
        return low
    for name in ("s-maxage", "max-age"):
        args = directives.get(name, [])
        seconds = bounded_int(args[0], high) if len(args) == 1 and args[0] is not None else None
        if seconds is not None:
            return max(low, min(seconds, high))
    return max(low, min(default, high))
