"""The auth token endpoint's checks of its two body tokens (-11 §9.4, reference §2.3), each
failure a 400 with the parameter's code: ``invalid_``/``expired_``/``revoked_`` +
``resource_token`` / ``presented_token``.

The resource token: ``typ`` ``aa-resource+jwt`` first, ``dwk`` ``aauth-resource.json``, ``iss`` a
server identifier, its key from ``{iss}/.well-known/aauth-resource.json`` (discovery checks the
document's ``issuer``), the JWS, ``exp`` without skew, the -11 claim shape, at most 300 s, ``aud``
= this person server or (four-party) an access server's identifier (in ``access_servers`` when
that allow-list is set), ``ps`` = this person server, ``agent_jkt`` = the signer's key.

The presented token: one of ours (a person or auth token this server issued: its own keys),
``aud`` = the resource token's ``iss``, ``cnf`` = the signer's key, ``jti`` = ``presented_jti``,
an auth token's ``ps`` = this server, ``sub``, ``mission_s256`` and ``tenant`` as in the
resource token, not revoked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..discovery import Discovery
from ..effects import Flow, call
from ..errors import AAuthError
from ..keys import PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import is_server_identifier
from ..tokens import peek, validate_token
from ..tokens.claims_11 import check_claims_11
from ..tokens.mint_11 import MAX_LIFETIME_11
from .wire import PersonServerError

__all__ = ["check_presented_token", "check_resource_token", "validated"]

_ALGS = ("Ed25519", "ES256")
TYP_RESOURCE = AAUTH_11.typ_resource
TYP_PERSON = AAUTH_11.typ_person or "aa-person+jwt"
TYP_AUTH = AAUTH_11.typ_auth
DWK_RESOURCE = AAUTH_11.well_known_resource
DWK_PERSON = AAUTH_11.well_known_person or "aauth-person.json"


def _bad(param: str, detail: str) -> PersonServerError:
    return PersonServerError(detail, code=f"invalid_{param}")


def validated(param: str, token: str, typ: str, key: PublicKey, now: float) -> Mapping[str, Any]:
    """JWS, ``exp`` (no skew), -11 shape and lifetime cap; ``expired_<param>`` / ``invalid_<param>``."""
    try:
        valid = validate_token(token, typ=typ, key=key, now=now, leeway=0, algorithms=_ALGS)
        check_claims_11(typ, valid.claims)
    except AAuthError as exc:
        if exc.code in ("token_expired", "expired_jwt"):
            raise PersonServerError(f"the {param.replace('_', ' ')} has expired", code=f"expired_{param}") from None
        raise _bad(param, f"the {param.replace('_', ' ')} is not valid ({exc.code})") from None
    claims = valid.claims
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_11[typ]:
        raise _bad(param, f"an {typ} lives at most {MAX_LIFETIME_11[typ]} seconds")
    return claims


def check_resource_token(token: str, *, issuer: str, agent_jkt: str, discovery: Discovery, now: float,
                         loopback: bool, access_servers: tuple[str, ...] = ()) -> Flow[Mapping[str, Any]]:
    """The resource token's verified claims (see the module docstring)."""
    try:
        unverified = peek(token)
    except AAuthError:
        raise _bad("resource_token", "the resource token is not a JWT") from None
    header, claims = unverified.header, unverified.claims
    if header.get("typ") != TYP_RESOURCE:
        raise _bad("resource_token", f"the resource token's typ must be {TYP_RESOURCE}")
    if claims.get("dwk") != DWK_RESOURCE:
        raise _bad("resource_token", f"the resource token's dwk must be {DWK_RESOURCE}")
    iss = claims.get("iss")
    if not is_server_identifier(iss, allow_loopback_http=loopback):
        raise _bad("resource_token", "the resource token's iss is not a server identifier")
    aud = claims.get("aud")
    if aud != issuer:  # four-party: an access server decides (:mod:`.federation`)
        if not is_server_identifier(aud, allow_loopback_http=loopback):
            raise _bad("resource_token", "the resource token's aud is not a server identifier")
        if access_servers and aud not in access_servers:
            raise _bad("resource_token", "this person server does not federate with the access server in aud")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _bad("resource_token", "the resource token's header has no kid")
    try:
        key = yield from call(discovery.key_for, discovery.akey_for, str(iss), DWK_RESOURCE, kid)
    except AAuthError as exc:
        raise _bad("resource_token", f"the resource's key could not be had ({exc.code})") from None
    verified = validated("resource_token", token, TYP_RESOURCE, key, now)
    if verified["ps"] != issuer:
        raise _bad("resource_token", "the resource token names another person server in ps")
    if verified["agent_jkt"] != agent_jkt:
        raise _bad("resource_token", "the resource token was issued to another agent key (agent_jkt)")
    for name in ("sub", "presented_jti", "scope", "mission_s256", "tenant", "login_hint"):
        value = verified.get(name)
        if value is not None and (not isinstance(value, str) or (name in ("sub", "presented_jti") and not value)):
            raise _bad("resource_token", f"the resource token's {name} must be a string")
    return verified


def check_presented_token(token: str, resource_claims: Mapping[str, Any], *, issuer: str,
                          keys: Callable[[], Sequence[PublicKey]], agent_jkt: str, now: float
                          ) -> Mapping[str, Any]:
    """The presented token's verified claims, matched to the resource token."""
    try:
        unverified = peek(token)
    except AAuthError:
        raise _bad("presented_token", "the presented token is not a JWT") from None
    typ = unverified.header.get("typ")
    if typ not in (TYP_PERSON, TYP_AUTH):
        raise _bad("presented_token", "the presented token must be a person or auth token")
    claims = unverified.claims
    if claims.get("iss") != issuer or claims.get("dwk") != DWK_PERSON:
        raise _bad("presented_token", "the presented token was not issued by this person server")
    kid = unverified.header.get("kid")
    key = next((k for k in keys() if k.kid == kid), None)
    if key is None:
        raise _bad("presented_token", "the presented token's key is not one of this person server's")
    verified = validated("presented_token", token, str(typ), key, now)
    if verified["aud"] != resource_claims["iss"]:
        raise _bad("presented_token", "the presented token is for another resource than the resource token's")
    cnf = verified.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    try:
        thumbprint = PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "alg"}).thumbprint \
            if isinstance(jwk, Mapping) else None
    except (AAuthError, ValueError, TypeError):
        thumbprint = None
    if thumbprint != agent_jkt:
        raise _bad("presented_token", "the presented token is bound to another key than the signer's")
    if verified["jti"] != resource_claims["presented_jti"]:
        raise _bad("presented_token", "the resource token names another presented token (presented_jti)")
    if typ == TYP_AUTH and verified["ps"] != issuer:
        raise _bad("presented_token", "the presented auth token names another person server")
    if verified["sub"] != resource_claims["sub"]:
        raise _bad("presented_token", "the resource token names another person (sub)")
    for name in ("mission_s256", "tenant"):
        if verified.get(name) != resource_claims.get(name):
            raise _bad("presented_token", f"the presented token's {name} differs from the resource token's")
    return verified
