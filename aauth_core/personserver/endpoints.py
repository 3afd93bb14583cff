"""The person server's JSON endpoints as flows (-11 §7.1, §7.2, §8, §11.8; reference §2.3).

Every request is signed by the agent with its agent token, the body covered; it is verified
by :class:`~aauth_core.resource.service.AAuthService` (the person server is the agent token's
audience), and the agent token must name this person server in ``ps`` (not needed on a chained
request, :mod:`.chaining`, nor on a poll, which the pending record binds to the agent's key).  Then:

* ``POST /person {resource, mission_s256?, upstream_token?, capabilities?}`` → a person token for
  ``resource``;
* ``POST /token {resource_token, presented_token, upstream_token?, justification?, login_hint?}`` →
  an auth token (three-party, :mod:`.checks`; four-party, the access server's, :mod:`.federation`);
* ``POST /mission {description, ...}`` → ``{s256, mission}`` once the user approved;
* ``GET /pending/<id>`` → the deferred answer (:mod:`.deferred`).

What needs the user follows the policy (:class:`~aauth_core.authserver.policy.Policy`,
:class:`~aauth_core.authserver.policy.RequireConsent` by default): ``grant`` issues now,
``deny`` is ``403 denied``, ``consent`` issues when the user already approved as much for this
agent at this resource, else answers ``202`` with ``requirement=interaction``.  A mission is always
approved by the user (a policy may still deny it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..authserver.policy import PolicyRequest, narrow
from ..context import Requirement, VerifiedRequest
from ..effects import Flow, call
from ..profile.identifiers import is_server_identifier
from ..request import RequestView
from .as_token import FederatedAsk
from .chaining import Upstream, check_upstream
from .checks import check_presented_token, check_resource_token
from .issuing import mission_blob
from .state import binding_name, consent_name, mission_name, secret_key, token_name
from .wire import PersonServerError, Reply, json_reply, prefer_wait, read_json, string_member

if TYPE_CHECKING:
    from .server import PersonServer

__all__ = ["Endpoints"]

_AGENT = Requirement("identity")
_TYP_AGENT = "aa-agent+jwt"


class Endpoints:
    """The flows of one :class:`~aauth_core.personserver.PersonServer`."""

    def __init__(self, server: PersonServer) -> None:
        self.server = server

    # ------------------------------------------------------------------ the agent

    def agent(self, view: RequestView) -> Flow[VerifiedRequest]:
        """The verified agent request, signed with an agent token (whose ``ps`` is checked by
        :meth:`own_agent` once the body says whether the request is chained)."""
        service = self.server.service
        verified = yield from call(service.verify, service.averify, view)
        verified = service.require(verified, _AGENT)
        if verified.token_type != _TYP_AGENT:
            raise PersonServerError("sign requests to the person server with your agent token",
                                    code="invalid_request", status_code=401,
                                    extra_headers={"AAuth-Requirement": "requirement=agent-token"})
        return verified

    def own_agent(self, verified: VerifiedRequest, *, chained: bool) -> None:
        """The agent token names this server in ``ps``; an intermediary calling for the person of
        an upstream token (chaining) may have another person server, or none."""
        if not chained and verified.claims.get("ps") != self.server.issuer:
            raise PersonServerError("the agent token names another person server (ps)", code="invalid_request",
                                    status_code=403)

    def upstream(self, body: Mapping[str, Any], verified: VerifiedRequest) -> Flow[Upstream | None]:
        """The checked ``upstream_token`` of a chained request, if one was sent."""
        token = string_member(body, "upstream_token")
        self.own_agent(verified, chained=token is not None)
        if token is None:
            return None
        server = self.server
        return (yield from check_upstream(token, issuer=server.issuer, keys=server.public_keys,
                                          intermediary=str(verified.agent_provider), records=server.records,
                                          now=server.clock()))

    def user_of(self, agent: str) -> Flow[str | None]:
        registered = self.server.config.agents.get(agent)
        if registered is not None:
            return registered
        bound = yield from self.server.records.record(binding_name(agent))
        user = bound.get("user") if bound is not None else None
        return user if isinstance(user, str) else None

    # ------------------------------------------------------------------ POST /person

    def person(self, view: RequestView) -> Flow[Reply]:
        verified = yield from self.agent(view)
        body = read_json(view.body, view.headers.get("content-type"))
        resource = string_member(body, "resource", required=True, limit=2048)
        if not is_server_identifier(resource, allow_loopback_http=self.server.config.allow_insecure_loopback):
            raise PersonServerError("resource must be a server identifier (https:// and a lowercase host)")
        capabilities = body.get("capabilities", [])
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise PersonServerError("capabilities must be a list of strings")
        mission = string_member(body, "mission_s256", limit=128)
        upstream = yield from self.upstream(body, verified)
        agent = str(verified.agent)
        not_after = int(verified.claims["exp"])
        if upstream is not None:  # chaining: the upstream person, the upstream mission, never past it
            if mission is not None and mission != upstream.mission_s256:
                raise PersonServerError("mission_s256 differs from the upstream token's")
            mission, not_after = upstream.mission_s256, min(not_after, upstream.exp)
        if mission is not None:
            yield from self._active_mission(mission, None if upstream is not None else agent)
        grant: dict[str, Any] = {"kind": "person", "agent": agent, "agent_jkt": verified.key_thumbprint,
                                 "resource": resource, "scopes": [], "cnf_jwk": dict(verified.claims["cnf"]["jwk"]),
                                 "not_after": not_after, "mission_s256": mission}
        if upstream is not None:
            grant.update(user=upstream.user, chained=True)
        return (yield from self._decide(grant, frozenset(), interaction="interaction" in capabilities))

    def _active_mission(self, s256: str, agent: str | None) -> Flow[None]:
        """An active mission (of ``agent``; of anyone's for a chained request, whose mission is
        the upstream agent's)."""
        found = yield from self.server.records.record(mission_name(s256))
        if found is None or (agent is not None and found.get("agent") != agent) or found.get("status") != "active":
            raise PersonServerError("no such mission", code="mission_not_found", status_code=404)

    # ------------------------------------------------------------------ POST /token

    def token(self, view: RequestView) -> Flow[Reply]:
        server = self.server
        verified = yield from self.agent(view)
        body = read_json(view.body, view.headers.get("content-type"))
        resource_token = string_member(body, "resource_token", required=True)
        presented = string_member(body, "presented_token", required=True)
        justification = string_member(body, "justification", limit=1024)
        string_member(body, "login_hint", limit=256)
        assert resource_token is not None and presented is not None
        now = server.clock()
        jkt = verified.key_thumbprint
        rt = yield from check_resource_token(resource_token, issuer=server.issuer, agent_jkt=jkt,
                                             discovery=server.service.discovery, now=now,
                                             loopback=server.config.allow_insecure_loopback,
                                             access_servers=server.config.access_servers)
        pt = check_presented_token(presented, rt, issuer=server.issuer, keys=server.public_keys, agent_jkt=jkt,
                                   now=now)
        issued = yield from server.records.record(token_name(pt["jti"]))
        if issued is None or issued.get("revoked"):
            code = "revoked_presented_token" if issued is not None else "invalid_presented_token"
            raise PersonServerError("the presented token was revoked or is unknown here", code=code)
        upstream = yield from self.upstream(body, verified)
        agent = str(verified.agent)
        scopes = frozenset(str(rt.get("scope") or "").split())
        not_after = min(int(verified.claims["exp"]), int(pt["exp"]))
        if upstream is not None:
            self._chained(upstream, issued, rt, scopes, str(verified.agent_provider))
            not_after = min(not_after, upstream.exp)
        if rt.get("mission_s256") is not None:
            yield from self._active_mission(str(rt["mission_s256"]), None if upstream is not None else agent)
        if rt["aud"] != server.issuer:  # four-party: the access server decides
            ask = FederatedAsk(access_server=str(rt["aud"]), resource=str(rt["iss"]), sub=str(rt["sub"]),
                               scope=tuple(sorted(scopes)), agent_jkt=jkt, not_after=not_after,
                               user=issued.get("user"))
            sent = {"resource_token": resource_token, "agent_token": str(verified.token), "presented_token": presented}
            if upstream is not None:
                sent["upstream_token"] = str(body["upstream_token"])
            wait = prefer_wait(view.headers.get("prefer"), server.config.max_wait)
            return (yield from server.federation.request(ask, sent, wait))
        grant = {"kind": "auth", "agent": agent, "agent_jkt": jkt, "resource": rt["iss"], "sub": rt["sub"],
                 "scopes": sorted(scopes), "cnf_jwk": dict(verified.claims["cnf"]["jwk"]), "not_after": not_after,
                 "mission_s256": rt.get("mission_s256"), "tenant": rt.get("tenant"), "justification": justification,
                 "user": issued.get("user"), "chained": upstream is not None}
        return (yield from self._decide(grant, scopes, interaction=True))

    def _chained(self, upstream: Upstream, issued: Mapping[str, Any], rt: Mapping[str, Any],
                 scopes: frozenset[str], intermediary: str) -> None:
        """A chained auth token: the presented token is the upstream person's, the mission is the
        upstream token's, and the scope stays within what :class:`~.chaining.ChainScopes` allows."""
        if issued.get("user") != upstream.user:
            raise PersonServerError("the presented token is for another person than the upstream token",
                                    code="invalid_presented_token")
        if rt.get("mission_s256") != upstream.mission_s256:
            raise PersonServerError("the resource token's mission differs from the upstream token's",
                                    code="invalid_upstream_token")
        allowed = self.server.chain_scopes(upstream.scope, intermediary=intermediary, resource=str(rt["iss"]),
                                           user=upstream.user)
        wider = scopes - allowed
        if wider:
            raise PersonServerError(f"the requested scope is wider than the upstream token's: "
                                    f"{' '.join(sorted(wider))}", code="denied", status_code=403)

    # ------------------------------------------------------------------ POST /mission

    def mission(self, view: RequestView) -> Flow[Reply]:
        verified = yield from self.agent(view)
        self.own_agent(verified, chained=False)
        body = read_json(view.body, view.headers.get("content-type"))
        description = string_member(body, "description", required=True)
        agent = str(verified.agent)
        blob = mission_blob(body, agent, self.server.clock())
        grant: dict[str, Any] = {"kind": "mission", "agent": agent, "agent_jkt": verified.key_thumbprint,
                 "resource": self.server.issuer, "scopes": [], "description": description,
                 "blob": base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")}
        return (yield from self._decide(grant, frozenset(), interaction=True, remember=False))

    # ------------------------------------------------------------------ GET /pending/<id>

    def poll(self, view: RequestView, pending_id: str) -> Flow[Reply]:
        server = self.server
        verified = yield from self.agent(view)
        wait = prefer_wait(view.headers.get("prefer"), server.config.max_wait)
        parked = yield from server.records.pending(secret_key(pending_id))
        if (parked is not None and parked.get("kind") == "federated" and parked.get("status") == "pending"
                and parked.get("agent_jkt") == verified.key_thumbprint):
            return (yield from server.federation.resume(pending_id, parked, wait))
        record = yield from server.deferred.poll(pending_id, verified.key_thumbprint, wait)
        user = record.get("user")
        assert isinstance(user, str)
        answer = yield from server.issuer_.issue(record, user)
        return json_reply(200, answer)

    # ------------------------------------------------------------------ the decision

    def _decide(self, grant: dict[str, Any], scopes: frozenset[str], *, interaction: bool,
                remember: bool = True) -> Flow[Reply]:
        server = self.server
        agent, resource = grant["agent"], grant["resource"]
        user = grant.get("user")
        if user is None:
            user = yield from self.user_of(agent)
        grant["user"] = user
        decision = server.policy.decide(PolicyRequest("auth", agent=agent, resource=resource, scope=scopes,
                                                      user=user))
        if decision.outcome == "deny":
            raise PersonServerError(decision.reason or "the policy refuses this request", code="denied",
                                    status_code=403)
        if not remember and decision.outcome == "grant":  # a mission is always the user's to approve
            decision = decision.consent(decision.scope)
        granted = narrow(scopes, decision.scope)
        grant["scope"], grant["scopes"] = " ".join(sorted(granted)), sorted(granted)
        if decision.outcome == "consent" and user is not None and remember:
            approved = yield from server.records.record(consent_name(user, resource, agent))
            if approved is not None and granted <= frozenset(approved.get("scopes", ())):
                decision = decision.grant(granted)
        if decision.outcome == "grant" and user is not None:
            answer = yield from server.issuer_.issue(grant, user)
            return json_reply(200, answer)
        if not interaction:
            raise PersonServerError("the user must be asked, and this agent cannot send them to the person server "
                                    "(no interaction capability)", code="user_unreachable", status_code=403)
        return (yield from server.deferred.start(grant))

    def approved(self, record: Mapping[str, Any], user: str) -> Flow[None]:
        """After the user approved: remember the consent and bind an unbound agent to them."""
        server = self.server
        agent, resource = str(record["agent"]), str(record["resource"])
        lifetime = server.config.lifetimes.consent
        if record.get("kind") != "mission":
            name = consent_name(user, resource, agent)
            before = yield from server.records.record(name)
            scopes = sorted(set(record.get("scopes", ())) | set((before or {}).get("scopes", ())))
            yield from server.records.put_record(name, {"scopes": scopes}, server.clock() + lifetime)
        if agent not in server.config.agents and not record.get("chained"):  # an intermediary serves many
            yield from server.records.put_record(binding_name(agent), {"user": user}, server.clock() + lifetime)
