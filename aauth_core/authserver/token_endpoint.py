"""The token endpoint: request types ``auth``, ``code``, ``refresh`` and ``exchange``.

Token requests follow protocol B §5.2 (``auth``), §5.1 (``code``, ``refresh``) and
§7.3 (``exchange``, with the A7 key rule), answering with the B §9.2 error codes.
Signed requests are checked by the same verifier a resource uses; resource and auth
tokens by :mod:`aauth_core.tokens`.

Each request is one flow on the sans-I/O driver (:mod:`aauth_core.effects`): it
writes ``value = yield from call(f, af, ...)`` for the I/O it needs (a signature
check, a key, a metadata document, a store call), and
:class:`~aauth_core.authserver.AuthServer` runs it blocking (``token``) or awaiting
(``atoken``).  A failed I/O is thrown back into the flow, so each step maps the
error onto the right token-endpoint code.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from .. import dialect
from ..context import VerifiedRequest
from ..effects import Call, Flow, call
from ..errors import AAuthError, CacheUnavailable, TokenEndpointError, TokenError
from ..headers import SignatureKey
from ..keys import PublicKey
from ..request import RequestView
from ..tokens import ValidatedToken, build_act, jwt_algorithms_for, mint_auth_token, peek, validate_token
from .policy import Decision, PolicyRequest
from .store import AuthorizationCode, Kind, PendingRequest, RefreshGrant, secret_key
from .wire import (
    check_redirect_uri,
    granted_scopes,
    invalid_request,
    map_error,
    parse_form,
    scope_list,
    signature_key,
    token_error,
)

if TYPE_CHECKING:
    from .server import AuthServer

__all__ = ["TokenEndpoint", "TokenResponse", "refusal"]

log = logging.getLogger("aauth.authserver")

T = TypeVar("T")
G = TypeVar("G", AuthorizationCode, RefreshGrant)

#: One effect as :func:`~aauth_core.effects.call` returns it (its result type kept for mypy).
_Effect = Generator[Call[T], Any, T]

_JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """What the token endpoint answers: status, JSON body, headers (``no-store`` always)."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(_JSON_HEADERS))

    def content(self) -> bytes:
        return json.dumps(dict(self.body), separators=(",", ":")).encode("utf-8")


def refusal(exc: AAuthError) -> TokenResponse:
    """The token endpoint's answer to a refused request (B §9.2 codes; ``no-store``)."""
    if not isinstance(exc, TokenEndpointError):
        exc = map_error(exc, "agent")
    log.info("token request refused: %s", exc.code)
    if exc.headers:  # e.g. Retry-After on a 503
        return TokenResponse(exc.status_code, exc.to_dict(), MappingProxyType({**_JSON_HEADERS, **exc.headers}))
    return TokenResponse(exc.status_code, exc.to_dict())


