"""The auth server: metadata, JWKS, the token endpoint and the consent flow's state.

Token requests follow protocol B §5.2 (``auth``), §5.1 (``code``, ``refresh``) and
§7.3 (``exchange``, with the A7 key rule), answering with the B §9.2 error codes.
Signed requests are checked by the same :class:`~aauth_core.verifier.Verifier` a
resource uses; resource and auth tokens by :mod:`aauth_core.tokens`.

Like the verifier, each operation is written once as a generator that *yields*
the I/O it needs (a signature check, a key, a metadata document, a store call);
:meth:`AuthServer.token` drives it with blocking calls and :meth:`AuthServer.atoken`
with awaits.  A failed I/O is thrown back into the generator, so each step maps
the error onto the right token-endpoint code.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from .. import dialect
from .._sansio import Call, Flow, arun, run
from ..cache import ReplayCache
from ..context import VerifiedRequest
from ..discovery import Discovery
from ..errors import (
    AAuthError,
    CacheUnavailable,
    TokenEndpointError,
    TokenError,
)
from ..headers import SignatureKey
from ..keys import PublicKey, SigningKey, jwks_document
from ..request import Headers, RequestView, canonical_authority
from ..tokens import ValidatedToken, build_act, jwt_algorithms_for, mint_auth_token, peek, validate_token
from ..verifier import Verifier
from .config import AuthServerConfig
from .policy import Decision, Policy, PolicyRequest, RequireConsent, narrow
from .store import (
    AuthorizationCode,
    AuthServerStore,
    PendingRequest,
    RefreshGrant,
    Session,
    secret_key,
    store_from_url,
)
from .users import User, UserStore
from .wire import (
    check_redirect_uri,
    granted_scopes,
    invalid_request,
    map_error,
    parse_form,
    redirect_url,
    scope_list,
    signature_key,
    token_error,
)

__all__ = ["AuthServer", "ConsentError", "ConsentRequest", "TokenResponse"]

log = logging.getLogger("aauth.authserver")

T = TypeVar("T")



# ----------------------------------------------------------------------------- values


_JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """What the token endpoint answers: status, JSON body, headers (``no-store`` always)."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(_JSON_HEADERS))

    def content(self) -> bytes:
        return json.dumps(dict(self.body), separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """What the consent page shows: the agent, the resource and each scope (with its description)."""

    request_token: str = field(repr=False)
    agent: str
    agent_name: str | None
    agent_delegate: str | None
    resource: str
    scopes: tuple[tuple[str, str | None], ...]
    redirect_uri: str
    expires_at: float


class ConsentError(AAuthError):
    """The consent endpoint cannot continue (unknown request, ``redirect_uri`` mismatch).

    Rendered as an error page; never as a redirect, since the redirect target is not trusted.
    """

    default_code = "invalid_request"
    default_status = 400




_Flow = Flow[T]


def _store(method: str, *args: Any) -> Call:
    """A store operation: ``store.method(*args)``, or ``store.amethod`` when awaited."""
    return Call("store", method, args)


# ----------------------------------------------------------------------------- the server


class AuthServer:
    """One auth server.  ``policy`` defaults to :class:`RequireConsent`, ``store`` to an
    in-memory store; ``users`` is needed only for the consent pages.  ``discovery``,
    ``replay_cache`` and ``clock`` are injectable like the verifier's; an injected
    ``discovery`` brings its own settings (build it from ``config.verifier_settings()``)."""

    def __init__(
        self,
        config: AuthServerConfig,
        *,
        policy: Policy | None = None,
        store: AuthServerStore | None = None,
        users: UserStore | None = None,
        discovery: Discovery | None = None,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.settings = config.verifier_settings()
        self.clock = clock
        self.policy: Policy = policy if policy is not None else RequireConsent()
        self.store: AuthServerStore = store if store is not None else store_from_url(config.store_url, clock=clock)
        self.users = users
        self.discovery = discovery if discovery is not None else Discovery(self.settings, clock=clock)
        self.verifier = Verifier(self.settings, discovery=self.discovery, replay_cache=replay_cache, clock=clock)
        self.authority = canonical_authority(config.issuer)
        self._keys: list[SigningKey] = list(config.keys)
        self._retired: list[tuple[PublicKey, float]] = []
        self._jwt_algs = jwt_algorithms_for(self.settings.algorithms)

    # ------------------------------------------------------------------ documents and keys

    @property
    def issuer(self) -> str:
        return self.config.issuer

    @property
    def signing_key(self) -> SigningKey:
        return self._keys[0]

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-issuer`` (B §4.2); ``refresh`` is advertised only when enabled."""
        types = ["auth", "code", "exchange"]
        if self.config.lifetimes.refresh_token is not None:
            types.append("refresh")
        doc: dict[str, Any] = {
            "issuer": self.issuer,
            "jwks_uri": self.config.jwks_uri,
            "agent_token_endpoint": self.config.token_endpoint,
            "agent_auth_endpoint": self.config.auth_endpoint,
            "agent_signing_algs_supported": list(self.settings.algorithms),
            "request_types_supported": types,
        }
        if self.config.scopes_supported:
            doc["scopes_supported"] = list(self.config.scopes_supported)
        return doc

    def jwks(self) -> dict[str, Any]:
        """Every current key, and each retired key until the last token it signed has expired."""
        horizon = self.config.lifetimes.auth_token + self.settings.token_leeway
        now = self.clock()
        self._retired = [(k, at) for k, at in self._retired if now < at + horizon]
        return jwks_document([*self._keys, *(k for k, _ in self._retired)])

    def rotate_key(self, new_key: SigningKey) -> None:
        """Sign with ``new_key`` from now on; the previous signer stays published until its tokens expire."""
        if new_key.kid is None:
            raise ValueError("auth server signing keys need a 'kid'")
        if any(k.kid == new_key.kid for k in self._keys) or any(k.kid == new_key.kid for k, _ in self._retired):
            raise ValueError(f"kid {new_key.kid!r} is already published")
        old = self._keys.pop(0)
        self._retired.append((old.public, self.clock()))
        self._keys.insert(0, new_key)
        log.info("auth server signing key rotated to kid %s", new_key.kid)

    # ------------------------------------------------------------------ token endpoint

    def view(
        self,
        *,
        method: str,
        path: str,
        query: str | None,
        headers: Headers | Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes | None,
        scheme: str = "https",
    ) -> RequestView:
        """The neutral request for the token endpoint, under this issuer's canonical authority."""
        hdrs = headers if isinstance(headers, Headers) else Headers(headers)
        return RequestView(method=method.upper(), authority=self.authority, path=path or "/", query=query,
                           headers=hdrs, body=body, scheme=scheme)

    def token(self, view: RequestView) -> TokenResponse:
        """Answer one token request (blocking I/O)."""
        try:
            return self._run(self._token_flow(view))
        except AAuthError as exc:
            return self._error_response(exc)

    async def atoken(self, view: RequestView) -> TokenResponse:
        """Answer one token request (async I/O)."""
        try:
            return await self._arun(self._token_flow(view))
        except AAuthError as exc:
            return self._error_response(exc)

    def _error_response(self, exc: AAuthError) -> TokenResponse:
        if not isinstance(exc, TokenEndpointError):
            exc = map_error(exc, "agent")
        log.info("token request refused: %s", exc.code)
        if exc.headers:  # e.g. Retry-After on a 503
            return TokenResponse(exc.status_code, exc.to_dict(), MappingProxyType({**_JSON_HEADERS, **exc.headers}))
        return TokenResponse(exc.status_code, exc.to_dict())

    # ------------------------------------------------------------------ consent flow (called by the HTML app)

    def consent_request(self, request_token: str, redirect_uri: str) -> ConsentRequest:
        return self._run(self._consent_flow(request_token, redirect_uri))

    async def aconsent_request(self, request_token: str, redirect_uri: str) -> ConsentRequest:
        return await self._arun(self._consent_flow(request_token, redirect_uri))

    def approve(self, request_token: str, user: User, *, state: str | None = None) -> str:
        """The user approved: store a single-use code; return the redirect URL carrying it."""
        return self._run(self._approve_flow(request_token, user, state))

    async def aapprove(self, request_token: str, user: User, *, state: str | None = None) -> str:
        return await self._arun(self._approve_flow(request_token, user, state))

    def deny(self, request_token: str, *, state: str | None = None) -> str:
        """The user refused: drop the request; return the redirect URL carrying ``error=access_denied``."""
        return self._run(self._deny_flow(request_token, state))

    async def adeny(self, request_token: str, *, state: str | None = None) -> str:
        return await self._arun(self._deny_flow(request_token, state))

    def authenticate(self, username: str, password: str) -> User | None:
        """Check a user's credentials (blocking: password hashing is deliberately slow)."""
        if self.users is None:
            raise ConsentError("this auth server has no user store", code="server_error", status_code=500)
        return self.users.authenticate(username, password)

    # sessions of the consent pages (server-side, in the store, keyed by a random cookie)

    def new_session(self) -> tuple[str, Session]:
        return self._run(self._new_session_flow(None))

    async def anew_session(self) -> tuple[str, Session]:
        return await self._arun(self._new_session_flow(None))

    def session(self, session_id: str) -> Session | None:
        return self._run(self._session_flow(session_id))

    async def asession(self, session_id: str) -> Session | None:
        return await self._arun(self._session_flow(session_id))

    def login(self, session_id: str, user: User) -> tuple[str, Session]:
        """Replace the anonymous session by a new, logged-in one (new id and CSRF secret: no fixation)."""
        return self._run(self._login_flow(session_id, user))

    async def alogin(self, session_id: str, user: User) -> tuple[str, Session]:
        return await self._arun(self._login_flow(session_id, user))

    # ------------------------------------------------------------------ drivers

    def _run(self, flow: _Flow[T]) -> T:
        return run(self, flow)

    async def _arun(self, flow: _Flow[T]) -> T:
        return await arun(self, flow)

    # ------------------------------------------------------------------ token flows

    def _token_flow(self, view: RequestView) -> _Flow[TokenResponse]:
        form = parse_form(view)
        request_type = form.get("request_type")
        if not request_type:
            raise invalid_request("request_type is required")
        supported = {"auth", "code", "exchange"}
        if self.config.lifetimes.refresh_token is not None:
            supported.add("refresh")
        if request_type not in supported:
            raise token_error("unsupported_request_type", "request_type is not supported here", 400)
        if request_type == "exchange":
            return (yield from self._exchange_flow(view, form))

        # auth / code / refresh: the signer must be an identified agent, never an auth token (A8).
        sigkey = signature_key(view)
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
        try:
            verified: VerifiedRequest | None = yield Call("verifier", "verify", (view,))
        except AAuthError as exc:
            raise map_error(exc, "agent") from None
        if verified is None:  # pragma: no cover - signature_key() already demanded the headers
            raise invalid_request("missing signature headers", 401)
        if verified.agent is None:
            raise invalid_request(
                f"scheme={sigkey.scheme} does not identify an agent; sign with scheme=jwks or an agent token", 401
            )
        if request_type == "auth":
            return (yield from self._auth_flow(form, verified, sigkey))
        if request_type == "code":
            return (yield from self._code_flow(form, verified))
        return (yield from self._refresh_flow(form, verified))

    def _auth_flow(self, form: Mapping[str, str], verified: VerifiedRequest, sigkey: SignatureKey
                   ) -> _Flow[TokenResponse]:
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
        well_known = (sigkey.well_known or dialect.WELL_KNOWN_AGENT) if sigkey.scheme == "jwks" \
            else dialect.WELL_KNOWN_AGENT
        # The agent's metadata was already fetched (cached) to find its key, except for x509 agents and
        # jwks keys named without a well-known document; only those may lack it.  Otherwise fail closed:
        # its redirect_uris are what stops an open redirect.
        has_metadata = sigkey.scheme == "jwt" or (sigkey.scheme == "jwks" and sigkey.well_known is not None)
        try:
            agent_meta: Mapping[str, Any] | None = yield Call("discovery", "metadata", (agent, well_known))
        except AAuthError as exc:
            if has_metadata:
                raise invalid_request(f"the agent's metadata could not be read: {exc.description}") from None
            agent_meta = None
        registered = agent_meta.get("redirect_uris") if agent_meta is not None else None
        if isinstance(registered, list | tuple):
            if redirect_uri not in registered:
                raise invalid_request("redirect_uri is not one of the agent's registered redirect_uris")
        elif self.config.require_registered_redirect_uris:
            raise invalid_request("the agent's metadata registers no redirect_uris")
        name = agent_meta.get("name") if agent_meta is not None else None
        request_token = secrets.token_urlsafe(32)
        lifetime = self.config.lifetimes.request_token
        expires_at = self.clock() + lifetime
        pending = PendingRequest(
            agent=agent, resource=resource, scope=" ".join(granted), agent_delegate=verified.agent_delegate,
            agent_claim=agent_claim, redirect_uri=redirect_uri, agent_name=name if isinstance(name, str) else None,
            expires_at=expires_at,
        )
        yield from self._store_put("pending", request_token, pending.to_dict(), expires_at)
        log.info("auth request awaits consent (agent %s, resource %s)", agent, resource)
        return TokenResponse(200, {"request_token": request_token, "expires_in": lifetime})

    def _code_flow(self, form: Mapping[str, str], verified: VerifiedRequest) -> _Flow[TokenResponse]:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code:
            raise invalid_request("code is required")
        if not redirect_uri:
            raise invalid_request("redirect_uri is required")
        record = yield from self._store_call("take", "code", secret_key(code))
        if record is None:
            raise token_error("invalid_grant", "the code is unknown, expired or already used", 400)
        grant = AuthorizationCode.from_dict(record)
        _check_holder(grant, verified, "code")
        if grant.redirect_uri != redirect_uri:
            raise token_error("invalid_grant", "redirect_uri does not match the authorization request", 400)
        return (yield from self._grant_response(
            agent=grant.agent, delegate=grant.agent_delegate, key=verified.key, resource=grant.resource,
            scope=scope_list(grant.scope or ""), agent_claim=grant.agent_claim, sub=grant.sub, with_refresh=True,
        ))

    def _refresh_flow(self, form: Mapping[str, str], verified: VerifiedRequest) -> _Flow[TokenResponse]:
        token = form.get("refresh_token")
        if not token:
            raise invalid_request("refresh_token is required")
        record = yield from self._store_call("get", "refresh", secret_key(token))
        if record is None:
            raise token_error("invalid_grant", "the refresh token is unknown or expired", 400)
        grant = RefreshGrant.from_dict(record)
        _check_holder(grant, verified, "refresh token")
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

    def _exchange_flow(self, view: RequestView, form: Mapping[str, str]) -> _Flow[TokenResponse]:
        raw = form.get("resource_token")
        if not raw:
            raise invalid_request("resource_token is required")
        sigkey = signature_key(view)
        if sigkey.scheme != "jwt":
            raise invalid_request("a token exchange must present the upstream auth token (scheme=jwt)", 401)
        rt = yield from self._resource_token(raw, agent=None, agent_jkt=None)
        intermediary, agent_jkt = str(rt.claims["agent"]), str(rt.claims["agent_jkt"])
        try:  # B §7.3 step 8, first half: the intermediary's key (cached for the verifier below)
            yield Call("discovery", "key_by_thumbprint", (intermediary, dialect.WELL_KNOWN_RESOURCE, agent_jkt))
        except AAuthError as exc:
            if isinstance(exc, CacheUnavailable):
                raise token_error("server_error", exc.description, 503) from None
            raise invalid_request(f"the intermediary's key could not be obtained: {exc.description}", 401) from None
        try:
            verified: VerifiedRequest = yield Call("verifier", "verify_exchange", (view,),
                                                     (("intermediary", intermediary), ("agent_jkt", agent_jkt)))
        except AAuthError as exc:
            raise map_error(exc, "exchange") from None
        try:
            act = build_act(verified.claims, max_depth=self.config.max_act_depth, presenter=intermediary)
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
        if beyond and not self.config.narrow_to_upstream_scope:
            raise token_error("invalid_scope", f"the upstream auth token does not grant: {' '.join(beyond)} "
                              "(an exchange cannot widen the scope the user approved)", 400)
        granted = granted_scopes(requested, decision.scope, ceiling)
        token = self._mint(agent=intermediary, delegate=None, key=verified.key, resource=resource,
                           scope=granted, agent_claim=True, sub=verified.sub, act=act)
        log.info("exchanged auth token issued (intermediary %s, resource %s)", intermediary, resource)
        return TokenResponse(200, {"auth_token": token, "expires_in": self.config.lifetimes.auth_token})

    # ------------------------------------------------------------------ helpers of the flows

    def _resource_token(self, raw: str, *, agent: str | None, agent_jkt: str | None) -> _Flow[ValidatedToken]:
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
        try:
            key: PublicKey = yield Call("discovery", "key_for", (iss, dialect.WELL_KNOWN_RESOURCE, unverified.kid))
        except AAuthError as exc:
            if isinstance(exc, CacheUnavailable):
                raise token_error("server_error", exc.description, 503) from None
            raise bad(f"the resource's signing key could not be obtained: {exc.description}") from None
        try:
            valid = validate_token(
                unverified, typ=dialect.TYP_RESOURCE, key=key, now=self.clock(), leeway=self.settings.token_leeway,
                algorithms=self._jwt_algs, audience=self.issuer, max_act_depth=self.config.max_act_depth,
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

    def _decide(self, request: PolicyRequest) -> Decision:
        decision = self.policy.decide(request)
        if decision.outcome == "deny":
            raise token_error("access_denied", decision.reason or "policy denied the request", 403)
        if decision.outcome not in ("grant", "consent"):
            raise token_error("server_error", "policy returned an unknown outcome", 500)
        return decision

    def _mint(self, *, agent: str, delegate: str | None, key: PublicKey, resource: str, scope: list[str],
              agent_claim: bool, sub: str | None, act: Mapping[str, Any] | None = None) -> str:
        return mint_auth_token(
            self.signing_key, iss=self.issuer, aud=resource, cnf_jwk=dict(key.jwk), now=self.clock(),
            agent=agent if agent_claim else None, scope=" ".join(scope), sub=sub, agent_delegate=delegate,
            act=act, lifetime=self.config.lifetimes.auth_token,
        )

    def _grant_response(self, *, agent: str, delegate: str | None, key: PublicKey, resource: str,
                        scope: list[str], agent_claim: bool, sub: str | None, with_refresh: bool,
                        bearer: bool = True) -> _Flow[TokenResponse]:
        token = self._mint(agent=agent, delegate=delegate, key=key, resource=resource, scope=scope,
                           agent_claim=agent_claim, sub=sub)
        body: dict[str, Any] = {"auth_token": token, "expires_in": self.config.lifetimes.auth_token}
        if bearer:
            body["token_type"] = "Bearer"  # noqa: S105 - as the transcript (B §11 item 8)
        refresh_lifetime = self.config.lifetimes.refresh_token
        if with_refresh and refresh_lifetime is not None:
            refresh = secrets.token_urlsafe(32)
            expires_at = self.clock() + refresh_lifetime
            grant = RefreshGrant(agent=agent, resource=resource, scope=" ".join(scope), agent_delegate=delegate,
                                 agent_claim=agent_claim, sub=sub, expires_at=expires_at)
            # Recorded before the response leaves: a refresh token the store does not know is never handed out.
            yield from self._store_put("refresh", refresh, grant.to_dict(), expires_at)
            body["refresh_token"] = refresh
        log.info("auth token issued (agent %s, resource %s)", agent, resource)
        return TokenResponse(200, body)

    def _store_call(self, method: str, kind: str, key: str) -> _Flow[Any]:
        try:
            return (yield _store(method, kind, key))
        except AAuthError as exc:
            raise token_error("server_error", f"the auth server store failed: {exc.code}", 503) from None

    def _store_put(self, kind: str, secret: str, value: Mapping[str, Any], expires_at: float) -> _Flow[None]:
        try:
            yield _store("put", kind, secret_key(secret), value, expires_at)
        except AAuthError as exc:
            raise token_error("server_error", f"the auth server store failed: {exc.code}", 503) from None

    # ------------------------------------------------------------------ consent flows

    def _pending(self, request_token: str, method: str) -> _Flow[PendingRequest]:
        if not request_token:
            raise ConsentError("request_token is required")
        record = yield _store(method, "pending", secret_key(request_token))
        if record is None:
            raise ConsentError("this authorization request is unknown, expired or already answered")
        return PendingRequest.from_dict(record)

    def _consent_flow(self, request_token: str, redirect_uri: str) -> _Flow[ConsentRequest]:
        pending = yield from self._pending(request_token, "get")
        if redirect_uri != pending.redirect_uri:
            raise ConsentError("redirect_uri does not match the authorization request")
        descriptions: Mapping[str, Any] = {}
        if pending.agent_claim:
            try:
                meta: Mapping[str, Any] = yield Call("discovery", "metadata",
                                                     (pending.resource, dialect.WELL_KNOWN_RESOURCE))
                found = meta.get("scope_descriptions")
                if isinstance(found, Mapping):
                    descriptions = found
            except AAuthError:
                pass  # descriptions are a courtesy; the scope names are always shown
        scopes = tuple(
            (s, descriptions[s] if isinstance(descriptions.get(s), str) else None)
            for s in scope_list(pending.scope or "")
        )
        return ConsentRequest(
            request_token=request_token, agent=pending.agent, agent_name=pending.agent_name,
            agent_delegate=pending.agent_delegate, resource=pending.resource, scopes=scopes,
            redirect_uri=pending.redirect_uri, expires_at=pending.expires_at,
        )

    def _approve_flow(self, request_token: str, user: User, state: str | None) -> _Flow[str]:
        pending = yield from self._pending(request_token, "take")  # atomic: one answer per request
        requested = scope_list(pending.scope or "")
        decision = self.policy.decide(PolicyRequest(
            "code", pending.agent, pending.resource, frozenset(requested),
            agent_delegate=pending.agent_delegate, user=user.id,
        ))
        if decision.outcome == "deny":
            log.info("consent approved by the user but denied by policy (agent %s)", pending.agent)
            return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                    "error_description": "the request is not allowed"}, state)
        allowed = narrow(frozenset(requested), decision.scope)
        granted = [s for s in requested if s in allowed]
        if not granted:
            return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                    "error_description": "none of the scopes may be granted"}, state)
        code = secrets.token_urlsafe(32)
        expires_at = self.clock() + self.config.lifetimes.code
        record = AuthorizationCode(
            agent=pending.agent, resource=pending.resource, scope=" ".join(granted),
            agent_delegate=pending.agent_delegate, agent_claim=pending.agent_claim,
            redirect_uri=pending.redirect_uri, sub=user.id, expires_at=expires_at,
        )
        yield _store("put", "code", secret_key(code), record.to_dict(), expires_at)
        log.info("consent approved (agent %s, resource %s)", pending.agent, pending.resource)
        return redirect_url(pending.redirect_uri, {"code": code}, state)

    def _deny_flow(self, request_token: str, state: str | None) -> _Flow[str]:
        pending = yield from self._pending(request_token, "take")
        log.info("consent denied by the user (agent %s)", pending.agent)
        return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                "error_description": "the user denied the request"}, state)

    def _new_session_flow(self, user: User | None) -> _Flow[tuple[str, Session]]:
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), user=user.id if user is not None else None,
                          expires_at=self.clock() + self.config.lifetimes.session)
        yield _store("put", "session", secret_key(session_id), session.to_dict(), session.expires_at)
        return session_id, session

    def _session_flow(self, session_id: str) -> _Flow[Session | None]:
        if not session_id:
            return None
        record = yield _store("get", "session", secret_key(session_id))
        return Session.from_dict(record) if record is not None else None

    def _login_flow(self, session_id: str, user: User) -> _Flow[tuple[str, Session]]:
        yield _store("delete", "session", secret_key(session_id))
        return (yield from self._new_session_flow(user))


def _check_holder(grant: AuthorizationCode | RefreshGrant, verified: VerifiedRequest, what: str) -> None:
    """A code or refresh token is bound to the agent (and delegate) it was issued to, not to a key."""
    if grant.agent != verified.agent or grant.agent_delegate != verified.agent_delegate:
        raise token_error("invalid_grant", f"the {what} was issued to another agent", 400)
