"""``scheme=jwt`` at a resource: the token is validated in full before its ``cnf`` key signs
anything (protocol B §6.3), and remembered while nothing behind it changed.

A warm token costs one lookup and its time claims: its entry keeps the discovery
``keys_version`` it was validated under and the route of its issuer key, and is used
only while that version is current and the key's documents are still fresh.  Any new
or changed key document anywhere bumps the version, so a rotation is never missed.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NamedTuple

from .. import dialect
from ..cache import BoundedCache
from ..discovery import Discovery
from ..effects import Call, call
from ..errors import TokenError
from ..keys import PublicKey
from ..tokens import TokenTimes, UnverifiedToken, ValidatedToken, VerifiedTokenCache, peek, validate_token
from .prepared import Identity, KeyRoute, agent_identity, auth_identity

__all__ = ["TokenKeys", "TokenPolicy", "WarmTokens"]

_WARM_TOKENS_SIZE = 1024

_KeyFlow = Generator[Call[Any], Any, PublicKey]


class TokenPolicy(NamedTuple):
    """What the settings say about tokens, read once."""

    trusted: frozenset[str]  # auth token issuers, compared exactly (normalised at load)
    resource_id: str | None  # the ``aud`` auth tokens (and agent tokens, when they name one) carry
    leeway: int
    max_act_depth: int
    algorithms: tuple[str, ...]  # JWS algorithms accepted


class _WarmToken(NamedTuple):
    route: KeyRoute  # where discovery keeps the issuer key
    version: int  # discovery.keys_version when the token was validated
    key: PublicKey  # its cnf key
    identity: Identity
    times: TokenTimes


class WarmTokens:
    """Tokens validated in full, remembered while nothing behind them changed (both
    profiles' token steps use one): the discovery ``keys_version`` they were validated
    under, and their issuer key's route, still fresh."""

    def __init__(self, discovery: Discovery, size: int = _WARM_TOKENS_SIZE) -> None:
        self.discovery = discovery
        self._entries: BoundedCache[str, _WarmToken] = BoundedCache(size)

    def get(self, token: str, now: float, leeway: int) -> tuple[PublicKey, Identity] | None:
        """Only the time claims are checked again; ``None`` means "validate in full"."""
        hit = self._entries.get(token)
        if hit is None:
            return None
        discovery = self.discovery
        if hit.version != discovery.keys_version or discovery.cached_key_for(*hit.route) is None:
            return None
        hit.times.check(now, leeway)
        return hit.key, hit.identity

    def put(self, token: str, route: KeyRoute, version: int, key: PublicKey, identity: Identity,
            claims: Any) -> None:
        self._entries.put(token, _WarmToken(route, version, key, identity, TokenTimes.of(claims)))


class TokenKeys:
    """Validated tokens and their ``cnf`` keys for one verifier."""

    def __init__(self, discovery: Discovery, policy: TokenPolicy, cache: VerifiedTokenCache) -> None:
        self.discovery = discovery
        self.policy = policy
        self.cache = cache
        self._warm = WarmTokens(discovery)

    def warm(self, token: str, now: float) -> tuple[PublicKey, Identity] | None:
        """A token validated in full before, with nothing changed behind it: only its time
        claims are checked again.  ``None`` sends it through :meth:`flow`."""
        return self._warm.get(token, now, self.policy.leeway)

    def flow(self, token: str, now: float) -> Generator[Call[Any], Any, tuple[PublicKey, Identity]]:
        """Validate the JWT of ``scheme=jwt`` completely; its ``cnf`` key and what it says."""
        version = self.discovery.keys_version  # before any fetch: a change during it is caught next time
        unverified = peek(token)
        typ = unverified.header.get("typ")
        iss, kid = _issuer_and_kid(unverified, "token")
        if typ == dialect.TYP_AUTH:
            if self.policy.resource_id is None:
                raise TokenError("this server has no resource_id to check 'aud' against", code="invalid_audience")
            route, valid = yield from self.auth_token(unverified, audience=self.policy.resource_id, now=now)
            identity = auth_identity(valid.claims, valid.act, issuer=iss, token=valid.raw)
        elif typ == dialect.TYP_AGENT:
            route = (iss, dialect.WELL_KNOWN_AGENT, kid)
            issuer_key = yield from self._key(route)
            # ``aud`` is optional in an agent token; when present (a string or an array,
            # RFC 7519 §4.1.3) it must name this server exactly.
            valid = self._validate(unverified, dialect.TYP_AGENT, issuer_key, self.policy.resource_id, now)
            identity = agent_identity(valid.claims, issuer=iss, token=valid.raw)
        else:
            raise TokenError(f"a Signature-Key JWT must be an agent+jwt or auth+jwt, not {typ!r}",
                             code="wrong_token_type")
        if valid.cnf_key is None:  # validate_token requires cnf for both typs; belt and braces
            raise TokenError("token has no cnf.jwk", code="invalid_cnf")
        self._warm.put(token, route, version, valid.cnf_key, identity, valid.claims)
        return valid.cnf_key, identity

    def auth_token(self, unverified: UnverifiedToken, *, audience: str, now: float,
                   what: str = "auth token") -> Generator[Call[Any], Any, tuple[KeyRoute, ValidatedToken]]:
        """An auth token from a trusted issuer, validated for ``audience``: the one trust
        check for auth tokens at a resource and for a token exchange's upstream token."""
        iss, kid = _issuer_and_kid(unverified, what)
        if iss not in self.policy.trusted:
            raise TokenError(f"{what} issuer is not trusted here", code="untrusted_issuer")
        route: KeyRoute = (iss, dialect.WELL_KNOWN_ISSUER, kid)
        issuer_key = yield from self._key(route)
        return route, self._validate(unverified, dialect.TYP_AUTH, issuer_key, audience, now)

    def _key(self, route: KeyRoute) -> _KeyFlow:
        """The memoised key when every document behind it is fresh; else discovery's I/O."""
        discovery = self.discovery
        key = discovery.cached_key_for(*route)
        if key is None:
            key = yield from call(discovery.key_for, discovery.akey_for, *route)
        return key

    def _validate(self, unverified: UnverifiedToken, typ: str, key: PublicKey, audience: str | None,
                  now: float) -> ValidatedToken:
        """Through the verified-token cache: after a ``keys_version`` change ends a warm
        entry, a token whose issuer key did not change skips its JWS verification."""
        p = self.policy
        return validate_token(unverified, typ=typ, key=key, now=now, leeway=p.leeway, algorithms=p.algorithms,
                              audience=audience, max_act_depth=p.max_act_depth, cache=self.cache)


def _issuer_and_kid(unverified: UnverifiedToken, what: str) -> tuple[str, str]:
    iss, kid = unverified.claims.get("iss"), unverified.header.get("kid")
    if not isinstance(iss, str) or not isinstance(kid, str):
        raise TokenError(f"{what} needs string 'iss' and 'kid'", code="malformed_token")
    return iss, kid
