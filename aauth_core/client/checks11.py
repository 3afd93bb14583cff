"""The agent's checks of the aauth-11 tokens it is handed (reference §2.2).

Before an agent forwards a resource token to its person server, or presents a person or
auth token to a resource, it checks that the token is the one it asked for: its type and
claim shape (:func:`~aauth_core.tokens.claims_11.check_claims_11`), who issued it, whom
it is for, that it is bound to the agent's own key and still live.  The JWS signatures
are the verifiers' business (the resource's, the person server's): the agent needs no
issuer's JWKS for these checks, which keep it from sending a token somewhere it does not
belong or presenting one that can only be refused.  Messages name the failing claim,
never the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import AAuthError, TokenEndpointError
from ..keys import KeyError_, PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..tokens import peek
from ..tokens.claims_11 import check_claims_11

__all__ = ["aud_is", "check_auth_token", "check_person_token", "check_resource_token", "claims_of", "single_aud"]


def _refuse(what: str, problem: str) -> AAuthError:
    if what == "resource token":
        return AAuthError(f"the resource token {problem}; not forwarded to the person server",
                          code="invalid_resource_token", status_code=400)
    return TokenEndpointError(f"the {what} from the person server {problem}; not presented",
                              code="invalid_token_response")


def claims_of(token: str, typ: str, what: str) -> Mapping[str, Any]:
    """A token's claims once its ``typ`` (checked first) and claim shape are -11's."""
    try:
        unverified = peek(token)
        if unverified.typ != typ:
            raise _refuse(what, f"is not an {typ}")
        check_claims_11(typ, unverified.claims)
    except AAuthError as exc:
        if exc.code in ("invalid_resource_token", "invalid_token_response"):
            raise
        raise _refuse(what, f"is malformed ({exc.code})") from None
    return unverified.claims


def aud_is(claims: Mapping[str, Any], audience: str) -> bool:
    """``aud`` names ``audience`` (a one-element array read as that identifier, open point 3)."""
    aud = claims.get("aud")
    return aud == audience or aud == [audience]


def single_aud(claims: Mapping[str, Any]) -> str | None:
    """The one identifier ``aud`` names (a string, or a one-element array), else ``None``."""
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    return aud if isinstance(aud, str) and aud else None


def _bound_to(claims: Mapping[str, Any], jkt: str) -> bool:
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        return False
    try:
        return PublicKey.from_jwk(jwk).thumbprint == jkt
    except KeyError_:
        return False


def _live(claims: Mapping[str, Any], now: float) -> bool:
    exp = claims.get("exp")
    return isinstance(exp, int | float) and not isinstance(exp, bool) and exp > now


def check_person_token(token: str, *, ps: str, resource: str, jkt: str, now: float) -> Mapping[str, Any]:
    """A person token (-11 §7.1.2) from ``ps`` for ``resource``, bound to our key, live."""
    claims = claims_of(token, AAUTH_11.typ_person or "aa-person+jwt", "person token")
    if claims.get("iss") != ps:
        raise _refuse("person token", "names another issuer than the person server asked")
    if not aud_is(claims, resource):
        raise _refuse("person token", "is for another audience than the resource")
    if not _bound_to(claims, jkt):
        raise _refuse("person token", "is not bound to the agent's key (cnf.jwk)")
    if not _live(claims, now):
        raise _refuse("person token", "has expired")
    return claims


def check_resource_token(token: str, *, resource: str, jkt: str, ps: str, presented: Mapping[str, Any],
                         now: float) -> Mapping[str, Any]:
    """A resource token (-11 §6.7.1) minted by ``resource`` for our key, naming our person
    server and the very token we presented (``sub``, ``presented_jti``), still live."""
    claims = claims_of(token, AAUTH_11.typ_resource, "resource token")
    checks = (
        (claims.get("iss") == resource, "was not issued by the resource called (iss)"),
        (claims.get("agent_jkt") == jkt, "is not for the agent's key (agent_jkt)"),
        (claims.get("ps") == ps, "names another person server (ps)"),
        (claims.get("sub") == presented.get("sub"), "names another subject than the token presented (sub)"),
        (claims.get("presented_jti") == presented.get("jti"), "does not name the token presented (presented_jti)"),
        (single_aud(claims) is not None, "does not name one audience (aud)"),
        (_live(claims, now), "has expired"),
    )
    for ok, problem in checks:
        if not ok:
            raise _refuse("resource token", problem)
    return claims


def check_auth_token(token: str, *, issuer: str, resource: str, jkt: str, now: float) -> Mapping[str, Any]:
    """An auth token (-11 §9.4.1) from the resource token's audience (``issuer``: the
    person server or the resource's access server) for ``resource``, bound to our key."""
    claims = claims_of(token, AAUTH_11.typ_auth, "auth token")
    if claims.get("iss") != issuer:
        raise _refuse("auth token", "was not issued by the resource token's audience (iss)")
    if not aud_is(claims, resource):
        raise _refuse("auth token", "is for another audience than the resource")
    if not _bound_to(claims, jkt):
        raise _refuse("auth token", "is not bound to the agent's key (cnf.jwk)")
    if not _live(claims, now):
        raise _refuse("auth token", "has expired")
    return claims
