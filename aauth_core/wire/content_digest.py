"""Content-Digest (RFC 9530): the body's hash, so a signature over the header covers the body.

Every signer we know sends one ``sha-256`` member in standard base64; :func:`check_content_digest`
recognises that exact text with one regex and hashes once.  Anything else goes through
:func:`parse_content_digest` (the two are checked against each other in
``tests/core/test_fast_path_differential.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Literal

from ..errors import HeaderError, SignatureError
from . import sf
from .checks import check_length, parse_dictionary

if TYPE_CHECKING:
    from ..request import RequestView

__all__ = ["check_content_digest", "check_request_digest", "format_content_digest", "parse_content_digest"]

_CODE = "invalid_content_digest"
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_FAST_SHA256_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")


def parse_content_digest(value: str) -> dict[str, bytes]:
    """Parse Content-Digest (RFC 9530); only the algorithms we can check are returned."""
    check_length("Content-Digest", value, _CODE)
    out: dict[str, bytes] = {}
    for name, member in parse_dictionary("Content-Digest", value, _CODE).items():
        if name not in _DIGESTS:
            continue
        if not isinstance(member, sf.Item) or not isinstance(member.value, bytes):
            raise HeaderError(f"Content-Digest {name} must be a byte sequence", code=_CODE)
        out[name] = member.value
    if not out:
        raise HeaderError("Content-Digest has no supported algorithm (sha-256, sha-512)",
                          code="unsupported_digest_algorithm")
    return out


def format_content_digest(body: bytes, algorithm: Literal["sha-256", "sha-512"] = "sha-256") -> str:
    """RFC 9530 value over the exact body bytes; standard base64 with padding."""
    digest = _DIGESTS[algorithm](body).digest()
    return f"{algorithm}=:{base64.b64encode(digest).decode('ascii')}:"


def check_content_digest(value: str, body: bytes) -> None:
    """Recompute every supported digest over ``body``; any mismatch is refused (A8)."""
    fast = _FAST_SHA256_DIGEST.fullmatch(value)
    if fast is not None:  # the usual shape: no structured-field parse, one hash
        if not hmac.compare_digest(hashlib.sha256(body).digest(), binascii.a2b_base64(fast.group(1))):
            raise HeaderError("Content-Digest sha-256 does not match the body", code="digest_mismatch")
        return
    _check_general(value, body)


def _check_general(value: str, body: bytes) -> None:
    """Any Content-Digest, through the structured-field parser."""
    for name, expected in parse_content_digest(value).items():
        if not hmac.compare_digest(_DIGESTS[name](body).digest(), expected):
            raise HeaderError(f"Content-Digest {name} does not match the body", code="digest_mismatch")


def check_request_digest(view: RequestView) -> None:
    """A signature covers ``content-digest``: the body the adapter read must match the header
    it covers (every profile's verifier takes this step the same way)."""
    if view.body is None:
        raise SignatureError("the request body was not available to check Content-Digest",
                             code="body_unavailable", status_code=500)
    digest = view.headers.get("content-digest")
    if digest is None:
        raise SignatureError("covered header 'content-digest' is absent from the request", code="missing_component")
    check_content_digest(digest, view.body)
