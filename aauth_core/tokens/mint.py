"""Minting the three AAuth JWTs: agent (``agent+jwt``), resource (``resource+jwt``), auth (``auth+jwt``).

Claims are written in the transcript's order, absent optional claims are left out
rather than written as ``null``, and a ``cnf.jwk`` is checked to be a usable public
key before it goes into a token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import dialect
from ..keys import KeyError_, PublicKey, SigningKey
from .claims import MAX_LIFETIME
from .json import thaw, thaw_mapping
from .jws import sign

__all__ = ["mint_agent_token", "mint_auth_token", "mint_resource_token"]


def _public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ``cnf.jwk`` before it goes into a token; refuse private members."""
    if not isinstance(jwk, Mapping):
        raise ValueError("cnf_jwk must be a JWK object")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ValueError("cnf_jwk must be a public key (it contains private key material)")
    try:
        PublicKey.from_jwk(jwk)
    except KeyError_ as exc:
        raise ValueError(f"cnf_jwk is not a usable Ed25519 or P-256 public key: {exc.description}") from None
    return thaw_mapping(jwk)


def _merge_extra(claims: dict[str, Any], extra: Mapping[str, Any] | None) -> None:
    if not extra:
        return
    clash = sorted(set(extra) & set(claims))
    if clash:
        raise ValueError(f"extra claims may not override {', '.join(clash)}")
    for name, value in extra.items():
        claims[name] = thaw(value)


def _check_lifetime(lifetime: int) -> None:
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 0 < lifetime <= MAX_LIFETIME:
        raise ValueError(f"lifetime must be a positive whole number of seconds, at most {MAX_LIFETIME}")


def _audience(aud: str | Sequence[str]) -> str | list[str]:
    if isinstance(aud, str):
        return aud
    values = list(aud)
    if not values or not all(isinstance(a, str) for a in values):
        raise ValueError("aud must be a string or a non-empty sequence of strings")
    return values


def mint_agent_token(
    key: SigningKey,
    *,
    iss: str,
    sub: str,
    cnf_jwk: Mapping[str, Any],
    now: float,
    lifetime: int = 3600,
    aud: str | Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An ``agent+jwt`` binding a delegate (``sub``) and its key (``cnf.jwk``) to an agent server."""
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "sub": sub}
    if aud is not None:
        claims["aud"] = _audience(aud)
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    claims["cnf"] = {"jwk": _public_jwk(cnf_jwk)}
    _merge_extra(claims, extra)
    return sign(key, dialect.TYP_AGENT, claims)


def mint_resource_token(
    key: SigningKey,
    *,
    iss: str,
    aud: str,
    agent: str,
    agent_jkt: str,
    now: float,
    scope: str | None = None,
    auth_request_url: str | None = None,
    lifetime: int = 600,
) -> str:
    """A ``resource+jwt``: what the resource asks the auth server to grant, and to whom."""
    if (scope is None) == (auth_request_url is None):
        raise ValueError("exactly one of scope and auth_request_url is required")
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "aud": aud, "agent": agent, "agent_jkt": agent_jkt}
    if scope is not None:
        claims["scope"] = scope
    else:
        claims["auth_request_url"] = auth_request_url
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    return sign(key, dialect.TYP_RESOURCE, claims)


def mint_auth_token(
    key: SigningKey,
    *,
    iss: str,
    aud: str | Sequence[str],
    cnf_jwk: Mapping[str, Any],
    now: float,
    agent: str | None = None,
    scope: str | None = None,
    sub: str | None = None,
    agent_delegate: str | None = None,
    act: Mapping[str, Any] | None = None,
    lifetime: int = 3600,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An ``auth+jwt`` bound to the agent's key; claim order is the transcript's plus ``iat``.

    ``agent`` is omitted only when the agent is itself the resource (``aud`` = agent).
    Absent optional claims are left out rather than written as ``null``.
    """
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "aud": _audience(aud)}
    if sub is not None:
        claims["sub"] = sub
    claims["cnf"] = {"jwk": _public_jwk(cnf_jwk)}
    if scope is not None:
        claims["scope"] = scope
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    if agent is not None:
        claims["agent"] = agent
    if agent_delegate is not None:
        claims["agent_delegate"] = agent_delegate
    if act is not None:
        if not isinstance(act, Mapping):
            raise ValueError("act must be a JSON object")
        claims["act"] = thaw_mapping(act)
    _merge_extra(claims, extra)
    return sign(key, dialect.TYP_AUTH, claims)
