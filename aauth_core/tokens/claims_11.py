"""The claim shapes ``aauth-11`` requires of its four token types (draft -11 §11.5.1, §5.3,
§6.7.1, §7.1.2, §9.4.1), checked on a token's claims before anything trusts them.

Only shape: presence and type of the common claims, and what a type must not carry.  The
signature, issuer trust, ``aud`` and ``cnf`` binding are the validator's steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TokenError
from .claims import is_numeric_date

__all__ = ["AA_TYPES", "check_claims_11"]

#: typ → the claims every token of that type carries besides the common ones.
AA_TYPES: Mapping[str, tuple[str, ...]] = {
    "aa-agent+jwt": ("sub", "cnf"),
    "aa-person+jwt": ("aud", "sub", "cnf"),
    "aa-resource+jwt": ("aud", "ps", "sub", "presented_jti", "agent_jkt"),
    "aa-auth+jwt": ("aud", "ps", "sub", "cnf"),
}
_COMMON = ("iss", "dwk", "jti")
_FORBIDDEN: Mapping[str, tuple[str, ...]] = {
    "aa-person+jwt": ("scope", "account"),  # §7.1.2: a person token names no authorization
    "aa-resource+jwt": ("agent", "act"),  # RS-32, RS-75
    "aa-auth+jwt": ("agent", "act"),  # RS-40, RS-75
}


def check_claims_11(typ: str, claims: Mapping[str, Any]) -> None:
    """Raise :class:`TokenError` ``invalid_jwt`` unless ``claims`` have the shape -11 requires of ``typ``."""
    required = AA_TYPES.get(typ)
    if required is None:
        raise TokenError(f"{typ!r} is not an aauth-11 token type", code="invalid_jwt")
    for name in _COMMON + required:
        if name not in claims:
            raise TokenError(f"{typ} requires the {name!r} claim", code="invalid_jwt")
    for name in ("iat", "exp"):
        if not is_numeric_date(claims.get(name)):
            raise TokenError(f"{typ} requires a numeric {name!r} claim", code="invalid_jwt")
    for name in _FORBIDDEN.get(typ, ()):
        if name in claims:
            raise TokenError(f"{typ} must not carry {name!r}", code="invalid_jwt")
