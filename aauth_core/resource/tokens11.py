"""The tokens an aauth-11 request may present in ``Signature-Key``: agent, person and auth
tokens (-11 §5.3, §7.1.2, §9.4.1), validated in the order of -11 §11.5.2.

``typ`` first (RS-12: a person token never passes as an auth token, a resource token never
passes at all); then ``dwk`` and who may issue that type here; the issuer's key through
``{iss}/.well-known/{dwk}`` (discovery checks the document's ``issuer``); the JWS; ``exp``
without skew; the claim shape of the type; the lifetime caps; ``aud`` = this resource for
person and auth tokens; ``cnf.jwk`` with its ``alg``.  A validated token is remembered while
the keys behind it are unchanged, so a warm request costs a dict lookup.  Revocation is the
verifier's next step (:meth:`Verifier._flow_11`): it may be I/O (a shared list).

Trust (-11 open point 10, our decisions): person tokens come from any person server unless
``person_servers`` lists them; auth tokens only from a listed person server (three-party,
``dwk`` ``aauth-person.json``, ``ps`` = ``iss``) or the resource's own ``access_server``
(four-party, ``aauth-access.json``).  An authorization decision is never delegated to a
server the resource did not name.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ..discovery import Discovery
from ..effects import Call, call
from ..errors import TokenError
from ..keys import KeyError_, PublicKey, check_jwk_alg
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import InvalidIdentifier, is_server_identifier, parse_agent_identifier
from ..tokens import VerifiedTokenCache, peek, validate_token
from ..tokens.claims_11 import check_claims_11
from ..tokens.mint_11 import MAX_LIFETIME_11
from .prepared import Identity, KeyRoute
from .token_keys import WarmTokens

__all__ = ["Tokens11", "TokenTrust11", "TYP_AGENT", "TYP_AUTH", "TYP_PERSON"]

NAME = AAUTH_11.name
TYP_AGENT = AAUTH_11.typ_agent
TYP_PERSON = AAUTH_11.typ_person or "aa-person+jwt"
TYP_AUTH = AAUTH_11.typ_auth
DWK_AGENT = AAUTH_11.well_known_agent
DWK_PERSON = AAUTH_11.well_known_person or "aauth-person.json"
DWK_ACCESS = AAUTH_11.well_known_access or "aauth-access.json"
_DWKS: Mapping[str, tuple[str, ...]] = {
    TYP_AGENT: (DWK_AGENT,), TYP_PERSON: (DWK_PERSON,), TYP_AUTH: (DWK_PERSON, DWK_ACCESS),
}

@dataclass(frozen=True, slots=True)
class TokenTrust11:
    """Who may issue what to this resource, read from the settings once."""

    resource_id: str | None  # the ``aud`` person and auth tokens must name
    person_servers: frozenset[str]  # empty: person tokens from any PS; auth tokens from none
    access_server: str | None  # four-party: our own access server
    loopback: bool  # decision P7: http://127.0.0.1[:port] servers in development

    def check_issuer(self, typ: str, dwk: str, iss: str) -> None:
        if typ == TYP_PERSON and self.person_servers and iss not in self.person_servers:
            raise TokenError("this resource does not accept person tokens from that person server",
                             code="untrusted_issuer")
        if typ == TYP_AUTH:
            trusted = iss in self.person_servers if dwk == DWK_PERSON else iss == self.access_server
            if not trusted:
                raise TokenError("this resource does not accept auth tokens from that server", code="untrusted_issuer")


class Tokens11:
    """``aa-agent+jwt``, ``aa-person+jwt`` and ``aa-auth+jwt`` in ``Signature-Key``."""

    def __init__(self, discovery: Discovery, cache: VerifiedTokenCache, *, algorithms: tuple[str, ...],
                 trust: TokenTrust11) -> None:
        self.discovery = discovery
        self.cache = cache
        self.algorithms = algorithms  # JWS algs: Ed25519 / ES256 as the settings allow, never EdDSA
        self.trust = trust
        self.loopback = trust.loopback
        self._warm = WarmTokens(discovery)

    def warm(self, token: str, now: float) -> tuple[PublicKey, Identity] | None:
        return self._warm.get(token, now, 0)  # no exp skew (-11 §11.5.2)

    def flow(self, token: str, now: float) -> Generator[Call[Any], Any, tuple[PublicKey, Identity]]:
        """-11 §11.5.2 in order; see the module docstring."""
        version = self.discovery.keys_version
        unverified = peek(token)
        header, claims = unverified.header, unverified.claims
        typ = header.get("typ")
        if not isinstance(typ, str) or typ not in _DWKS:
            raise TokenError("the Signature-Key token must be an agent, person or auth token",
                             code="wrong_token_type")
        dwk = claims.get("dwk")
        if dwk not in _DWKS[typ]:
            raise TokenError(f"an {typ}'s 'dwk' must be one of {', '.join(_DWKS[typ])}", code="invalid_claim")
        iss = claims.get("iss")
        if not isinstance(iss, str) or not is_server_identifier(iss, allow_loopback_http=self.loopback):
            raise TokenError("the token's 'iss' is not a server identifier", code="invalid_issuer")
        self.trust.check_issuer(typ, dwk, iss)
        route: KeyRoute = (iss, dwk, str(header["kid"]))
        discovery = self.discovery
        issuer_key = discovery.cached_key_for(*route)
        if issuer_key is None:
            issuer_key = yield from call(discovery.key_for, discovery.akey_for, *route)
        valid = validate_token(unverified, typ=typ, key=issuer_key, now=now, leeway=0,
                               algorithms=self.algorithms, cache=self.cache)
        check_claims_11(typ, claims)
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_11[typ]:
            raise TokenError(f"an {typ} lives at most {MAX_LIFETIME_11[typ]} seconds", code="invalid_claim")
        if valid.cnf_key is None or valid.cnf_jwk is None:
            raise TokenError("the token has no cnf.jwk", code="invalid_cnf")
        try:
            check_jwk_alg(valid.cnf_jwk, AAUTH_11.jwk_algs, required=True)
        except KeyError_ as exc:
            raise KeyError_(f"cnf.jwk: {exc.description}", code=exc.code) from None
        identity = self._agent(valid.claims, iss, token) if typ == TYP_AGENT else \
            self._person_or_auth(typ, valid.claims, iss, token)
        self._warm.put(token, route, version, valid.cnf_key, identity, claims)
        return valid.cnf_key, identity

    def _agent(self, claims: Mapping[str, Any], iss: str, token: str) -> Identity:
        sub = claims["sub"]
        try:
            agent = str(parse_agent_identifier(sub, allow_loopback_http=self.loopback))
        except (InvalidIdentifier, TypeError):
            raise TokenError("the agent token's 'sub' is not an agent identifier", code="invalid_claim") from None
        for name in ("ps", "parent_agent"):
            value = claims.get(name)
            if value is None:
                continue
            ok = (isinstance(value, str) and is_server_identifier(value, allow_loopback_http=self.loopback)
                  if name == "ps" else _is_agent_identifier(value, self.loopback))
            if not ok:
                raise TokenError(f"the agent token's {name!r} is malformed", code="invalid_claim")
        return Identity(agent=agent, token_type=TYP_AGENT, issuer=iss, claims=claims, token=token,
                        profile=NAME, agent_provider=iss)

    def _person_or_auth(self, typ: str, claims: Mapping[str, Any], iss: str, token: str) -> Identity:
        aud = claims["aud"]
        if not (aud == self.trust.resource_id or (isinstance(aud, list | tuple) and len(aud) == 1
                                                   and aud[0] == self.trust.resource_id)):
            raise TokenError("the token is not for this resource ('aud')", code="invalid_audience")
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise TokenError("the token's 'sub' must be a non-empty string", code="invalid_claim")
        person_server = iss
        scope: frozenset[str] = frozenset()
        if typ == TYP_AUTH:
            ps = claims["ps"]
            if not isinstance(ps, str) or not is_server_identifier(ps, allow_loopback_http=self.loopback):
                raise TokenError("the auth token's 'ps' is not a server identifier", code="invalid_claim")
            if claims["dwk"] == DWK_PERSON and ps != iss:
                raise TokenError("a person server's auth token names itself in 'ps'", code="invalid_claim")
            raw_scope = claims.get("scope")
            if raw_scope is not None and not isinstance(raw_scope, str):
                raise TokenError("claim 'scope' must be a string", code="invalid_claim")
            scope = frozenset(raw_scope.split()) if raw_scope else frozenset()
            person_server = ps
        mission, tenant = claims.get("mission_s256"), claims.get("tenant")
        for name, value in (("mission_s256", mission), ("tenant", tenant)):
            if value is not None and not isinstance(value, str):
                raise TokenError(f"claim {name!r} must be a string", code="invalid_claim")
        return Identity(sub=sub, scope=scope, token_type=typ, issuer=iss, claims=claims, token=token, profile=NAME,
                        person=(person_server, sub), mission_s256=mission, tenant=tenant)


def _is_agent_identifier(value: Any, loopback: bool) -> bool:
    try:
        parse_agent_identifier(value, allow_loopback_http=loopback)
    except (InvalidIdentifier, TypeError):
        return False
    return True
