"""The tokens a person server sends the access server in the body of ``POST /token``
(draft -11 §2.3 "Federation", §2.4): ``resource_token``, ``agent_token``, ``presented_token``
and an optional ``upstream_token``, each verified and then checked against the others.

Each token in the order of -11 §11.5.2 (``typ``, ``dwk``, ``iss``, the issuer's key from
``{iss}/.well-known/{dwk}``, the JWS, ``exp`` without skew, the claim shape, the lifetime
cap, ``cnf.jwk`` with its ``alg``); a failure is 400 ``invalid_<param>`` or
``expired_<param>`` (-11 §11.9.2), a token issued in the future ``clock_skew``.  Then the
pairings: the resource token is for this access server, from a resource it governs and
names the calling person server; the agent token's key is the resource token's
``agent_jkt`` (open point 7: -11's ``cnf`` = signer check cannot hold here, the person server
signs); the presented token was issued by (or, for our own auth token, to) the calling
person server, for the resource, to the same agent key, and is the one the resource token
names (``presented_jti``, the exact ``sub``, ``mission_s256``, ``tenant``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ..discovery import Discovery
from ..effects import Call, call
from ..errors import AAuthError
from ..keys import KeyError_, PublicKey, check_jwk_alg
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import InvalidIdentifier, is_server_identifier, parse_agent_identifier
from ..tokens import peek, validate_token
from ..tokens.claims_11 import check_claims_11
from ..tokens.mint_11 import MAX_LIFETIME_11
from .errors import body_token_problem, problem

__all__ = ["BodyTokens", "Presented"]

TYP_AGENT, TYP_RESOURCE, TYP_AUTH = AAUTH_11.typ_agent, AAUTH_11.typ_resource, AAUTH_11.typ_auth
TYP_PERSON = AAUTH_11.typ_person or "aa-person+jwt"
DWK_AGENT, DWK_RESOURCE = AAUTH_11.well_known_agent, AAUTH_11.well_known_resource
DWK_PERSON = AAUTH_11.well_known_person or "aauth-person.json"
DWK_ACCESS = AAUTH_11.well_known_access or "aauth-access.json"
_JWS_ALGS = ("Ed25519", "ES256")  # never EdDSA (-11 §11.3.1)
_PERSON_OR_AUTH: Mapping[str, tuple[str, ...]] = {TYP_PERSON: (DWK_PERSON,), TYP_AUTH: (DWK_PERSON, DWK_ACCESS)}
_MAX_TOKEN = 16 * 1024


@dataclass(frozen=True, slots=True)
class Checked:
    """One verified token: its claims and, when it has one, its ``cnf.jwk``."""

    claims: Mapping[str, Any]
    cnf_jwk: Mapping[str, Any] | None
    cnf_key: PublicKey | None


@dataclass(frozen=True, slots=True)
class Presented:
    """Everything ``POST /token`` verified: what an auth token would rest on."""

    person_server: str
    resource: Checked
    agent: Checked
    presented: Checked
    upstream: Checked | None

    @property
    def not_after(self) -> float:
        """An auth token never outlives the agent, presented or upstream token (-11 §9.4.1)."""
        tokens = (self.agent, self.presented, self.upstream)
        return min(float(t.claims["exp"]) for t in tokens if t is not None)


class BodyTokens:
    """Verifies the body of ``POST /token`` for the person server that signed it."""

    def __init__(self, discovery: Discovery, *, issuer: str, resources: Mapping[str, Any], loopback: bool,
                 own_key: Callable[[str], PublicKey | None]) -> None:
        self.discovery = discovery
        self.issuer = issuer
        self.resources = resources
        self.loopback = loopback
        self.own_key = own_key  # our own auth tokens, presented on a step-up: no discovery needed

    def flow(self, body: Mapping[str, Any], signer: str, now: float) -> Generator[Call[Any], Any, Presented]:
        for name in ("resource_token", "agent_token", "presented_token"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise problem(f"{name!r} is required (a compact JWT)", code="invalid_request")
        for name in ("upstream_token", "subagent_token"):
            if name in body and (not isinstance(body[name], str) or not body[name]):
                raise problem(f"{name!r} must be a compact JWT", code="invalid_request")
        if "subagent_token" in body:
            raise problem("sub-agents are not supported by this access server", code="invalid_request")
        resource = yield from self._token(body["resource_token"], "resource_token", {TYP_RESOURCE: (DWK_RESOURCE,)},
                                          now)
        self._check_resource(resource.claims, signer)
        agent = yield from self._token(body["agent_token"], "agent_token", {TYP_AGENT: (DWK_AGENT,)}, now)
        self._check_agent(agent, resource.claims, signer)
        presented = yield from self._token(body["presented_token"], "presented_token", _PERSON_OR_AUTH, now)
        self._check_presented(presented, resource.claims, signer)
        upstream = None
        if "upstream_token" in body:
            upstream = yield from self._token(body["upstream_token"], "upstream_token", _PERSON_OR_AUTH, now)
            if _aud(upstream.claims) != agent.claims["iss"]:
                raise body_token_problem("upstream_token", "the upstream token is not for the intermediary ('aud')")
        return Presented(signer, resource, agent, presented, upstream)

    # ------------------------------------------------------------------ one token

    def _token(self, token: str, param: str, typs: Mapping[str, tuple[str, ...]],
               now: float) -> Generator[Call[Any], Any, Checked]:
        """-11 §11.5.2 for one body token; any failure is ``invalid_``/``expired_<param>``."""
        try:
            if len(token) > _MAX_TOKEN:
                raise body_token_problem(param, "the token is too large")
            unverified = peek(token)
            header, claims = unverified.header, unverified.claims
            typ = header.get("typ")
            if not isinstance(typ, str) or typ not in typs:
                raise body_token_problem(param, f"expected {' or '.join(typs)}")
            dwk, iss = claims.get("dwk"), claims.get("iss")
            if dwk not in typs[typ]:
                raise body_token_problem(param, f"an {typ}'s 'dwk' must be one of {', '.join(typs[typ])}")
            if not isinstance(iss, str) or not is_server_identifier(iss, allow_loopback_http=self.loopback):
                raise body_token_problem(param, "the token's 'iss' is not a server identifier")
            kid = str(header.get("kid", ""))
            key = self.own_key(kid) if (iss, dwk) == (self.issuer, DWK_ACCESS) else None
            if key is None:
                discovery = self.discovery
                key = yield from call(discovery.key_for, discovery.akey_for, iss, str(dwk), kid)
            valid = validate_token(unverified, typ=typ, key=key, now=now, leeway=0, algorithms=_JWS_ALGS)
            check_claims_11(typ, claims)
            if claims["exp"] - claims["iat"] > MAX_LIFETIME_11[typ]:
                raise body_token_problem(param, f"an {typ} lives at most {MAX_LIFETIME_11[typ]} seconds")
            if typ != TYP_RESOURCE:
                if valid.cnf_jwk is None or valid.cnf_key is None:
                    raise body_token_problem(param, "the token has no cnf.jwk")
                check_jwk_alg(valid.cnf_jwk, AAUTH_11.jwk_algs, required=True)
        except AAuthError as exc:
            raise _as_problem(exc, param) from None
        return Checked(valid.claims, valid.cnf_jwk, valid.cnf_key)

    # ------------------------------------------------------------------ the pairings

    def _check_resource(self, claims: Mapping[str, Any], signer: str) -> None:
        if _aud(claims) != self.issuer:
            raise body_token_problem("resource_token", "the resource token is not for this access server ('aud')")
        if claims["iss"] not in self.resources:
            raise body_token_problem("resource_token", "this access server does not govern that resource")
        if claims["ps"] != signer:
            raise body_token_problem("resource_token", "the resource token names another person server ('ps')")
        for name in ("sub", "presented_jti", "agent_jkt"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise body_token_problem("resource_token", f"claim {name!r} must be a non-empty string")
        for name in ("scope", "account", "mission_s256", "tenant"):
            if name in claims and not isinstance(claims[name], str):
                raise body_token_problem("resource_token", f"claim {name!r} must be a string")

    def _check_agent(self, agent: Checked, resource: Mapping[str, Any], signer: str) -> None:
        claims = agent.claims
        try:
            parse_agent_identifier(claims["sub"], allow_loopback_http=self.loopback)
        except (InvalidIdentifier, TypeError):
            raise body_token_problem("agent_token", "the agent token's 'sub' is not an agent identifier") from None
        assert agent.cnf_key is not None
        if agent.cnf_key.thumbprint != resource["agent_jkt"]:
            raise body_token_problem("agent_token", "the agent token's key is not the resource token's 'agent_jkt'")
        if "ps" in claims and claims["ps"] != signer:
            raise body_token_problem("agent_token", "the agent token names another person server ('ps')")

    def _check_presented(self, presented: Checked, resource: Mapping[str, Any], signer: str) -> None:
        claims, bad = presented.claims, functools.partial(body_token_problem, "presented_token")
        ours = claims["dwk"] == DWK_ACCESS
        if ours and (claims["iss"] != self.issuer or claims.get("ps") != signer):
            raise bad("an access server's auth token is presented only here, by its person server")
        if not ours and (claims["iss"] != signer or claims.get("ps", signer) != signer):
            raise bad("the presented token was not issued by the calling person server")
        if _aud(claims) != resource["iss"]:
            raise bad("the presented token is not for the resource ('aud')")
        assert presented.cnf_key is not None
        if presented.cnf_key.thumbprint != resource["agent_jkt"]:
            raise bad("the presented token is bound to another key than 'agent_jkt'")
        if claims["jti"] != resource["presented_jti"]:
            raise bad("the resource token names another presented token ('presented_jti')")
        if claims["sub"] != resource["sub"]:
            raise bad("the presented token is for another person ('sub')")
        for name in ("mission_s256", "tenant"):
            if claims.get(name) != resource.get(name):
                raise bad(f"the presented token's {name!r} differs from the resource token's")


def _aud(claims: Mapping[str, Any]) -> Any:
    """``aud`` as one identifier; a one-element array is read as its member (open point 3)."""
    aud = claims.get("aud")
    return aud[0] if isinstance(aud, list) and len(aud) == 1 else aud


def _as_problem(exc: AAuthError, param: str) -> AAuthError:
    """A failure of a body token is a 400 naming the parameter (-11 §11.9.2), never a 401."""
    if exc.code.startswith(("invalid_", "expired_")) and exc.code.endswith(param):
        return exc
    if exc.code == "token_expired":
        return body_token_problem(param, "the token has expired", expired=True)
    if exc.code == "token_not_yet_valid":
        return problem(f"the {param.replace('_', ' ')} was issued in the future", code="clock_skew")
    if isinstance(exc, KeyError_):
        return body_token_problem(param, f"cnf.jwk: {exc.description}")
    return body_token_problem(param, exc.description)
