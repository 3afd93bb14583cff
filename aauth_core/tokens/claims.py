"""Reading individual claims the way every token kind needs them: dates, ``aud``, ``cnf``, strings.

Each reader refuses a malformed value with its stable code; :class:`TokenTimes` keeps a
validated token's time claims so a token met again is re-checked without re-reading them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple, TypeGuard

from ..keys import KeyError_, PublicKey
from .refusal import token_error

__all__ = [
    "MAX_LIFETIME",
    "MAX_NUMERIC_DATE",
    "TokenTimes",
    "audiences",
    "check_token_times",
    "confirmation_key",
    "is_lifetime",
    "is_numeric_date",
    "string_claim",
]

#: The latest NumericDate (``exp``/``iat``/``nbf``) accepted: 9999-12-31T23:59:59Z.  Anything
#: later, negative, non-finite, boolean or non-numeric is ``malformed_token``.
MAX_NUMERIC_DATE: Final = 253_402_300_799
#: The longest lifetime (seconds) minted, configured or accepted as ``expires_in``: 100 years.
MAX_LIFETIME: Final = 100 * 366 * 86_400


def is_numeric_date(value: object) -> TypeGuard[int | float]:
    """An RFC 7519 NumericDate we accept: an int (never a bool) or a float, 0..:data:`MAX_NUMERIC_DATE`.

    Compared without converting to float, so a 400-digit integer is refused rather than
    overflowing; NaN fails every comparison.
    """
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= MAX_NUMERIC_DATE)


def is_lifetime(value: object) -> TypeGuard[int | float]:
    """A lifetime in seconds from another party (``expires_in``): a number, 0 < value <= :data:`MAX_LIFETIME`."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= MAX_LIFETIME


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    # is_numeric_date(), inlined: this runs on every warm validation
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise token_error("malformed_token", f"claim '{name}' must be a NumericDate (seconds, 0 to year 9999)")
    return value


def check_token_times(claims: Mapping[str, Any], *, now: float, leeway: int) -> float:
    """``exp`` (required), ``nbf`` and ``iat`` against ``now`` with ``leeway``; returns ``exp``."""
    exp = _numeric(claims, "exp")
    if exp is None:
        raise token_error("missing_claim", "token is missing the 'exp' claim")
    times = TokenTimes(exp, _numeric(claims, "nbf"), _numeric(claims, "iat"))
    times.check(now, leeway)
    return exp


class TokenTimes(NamedTuple):
    """A validated token's time claims, kept so a token met again is checked without
    re-reading its claims."""

    exp: float
    nbf: float | None = None
    iat: float | None = None

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> TokenTimes:
        """From claims :func:`check_token_times` has accepted."""
        return cls(claims["exp"], claims.get("nbf"), claims.get("iat"))

    def check(self, now: float, leeway: int) -> None:
        # RFC 7519 §4.1.4: the current time MUST be before exp (here, exp + leeway): at exp
        # itself the token is expired, as -11 §11.5.2 says too (exp > now, no skew).
        if now >= self.exp + leeway:
            raise token_error("token_expired", "token has expired")
        if self.nbf is not None and now + leeway < self.nbf:
            raise token_error("token_not_yet_valid", "token is not valid yet ('nbf' is in the future)")
        if self.iat is not None and self.iat > now + leeway:
            raise token_error("token_not_yet_valid", "token was issued in the future ('iat')")


def string_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    """The claim ``name`` as a non-empty string; ``None`` when absent and not ``required``."""
    if name not in claims:
        if required:
            raise token_error("missing_claim", f"token is missing the '{name}' claim")
        return None
    value = claims[name]
    if not isinstance(value, str) or not value:
        raise token_error("invalid_claim", f"claim '{name}' must be a non-empty string")
    return value


def audiences(value: Any) -> tuple[str, ...]:
    """An ``aud`` value (a string or a non-empty array of strings) as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise token_error("malformed_token", "claim 'aud' must be a string or a non-empty array of strings")


def confirmation_key(
    claims: Mapping[str, Any], *, required: bool
) -> tuple[Mapping[str, Any] | None, PublicKey | None]:
    """``cnf.jwk`` as carried and as imported (the key the HTTP signature must verify with)."""
    if "cnf" not in claims:
        if required:
            raise token_error("missing_claim", "token is missing the 'cnf' claim")
        return None, None
    cnf = claims["cnf"]
    if not isinstance(cnf, Mapping):
        raise token_error("invalid_cnf", "claim 'cnf' must be a JSON object")
    if "jwk" not in cnf:
        raise token_error("missing_claim", "token is missing the 'cnf.jwk' claim")
    jwk = cnf["jwk"]
    if not isinstance(jwk, Mapping):
        raise token_error("invalid_cnf", "claim 'cnf.jwk' must be a JSON object")
    if "d" in jwk:
        raise token_error("invalid_cnf", "claim 'cnf.jwk' must be a public key")
    try:
        return jwk, PublicKey.from_jwk(jwk)
    except KeyError_:
        raise token_error("invalid_cnf", "claim 'cnf.jwk' is not a usable Ed25519 or P-256 public key") from None
