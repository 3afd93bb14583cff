"""aauth-11 at a resource, agent-token mode (issue 14, decisions P2, P5, P6).

A dual-stack resource classifies each signed request once, by its Signature-Key
(:func:`is_aauth_11`), and verifies it entirely under that profile.  This module holds
the -11 half: the header pair checked once (:func:`prepare_11`), the request checks in
the order of -11 §11.3.4 (:meth:`Verifier11.parse`), the ``aa-agent+jwt`` agent token
(:class:`AgentTokens11`), and the error shape (:func:`as_11`): 401 with
``Signature-Error`` (and ``Accept-Signature-*``) and a problem+json body.

Only agent tokens: person, auth and resource tokens under -11 are later work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any, NamedTuple

from ..cache import BoundedCache
from ..discovery import Discovery
from ..effects import Call, call
from ..errors import AAuthError, SignatureError, TokenError
from ..headers import parse_signature, parse_signature_input
from ..keys import KeyError_, PublicKey, check_jwk_alg
from ..profile.aauth_11 import AAUTH_11, SIGNATURE_ERROR_CODES
from ..profile.identifiers import InvalidIdentifier, is_server_identifier, parse_agent_identifier
from ..request import RequestView
from ..tokens import TokenTimes, VerifiedTokenCache, peek, validate_token
from ..tokens.claims_11 import check_claims_11
from ..wire.content_digest import check_request_digest
from ..wire.coverage import _has_body, check_created, required_components_11
from ..wire.requirement import AAuthRequirement, format_requirement
from ..wire.signature_error import SignatureErrorField, format_accept_signature, format_signature_error
from ..wire.signature_key import read_signature_key_member
from .prepared import Identity, KeyRoute, Prepared

__all__ = ["AGENT_TOKEN_REQUIREMENT", "AgentTokens11", "NAME", "Verifier11", "as_11", "is_aauth_11", "prepare_11"]

NAME = AAUTH_11.name
TYP_AGENT = AAUTH_11.typ_agent
DWK_AGENT = AAUTH_11.well_known_agent
#: The longest an agent token may live (-11 §5.3).
MAX_AGENT_TOKEN_LIFETIME = 24 * 3600
#: ``AAuth-Requirement`` of a 401 to a request without an agent token (-11 §6.1, §11.6.2).
AGENT_TOKEN_REQUIREMENT = format_requirement(AAuthRequirement("agent-token"))
_ACCEPT_SCHEME = format_accept_signature(AAUTH_11.agent_schemes)
_WARM_SIZE = 1024


# ----------------------------------------------------------------------------- classification


def is_aauth_11(key_text: str, input_text: str) -> bool:
    """Decision P2: does this Signature-Key speak aauth-11?

    January's transcript form ``sig1=(scheme=...)`` and the RFC 8941 form with January's
    schemes are January.  The SK-09 Dictionary member of the signature's label is -11 when
    it is ``jwt`` carrying an ``aa-*`` token, ``jwks_uri`` naming a ``*.json`` document, or
    ``jkt-jwt`` (which January never reads).  Anything unreadable is left to January's
    parser, which refuses it as it always did.  Pure; the verifier memoises it per pair.
    """
    text = key_text.strip(" \t")
    if "=(" in text.partition(";")[0]:  # the transcript form
        return False
    try:
        member = read_signature_key_member(key_text, parse_signature_input(input_text).label)
    except AAuthError:
        return False
    if member.scheme == "jwt":
        try:
            typ = peek(member.params.get("jwt", "")).header.get("typ")
        except AAuthError:
            return False
        return isinstance(typ, str) and typ.startswith("aa-")
    if member.scheme == "jwks_uri":
        return member.params.get("dwk", "").endswith(".json")
    return member.scheme == "jkt-jwt"


# ----------------------------------------------------------------------------- errors


def as_11(exc: AAuthError, required_input: tuple[str, ...] | None = None) -> AAuthError:
    """Give a refusal aauth-11's shape (P6): a signature or token failure is 401 with
    ``Signature-Error`` (``required_input`` on ``invalid_input``, ``Accept-Signature-*`` where
    due); anything else keeps its status and carries no ``Signature-*`` header.  The body is
    the profile's problem+json (``AAuthService.error_response`` reads ``exc.profile``)."""
    if exc.profile == NAME:  # already shaped (with its required_input)
        return exc
    exc.profile = NAME
    exc.challenge = None
    sig_code = SIGNATURE_ERROR_CODES.get(exc.code)
    if sig_code is None or exc.status_code not in (400, 401):
        return exc
    exc.status_code = 401
    field = SignatureErrorField(sig_code, required_input if sig_code == "invalid_input" else None)
    headers = {AAUTH_11.signature_error_header or "": format_signature_error(field)}
    if sig_code == "unsupported_scheme":
        headers[AAUTH_11.accept_signature_scheme_header or ""] = _ACCEPT_SCHEME
    elif sig_code == "unsupported_algorithm":
        headers[AAUTH_11.accept_signature_alg_header or ""] = format_accept_signature(AAUTH_11.jwk_algs)
    exc._extra_headers.update(headers)
    return exc


