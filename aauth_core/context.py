"""The verified context handed to handlers: one immutable object in every framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from . import dialect
from .keys import PublicKey

__all__ = ["Actor", "Level", "Requirement", "VerifiedRequest", "LEVELS"]

Level = Literal["signature", "identity", "person", "authorization"]
#: Weakest first.  ``person`` (aauth-11's person-token mode) is met by an -11 person or auth
#: token, which name a person; no January token does.
LEVELS: tuple[Level, ...] = ("signature", "identity", "person", "authorization")
_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class Actor:
    """One hop of an ``act`` chain (protocol B §7.4)."""

    agent: str
    agent_delegate: str | None = None
    sub: str | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a route demands: a level and, for ``authorization``, scopes."""

    level: Level = "signature"
    scopes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        scopes = self.scopes
        if isinstance(scopes, str):
            scopes = frozenset(scopes.split())
        object.__setattr__(self, "scopes", frozenset(scopes))
        if self.scopes and self.level != "authorization":
            raise ValueError("scopes can only be required at the 'authorization' level")

    @classmethod
    def of(cls, level: Level = "signature", scopes: str | Iterable[str] = ()) -> Requirement:
        return cls(level, frozenset(scopes.split() if isinstance(scopes, str) else scopes))


_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})
#: Token types that decide the level by themselves (the others: identity if an agent is named).
_LEVEL_OF_TYPE: Mapping[str | None, Level] = MappingProxyType({
    dialect.TYP_AUTH: "authorization", "aa-auth+jwt": "authorization", "aa-person+jwt": "person",
})


class VerifiedRequest(NamedTuple):
    """What the verifier proved about a request.

    ``agent`` is the verified agent identifier (``None`` for a pseudonymous
    ``hwk`` key); ``agent_delegate`` the delegate (agent-token ``sub``); ``sub``
    the user an auth token was granted for; ``act`` the delegation chain,
    outermost (most recent upstream) first.  ``claims`` are the presented token's
    claims, read-only.  ``token`` is the raw presented JWT, kept so a resource can
    present it upstream in a token exchange; it is never printed.

    Immutable.  A named tuple rather than a frozen dataclass because one is built
    for every verified request, and a tuple is built in a third of the time.
    """

    scheme: str
    label: str
    key: PublicKey
    created: int
    components: tuple[str, ...]
    agent: str | None = None
    agent_delegate: str | None = None
    sub: str | None = None
    scope: frozenset[str] = frozenset()
    act: tuple[Actor, ...] = ()
    token_type: str | None = None
    issuer: str | None = None
    claims: Mapping[str, Any] = _NO_CLAIMS
    token: str | None = None
    #: The wire profile the request was verified under; under ``aauth-11`` ``agent`` is the
    #: ``aauth:local@domain`` agent identifier and ``agent_provider`` the token's issuer (AP).
    profile: str = "aauth-2026-01"
    agent_provider: str | None = None
    #: aauth-11: the person a person or auth token names, ``(issuer, sub)`` with the person
    #: server as issuer: opaque, pairwise, never compared across issuers (-11 §14.1, RS-10).
    person: tuple[str, str] | None = None
    #: aauth-11: the mission the token is bound to (``mission_s256``) and its ``tenant``
    #: (never part of the person's identity).
    mission_s256: str | None = None
    tenant: str | None = None
    #: aauth-11 deferred delivery only: the request itself (``RequestView``), which the
    #: resource may hold and run later; ``None`` otherwise.  Never printed.
    held_request: Any = None

    def __repr__(self) -> str:  # never the token, nor the held request (its headers carry tokens)
        pairs = zip(self._fields, self, strict=True)
        shown = ", ".join(f"{name}={value!r}" for name, value in pairs if name not in ("token", "held_request"))
        return f"VerifiedRequest({shown})"

    @property
    def key_thumbprint(self) -> str:
        return self.key.thumbprint

    @property
    def level(self) -> Level:
        level = _LEVEL_OF_TYPE.get(self.token_type)
        if level is not None:
            return level
        if self.agent is not None:
            return "identity"
        return "signature"

    @property
    def scope_text(self) -> str | None:
        raw = self.claims.get("scope")
        return raw if isinstance(raw, str) else None

    def satisfies(self, requirement: Requirement) -> bool:
        level = requirement.level
        if level == "person" and self.person is None:  # a January auth token names no person
            return False
        return _RANK[self.level] >= _RANK[level] and requirement.scopes <= self.scope

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``aauth verify`` prints); no token, no signature."""
        return {
            "scheme": self.scheme,
            "agent": self.agent,
            "agent_delegate": self.agent_delegate,
            "sub": self.sub,
            "scope": self.scope_text,
            "act": _act_dict(self.act),
            "key_thumbprint": self.key_thumbprint,
            "token_type": self.token_type,
            "issuer": self.issuer,
            "profile": self.profile,
            **({"agent_provider": self.agent_provider} if self.agent_provider is not None else {}),
            **({"person": list(self.person)} if self.person is not None else {}),
            **({"mission_s256": self.mission_s256} if self.mission_s256 is not None else {}),
            **({"tenant": self.tenant} if self.tenant is not None else {}),
        }


def _act_dict(chain: tuple[Actor, ...]) -> dict[str, Any] | None:
    out: dict[str, Any] | None = None
    for actor in reversed(chain):
        level: dict[str, Any] = {"agent": actor.agent}
        if actor.agent_delegate is not None:
            level["agent_delegate"] = actor.agent_delegate
        if actor.sub is not None:
            level["sub"] = actor.sub
        if out is not None:
            level["act"] = out
        out = level
    return out
