"""What an access server auth token will say, kept while a request is pending, and the
token itself (draft -11 §9.4.1, four-party).

The token: ``typ`` ``aa-auth+jwt``, ``iss`` the access server with ``dwk``
``aauth-access.json``, ``aud`` the resource, ``ps`` the calling person server, ``sub`` from
the resource token (the person server's directed identifier, never re-derived), ``scope``,
``account``, ``mission_s256`` and ``tenant`` copied, ``cnf`` the agent's key, ``exp`` at most
the configured lifetime (≤ 1 h) and never past the agent, presented or upstream token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..keys import SigningKey
from ..profile.aauth_11 import AAUTH_11
from ..tokens import peek
from ..tokens.mint_11 import mint_auth_token_11
from .body_tokens import Presented
from .errors import problem
from .policy import AccessRequest

__all__ = ["Grant", "Issued"]

DWK_ACCESS = AAUTH_11.well_known_access or "aauth-access.json"


@dataclass(frozen=True, slots=True)
class Issued:
    """A minted auth token, with what revoking it needs."""

    token: str
    jti: str
    exp: int
    expires_in: int


@dataclass(frozen=True, slots=True)
class Grant:
    """The verified facts an auth token rests on (JSON-ready, for the store)."""

    person_server: str
    resource: str
    sub: str
    agent: str
    agent_provider: str
    scope: tuple[str, ...]
    cnf_jwk: Mapping[str, Any]
    not_after: float
    account: str | None = None
    mission_s256: str | None = None
    tenant: str | None = None

    @classmethod
    def of(cls, presented: Presented) -> Grant:
        resource, agent = presented.resource.claims, presented.agent.claims
        assert presented.agent.cnf_jwk is not None
        return cls(person_server=presented.person_server, resource=resource["iss"], sub=resource["sub"],
                   agent=agent["sub"], agent_provider=agent["iss"],
                   scope=tuple(str(resource.get("scope") or "").split()), cnf_jwk=dict(presented.agent.cnf_jwk),
                   not_after=presented.not_after, account=resource.get("account"),
                   mission_s256=resource.get("mission_s256"), tenant=resource.get("tenant"))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cnf_jwk"], out["scope"] = dict(self.cnf_jwk), list(self.scope)
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Grant:
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in value.items() if k in names}
        kept["scope"] = tuple(kept.get("scope", ()))
        return cls(**kept)

    def request(self, *, claims: Mapping[str, Any] | None = None) -> AccessRequest:
        """What the policy sees."""
        return AccessRequest(resource=self.resource, person_server=self.person_server, sub=self.sub,
                             agent=self.agent, agent_provider=self.agent_provider, scope=frozenset(self.scope),
                             account=self.account, mission_s256=self.mission_s256, tenant=self.tenant,
                             claims=dict(claims or {}))

    def mint(self, key: SigningKey, *, issuer: str, scope: frozenset[str] | None, now: float,
             lifetime: int) -> Issued:
        """The auth token, for ``scope`` (``None``: as requested) narrowed to what was requested."""
        granted = frozenset(self.scope) if scope is None else frozenset(self.scope) & scope
        ordered = " ".join(s for s in self.scope if s in granted)
        try:
            token = mint_auth_token_11(
                key, iss=issuer, aud=self.resource, ps=self.person_server, sub=self.sub, cnf_jwk=self.cnf_jwk,
                now=now, dwk=DWK_ACCESS, lifetime=lifetime, not_after=self.not_after, scope=ordered or None,
                account=self.account, mission_s256=self.mission_s256, tenant=self.tenant)
        except ValueError:  # the tokens it rests on expire now
            raise problem("the presented token expires now; get a fresh one",
                          code="expired_presented_token") from None
        claims = peek(token).claims
        return Issued(token, str(claims["jti"]), int(claims["exp"]), int(claims["exp"]) - int(claims["iat"]))