def requirement_error(exc: AAuthError, *, january: bool, requirement: str | None = AGENT_TOKEN_REQUIREMENT,
                      ) -> AAuthError:
    """A requirement failure: the -11 ``AAuth-Requirement`` beside January's ``Agent-Auth``
    on a dual-stack resource (the body stays January's); alone, in -11's shape, otherwise."""
    if requirement is not None:
        exc._extra_headers[AAUTH_11.requirement_header or ""] = requirement
    if not january:
        exc.profile = NAME
        exc.challenge = None
    return exc


# ----------------------------------------------------------------------------- the header pair


def prepare_11(key_text: str, input_text: str) -> Prepared:
    """Signature-Input and the SK-09 Signature-Key member of its label: only ``jwt`` is an
    agent's scheme (-11 §11.3.2: anything else is ``unsupported_scheme``).  The ``alg``
    signature parameter is never relied on (-11 §11.3.3.2): it is dropped here, while the
    signed ``@signature-params`` line keeps the text as received."""
    params = parse_signature_input(input_text)
    from ..wire.signature_key import parse_signature_key_member

    sigkey = parse_signature_key_member(key_text, params.label, schemes=AAUTH_11.agent_schemes,
                                        jwk_algs=AAUTH_11.jwk_algs)
    if params.alg is not None:
        params = dataclasses.replace(params, alg=None, serialized=params.serialize())
    return Prepared(sigkey, params)


# ----------------------------------------------------------------------------- agent tokens


class _Warm(NamedTuple):
    route: KeyRoute
    version: int
    key: PublicKey
    identity: Identity
    times: TokenTimes


