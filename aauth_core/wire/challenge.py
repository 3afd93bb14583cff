"""Agent-Auth (protocol B §3): the challenge a resource sends with its 401.

Parsed as one RFC 8941 Item with the dialect's one tolerance, an inner list as a
parameter value (``algs=(...)``); unknown parameters are kept, not refused, so a
newer resource's challenge still reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..errors import HeaderError
from . import sf
from .checks import check_length

__all__ = ["AgentAuthChallenge", "format_agent_auth", "parse_agent_auth"]

_CODE = "invalid_agent_auth"
_STRING_PARAMS = ("resource_token", "auth_server", "user_interaction")


@dataclass(frozen=True, slots=True)
class AgentAuthChallenge:
    """An ``Agent-Auth`` challenge (protocol B §3)."""

    identity: bool = False
    auth_token: bool = False
    resource_token: str | None = None
    auth_server: str | None = None
    user_interaction: str | None = None
    algs: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> Literal["signature", "identity", "authorization", "interaction"]:
        if self.auth_token:
            return "authorization"
        if self.user_interaction:
            return "interaction"
        return "identity" if self.identity else "signature"


def parse_agent_auth(value: str) -> AgentAuthChallenge:
    """Parse an Agent-Auth challenge; unknown parameters are kept in ``extra``."""
    check_length("Agent-Auth", value, _CODE)
    try:
        item = sf.parse_item(value, inner_list_params=True)
    except sf.ParseError as exc:
        raise HeaderError(f"Agent-Auth is malformed: {exc}", code=_CODE) from None
    if item.value != "httpsig" or not isinstance(item.value, sf.Token):
        raise HeaderError("Agent-Auth must start with 'httpsig'", code=_CODE)
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, pvalue in item.params.items():
        if name == "identity":
            if not isinstance(pvalue, bool):
                raise HeaderError("'identity' must be a boolean", code=_CODE)
            kwargs["identity"] = pvalue
        elif name == "auth-token":
            if pvalue is not True:
                raise HeaderError("'auth-token' is a bare flag", code=_CODE)
            kwargs["auth_token"] = True
        elif name in _STRING_PARAMS:
            if not isinstance(pvalue, str) or isinstance(pvalue, sf.Token):
                raise HeaderError(f"'{name}' must be a string", code=_CODE)
            kwargs[name] = pvalue
        elif name == "algs":
            if not isinstance(pvalue, sf.InnerList) or not all(
                isinstance(i.value, str) and not isinstance(i.value, sf.Token) for i in pvalue.items
            ):
                raise HeaderError("'algs' must be a list of strings", code=_CODE)
            kwargs["algs"] = tuple(str(i.value) for i in pvalue.items)
        else:
            extra[name] = pvalue
    return AgentAuthChallenge(extra=MappingProxyType(extra), **kwargs)


def format_agent_auth(challenge: AgentAuthChallenge) -> str:
    """Serialise in the transcript's layout: ``httpsig; auth-token; resource_token="..."; ...``."""
    parts = ["httpsig"]
    if challenge.identity:
        parts.append("identity=?1")
    if challenge.auth_token:
        parts.append("auth-token")
    for name in _STRING_PARAMS:
        value = getattr(challenge, name)
        if value is not None:
            parts.append(f"{name}={sf.serialize_bare_item(value)}")
    if challenge.algs is not None:
        parts.append("algs=(" + " ".join(sf.serialize_bare_item(a) for a in challenge.algs) + ")")
    return "; ".join(parts)