class TokenEndpoint:
    """The token flows of one :class:`~aauth_core.authserver.AuthServer`.

    Reads the server's configuration, clock, policy, store, verifier, discovery and
    current signing key when a flow runs (never a copy taken earlier).
    """

    def __init__(self, server: AuthServer) -> None:
        self._server = server
        self._jwt_algs = jwt_algorithms_for(server.settings.algorithms)

    def flow(self, view: RequestView) -> Flow[TokenResponse]:
        """One token request, from its form to the response."""
        form = parse_form(view)
        request_type = form.get("request_type")
        if not request_type:
            raise invalid_request("request_type is required")
        supported = {"auth", "code", "exchange"}
        if self._server.config.lifetimes.refresh_token is not None:
            supported.add("refresh")
        if request_type not in supported:
            raise token_error("unsupported_request_type", "request_type is not supported here", 400)
        if request_type == "exchange":
            return (yield from self._exchange(view, form))
        sigkey = signature_key(view)
        verified = yield from self._signing_agent(view, sigkey, request_type)
        if request_type == "auth":
            return (yield from self._auth(form, verified, sigkey))
        if request_type == "code":
            return (yield from self._code(form, verified))
        return (yield from self._refresh(form, verified))

    # ------------------------------------------------------------------ the signer

    def _signing_agent(self, view: RequestView, sigkey: SignatureKey, request_type: str
                       ) -> Flow[VerifiedRequest]:
        """auth / code / refresh: the signer must be an identified agent, never an auth token (A8)."""
        if sigkey.scheme == "jwt":
            try:
                typ = peek(sigkey.jwt or "").typ
            except TokenError as exc:
                raise invalid_request(exc.description, 401) from None
            if typ == dialect.TYP_AUTH:
                raise invalid_request(f"an auth token cannot be used for request_type={request_type}; "
                                       "sign with the agent's key or an agent token", 401)
            if typ != dialect.TYP_AGENT:
                raise invalid_request("the Signature-Key JWT must be an agent+jwt", 401)
        verifier = self._server.verifier
        try:
            verified = yield from call(verifier.verify, verifier.averify, view)
        except AAuthError as exc:
            raise map_error(exc, "agent") from None
        if verified is None:  # pragma: no cover - signature_key() already demanded the headers
            raise invalid_request("missing signature headers", 401)
        if verified.agent is None:
            raise invalid_request(
                f"scheme={sigkey.scheme} does not identify an agent; sign with scheme=jwks or an agent token", 401
            )
        return verified

    # ------------------------------------------------------------------ request types

    def _auth(self, form: Mapping[str, str], verified: VerifiedRequest, sigkey: SignatureKey
              ) -> Flow[TokenResponse]:
        agent = verified.agent
        assert agent is not None
        redirect_uri = form.get("redirect_uri")
        if not redirect_uri:
            raise invalid_request("redirect_uri is required")
        check_redirect_uri(redirect_uri)
        present = [n for n in ("resource_token", "scope", "auth_request_url") if n in form]
        if len(present) != 1:
            raise invalid_request("exactly one of resource_token, scope and auth_request_url is required")
        if present[0] == "auth_request_url":
            raise invalid_request("auth_request_url is not supported by this auth server")
        if present[0] == "resource_token":
            rt = yield from self._resource_token(form["resource_token"], agent=agent,
                                                 agent_jkt=verified.key_thumbprint)
            resource, scope_text, agent_claim = str(rt.claims["iss"]), str(rt.claims["scope"]), True
        else:
            resource, scope_text, agent_claim = agent, form["scope"], False
        requested = scope_list(scope_text)
        if not requested:
            raise invalid_request("scope must name at least one scope")
        decision = self._decide(PolicyRequest("auth", agent, resource, frozenset(requested),
                                              agent_delegate=verified.agent_delegate))
        granted = granted_scopes(requested, decision.scope)
        if decision.outcome == "grant":
            return (yield from self._grant_response(
                agent=agent, delegate=verified.agent_delegate, key=verified.key, resource=resource,
                scope=granted, agent_claim=agent_claim, sub=None, with_refresh=True,
            ))
        # consent: the user approves at agent_auth_endpoint, the agent then redeems a code.
        agent_meta = yield from self._agent_metadata(agent, sigkey)
        registered = agent_meta.get("redirect_uris") if agent_meta is not None else None
        if isinstance(registered, list | tuple):
            if redirect_uri not in registered:
                raise invalid_request("redirect_uri is not one of the agent's registered redirect_uris")
        elif self._server.config.require_registered_redirect_uris:
            raise invalid_request("the agent's metadata registers no redirect_uris")
        name = agent_meta.get("name") if agent_meta is not None else None
        request_token = secrets.token_urlsafe(32)
        lifetime = self._server.config.lifetimes.request_token
        expires_at = self._server.clock() + lifetime
        pending = PendingRequest(
            agent=agent, resource=resource, scope=" ".join(granted), agent_delegate=verified.agent_delegate,
            agent_claim=agent_claim, redirect_uri=redirect_uri, agent_name=name if isinstance(name, str) else None,
            expires_at=expires_at,
        )
        yield from self._put("pending", request_token, pending.to_dict(), expires_at)
        log.info("auth request awaits consent (agent %s, resource %s)", agent, resource)
        return TokenResponse(200, {"request_token": request_token, "expires_in": lifetime})

    def _agent_metadata(self, agent: str, sigkey: SignatureKey) -> Flow[Mapping[str, Any] | None]:
        """The agent's metadata document (its ``redirect_uris`` and ``name``), for a consent request."""
        well_known = (sigkey.well_known or dialect.WELL_KNOWN_AGENT) if sigkey.scheme == "jwks" \
            else dialect.WELL_KNOWN_AGENT
        # The agent's metadata was already fetched (cached) to find its key, except for x509 agents and
        # jwks keys named without a well-known document; only those may lack it.  Otherwise fail closed:
        # its redirect_uris are what stops an open redirect.
        has_metadata = sigkey.scheme == "jwt" or (sigkey.scheme == "jwks" and sigkey.well_known is not None)
        discovery = self._server.discovery
        try:
            return (yield from call(discovery.metadata, discovery.ametadata, agent, well_known))
        except AAuthError as exc:
            if has_metadata:
                raise invalid_request(f"the agent's metadata could not be read: {exc.description}") from None
            return None

    def _code(self, form: Mapping[str, str], verified: VerifiedRequest) -> Flow[TokenResponse]:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code:
            raise invalid_request("code is required")
        if not redirect_uri:
            raise invalid_request("redirect_uri is required")
        store = self._server.store
        grant = yield from _held_grant(call(store.take, store.atake, "code", secret_key(code)), AuthorizationCode,
                                       verified, "code", "the code is unknown, expired or already used")
        if grant.redirect_uri != redirect_uri:
            raise token_error("invalid_grant", "redirect_uri does not match the authorization request", 400)
        return (yield from self._grant_response(
            agent=grant.agent, delegate=grant.agent_delegate, key=verified.key, resource=grant.resource,
            scope=scope_list(grant.scope or ""), agent_claim=grant.agent_claim, sub=grant.sub, with_refresh=True,
        ))

    def _refresh(self, form: Mapping[str, str], verified: VerifiedRequest) -> Flow[TokenResponse]:
        token = form.get("refresh_token")
        if not token:
            raise invalid_request("refresh_token is required")
        store = self._server.store
        grant = yield from _held_grant(call(store.get, store.aget, "refresh", secret_key(token)), RefreshGrant,
                                       verified, "refresh token", "the refresh token is unknown or expired")
        requested = scope_list(grant.scope or "")
        decision = self._decide(PolicyRequest("refresh", grant.agent, grant.resource, frozenset(requested),
                                              agent_delegate=grant.agent_delegate, user=grant.sub))
        if decision.outcome == "consent":
            # A refresh has no user at hand to ask: consent again means a new authorization.
            raise token_error("access_denied", "policy requires user consent, which a refresh cannot obtain", 403)
        # The new token is bound to the key that signed *this* request: a rotated agent key is picked up.
        return (yield from self._grant_response(
            agent=grant.agent, delegate=grant.agent_delegate, key=verified.key, resource=grant.resource,
            scope=granted_scopes(requested, decision.scope), agent_claim=grant.agent_claim, sub=grant.sub,
            with_refresh=False, bearer=False,
        ))

    def _exchange(self, view: RequestView, form: Mapping[str, str]) -> Flow[TokenResponse]:
        raw = form.get("resource_token")
        if not raw:
            raise invalid_request("resource_token is required")
        sigkey = signature_key(view)
        if sigkey.scheme != "jwt":
            raise invalid_request("a token exchange must present the upstream auth token (scheme=jwt)", 401)
        rt = yield from self._resource_token(raw, agent=None, agent_jkt=None)
        intermediary, agent_jkt = str(rt.claims["agent"]), str(rt.claims["agent_jkt"])
        discovery, verifier = self._server.discovery, self._server.verifier
        # B §7.3 step 8, first half: the intermediary's key (cached for the verifier below)
        yield from _fetched_key(
            call(discovery.key_by_thumbprint, discovery.akey_by_thumbprint, intermediary,
                 dialect.WELL_KNOWN_RESOURCE, agent_jkt),
            lambda exc: invalid_request(f"the intermediary's key could not be obtained: {exc.description}", 401),
        )
        try:
            verified = yield from call(verifier.verify_exchange, verifier.averify_exchange, view,
                                       intermediary=intermediary, agent_jkt=agent_jkt)
        except AAuthError as exc:
            raise map_error(exc, "exchange") from None
        try:
            act = build_act(verified.claims, max_depth=self._server.config.max_act_depth, presenter=intermediary)
        except TokenError as exc:
            raise token_error("invalid_token", exc.description, 401) from None
        resource = str(rt.claims["iss"])
        requested = scope_list(str(rt.claims["scope"]))
        decision = self._decide(PolicyRequest(
            "exchange", intermediary, resource, frozenset(requested), user=verified.sub, act=verified.act,
            upstream_issuer=verified.issuer, upstream_scope=verified.scope,
        ))
        if decision.outcome == "consent":
            raise token_error("access_denied", "policy requires user consent, which an exchange cannot obtain", 403)
        # No user can be asked here: the new token stays within what the upstream token carries,
        # plus what the policy explicitly allows beyond it (Decision.beyond_upstream).
        ceiling = verified.scope | decision.beyond_upstream
        beyond = [s for s in requested if s not in ceiling]
        if beyond and not self._server.config.narrow_to_upstream_scope:
            raise token_error("invalid_scope", f"the upstream auth token does not grant: {' '.join(beyond)} "
                              "(an exchange cannot widen the scope the user approved)", 400)
        granted = granted_scopes(requested, decision.scope, ceiling)
        token = self._mint(agent=intermediary, delegate=None, key=verified.key, resource=resource,
                           scope=granted, agent_claim=True, sub=verified.sub, act=act)
        log.info("exchanged auth token issued (intermediary %s, resource %s)", intermediary, resource)
        return TokenResponse(200, {"auth_token": token, "expires_in": self._server.config.lifetimes.auth_token})

    # ------------------------------------------------------------------ resource tokens

    def _resource_token(self, raw: str, *, agent: str | None, agent_jkt: str | None) -> Flow[ValidatedToken]:
        """Validate a resource token (B §5.2 step 5): typ, issuer's key, signature, exp, aud, agent, agent_jkt."""
        def bad(description: str) -> TokenEndpointError:
            return token_error("invalid_resource_token", description, 400)

        try:
            unverified = peek(raw)
        except TokenError as exc:
            raise bad(exc.description) from None
        if unverified.typ != dialect.TYP_RESOURCE:
            raise bad("resource_token must be a resource+jwt")
        iss = unverified.claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise bad("resource token has no 'iss'")
        server, discovery = self._server, self._server.discovery
        key = yield from _fetched_key(
            call(discovery.key_for, discovery.akey_for, iss, dialect.WELL_KNOWN_RESOURCE, unverified.kid),
            lambda exc: bad(f"the resource's signing key could not be obtained: {exc.description}"),
        )
        try:
            valid = validate_token(
                unverified, typ=dialect.TYP_RESOURCE, key=key, now=server.clock(), leeway=server.settings.token_leeway,
                algorithms=self._jwt_algs, audience=server.issuer, max_act_depth=server.config.max_act_depth,
            )
        except TokenError as exc:
            if exc.code == "invalid_audience":
                raise bad("the resource token is meant for another auth server ('aud')") from None
            raise bad(f"resource token: {exc.description}") from None
        claims = valid.claims
        if "auth_request_url" in claims:
            raise bad("resource tokens with auth_request_url are not supported by this auth server")
        if agent is not None and claims["agent"] != agent:  # exact: identifiers are never folded here
            raise bad("the resource token was issued to another agent")
        if agent_jkt is not None and claims["agent_jkt"] != agent_jkt:
            raise bad("agent_jkt does not match the key that signed this request")
        return valid

    # ------------------------------------------------------------------ policy, minting, the store

    def _decide(self, request: PolicyRequest) -> Decision:
        decision = self._server.policy.decide(request)
        if decision.outcome == "deny":
            raise token_error("access_denied", decision.reason or "policy denied the request", 403)
        if decision.outcome not in ("grant", "consent"):
            raise token_error("server_error", "policy returned an unknown outcome", 500)
        return decision

    def _mint(self, *, agent: str, delegate: str | None, key: PublicKey, resource: str, scope: list[str],
              agent_claim: bool, sub: str | None, act: Mapping[str, Any] | None = None) -> str:
        server = self._server
        return mint_auth_token(
            server.signing_key, iss=server.issuer, aud=resource, cnf_jwk=dict(key.jwk), now=server.clock(),
            agent=agent if agent_claim else None, scope=" ".join(scope), sub=sub, agent_delegate=delegate,
            act=act, lifetime=server.config.lifetimes.auth_token,
        )

    def _grant_response(self, *, agent: str, delegate: str | None, key: PublicKey, resource: str,
                        scope: list[str], agent_claim: bool, sub: str | None, with_refresh: bool,
                        bearer: bool = True) -> Flow[TokenResponse]:
        token = self._mint(agent=agent, delegate=delegate, key=key, resource=resource, scope=scope,
                           agent_claim=agent_claim, sub=sub)
        lifetimes = self._server.config.lifetimes
        body: dict[str, Any] = {"auth_token": token, "expires_in": lifetimes.auth_token}
        if bearer:
            body["token_type"] = "Bearer"  # noqa: S105 - as the transcript (B §11 item 8)
        refresh_lifetime = lifetimes.refresh_token
        if with_refresh and refresh_lifetime is not None:
            refresh = secrets.token_urlsafe(32)
            expires_at = self._server.clock() + refresh_lifetime
            grant = RefreshGrant(agent=agent, resource=resource, scope=" ".join(scope), agent_delegate=delegate,
                                 agent_claim=agent_claim, sub=sub, expires_at=expires_at)
            # Recorded before the response leaves: a refresh token the store does not know is never handed out.
            yield from self._put("refresh", refresh, grant.to_dict(), expires_at)
            body["refresh_token"] = refresh
        log.info("auth token issued (agent %s, resource %s)", agent, resource)
        return TokenResponse(200, body)

    def _put(self, kind: Kind, secret: str, value: Mapping[str, Any], expires_at: float
             ) -> Flow[None]:
        store = self._server.store
        return (yield from _stored(call(store.put, store.aput, kind, secret_key(secret), value, expires_at)))