class AgentTokens11:
    """``aa-agent+jwt`` tokens (-11 §5.3, §11.5.2), validated once and remembered while the
    keys behind them are unchanged (as :class:`~aauth_core.resource.token_keys.TokenKeys`)."""

    def __init__(self, discovery: Discovery, cache: VerifiedTokenCache, *, algorithms: tuple[str, ...],
                 loopback: bool) -> None:
        self.discovery = discovery
        self.cache = cache
        self.algorithms = algorithms  # JWS algs: Ed25519 / ES256 as the settings allow, never EdDSA
        self.loopback = loopback  # decision P7: http://127.0.0.1[:port] agent providers in development
        self._warm: BoundedCache[str, _Warm] = BoundedCache(_WARM_SIZE)

    def warm(self, token: str, now: float) -> tuple[PublicKey, Identity] | None:
        hit = self._warm.get(token)
        if hit is None:
            return None
        discovery = self.discovery
        if hit.version != discovery.keys_version or discovery.cached_key_for(*hit.route) is None:
            return None
        hit.times.check(now, 0)  # no exp skew (-11 §11.5.2)
        return hit.key, hit.identity

    def flow(self, token: str, now: float) -> Generator[Call[Any], Any, tuple[PublicKey, Identity]]:
        """``typ`` first, ``dwk``, ``iss``, the AP's key through ``{iss}/.well-known/aauth-agent.json``
        (its ``issuer`` checked by discovery), the JWS, the times, the claim shape, ``cnf``."""
        version = self.discovery.keys_version
        unverified = peek(token)
        header, claims = unverified.header, unverified.claims
        if header.get("typ") != TYP_AGENT:
            raise TokenError(f"the Signature-Key token must be an {TYP_AGENT} here", code="wrong_token_type")
        if claims.get("dwk") != DWK_AGENT:
            raise TokenError(f"an agent token's 'dwk' must be {DWK_AGENT!r}", code="invalid_claim")
        iss = claims.get("iss")
        if not isinstance(iss, str) or not is_server_identifier(iss, allow_loopback_http=self.loopback):
            raise TokenError("the agent token's 'iss' is not a server identifier", code="invalid_issuer")
        route: KeyRoute = (iss, DWK_AGENT, str(header["kid"]))
        discovery = self.discovery
        issuer_key = discovery.cached_key_for(*route)
        if issuer_key is None:
            issuer_key = yield from call(discovery.key_for, discovery.akey_for, *route)
        valid = validate_token(unverified, typ=TYP_AGENT, key=issuer_key, now=now, leeway=0,
                               algorithms=self.algorithms, cache=self.cache)
        check_claims_11(TYP_AGENT, claims)
        agent = self._check_claims(claims)
        if valid.cnf_key is None or valid.cnf_jwk is None:
            raise TokenError("the agent token has no cnf.jwk", code="invalid_cnf")
        try:
            check_jwk_alg(valid.cnf_jwk, AAUTH_11.jwk_algs, required=True)
        except KeyError_ as exc:
            raise KeyError_(f"cnf.jwk: {exc.description}", code=exc.code) from None
        identity = Identity(agent=agent, token_type=TYP_AGENT, issuer=iss, claims=valid.claims, token=token,
                            profile=NAME, agent_provider=iss)
        self._warm.put(token, _Warm(route, version, valid.cnf_key, identity, TokenTimes.of(claims)))
        return valid.cnf_key, identity

    def _check_claims(self, claims: Any) -> str:
        if claims["exp"] - claims["iat"] > MAX_AGENT_TOKEN_LIFETIME:
            raise TokenError("an agent token lives at most 24 hours", code="invalid_claim")
        sub = claims["sub"]
        try:
            agent = str(parse_agent_identifier(sub, allow_loopback_http=self.loopback))
        except (InvalidIdentifier, TypeError):
            raise TokenError("the agent token's 'sub' is not an agent identifier", code="invalid_claim") from None
        ps = claims.get("ps")
        if ps is not None and not is_server_identifier(ps, allow_loopback_http=self.loopback):
            raise TokenError("the agent token's 'ps' is not a server identifier", code="invalid_claim")
        return agent


# ----------------------------------------------------------------------------- the request


class Verifier11:
    """The -11 request checks up to the key: what :class:`~aauth_core.resource.verifier.Verifier`
    runs for a request :func:`is_aauth_11` classified as -11."""

    def __init__(self, tokens: AgentTokens11, *, max_age: int, max_future: int) -> None:
        self.tokens = tokens
        self.max_age = max_age
        self.max_future = max_future
        self._prepared: BoundedCache[tuple[str, str], Prepared] = BoundedCache(_WARM_SIZE)

    def parse(self, view: RequestView, key_text: str, input_text: str, signature_text: str,
              now: float) -> tuple[Prepared, bytes]:
        """-11 §11.3.4 steps 1-4 (the headers are present): the pair, the label, the required
        components (``invalid_input`` + ``required_input``), ``created``, the digest."""
        prepared = self._prepared.get((key_text, input_text))
        if prepared is None:
            prepared = self._prepared.put((key_text, input_text), prepare_11(key_text, input_text))
        params = prepared.params
        label, signature = parse_signature(signature_text)  # standard base64; base64url tolerated
        if label != params.label:
            raise SignatureError("Signature and Signature-Input labels differ", code="label_mismatch")
        h = view.headers
        required = required_components_11(body=_has_body(view), authorization="authorization" in h)
        if not all(c in params.components for c in required):
            raise as_11(SignatureError("signature does not cover every required component",
                                       code="missing_component"), required)
        check_created(params, now, self.max_age, self.max_future)
        if prepared.digest:
            check_request_digest(view)
        return prepared, signature
