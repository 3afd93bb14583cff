"""Signature (RFC 9421 §4.2): one member, a byte sequence in base64 or base64url (A3).

Every signer we know sends ``label=:<one base64 alphabet>:``; :func:`parse_signature`
reads that shape with one regex and one decode, and hands anything else to the
general structured-field parser (which refuses a value mixing the two alphabets).
The two paths are checked against each other in
``tests/core/test_fast_path_differential.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

from ..errors import HeaderError
from . import sf
from .checks import MAX_HEADER_LENGTH, check_length, parse_dictionary, single_member

__all__ = ["format_signature", "parse_signature"]

_CODE = "invalid_signature_header"

# label=:<base64url>: and label=:<base64>:, one alphabet each.  Two single-class
# patterns, not one alternation, which would backtrack over the whole value.
_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")
_FAST_SIGNATURE_URLSAFE = re.compile(r"([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9_-]*)={0,2}:")
_FAST_SIGNATURE_STD = re.compile(r"([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9+/]*)={0,2}:")
_PADDING = (b"", b"===", b"==", b"=")  # by length % 4; 1 is invalid and a2b_base64 refuses it


def parse_signature(value: str) -> tuple[str, bytes]:
    """Parse a Signature header holding exactly one signature; base64 or base64url (A3)."""
    if len(value) <= MAX_HEADER_LENGTH:
        # The match alone proves the text is printable ASCII, so a request costs one
        # regex and one decode.  Inline, not a helper: this runs on every request.
        text = value.strip(" \t")
        fast = _FAST_SIGNATURE_URLSAFE.fullmatch(text)
        if fast is not None:
            label, body = fast.groups()
            data = body.encode("ascii").translate(_URLSAFE_TO_STD)
        else:
            fast = _FAST_SIGNATURE_STD.fullmatch(text)
            if fast is not None:
                label, body = fast.groups()
                data = body.encode("ascii")
        if fast is not None:
            try:  # the match admits only the alphabet, so non-strict decoding drops nothing
                return label, binascii.a2b_base64(data + _PADDING[len(data) % 4])
            except ValueError:
                raise HeaderError("Signature header is malformed: bad base64", code=_CODE) from None
    return _parse_general(value)


def _parse_general(value: str) -> tuple[str, bytes]:
    """Any Signature value, through the structured-field parser (lenient about base64url)."""
    check_length("Signature", value, _CODE)
    members = parse_dictionary("Signature header", value, _CODE, lenient_bytes=True)
    label, member = single_member("Signature", members, _CODE)
    if not isinstance(member, sf.Item) or not isinstance(member.value, bytes) or member.params:
        raise HeaderError("Signature member must be a byte sequence", code=_CODE)
    return label, member.value


def format_signature(label: str, signature: bytes, *, encoding: Literal["base64url", "base64"] = "base64url") -> str:
    """A3: base64url without padding on output by default; ``base64`` gives strict RFC 8941."""
    if encoding == "base64":
        text = base64.b64encode(signature).decode("ascii")
    else:
        text = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    return f"{label}=:{text}:"
