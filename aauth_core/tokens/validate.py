"""Full validation of a token (:func:`validate_token`): signature and every claim check, in order.

A warm token (same token, key and checks as an earlier success in the
:class:`~aauth_core.tokens.VerifiedTokenCache`) costs one cache lookup and the time
checks, inline in :func:`validate_token`; everything else runs as one small step per
check on the cold path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import dialect
from ..keys import PublicKey
from .act import act_claim
from .cache import VerifiedTokenCache
from .claims import audiences, check_token_times, confirmation_key, string_claim
from .jws import ALGS_FOR_KEY, SUPPORTED_ALGS, verify_signature
from .parse import peek
from .refusal import show, token_error
from .values import UnverifiedToken, ValidatedToken

__all__ = ["validate_token"]


def validate_token(
    token: str | UnverifiedToken,
    *,
    typ: str,
    key: PublicKey,
    now: float,
    leeway: int,
    algorithms: Sequence[str],
    audience: str | None = None,
    issuer: str | None = None,
    max_act_depth: int = 8,
    require_agent: bool = True,
    cache: VerifiedTokenCache | None = None,
) -> ValidatedToken:
    """Fully validate a token of kind ``typ`` against ``key`` (the issuer's key, already resolved).

    Checks, in order: ``typ``; ``alg`` (explicit list, matching the key type, never
    ``none``/HMAC); signature (skipped only on a ``cache`` hit); ``iss``; ``exp``/``nbf``/``iat``
    with ``leeway``; ``aud``; the claims ``typ`` requires; ``cnf.jwk``; the ``act`` chain.
    ``require_agent=False`` accepts an auth token without ``agent`` (agent-is-resource, B §1.2).
    An agent token without ``aud`` is accepted even when ``audience`` is given (spec §5.7:
    ``aud`` is optional there and checked only when present).
    """
    if leeway < 0 or max_act_depth < 0:
        raise ValueError("leeway and max_act_depth must not be negative")
    unverified = token if isinstance(token, UnverifiedToken) and token._sealed else None
    if unverified is None:
        unverified = peek(token.raw if isinstance(token, UnverifiedToken) else token)
    header, claims, raw = unverified.header, unverified.claims, unverified.raw

    # A warm request: the same token, key and checks already passed; only time moved.
    checks = (typ, audience, issuer, tuple(algorithms), max_act_depth, require_agent, leeway)
    if cache is not None:
        earlier = cache.result(raw, key.thumbprint, checks, now=now)
        if earlier is not None:
            check_token_times(claims, now=now, leeway=leeway)
            return earlier

    # 1-3. typ, alg and signature (unless this exact token already verified with this exact key).
    alg = _check_header(header, typ=typ, algorithms=algorithms, key=key)
    if cache is None or not cache.contains(raw, key.thumbprint, now=now):
        verify_signature(raw, alg, key)
    # 4-9. the claims
    _check_issuer(claims, issuer)
    exp = check_token_times(claims, now=now, leeway=leeway)
    _check_audience(claims, typ=typ, audience=audience)
    _check_kind_claims(claims, typ=typ, require_agent=require_agent)
    # cnf.jwk: the key the HTTP signature must verify with
    cnf_jwk, cnf_key = confirmation_key(claims, required=typ in (dialect.TYP_AGENT, dialect.TYP_AUTH))
    act = act_claim(claims, max_depth=max_act_depth)

    result = ValidatedToken(header=header, claims=claims, raw=raw, cnf_jwk=cnf_jwk, act=act, cnf_key=cnf_key)
    if cache is not None:
        cache.add(raw, key.thumbprint, exp=exp, now=now, checks=checks, result=result)
    return result


def _check_header(header: Mapping[str, Any], *, typ: str, algorithms: Sequence[str], key: PublicKey) -> str:
    """``typ`` (an agent token is never an auth token, A8) and ``alg``; returns ``alg``.

    ``alg`` must be on the explicit allow-list, never none/HMAC, and match the key type.
    """
    got_typ = header.get("typ")
    if got_typ != typ:
        got = "no typ" if got_typ is None else f"typ {show(got_typ)}"
        raise token_error("wrong_token_type", f"expected a {typ!r} token, got {got}")
    alg = str(header["alg"])
    allowed = {a for a in algorithms if a in SUPPORTED_ALGS}
    if alg not in allowed:
        raise token_error("disallowed_algorithm", f"token algorithm {show(alg)} is not allowed")
    if alg not in ALGS_FOR_KEY[key.alg]:
        raise token_error("disallowed_algorithm", f"token algorithm {show(alg)} does not match the {key.alg} key")
    return alg


def _check_issuer(claims: Mapping[str, Any], issuer: str | None) -> None:
    if "iss" not in claims:
        raise token_error("missing_claim", "token is missing the 'iss' claim")
    iss = claims["iss"]
    if not isinstance(iss, str) or not iss:
        raise token_error("invalid_issuer", "claim 'iss' must be a non-empty string")
    if issuer is not None and iss != issuer:
        raise token_error("invalid_issuer", "token was not issued by the expected issuer")


def _check_audience(claims: Mapping[str, Any], *, typ: str, audience: str | None) -> None:
    """``aud`` is required in auth and resource tokens, optional (checked when present) in agent tokens."""
    if "aud" in claims:
        named = audiences(claims["aud"])
        if audience is not None and audience not in named:
            raise token_error("invalid_audience", "token is not intended for this recipient ('aud')")
    elif typ in (dialect.TYP_AUTH, dialect.TYP_RESOURCE):
        raise token_error("missing_claim", "token is missing the 'aud' claim")
    elif audience is not None and typ != dialect.TYP_AGENT:
        raise token_error("invalid_audience", "token has no 'aud' but one is required here")


def _check_kind_claims(claims: Mapping[str, Any], *, typ: str, require_agent: bool) -> None:
    """The claims each token kind requires."""
    if typ == dialect.TYP_AGENT:
        string_claim(claims, "sub", required=True)
    elif typ == dialect.TYP_RESOURCE:
        _check_resource_claims(claims)
    elif typ == dialect.TYP_AUTH:
        string_claim(claims, "agent", required=require_agent)
        for optional in ("sub", "agent_delegate"):
            string_claim(claims, optional, required=False)
        if "scope" in claims and not isinstance(claims["scope"], str):
            raise token_error("invalid_claim", "claim 'scope' must be a string")


def _check_resource_claims(claims: Mapping[str, Any]) -> None:
    """A resource token names the agent and its key, and asks for exactly one of scope or auth request."""
    string_claim(claims, "agent", required=True)
    string_claim(claims, "agent_jkt", required=True)
    has_scope = string_claim(claims, "scope", required=False) is not None
    has_url = string_claim(claims, "auth_request_url", required=False) is not None
    if not has_scope and not has_url:
        raise token_error("missing_claim", "token is missing the 'scope' (or 'auth_request_url') claim")
    if has_scope and has_url:
        raise token_error("invalid_claim", "token carries both 'scope' and 'auth_request_url'")
