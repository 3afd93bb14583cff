"""The checks of an access server's auth token before the person server relays it to its
agent (-11 §2.3 "Federation": ``iss``, ``aud``, ``cnf``, ``sub``, scope ⊆, ``exp`` ≤ presented).

``typ`` ``aa-auth+jwt``, ``dwk`` ``aauth-access.json``, ``iss`` the access server the resource
token named in ``aud``, its key from ``{iss}/.well-known/aauth-access.json`` (discovery checks the
document's ``issuer``), the JWS, ``exp`` without skew, the -11 shape and the one-hour cap; then
``aud`` = the resource, ``cnf`` = the agent's key, ``sub`` = the resource token's ``sub``, ``ps`` =
this person server, ``scope`` within the requested scope, and ``exp`` no later than the tokens it
rests on.  Any failure is ``502 as_unreachable``: the access server gave no usable answer, and
nothing reaches the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..discovery import Discovery
from ..effects import Flow, call
from ..errors import AAuthError
from ..keys import PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..tokens import peek, validate_token
from ..tokens.claims_11 import check_claims_11
from ..tokens.mint_11 import MAX_LIFETIME_11
from .wire import PersonServerError

__all__ = ["FederatedAsk", "as_unreachable", "check_access_token"]

TYP_AUTH = AAUTH_11.typ_auth
DWK_ACCESS = AAUTH_11.well_known_access or "aauth-access.json"
_ALGS = ("Ed25519", "ES256")


@dataclass(frozen=True, slots=True)
class FederatedAsk:
    """What the person server asked the access server for (JSON-ready: kept while parked)."""

    access_server: str
    resource: str
    sub: str
    scope: tuple[str, ...]
    agent_jkt: str
    not_after: int
    user: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["scope"] = list(self.scope)
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> FederatedAsk:
        return cls(str(value["access_server"]), str(value["resource"]), str(value["sub"]),
                   tuple(value.get("scope", ())), str(value["agent_jkt"]), int(value["not_after"]),
                   value.get("user"))


def as_unreachable(detail: str) -> PersonServerError:
    """``502 as_unreachable`` (-11 §11.9.2): the access server gave no usable answer."""
    return PersonServerError(detail, code="as_unreachable", status_code=502)


def check_access_token(token: object, ask: FederatedAsk, *, issuer: str, discovery: Discovery,
                       now: float) -> Flow[Mapping[str, Any]]:
    """The access server's auth token's verified claims (see the module docstring)."""
    if not isinstance(token, str) or not token:
        raise as_unreachable("the access server answered without an auth_token")
    try:
        unverified = peek(token)
    except AAuthError:
        raise as_unreachable("the access server's auth token is not a JWT") from None
    header, claims = unverified.header, unverified.claims
    if header.get("typ") != TYP_AUTH or claims.get("dwk") != DWK_ACCESS:
        raise as_unreachable(f"the access server's token is not an {TYP_AUTH} with dwk {DWK_ACCESS}")
    if claims.get("iss") != ask.access_server:
        raise as_unreachable("the auth token was not issued by the access server asked (iss)")
    try:
        key = yield from call(discovery.key_for, discovery.akey_for, ask.access_server, DWK_ACCESS,
                              str(header.get("kid", "")))
        verified = validate_token(token, typ=TYP_AUTH, key=key, now=now, leeway=0, algorithms=_ALGS)
        check_claims_11(TYP_AUTH, verified.claims)
    except AAuthError as exc:
        raise as_unreachable(f"the access server's auth token does not verify ({exc.code})") from None
    checked = verified.claims
    if checked["exp"] - checked["iat"] > MAX_LIFETIME_11[TYP_AUTH]:
        raise as_unreachable("the access server's auth token lives over an hour")
    _pairings(checked, verified.cnf_jwk, ask, issuer)
    return checked


def _pairings(claims: Mapping[str, Any], cnf_jwk: Mapping[str, Any] | None, ask: FederatedAsk, issuer: str) -> None:
    if claims.get("aud") != ask.resource:
        raise as_unreachable("the access server's auth token is for another resource (aud)")
    if _thumbprint(cnf_jwk) != ask.agent_jkt:
        raise as_unreachable("the access server's auth token is bound to another key than the agent's (cnf)")
    if claims.get("sub") != ask.sub:
        raise as_unreachable("the access server's auth token names another person than the resource token (sub)")
    if claims.get("ps") != issuer:
        raise as_unreachable("the access server's auth token names another person server (ps)")
    granted = set(str(claims.get("scope") or "").split())
    if not granted <= set(ask.scope):
        raise as_unreachable("the access server's auth token grants more scope than was asked for")
    if int(claims["exp"]) > ask.not_after:
        raise as_unreachable("the access server's auth token outlives the tokens it rests on (exp)")


def _thumbprint(jwk: Mapping[str, Any] | None) -> str | None:
    if not isinstance(jwk, Mapping):
        return None
    try:
        return PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "alg"}).thumbprint
    except (AAuthError, ValueError, TypeError):
        return None
