"""What the person server issues once a request is granted: person tokens, auth tokens and
missions, each recorded so it can be checked when presented back and revoked by ``jti``.

Lifetimes: a person or auth token lives ``lifetimes.person_token`` / ``auth_token`` (≤ 1 h),
never past the agent token it was asked with, nor (an auth token) past the presented token
(-11 §7.1.2, §9.4.1); the caps are :mod:`aauth_core.tokens.mint_11`'s.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..effects import Flow
from ..keys import SigningKey
from ..tokens import peek
from ..tokens.mint_11 import mint_auth_token_11, mint_person_token_11
from .config import PersonServerConfig
from .people import directed_sub
from .state import Records, mission_name, token_name
from .wire import PersonServerError

__all__ = ["Issuer", "mission_s256"]


def mission_s256(blob: bytes) -> str:
    """``base64url(SHA-256(blob))`` without padding: a mission's identifier (-11 §8)."""
    return base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode("ascii")


class Issuer:
    """Mints and records; reads the signing key and clock when it runs."""

    def __init__(self, config: PersonServerConfig, records: Records, signing_key: Callable[[], SigningKey],
                 clock: Callable[[], float]) -> None:
        self.config = config
        self.records = records
        self._key = signing_key
        self.clock = clock

    def issue(self, grant: Mapping[str, Any], user: str) -> Flow[dict[str, Any]]:
        """The 200 body for a granted pending record (``kind`` person, auth or mission)."""
        kind = grant.get("kind")
        if kind == "person":
            return (yield from self.person_token(grant, user))
        if kind == "auth":
            return (yield from self.auth_token(grant, user))
        return (yield from self.mission(grant, user))

    def person_token(self, grant: Mapping[str, Any], user: str) -> Flow[dict[str, Any]]:
        now = self.clock()
        token = self._mint(lambda: mint_person_token_11(
            self._key(), iss=self.config.issuer, aud=grant["resource"],
            sub=directed_sub(self.config.subject_secret, user, grant["resource"]), cnf_jwk=grant["cnf_jwk"],
            now=now, lifetime=self.config.lifetimes.person_token, not_after=grant["not_after"],
            mission_s256=grant.get("mission_s256")))
        yield from self._record(token, user, grant)
        return {"person_token": token, "expires_in": int(peek(token).claims["exp"]) - int(now)}

    def auth_token(self, grant: Mapping[str, Any], user: str) -> Flow[dict[str, Any]]:
        now = self.clock()
        token = self._mint(lambda: mint_auth_token_11(
            self._key(), iss=self.config.issuer, aud=grant["resource"], ps=self.config.issuer, sub=grant["sub"],
            cnf_jwk=grant["cnf_jwk"], now=now, lifetime=self.config.lifetimes.auth_token,
            not_after=grant["not_after"], scope=grant.get("scope") or None, mission_s256=grant.get("mission_s256"),
            tenant=grant.get("tenant")))
        yield from self._record(token, user, grant)
        return {"auth_token": token, "expires_in": int(peek(token).claims["exp"]) - int(now)}

    def mission(self, grant: Mapping[str, Any], user: str) -> Flow[dict[str, Any]]:
        """Store the approved blob's bytes as they are (never re-serialised, -11 open point 15)."""
        blob = base64.urlsafe_b64decode(grant["blob"] + "=" * (-len(grant["blob"]) % 4))
        s256 = mission_s256(blob)
        expires_at = self.clock() + self.config.lifetimes.mission
        yield from self.records.put_record(mission_name(s256), {
            "agent": grant["agent"], "user": user, "status": "active", "expires_at": expires_at}, expires_at)
        return {"s256": s256, "mission": grant["blob"]}

    def _mint(self, make: Callable[[], str]) -> str:
        try:
            return make()
        except ValueError:  # the agent token (or presented token) it rests on has expired meanwhile
            raise PersonServerError("the token this one rests on has expired", code="expired",
                                    status_code=408) from None

    def _record(self, token: str, user: str, grant: Mapping[str, Any]) -> Flow[None]:
        claims = peek(token).claims
        yield from self.records.put_record(token_name(claims["jti"]), {
            "jti": claims["jti"], "typ": peek(token).typ, "aud": claims["aud"], "exp": claims["exp"],
            "user": user, "agent": grant["agent"]}, float(claims["exp"]) + 60)


def mission_blob(request: Mapping[str, Any], agent: str, now: float) -> bytes:
    """The mission as stored and hashed: the agent's request, the agent and the time, as JSON bytes."""
    blob = {**{k: v for k, v in request.items() if k not in ("agent", "created")}, "agent": agent,
            "created": int(now)}
    return json.dumps(blob, separators=(",", ":"), sort_keys=True).encode("utf-8")