def _stored(effect: _Effect[T]) -> Flow[T]:
    """A store call; its failure is a 503, so nothing is issued that the store did not record."""
    try:
        return (yield from effect)
    except AAuthError as exc:
        raise token_error("server_error", f"the auth server store failed: {exc.code}", 503) from None


def _fetched_key(effect: _Effect[PublicKey], refuse: Callable[[AAuthError], TokenEndpointError]) -> Flow[PublicKey]:
    """A key from discovery: an unavailable cache is a 503, any other failure ``refuse(exc)``."""
    try:
        return (yield from effect)
    except AAuthError as exc:
        if isinstance(exc, CacheUnavailable):
            raise token_error("server_error", exc.description, 503) from None
        raise refuse(exc) from None


def _held_grant(effect: _Effect[Mapping[str, Any] | None], record: type[G], verified: VerifiedRequest, what: str,
                unknown: str) -> Flow[G]:
    """The grant a code or refresh token names (``effect`` reads it from the store), if this signer holds it."""
    stored = yield from _stored(effect)
    if stored is None:
        raise token_error("invalid_grant", unknown, 400)
    grant = record.from_dict(stored)
    _check_holder(grant, verified, what)
    return grant


def _check_holder(grant: AuthorizationCode | RefreshGrant, verified: VerifiedRequest, what: str) -> None:
    """A code or refresh token is bound to the agent (and delegate) it was issued to, not to a key."""
    if grant.agent != verified.agent or grant.agent_delegate != verified.agent_delegate:
        raise token_error("invalid_grant", f"the {what} was issued to another agent", 400)
