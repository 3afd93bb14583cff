"""In-process parties for the client tests: resources and a tiny auth server, all on the
REAL core (AAuthService / Verifier to verify, ResourceIdentity to challenge,
mint_auth_token / build_act to issue).  Served to the client through the client
library's own ``MockTransport`` (httpx or httpx2), routed by origin.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

from aauth_core import dialect
from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError, TokenEndpointError, TokenError
from aauth_core.request import RequestView
from aauth_core.resource import challenge_header
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import build_act, mint_auth_token, peek, validate_token
from aauth_core.verifier import Verifier

from ..conftest import Party, World

Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Any], Reply]


def json_reply(status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(doc).encode()


@dataclass
class Seen:
    """A snapshot of one request as it went on the wire (requests are re-signed in place)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Router:
    """Dispatches by origin; unknown origins fall back to the published documents."""

    lib: ModuleType
    world: World
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    strict: Callable[[Any], None] | None = None

    def __call__(self, request: Any) -> Any:
        url = str(request.url)
        self.seen.append(Seen(request.method, url, dict(request.headers), request.content))
        origin = url.split("/", 3)
        key = "/".join(origin[:3])
        if key in self.routes:
            status, headers, body = self.routes[key](request)
        elif self.strict is not None:
            self.strict(request)
            status, headers, body = 599, {}, b""
        elif url in self.world.network.documents:
            status, headers, body = json_reply(200, self.world.network.documents[url])
        else:
            status, headers, body = json_reply(404, {"error": "not_found"})
        return self.lib.Response(status, headers=headers, content=body)

    @property
    def transport(self) -> Any:
        return self.lib.MockTransport(self)

    def to(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.url.startswith(prefix)]


def view_of(request: Any) -> RequestView:
    return RequestView.from_url(request.method, str(request.url), list(request.headers.multi_items()),
                                request.content)


class TinyResource:
    """A resource on AAuthService: ``/data`` (signature), ``/data-jwks`` (identity), anything else
    authorization with scope ``data.read``.  ``downstream`` lets a handler call onwards."""

    def __init__(self, world: World, party: Party, *, auth_server: str, trusted: tuple[str, ...]) -> None:
        self.party = party
        settings = AAuthSettings(resource_id=party.id, auth_server=auth_server, trusted_issuers=trusted,
                                 resource_scopes=("data.read", "data.write"))
        self.service = AAuthService(settings, keys=[party.key], discovery=world.discovery(settings),
                                    clock=world.clock)
        self.revoked: set[str] = set()
        self.redirects: dict[str, tuple[int, str]] = {}
        self.downstream: Callable[[VerifiedRequest], Any] | None = None
        self.before: Callable[[Any], None] | None = None
        self.seen: list[VerifiedRequest] = []

    def __call__(self, request: Any) -> Reply:
        if self.before is not None:
            self.before(request)
        path = request.url.path
        if path in self.redirects:
            status, location = self.redirects[path]
            return status, {"Location": location}, b""
        requirement = {"/data": Requirement("signature"), "/data-jwks": Requirement("identity")}.get(
            path, Requirement("authorization", frozenset({"data.read"})))
        view = self.service.view(method=request.method, path=request.url.raw_path.decode().split("?")[0],
                                 query=request.url.query.decode() or None,
                                 headers=list(request.headers.multi_items()), body=request.content)
        try:
            verified = self.service.verifier.authorize(view, requirement)
            if verified.token is not None and verified.token in self.revoked:
                raise TokenError("token revoked", code="token_revoked", challenge=challenge_header(identity=True))
        except AAuthError as exc:
            rendered = self.service.error_response(exc)
            return rendered.status, dict(rendered.headers), rendered.body
        self.seen.append(verified)
        doc = verified.to_dict()
        doc["claims"] = dict(verified.claims) if verified.claims else None
        if self.downstream is not None:
            doc["downstream"] = self.downstream(verified)
        return json_reply(200, json.loads(json.dumps(doc, default=_thaw)))


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return dict(value)


@dataclass
class Pending:
    agent: str
    cnf: dict[str, Any]
    claims: dict[str, Any]
    redirect_uri: str
    delegate: str | None
    code: str | None = None


