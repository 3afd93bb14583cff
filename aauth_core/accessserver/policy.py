"""Who may have what at the resources an access server governs: the policy hook.

The access server checks every token first; only a request it could issue for reaches
the policy, which answers one of four outcomes (-11 §2.4): ``grant`` (an auth token now,
for the requested scope or the subset the decision names), ``deny`` (403 ``denied``),
``claims`` (202 ``requirement=claims`` naming the claims it needs from the person server;
never ``sub``) or ``approval`` (202 ``requirement=approval``: someone at the access server
decides, :meth:`AccessServer.approve` / :meth:`AccessServer.deny`).  A grant never exceeds
the requested scope.  The default, :class:`AllowListedScopes`, grants exactly the scopes the
configuration lists per resource and denies anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["AccessDecision", "AccessPolicy", "AccessRequest", "AllowListedScopes", "Outcome"]

Outcome = Literal["grant", "deny", "claims", "approval"]


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Everything a policy may decide on, all of it verified.

    ``person_server`` and ``sub`` name the person (the pair, never ``sub`` alone); ``agent``
    is the agent token's ``sub``, ``agent_provider`` its ``iss``.  ``claims`` are what the
    person server sent in answer to a ``claims`` requirement (empty before); ``approved`` is
    set once someone approved a pending request.
    """

    resource: str
    person_server: str
    sub: str
    agent: str
    agent_provider: str
    scope: frozenset[str]
    account: str | None = None
    mission_s256: str | None = None
    tenant: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """``scope`` ``None`` means "as requested"; ``required_claims`` goes with ``claims``."""

    outcome: Outcome
    scope: frozenset[str] | None = None
    required_claims: tuple[str, ...] = ()
    reason: str | None = None

    @classmethod
    def grant(cls, scope: Iterable[str] | None = None) -> AccessDecision:
        return cls("grant", None if scope is None else frozenset(scope))

    @classmethod
    def deny(cls, reason: str | None = None) -> AccessDecision:
        return cls("deny", reason=reason)

    @classmethod
    def need_claims(cls, *names: str) -> AccessDecision:
        if not names or "sub" in names:
            raise ValueError("name the claims needed; 'sub' is never asked for (-11 §2.3)")
        return cls("claims", required_claims=tuple(names))

    @classmethod
    def need_approval(cls) -> AccessDecision:
        return cls("approval")


@runtime_checkable
class AccessPolicy(Protocol):
    """The extension point: an :class:`AccessDecision` for an :class:`AccessRequest`."""

    def decide(self, request: AccessRequest) -> AccessDecision: ...


class AllowListedScopes:
    """Grant a request whose every scope is listed for its resource; deny anything else."""

    def __init__(self, scopes: Mapping[str, Iterable[str]]) -> None:
        self.scopes = {resource: frozenset(allowed) for resource, allowed in scopes.items()}

    def decide(self, request: AccessRequest) -> AccessDecision:
        allowed = self.scopes.get(request.resource, frozenset())
        extra = request.scope - allowed
        if extra:
            return AccessDecision.deny(f"not granted here: {' '.join(sorted(extra))}")
        return AccessDecision.grant(request.scope)
