"""Call chaining (-11 §10.1.1, reference §2.3 "Chaining", RS-70..75): a resource that is also
an agent calls another resource for the person whose token it was called with.

The intermediary signs with **its own** agent token (``iss`` its own agent provider, usually
its own host) and sends ``upstream_token``: the person or auth token it received.  That token
must be one of ours (``iss`` this server, ``dwk`` ``aauth-person.json``, an auth token's ``ps``
this server, our key, the JWS, ``exp`` without skew), recorded here and not revoked, and
addressed to the intermediary: its ``aud`` is the intermediary agent token's ``iss`` (``cnf`` is
not compared: the upstream token is bound to the *calling* agent's key, not the
intermediary's).  The downstream token is then issued for the **upstream person** (the user
recorded for the upstream token), with a ``sub`` directed to the downstream resource (never
the upstream ``sub``), ``mission_s256`` copied, ``exp`` capped at the upstream token's, and a
scope within the upstream token's unless :class:`ChainScopes` says otherwise.  Nothing names the
chain in the token (-11 removed ``act``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..effects import Flow
from ..errors import AAuthError
from ..keys import PublicKey
from ..tokens import peek
from .checks import DWK_PERSON, TYP_AUTH, TYP_PERSON, validated
from .state import Records, token_name
from .wire import PersonServerError

__all__ = ["ChainScopes", "Upstream", "check_upstream", "no_widening"]


class ChainScopes(Protocol):
    """The scopes a chained auth token may carry at ``resource``: by default
    (:func:`no_widening`) exactly the upstream token's (a person token's: none)."""

    def __call__(self, upstream_scope: frozenset[str], *, intermediary: str, resource: str,
                 user: str) -> frozenset[str]: ...


def no_widening(upstream_scope: frozenset[str], *, intermediary: str, resource: str, user: str) -> frozenset[str]:
    """Never wider than the upstream token."""
    return upstream_scope


@dataclass(frozen=True, slots=True)
class Upstream:
    """A verified upstream token: whose it is, and what bounds the downstream token."""

    user: str
    claims: Mapping[str, Any]

    @property
    def exp(self) -> int:
        return int(self.claims["exp"])

    @property
    def scope(self) -> frozenset[str]:
        return frozenset(str(self.claims.get("scope") or "").split())

    @property
    def mission_s256(self) -> str | None:
        value = self.claims.get("mission_s256")
        return value if isinstance(value, str) else None


def _bad(detail: str) -> PersonServerError:
    return PersonServerError(detail, code="invalid_upstream_token")


def check_upstream(token: str, *, issuer: str, keys: Callable[[], Sequence[PublicKey]], intermediary: str,
                   records: Records, now: float) -> Flow[Upstream]:
    """The upstream token, verified and matched to the intermediary (see the module docstring)."""
    try:
        unverified = peek(token)
    except AAuthError:
        raise _bad("the upstream token is not a JWT") from None
    typ = unverified.header.get("typ")
    if typ not in (TYP_PERSON, TYP_AUTH):
        raise _bad("the upstream token must be a person or auth token")
    claims = unverified.claims
    if claims.get("iss") != issuer or claims.get("dwk") != DWK_PERSON:
        raise _bad("the upstream token was not issued by this person server")
    kid = unverified.header.get("kid")
    key = next((k for k in keys() if k.kid == kid), None)
    if key is None:
        raise _bad("the upstream token's key is not one of this person server's")
    verified = validated("upstream_token", token, str(typ), key, now)
    if typ == TYP_AUTH and verified.get("ps") != issuer:
        raise _bad("the upstream auth token names another person server")
    if verified.get("aud") != intermediary:
        raise _bad("the upstream token is not addressed to the calling agent's provider (aud)")
    issued = yield from records.record(token_name(str(verified["jti"])))
    if issued is None:
        raise _bad("the upstream token is unknown here")
    if issued.get("revoked"):
        raise PersonServerError("the upstream token was revoked", code="revoked_upstream_token")
    user = issued.get("user")
    if not isinstance(user, str) or not user:
        raise _bad("the upstream token names no person here")
    return Upstream(user, verified)
