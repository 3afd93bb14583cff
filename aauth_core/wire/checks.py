"""What every header codec does first: bound the text, and report a structured-field
failure as a :class:`~aauth_core.errors.HeaderError` with the codec's own code.

One place for both, so a malformed header of any kind becomes the same kind of 401
(never a ``ValueError`` and a 500), with a code a client can branch on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from ..errors import HeaderError
from . import sf

__all__ = ["MAX_HEADER_LENGTH", "check_length", "parse_dictionary", "single_member"]

MAX_HEADER_LENGTH = 16 * 1024
_HEADER_TEXT = re.compile(r"[\x20-\x7e\t]*")

M = TypeVar("M")


def check_length(name: str, value: str, code: str) -> None:
    """Refuse a value longer than :data:`MAX_HEADER_LENGTH` or holding anything but
    printable ASCII and tabs, before any parser spends time on it."""
    if len(value) > MAX_HEADER_LENGTH:
        raise HeaderError(f"{name} header is too long", code=code)
    if not _HEADER_TEXT.fullmatch(value):
        raise HeaderError(f"{name} header contains non-ASCII or control characters", code=code)


def parse_dictionary(
    what: str, value: str, code: str, *, lenient_bytes: bool = False
) -> dict[str, sf.Item | sf.InnerList]:
    """:func:`sf.parse_dictionary`, its :class:`sf.ParseError` reported as ``"{what} is malformed"``."""
    try:
        return sf.parse_dictionary(value, lenient_bytes=lenient_bytes)
    except sf.ParseError as exc:
        raise HeaderError(f"{what} is malformed: {exc}", code=code) from None


def single_member(name: str, members: Mapping[str, M], code: str) -> tuple[str, M]:
    """The one member of a header that carries exactly one signature (A5)."""
    if len(members) != 1:
        raise HeaderError(f"{name} must have exactly one member, found {len(members)}", code=code)
    return next(iter(members.items()))
