"""What an aauth-11 agent obtains and presents (-11 §7.1, §7.2; reference §2.2): its agent
token (checked to be ours), the resource's identifier, person tokens and auth tokens,
each checked (:mod:`.checks11`) before it is cached or presented.

Tokens are cached in the engine's :class:`~aauth_core.client.token_cache.TokenCache`
under partitions of the agent key's thumbprint, the mission and the upstream token, so a
new key, another mission or another upstream grant never reuses them.  Person tokens are
kept per resource, auth tokens per resource and scope.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import AAuthError, DiscoveryError, TokenEndpointError
from ..keys import KeyError_, PublicKey, SigningKey
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import is_server_identifier
from ..tokens import is_lifetime, peek
from .checks11 import check_auth_token, check_person_token, check_resource_token, single_aud
from .person_server import PersonServerClient
from .responses import json_object, redirected
from .signer import RequestSigner
from .token_cache import CachedToken, TokenCache
from .values import ClientOptions, Flow, RequestFactory

__all__ = ["Kind", "Presented", "TokenSteps11"]

log = logging.getLogger("aauth.client")

Kind = Literal["agent", "person", "auth"]
_RESOURCE_WELL_KNOWN = AAUTH_11.well_known_resource


@dataclass(frozen=True, slots=True)
class Presented:
    """The token a request presents, and whether this flow obtained it just now."""

    kind: Kind
    token: str
    cached: CachedToken | None = None
    fresh: bool = False


class TokenSteps11:
    """The token steps of :class:`~aauth_core.client.flow11.FlowEngine11` (a mixin: the
    engine sets these attributes and defines :meth:`signer`)."""

    key: SigningKey
    jkt: str
    options: ClientOptions
    cache: TokenCache
    person_server: PersonServerClient
    upstream_token: str | None
    mission_s256: str | None
    interaction_given: bool
    resource_metadata: bool
    _source: Callable[[], str]
    _checked_agent_token: str | None
    _partitions: dict[Kind, str]
    _resources: dict[str, tuple[float, str]]

    def signer(self, token: str, resource: str | None) -> RequestSigner:
        raise NotImplementedError

    def agent_token(self) -> str:
        """The current agent token, checked once: an ``aa-agent+jwt`` bound to our key."""
        token = self._source()
        if token != self._checked_agent_token:
            unverified = peek(token)
            cnf = unverified.claims.get("cnf")
            jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
            try:
                bound = isinstance(jwk, Mapping) and PublicKey.from_jwk(jwk).thumbprint == self.jkt
            except KeyError_:
                bound = False
            if unverified.typ != AAUTH_11.typ_agent or not bound:
                raise AAuthError("the agent token is not an aa-agent+jwt bound to the agent's key",
                                 code="invalid_token")
            self._checked_agent_token = token
        return token

    def agent_presented(self) -> Presented:
        """The agent token, presented."""
        return Presented("agent", self.agent_token())

    def best_cached(self, resource: str) -> Presented:
        """What to present first: a cached auth token, else a cached person token, else the agent token."""
        now = self.options.clock()
        kinds: tuple[Kind, ...] = ("auth", "person")
        for kind in kinds:
            cached = self.cache.get(resource, now=now, partition=self._partitions[kind])
            if cached is not None:
                return Presented(kind, cached.auth_token, cached)
        return self.agent_presented()

    # ------------------------------------------------------------------ tokens

    def person_server_of(self, agent_token: str) -> str:
        """The person server to ask: the upstream token's (chaining) or the agent token's ``ps``."""
        if self.upstream_token is not None:
            upstream = peek(self.upstream_token)
            ps = upstream.claims.get("iss" if upstream.typ == AAUTH_11.typ_person else "ps")
        else:
            ps = peek(agent_token).claims.get("ps")
        if ps is None:
            raise AAuthError("the resource requires a person token, but the agent token names no person server "
                             "(no ps claim)", code="no_person_server", status_code=401)
        if not is_server_identifier(ps, allow_loopback_http=self.options.allow_insecure_loopback):
            raise AAuthError("the agent's person server (ps) is not a server identifier", code="no_person_server",
                             status_code=401)
        return str(ps)

    def person_token(self, resource: str, make_request: RequestFactory) -> Flow:
        """The cached person token for ``resource``, else a new one from the person server."""
        cached = self.cache.get(resource, now=self.options.clock(), partition=self._partitions["person"])
        if cached is not None:
            return Presented("person", cached.auth_token, cached)
        agent_token = self.agent_token()
        ps = self.person_server_of(agent_token)
        resource_id = yield from self.resource_id(resource, make_request)
        payload: dict[str, Any] = {"resource": resource_id}
        if self.mission_s256 is not None:
            payload["mission_s256"] = self.mission_s256
        if self.upstream_token is not None:
            payload["upstream_token"] = self.upstream_token
        if self.interaction_given:
            payload["capabilities"] = ["interaction"]
        data = yield from self.person_server.request(ps, "person_token_endpoint", payload,
                                                     self.signer(agent_token, None), make_request)
        token = data.get("person_token")
        if not isinstance(token, str) or not token:
            raise TokenEndpointError("the person server's answer has no person_token", code="invalid_token_response")
        claims = check_person_token(token, ps=ps, resource=resource_id, jkt=self.jkt, now=self.options.clock())
        stored = self._store(token, claims, data, resource=resource, scope=None, kind="person", issuer=ps)
        log.info("aauth client: person token obtained for %s", resource)
        return Presented("person", token, stored, fresh=True)

    def auth_token(self, resource: str, resource_token: str | None, presented: Presented,
                   make_request: RequestFactory) -> Flow:
        """Trade ``resource_token`` (checked first) and the token ``presented`` with it for an auth token."""
        if not resource_token:
            raise AAuthError("requirement=auth-token without a resource-token", code="invalid_resource_token",
                             status_code=400)
        agent_token = self.agent_token()
        ps = self.person_server_of(agent_token)
        resource_id = yield from self.resource_id(resource, make_request)
        claims = check_resource_token(resource_token, resource=resource_id, jkt=self.jkt, ps=ps,
                                      presented=peek(presented.token).claims, now=self.options.clock())
        payload: dict[str, Any] = {"resource_token": resource_token, "presented_token": presented.token}
        if isinstance(claims.get("login_hint"), str):
            payload["login_hint"] = claims["login_hint"]
        if self.upstream_token is not None:
            payload["upstream_token"] = self.upstream_token
        data = yield from self.person_server.request(ps, "auth_token_endpoint", payload,
                                                     self.signer(agent_token, None), make_request)
        token = data.get("auth_token")
        if not isinstance(token, str) or not token:
            raise TokenEndpointError("the person server's answer has no auth_token", code="invalid_token_response")
        issuer = single_aud(claims) or ""
        auth = check_auth_token(token, issuer=issuer, resource=resource_id, jkt=self.jkt, now=self.options.clock())
        scope = claims.get("scope") if isinstance(claims.get("scope"), str) else None
        stored = self._store(token, auth, data, resource=resource, scope=scope, kind="auth", issuer=issuer)
        log.info("aauth client: auth token obtained for %s", resource)
        return Presented("auth", token, stored, fresh=True)

    def _store(self, token: str, claims: Mapping[str, Any], data: Mapping[str, Any], *, resource: str,
               scope: str | None, kind: Kind, issuer: str) -> CachedToken:
        now = self.options.clock()
        expires = [float(claims["exp"])]
        expires_in = data.get("expires_in")
        if expires_in is not None:
            if not is_lifetime(expires_in):
                raise TokenEndpointError("the person server's expires_in is not a positive number of seconds "
                                         "in range", code="invalid_token_response")
            expires.append(now + expires_in)
        cached = CachedToken(auth_token=token, expires_at=min(expires), resource=resource, scope=scope,
                             partition=self._partitions[kind], auth_server=issuer)
        self.cache.put(cached)
        return cached

    def drop(self, presented: Presented) -> None:
        """Forget a cached token the resource no longer takes."""
        if presented.cached is not None:
            self.cache.drop(presented.cached)

    def drop_person(self, resource: str) -> None:
        """Forget the person token cached for ``resource`` (it was revoked)."""
        cached = self.cache.get(resource, now=self.options.clock(), partition=self._partitions["person"])
        if cached is not None:
            self.cache.drop(cached)

    # ------------------------------------------------------------------ the resource

    def resource_id(self, origin: str, make_request: RequestFactory) -> Flow:
        """The resource's identifier: its origin, which its ``aauth-resource.json`` (when it
        serves one) must name as ``issuer``."""
        now = self.options.clock()
        cached = self._resources.get(origin)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self.resource_metadata:
            request = make_request("GET", f"{origin}/.well-known/{_RESOURCE_WELL_KNOWN}",
                                   {"Accept": "application/json"}, None)
            response = yield request
            if response.status_code == 200 and not redirected(request, response):
                try:
                    issuer = json_object(response.content, DiscoveryError, "discovery_failed", "").get("issuer")
                except DiscoveryError:
                    issuer = None  # advisory: an unreadable document is no document
                if issuer is not None and issuer != origin:
                    raise DiscoveryError("the resource's metadata names another issuer than the origin it is "
                                         "served from", code="issuer_mismatch")
        self._resources[origin] = (now + self.options.metadata_ttl, origin)
        return origin

