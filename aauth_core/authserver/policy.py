"""Who may have what: the policy hook the auth server consults before issuing anything.

A :class:`Policy` sees the agent, the resource, the requested scope and the user
(once there is one) and answers grant, consent or deny, optionally with the
scopes it allows.  The server never grants more than the intersection of what was
requested and what the policy allows.

An exchange has no user to ask, so it never grants more than the user approved
upstream: only scopes the upstream auth token carries, plus those the policy's
:class:`Decision` explicitly lists in ``beyond_upstream`` (:class:`AllowExchangeWidening`
is the built-in way to opt in).  A request for any other scope is refused with
``invalid_scope``, or dropped when ``AuthServerConfig.narrow_to_upstream_scope`` is set.

The default, :class:`RequireConsent`, is the secure one: no auth token for an
``auth`` request without a user's approval unless the deployment says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable

from ..context import Actor

__all__ = [
    "AllowAll",
    "AllowExchangeWidening",
    "Decision",
    "DenyAll",
    "Outcome",
    "Policy",
    "PolicyRequest",
    "RequireConsent",
    "ScopeLimits",
    "narrow",
]

Outcome = Literal["grant", "consent", "deny"]
RequestType = Literal["auth", "code", "exchange", "refresh"]


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """Everything a policy may decide on.

    ``request_type`` is ``auth`` (no user yet), ``code`` (a user just approved
    consent; ``user`` is set), ``exchange`` (``user`` is the upstream ``sub``, ``act``
    the chain so far, ``upstream_scope`` the upstream token's scope) or ``refresh``.
    ``resource`` is the auth token's audience (the agent itself when it asks for
    its own ``scope``).
    """

    request_type: RequestType
    agent: str
    resource: str
    scope: frozenset[str]
    agent_delegate: str | None = None
    user: str | None = None
    act: tuple[Actor, ...] = ()
    upstream_issuer: str | None = None
    upstream_scope: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """``scope`` ``None`` means "as requested"; otherwise the scopes the policy allows.

    ``beyond_upstream`` matters for exchanges only: scopes the exchanged token may carry
    although the upstream auth token does not (an explicit widening; empty by default,
    so an exchange stays within what the user approved upstream).
    """

    outcome: Outcome
    scope: frozenset[str] | None = None
    reason: str | None = None
    beyond_upstream: frozenset[str] = frozenset()

    @classmethod
    def grant(cls, scope: Iterable[str] | None = None, *, beyond_upstream: Iterable[str] = ()) -> Decision:
        return cls("grant", None if scope is None else frozenset(scope), beyond_upstream=frozenset(beyond_upstream))

    @classmethod
    def consent(cls, scope: Iterable[str] | None = None) -> Decision:
        return cls("consent", None if scope is None else frozenset(scope))

    @classmethod
    def deny(cls, reason: str | None = None) -> Decision:
        return cls("deny", reason=reason)


@runtime_checkable
class Policy(Protocol):
    """The extension point: return a :class:`Decision` for a :class:`PolicyRequest`."""

    def decide(self, request: PolicyRequest) -> Decision: ...


@dataclass(frozen=True)
class ScopeLimits:
    """Optional per-resource scope allow-lists shared by the built-in policies.

    ``limits`` maps a resource identifier to the scopes any agent may get there;
    resources not listed are unrestricted unless ``default`` is set.
    """

    limits: Mapping[str, Iterable[str]] = field(default_factory=dict)
    default: Iterable[str] | None = None

    def allowed(self, resource: str) -> frozenset[str] | None:
        key = resource.rstrip("/")
        for name, scopes in self.limits.items():
            if name.rstrip("/") == key:
                return frozenset(scopes)
        return None if self.default is None else frozenset(self.default)


class AllowAll:
    """Grant every request without a user (the demo's behaviour), within optional limits."""

    def __init__(self, limits: ScopeLimits | None = None) -> None:
        self.limits = limits or ScopeLimits()

    def decide(self, request: PolicyRequest) -> Decision:
        return Decision("grant", self.limits.allowed(request.resource))


class RequireConsent:
    """A user must approve every ``auth`` request (the default).

    Exchanges and refreshes are granted: the user's approval, or the upstream auth
    server's grant, is already behind them (trust in upstreams is explicit config),
    and an exchange never goes beyond the scope the upstream token carries.
    """

    def __init__(self, limits: ScopeLimits | None = None) -> None:
        self.limits = limits or ScopeLimits()

    def decide(self, request: PolicyRequest) -> Decision:
        allowed = self.limits.allowed(request.resource)
        if request.request_type == "auth":
            return Decision("consent", allowed)
        return Decision("grant", allowed)


class AllowExchangeWidening:
    """Opt in to exchanges that grant scopes the upstream auth token does not carry.

    ``scopes`` maps a downstream resource identifier to the scopes an exchange for it
    may add beyond the upstream token's; every decision is otherwise ``policy``'s (a
    deny stays a deny, its scope limits still apply).  Without this (or a policy whose
    :class:`Decision` sets ``beyond_upstream``), a user who approved ``data.read`` at one
    resource is never committed to ``data.write`` at the next by an exchange.
    """

    def __init__(self, policy: Policy, scopes: Mapping[str, Iterable[str]]) -> None:
        self.policy = policy
        self.scopes = {resource.rstrip("/"): frozenset(allowed) for resource, allowed in scopes.items()}

    def decide(self, request: PolicyRequest) -> Decision:
        decision = self.policy.decide(request)
        if request.request_type != "exchange" or decision.outcome != "grant":
            return decision
        extra = self.scopes.get(request.resource.rstrip("/"))
        if not extra:
            return decision
        return replace(decision, beyond_upstream=decision.beyond_upstream | extra)


class DenyAll:
    """Refuse everything (maintenance, or a deny-by-default base to wrap)."""

    def decide(self, request: PolicyRequest) -> Decision:
        return Decision.deny("this auth server grants nothing")


def narrow(requested: frozenset[str], *limits: frozenset[str] | None) -> frozenset[str]:
    """``requested`` ∩ every non-``None`` limit: never wider than any of them."""
    granted = requested
    for limit in limits:
        if limit is not None:
            granted = granted & limit
    return granted
