"""``act`` delegation chains: read one from a token, build the next one for an exchange (B §7.4).

Chains are walked iteratively and bounded by ``max_depth``; an agent may appear only once,
so a token cannot be exchanged round a cycle (``act_loop``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Actor
from .json import thaw_mapping
from .refusal import token_error

__all__ = ["act_claim", "build_act"]


def _parse_act(value: Any, *, max_depth: int) -> tuple[Actor, ...]:
    """Walk an ``act`` object iteratively (no recursion), outermost level first.

    ``None`` means "no act claim"; a nested ``"act": null`` is malformed, not absent.
    """
    chain: list[Actor] = []
    node = value
    while node is not None:
        if len(chain) >= max_depth:
            raise token_error("act_too_deep", f"act chain is deeper than {max_depth} levels")
        if not isinstance(node, Mapping):
            raise token_error("invalid_act", "every act level must be a JSON object")
        agent = node.get("agent")
        if not isinstance(agent, str) or not agent:
            raise token_error("invalid_act", "every act level must carry a string 'agent'")
        delegate, sub = node.get("agent_delegate"), node.get("sub")
        if delegate is not None and not isinstance(delegate, str):
            raise token_error("invalid_act", "act 'agent_delegate' must be a string")
        if sub is not None and not isinstance(sub, str):
            raise token_error("invalid_act", "act 'sub' must be a string")
        if any(a.agent.rstrip("/") == agent.rstrip("/") for a in chain):
            raise token_error("act_loop", "the act chain names the same agent twice (an exchange loop)")
        chain.append(Actor(agent=agent, agent_delegate=delegate, sub=sub))
        if "act" in node and node["act"] is None:
            raise token_error("invalid_act", "a nested act must be a JSON object")
        node = node.get("act")
    return tuple(chain)


def act_claim(claims: Mapping[str, Any], *, max_depth: int) -> tuple[Actor, ...]:
    """The token's ``act`` chain, outermost first (empty when the claim is absent)."""
    if "act" in claims and claims["act"] is None:
        raise token_error("invalid_act", "claim 'act' must be a JSON object")
    return _parse_act(claims.get("act"), max_depth=max_depth)


def build_act(upstream_claims: Mapping[str, Any], *, max_depth: int, presenter: str | None = None) -> dict[str, Any]:
    """The ``act`` for a token exchanged from ``upstream_claims`` (B §7.4).

    The upstream presenter (its ``agent``, ``agent_delegate`` and ``sub`` when present)
    is pushed on top of the upstream chain, which is nested unchanged.  ``sub`` is
    copied whenever present, as the demo does (§11 item 14).  The result is plain
    dicts, ready for :func:`mint_auth_token`.

    A chain that loops is refused (``act_loop``): an agent may appear only once among
    ``presenter`` (the intermediary the new token is for), the upstream ``agent`` and
    the upstream ``act`` agents, so a token cannot be exchanged round a cycle.
    """
    agent = upstream_claims.get("agent")
    if not isinstance(agent, str) or not agent:
        raise token_error("invalid_act", "upstream token has no 'agent' to record in act")
    upstream_chain = act_claim(upstream_claims, max_depth=max(max_depth, 0))
    if len(upstream_chain) + 1 > max_depth:
        raise token_error("act_too_deep", f"the exchanged token's act chain would exceed {max_depth} levels")
    agents = [a.rstrip("/") for a in (presenter, agent, *(actor.agent for actor in upstream_chain)) if a is not None]
    if len(set(agents)) != len(agents):
        raise token_error("act_loop", "the act chain would name the same agent twice (an exchange loop)")
    act: dict[str, Any] = {"agent": agent}
    for name in ("agent_delegate", "sub"):
        value = upstream_claims.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise token_error("invalid_act", f"upstream '{name}' must be a string")
            act[name] = value
    upstream_act = upstream_claims.get("act")
    if upstream_act is not None:
        act["act"] = thaw_mapping(upstream_act)
    return act
