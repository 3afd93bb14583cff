"""What an aauth-11 resource answers when a request does not meet a route's requirement
(-11 §6, §11.6; checklist RS-11, RS-30..35, RS-43): the ``AAuth-Requirement`` challenge and
the -11 resource token it carries.

| the route needs | the request presented | answer |
|---|---|---|
| signature, identity | nothing | 401 ``requirement=agent-token`` |
| person, authorization | nothing or an agent token | 401 ``requirement=person-token`` (RS-11) |
| authorization | a person token | 401 ``requirement=auth-token; resource-token=…`` (RS-30, RS-31) |
| authorization + scopes | an auth token without them | the same, from the auth token (step-up, RS-34) |

A resource token is minted only after a person or auth token verified on this request
(RS-30), for the person server that issued it or the resource's own access server (RS-31),
carrying ``ps``, ``sub``, ``presented_jti``, ``agent_jkt`` and the copied ``mission_s256`` and
``tenant`` (RS-32).  It is never minted for a person server whose auth tokens this resource
would refuse.  With ``deferred_delivery`` the auth-token rows hold the call and answer 202
instead (RS-36, :mod:`aauth_core.resource.deferred`).  Every -11 challenge links the
resource's metadata (``Link``, §11.2.5).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..context import Requirement, VerifiedRequest
from ..errors import AAuthError, AuthorizationRequired
from ..profile.aauth_11 import AAUTH_11
from ..tokens.mint_11 import MAX_LIFETIME_11, mint_resource_token_11
from ..wire.requirement import AAuthRequirement, format_requirement
from .deferred import DeferredCalls
from .identity import ResourceIdentity
from .tokens11 import TYP_AUTH, TokenTrust11

__all__ = ["Challenges11", "METADATA_PATH_11", "metadata_link"]

NAME = AAUTH_11.name
REQUIREMENT_HEADER = AAUTH_11.requirement_header or "AAuth-Requirement"
METADATA_PATH_11 = f"/.well-known/{AAUTH_11.well_known_resource}"
_AGENT_TOKEN = format_requirement(AAuthRequirement("agent-token"))
_PERSON_TOKEN = format_requirement(AAuthRequirement("person-token"))
_NEEDS_PERSON = frozenset({"person", "authorization"})


def metadata_link(resource_id: str) -> str:
    """``Link: <…/.well-known/aauth-resource.json>; rel="aauth-resource"`` (-11 §11.2.5)."""
    return f'<{resource_id}{METADATA_PATH_11}>; rel="aauth-resource"'


class Challenges11:
    """The -11 half of :meth:`Verifier.require`, and the resource tokens it mints."""

    def __init__(self, resource: ResourceIdentity | None, trust: TokenTrust11, *, token_lifetime: int,
                 clock: Callable[[], float] = time.time, deferred: bool = False) -> None:
        self.resource = resource
        self.trust = trust
        self.lifetime = max(1, min(token_lifetime, MAX_LIFETIME_11[AAUTH_11.typ_resource]))
        self.clock = clock
        self.link = metadata_link(resource.id) if resource is not None else None
        #: RS-36: with the ``deferred_delivery`` setting, auth-token challenges hold the call (202).
        self.deferred = DeferredCalls(lifetime=self.lifetime, link=self.link, clock=clock) if deferred else None

    def with_link(self, exc: AAuthError) -> AAuthError:
        if self.link is not None:
            exc._extra_headers.setdefault("Link", self.link)
        return exc

    def unsigned(self, requirement: Requirement, absent: AAuthError | None) -> AAuthError:
        """A request that presented nothing.  ``absent`` is January's refusal on a dual-stack
        resource (its ``Agent-Auth`` and body stay; -11's requirement is added beside it)."""
        header = _PERSON_TOKEN if requirement.level in _NEEDS_PERSON else _AGENT_TOKEN
        if absent is None:
            absent = AuthorizationRequired("this resource requires a signed request with a token",
                                           code="person_token_required" if header is _PERSON_TOKEN
                                           else "identity_required")
            absent.profile = NAME
            absent.challenge = None
        absent._extra_headers[REQUIREMENT_HEADER] = header
        return self.with_link(absent)

    def refuse(self, verified: VerifiedRequest, requirement: Requirement) -> AAuthError:
        """An -11 request that verified but does not meet ``requirement``."""
        if verified.person is None:  # an agent token: a person must be named first (RS-11)
            return self._requirement(_PERSON_TOKEN, "this resource requires a person token",
                                     "person_token_required")
        if requirement.level == "person":  # cannot happen: a person token satisfies it
            raise AssertionError("a person-level requirement refused a request naming a person")
        step_up = verified.token_type == TYP_AUTH
        scopes = requirement.scopes | verified.scope if step_up else requirement.scopes
        token = self.resource_token(verified, " ".join(sorted(scopes)) or None)
        header = format_requirement(AAuthRequirement("auth-token", resource_token=token))
        if self.deferred is not None and verified.held_request is not None:
            held = self.deferred.hold(verified.held_request, verified, requirement, header)
            if held is not None:
                return held
        if step_up:
            missing = " ".join(sorted(requirement.scopes - verified.scope))
            return self._requirement(header, f"the auth token does not grant: {missing}", "insufficient_scope")
        return self._requirement(header, "this resource requires an auth token", "authorization_required")

    def resource_token(self, verified: VerifiedRequest, scope: str | None) -> str:
        """An ``aa-resource+jwt`` for the person and key of ``verified`` (RS-30..34)."""
        resource = self.resource
        if resource is None:
            raise AAuthError("this resource has no resource_id and signing key to issue resource tokens with",
                             code="server_error", status_code=500)
        assert verified.person is not None and verified.sub is not None
        ps = verified.person[0]
        aud = self.trust.access_server
        if aud is None:
            if ps not in self.trust.person_servers:
                exc = AAuthError("this resource does not accept auth tokens from the agent's person server",
                                 code="untrusted_person_server", status_code=403)
                exc.profile = NAME
                raise exc
            aud = ps
        claims = verified.claims
        return mint_resource_token_11(
            resource.signing_key, iss=resource.id, aud=aud, ps=ps, sub=verified.sub,
            presented_jti=str(claims["jti"]), agent_jkt=verified.key_thumbprint, now=self.clock(),
            lifetime=self.lifetime, scope=scope, mission_s256=verified.mission_s256, tenant=verified.tenant,
        )

    def _requirement(self, header: str, description: str, code: str) -> AAuthError:
        exc = AuthorizationRequired(description, code=code)
        exc.profile = NAME
        exc.challenge = None
        exc._extra_headers[REQUIREMENT_HEADER] = header
        return self.with_link(exc)
