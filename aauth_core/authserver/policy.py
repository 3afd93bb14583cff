"""Who may have what: the policy hook the auth server consults before issuing anything.

A :class:`Policy` sees the agent, the resource, the requested scope and the user
(once there is one) and answers grant, consent or deny, optionally with the
scopes it allows.  The server never grants more than the intersection of what was
requested and what the policy allows; on exchange it may also intersect with the
upstream token's scope (``AuthServerConfig.narrow_to_upstream_scope``).

The default, :class:`RequireConsent`, is the secure one: no auth token for an
``auth`` request without a user's approval unless the deployment says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from ..context import Actor

__all__ = [
    "AllowAll",
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
    """``scope`` ``None`` means "as requested"; otherwise the scopes the policy allows."""

    outcome: Outcome
    scope: frozenset[str] | None = None
    reason: str | None = None

    @classmethod
    def grant(cls, scope: Iterable[str] | None = None) -> Decision:
        return cls("grant", None if scope is None else frozenset(scope))

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
    server's grant, is already behind them (trust in upstreams is explicit config).
    """

    def __init__(self, limits: ScopeLimits | None = None) -> None:
        self.limits = limits or ScopeLimits()

    def decide(self, request: PolicyRequest) -> Decision:
        allowed = self.limits.allowed(request.resource)
        if request.request_type == "auth":
            return Decision("consent", allowed)
        return Decision("grant", allowed)


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