class TinyAS:
    """A minimal auth server: ``auth`` (direct or consent), ``code``, ``exchange``, ``refresh``.

    Every token request's HTTP signature is verified by the core Verifier; resource
    tokens by ``validate_token`` with the resource's published key; exchanges by
    ``Verifier.verify_exchange``; ``act`` by ``build_act``.
    """

    def __init__(self, world: World, party: Party, *, trusted: tuple[str, ...] = (), consent: bool = False,
                 refresh: bool = False, lifetime: int = 3600) -> None:
        self.world, self.party = world, party
        self.settings = AAuthSettings(resource_id=party.id, trusted_issuers=trusted)
        self.discovery = world.discovery(self.settings)
        self.verifier = Verifier(self.settings, discovery=self.discovery, clock=world.clock)
        self.consent, self.refresh, self.lifetime = consent, refresh, lifetime
        self.pending: dict[str, Pending] = {}
        self.refresh_tokens: dict[str, Pending] = {}
        self.calls: list[str] = []

    def __call__(self, request: Any) -> Reply:
        if request.url.path != "/agent/token" or request.method != "POST":
            url = str(request.url)
            doc = self.world.network.documents.get(url)
            return json_reply(200, doc) if doc is not None else json_reply(404, {"error": "not_found"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        kind = form.get("request_type", "")
        self.calls.append(kind)
        try:
            handler = {"auth": self._auth, "code": self._code, "exchange": self._exchange,
                       "refresh": self._refresh}.get(kind)
            if handler is None:
                raise TokenEndpointError("unsupported", code="unsupported_request_type")
            return json_reply(200, handler(view_of(request), form))
        except AAuthError as exc:
            return json_reply(exc.status_code, exc.to_dict())

    def approve(self, url: str) -> str:
        """The 'user': approve the consent URL and return the redirect with the code."""
        query = {k: v[0] for k, v in parse_qs(url.split("?", 1)[1]).items()}
        pending = self.pending[query["request_token"]]
        pending.code = secrets.token_urlsafe(16)
        return f"{query['redirect_uri']}?code={pending.code}"

    def _resource_token(self, raw: str) -> dict[str, Any]:
        unverified = peek(raw)
        key = self.discovery.key_for(str(unverified.claims["iss"]), dialect.WELL_KNOWN_RESOURCE, unverified.kid)
        valid = validate_token(unverified, typ=dialect.TYP_RESOURCE, key=key, now=self.world.clock(), leeway=30,
                               algorithms=("EdDSA",), audience=self.party.id)
        return valid.claims_dict()

    def _issue(self, p: Pending, *, sub: str | None = None, act: dict[str, Any] | None = None) -> dict[str, Any]:
        token = mint_auth_token(self.party.key, iss=self.party.id, aud=p.claims["iss"], cnf_jwk=p.cnf,
                                now=self.world.clock(), agent=p.agent, scope=p.claims.get("scope"), sub=sub,
                                agent_delegate=p.delegate, act=act, lifetime=self.lifetime)
        out: dict[str, Any] = {"auth_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
        if self.refresh:
            rt = secrets.token_urlsafe(16)
            self.refresh_tokens[rt] = p
            out["refresh_token"] = rt
        return out

    def _auth(self, view: RequestView, form: dict[str, str]) -> dict[str, Any]:
        verified = self.verifier.verify(view)
        assert verified is not None
        if verified.agent is None or "redirect_uri" not in form:
            raise TokenEndpointError("agent identity and redirect_uri required", code="invalid_request")
        claims = self._resource_token(form["resource_token"])
        if claims["agent"] != verified.agent or claims["agent_jkt"] != verified.key_thumbprint:
            raise TokenEndpointError("resource token is for another agent", code="invalid_resource_token")
        p = Pending(verified.agent, dict(verified.key.jwk), claims, form["redirect_uri"], verified.agent_delegate)
        if self.consent:
            request_token = secrets.token_urlsafe(32)
            self.pending[request_token] = p
            return {"request_token": request_token, "expires_in": 600}
        return self._issue(p)

    def _code(self, view: RequestView, form: dict[str, str]) -> dict[str, Any]:
        verified = self.verifier.verify(view)
        assert verified is not None
        for request_token, p in list(self.pending.items()):
            if p.code is not None and p.code == form.get("code"):
                if p.redirect_uri != form.get("redirect_uri") or p.agent != verified.agent:
                    raise TokenEndpointError("mismatch", code="invalid_grant")
                del self.pending[request_token]
                return self._issue(p, sub="testuser")
        raise TokenEndpointError("unknown code", code="invalid_grant")

    def _exchange(self, view: RequestView, form: dict[str, str]) -> dict[str, Any]:
        claims = self._resource_token(form["resource_token"])
        verified = self.verifier.verify_exchange(view, intermediary=claims["agent"], agent_jkt=claims["agent_jkt"])
        act = build_act(verified.claims, max_depth=8)
        p = Pending(claims["agent"], dict(verified.key.jwk), claims, "", None)
        token = mint_auth_token(self.party.key, iss=self.party.id, aud=claims["iss"], cnf_jwk=p.cnf,
                                now=self.world.clock(), agent=p.agent, scope=claims.get("scope"),
                                sub=verified.sub, act=act, lifetime=self.lifetime)
        return {"auth_token": token, "expires_in": self.lifetime}

    def _refresh(self, view: RequestView, form: dict[str, str]) -> dict[str, Any]:
        verified = self.verifier.verify(view)
        p = self.refresh_tokens.get(form.get("refresh_token", ""))
        if p is None or verified is None or verified.agent != p.agent:
            raise TokenEndpointError("unknown refresh token", code="invalid_grant")
        token = mint_auth_token(self.party.key, iss=self.party.id, aud=p.claims["iss"], cnf_jwk=p.cnf,
                                now=self.world.clock(), agent=p.agent, scope=p.claims.get("scope"),
                                agent_delegate=p.delegate, lifetime=self.lifetime)
        return {"auth_token": token, "expires_in": self.lifetime}
