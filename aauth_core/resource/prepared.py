"""A request's Signature-Key and Signature-Input, parsed and checked once per distinct pair.

An agent repeats both header texts on every request it signs within the same
second, so the verifier decides them once (scheme, algorithm, label, coverage, the
inline key or where to find the key, the identity they claim) and hands the same
:class:`Prepared` to every request of the pair.  Refusals are never kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from .. import dialect
from ..context import Actor, VerifiedRequest
from ..errors import SignatureError
from ..headers import SignatureKey, SignatureParams, parse_signature_input, parse_signature_key
from ..keys import PublicKey

__all__ = ["Identity", "KeyRoute", "PSEUDONYMOUS", "Prepared", "auth_identity", "prepare"]

#: Where discovery finds a key: (identifier, well-known document name or None, kid).
KeyRoute = tuple[str, "str | None", str]


class Identity(NamedTuple):
    """The trailing fields of :class:`VerifiedRequest`, same names and order: who the
    caller is, as its key or token says.  A verified request is the signature's own
    fields followed by these, built in one step."""

    agent: str | None = None
    agent_delegate: str | None = None
    sub: str | None = None
    scope: frozenset[str] = frozenset()
    act: tuple[Actor, ...] = ()
    token_type: str | None = None
    issuer: str | None = None
    claims: Mapping[str, Any] = MappingProxyType({})
    token: str | None = None
    profile: str = "aauth-2026-01"
    agent_provider: str | None = None
    person: tuple[str, str] | None = None
    mission_s256: str | None = None
    tenant: str | None = None
    held_request: Any = None  # set per request by the verifier, never here

    def __repr__(self) -> str:  # never the token
        return f"Identity(agent={self.agent!r}, person={self.person!r})"


PSEUDONYMOUS = Identity()


class Prepared:
    """One checked header pair, and the last request it produced.

    Not frozen, on purpose: ``last`` is a one-entry memo.  Every request of the pair
    proves the same thing (``created`` is part of the pair), so while the key and the
    identity are the same objects the previous :class:`VerifiedRequest` is handed out
    again instead of being rebuilt.
    """

    __slots__ = ("digest", "identity", "key", "last", "params", "route", "sigkey")

    def __init__(self, sigkey: SignatureKey, params: SignatureParams, *, key: PublicKey | None = None,
                 route: KeyRoute | None = None, identity: Identity = PSEUDONYMOUS) -> None:
        self.sigkey = sigkey
        self.params = params
        self.digest = "content-digest" in params.components  # the body must be checked
        self.key = key  # hwk: the key itself
        self.route = route  # jwks by id: where discovery finds the key
        self.identity = identity
        self.last: tuple[PublicKey, Identity, VerifiedRequest] | None = None

    def outcome(self, key: PublicKey, identity: Identity) -> VerifiedRequest:
        last = self.last
        if last is not None and last[0] is key and last[1] is identity:
            return last[2]
        sk, params = self.sigkey, self.params
        verified = VerifiedRequest._make((sk.scheme, sk.label, key, params.created or 0, params.components, *identity))
        self.last = (key, identity, verified)
        return verified


def prepare(key_text: str, input_text: str, *, schemes: frozenset[str], algorithms: frozenset[str]) -> Prepared:
    """Parse and cross-check the two headers that do not change per request."""
    sigkey = parse_signature_key(key_text)
    params = parse_signature_input(input_text)
    if params.label != sigkey.label:
        raise SignatureError("Signature, Signature-Input and Signature-Key labels differ", code="label_mismatch")
    if sigkey.scheme not in schemes:
        raise SignatureError(f"scheme {sigkey.scheme!r} is not accepted here", code="unsupported_scheme")
    if params.alg is not None and params.alg not in algorithms:
        raise SignatureError(f"algorithm {params.alg!r} is not accepted", code="unsupported_algorithm")
    if sigkey.scheme == "hwk":
        return Prepared(sigkey, params, key=sigkey.hwk_key())
    if sigkey.scheme == "jwks" and sigkey.id is not None:
        if sigkey.well_known not in (None, dialect.WELL_KNOWN_AGENT, dialect.WELL_KNOWN_RESOURCE):
            raise SignatureError(f"well-known {sigkey.well_known!r} does not identify an agent",
                                 code="invalid_signature_key")
        return Prepared(sigkey, params, route=(sigkey.id, sigkey.well_known, sigkey.kid or ""),
                        identity=Identity(agent=sigkey.id.rstrip("/")))
    return Prepared(sigkey, params)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def auth_identity(claims: Mapping[str, Any], act: tuple[Any, ...], *, issuer: str, token: str) -> Identity:
    """What a validated auth token says about the caller."""
    scope = claims.get("scope")
    return Identity(
        agent=_opt_str(claims.get("agent")),
        agent_delegate=_opt_str(claims.get("agent_delegate")),
        sub=_opt_str(claims.get("sub")),
        scope=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        act=tuple(Actor(a.agent, a.agent_delegate, a.sub) for a in act),
        token_type=dialect.TYP_AUTH,
        issuer=issuer,
        claims=claims if isinstance(claims, MappingProxyType) else MappingProxyType(dict(claims)),
        token=token,
    )


def agent_identity(claims: Mapping[str, Any], *, issuer: str, token: str) -> Identity:
    """What a validated agent token says about the caller: the agent is its issuer."""
    return Identity(agent=issuer.rstrip("/"), agent_delegate=_opt_str(claims.get("sub")),
                    token_type=dialect.TYP_AGENT, issuer=issuer, claims=claims, token=token)
