"""The structural parse of a token (:func:`peek`): bounded, and no signature check.

Callers read ``typ``/``kid``/``iss`` from it to find the verification key; only
:func:`~aauth_core.tokens.validate_token` makes its claims trustworthy.  The same
few tokens arrive on every request, so the parse is memoised (bounded).
"""

from __future__ import annotations

from typing import Final

from ..cache import memoize
from ..keys import b64url_decode
from .json import decode_object
from .refusal import token_error
from .values import UnverifiedToken

__all__ = ["MAX_TOKEN_LENGTH", "peek"]

#: Tokens longer than this are refused before any decoding (16 KiB).
MAX_TOKEN_LENGTH: Final = 16 * 1024


@memoize(512)
def peek(token: str) -> UnverifiedToken:
    """Structural parse only: three base64url JSON segments, bounded, no signature check.

    Refuses JWE (five segments), ``crit`` headers (we understand no extensions),
    headers without ``alg``/``kid`` and a non-string ``typ``.
    """
    if not isinstance(token, str):
        raise token_error("malformed_token", "token must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise token_error("malformed_token", f"token is longer than {MAX_TOKEN_LENGTH} bytes")
    parts = token.split(".")
    if len(parts) == 5:
        raise token_error("malformed_token", "encrypted tokens (JWE) are not supported")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise token_error("malformed_token", "token is not a compact JWS (three base64url segments)")
    if any("=" in part for part in parts):
        raise token_error("malformed_token", "token segments must be unpadded base64url")
    header = decode_object(parts[0], "header")
    claims = decode_object(parts[1], "payload")
    try:
        b64url_decode(parts[2])
    except ValueError:
        raise token_error("malformed_token", "token signature is not base64url") from None
    if "crit" in header:
        raise token_error("unsupported_token", "token header 'crit' extensions are not supported")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise token_error("malformed_token", "token header has no 'alg'")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise token_error("malformed_token", "token header has no 'kid'")
    if "typ" in header and not isinstance(header["typ"], str):
        raise token_error("malformed_token", "token header 'typ' must be a string")
    out = UnverifiedToken(header=header, claims=claims, raw=token)
    object.__setattr__(out, "_sealed", True)
    return out
