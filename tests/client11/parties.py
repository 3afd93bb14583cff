"""In-process aauth-11 parties for the agent-client tests: a resource and a person server.

Both verify every request the agent sends: agent-token requests through the real
:class:`~aauth_core.resource.service.AAuthService` configured for ``aauth-11`` (the resource
as itself; the person server as a resource of its own), person- and auth-token requests
with the wire pieces (SK-09 ``Signature-Key``, RFC 9421 base, JWS of the token with the
issuer's key, ``cnf``).  They mint real tokens with ``aauth_core.tokens.mint_11``.  What
they answer (challenges, 202s, refusals) is decided here, since the resource side of
-11's person/auth-token modes is being written separately.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.headers import parse_signature, parse_signature_input
from aauth_core.httpsig import verify_signature
from aauth_core.keys import PublicKey, SigningKey
from aauth_core.request import RequestView
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature as verify_jws
from aauth_core.tokens.mint_11 import mint_auth_token_11, mint_person_token_11, mint_resource_token_11
from aauth_core.wire.content_digest import check_request_digest
from aauth_core.wire.coverage import check_covers, required_components_11
from aauth_core.wire.requirement import AAuthRequirement, format_requirement
from aauth_core.wire.signature_error import SignatureErrorField, format_signature_error
from aauth_core.wire.signature_key import parse_signature_key_member

from ..conftest import World
from ..profile11.mint import mint

Reply = tuple[int, dict[str, str], bytes]

AP = "https://ap.example"
PS = "https://ps.example"
RESOURCE = "https://api.example"


def json_reply(status: int, doc: Any, headers: dict[str, str] | None = None, *,
               content_type: str = "application/json") -> Reply:
    return status, {"Content-Type": content_type, **(headers or {})}, json.dumps(doc).encode()


def problem(status: int, error: str, detail: str = "", headers: dict[str, str] | None = None) -> Reply:
    doc = {"error": error, **({"detail": detail} if detail else {})}
    return json_reply(status, doc, headers, content_type="application/problem+json")


def requirement(kind: str, **params: str) -> dict[str, str]:
    return {"AAuth-Requirement": format_requirement(AAuthRequirement(kind, **params))}


def signature_error(code: str, **headers: str) -> Reply:
    return problem(401, code, "refused", {"Signature-Error": format_signature_error(SignatureErrorField(code)),
                                          **headers})


@dataclass
class Seen:
    """One request as it went on the wire (requests are re-signed in place afterwards)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def token(self) -> str:
        """The token presented in ``Signature-Key``."""
        label = parse_signature_input(self.headers["signature-input"]).label
        jwt = parse_signature_key_member(self.headers["signature-key"], label, schemes=("jwt",)).jwt
        assert jwt is not None
        return jwt

    @property
    def typ(self) -> str:
        return str(peek(self.token).typ)


@dataclass
class Router:
    """Dispatches each request by origin; records it; an origin in ``forbidden`` fails the test."""

    lib: ModuleType
    world: World
    routes: dict[str, Callable[[Any], Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    def __call__(self, request: Any) -> Any:
        url = str(request.url)
        origin = "/".join(url.split("/", 3)[:3])
        assert origin not in self.forbidden, f"a request reached {origin}, which the client must never call"
        self.seen.append(Seen(request.method, url, dict(request.headers), request.content))
        if origin in self.routes:
            status, headers, body = self.routes[origin](request)
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
                                request.content or None)


@dataclass(frozen=True)
class Checked:
    """A person- or auth-token request that verified: the token's claims and the signer's key."""

    claims: dict[str, Any]
    typ: str
    jkt: str
    token: str


def verify_token_request(request: Any, issuer_keys: dict[str, SigningKey], now: float) -> Checked:
    """Verify a request presenting a person or auth token, as an -11 resource would (RS-10, RS-40):
    the JWS with its issuer's key, the covered components, ``created``, the digest, the signature."""
    headers = request.headers
    params = parse_signature_input(headers["signature-input"])
    token = parse_signature_key_member(headers["signature-key"], params.label, schemes=("jwt",)).jwt
    assert token is not None
    unverified = peek(token)
    issuer = issuer_keys[unverified.claims["iss"]]
    verify_jws(token, unverified.header["alg"], issuer.public)
    assert unverified.claims["exp"] > now
    cnf = PublicKey.from_jwk(unverified.claims["cnf"]["jwk"])
    view = view_of(request)
    check_covers(params, required_components_11(body=bool(request.content), authorization="authorization" in headers))
    assert params.created is not None and abs(params.created - now) <= 60 and params.alg is None and params.keyid is None
    if request.content:
        check_request_digest(view)
    _, signature = parse_signature(headers["signature"])
    verify_signature(view, params, signature, cnf)
    return Checked(dict(unverified.claims), str(unverified.typ), cnf.thumbprint, token)


def agent_service(world: World, identifier: str, key: SigningKey) -> AAuthService:
    """The real -11 verifier, for requests presenting an agent token to ``identifier``."""
    settings = AAuthSettings(resource_id=identifier, profiles=("aauth-11",))
    return AAuthService(settings, keys=[key], discovery=world.discovery(settings), clock=world.clock)


def verify_agent(service: AAuthService, request: Any) -> VerifiedRequest | Reply:
    """The agent-token request verified by ``service``, or the -11 refusal it renders."""
    view = service.view(method=request.method, path=request.url.raw_path.decode().split("?")[0],
                        query=request.url.query.decode() or None, headers=list(request.headers.multi_items()),
                        body=request.content or None)
    try:
        return service.require(service.verify(view), Requirement("identity"))
    except AAuthError as exc:
        rendered = service.error_response(exc)
        return rendered.status, dict(rendered.headers), rendered.body


# ----------------------------------------------------------------------------- the resource


class TinyResource11:
    """``https://api.example``: ``/agent`` (agent token), ``/person`` (person token), ``/data``
    (auth token, scope ``data.read``), ``/deferred`` (auth token delivered by a 202, RS-36).

    ``resource_token`` overrides the minted resource token's claims (``typ`` too);
    ``revoked`` holds token ``jti``s refused with ``revoked_jwt``; ``replies`` answers the
    next requests with these instead; ``metadata`` is ``aauth-resource.json`` (``None``: 404)."""

    def __init__(self, world: World, ps_key: SigningKey) -> None:
        self.world = world
        self.key = SigningKey.generate(kid="rs-key-1")
        self.ps_key = ps_key
        self.service = agent_service(world, RESOURCE, self.key)
        self.metadata: dict[str, Any] | None = {"issuer": RESOURCE, "access_mode": "auth-token"}
        self.resource_token: dict[str, Any] = {}
        self.revoked: set[str] = set()
        self.replies: list[Reply] = []
        self.pending_polls = 1
        self.gone = False
        self.refuse_auth_tokens = False
        self.revoke_everything = False
        self.refresh_on_poll = False
        self.pending: dict[str, int] = {}
        self.served: list[tuple[str, dict[str, Any]]] = []
        self.extra_components: tuple[str, ...] = ()

    def __call__(self, request: Any) -> Reply:
        path = request.url.path
        if path == "/.well-known/aauth-resource.json":
            return json_reply(200, self.metadata) if self.metadata is not None else json_reply(404, {})
        if self.replies:
            return self.replies.pop(0)
        if self.extra_components:
            params = parse_signature_input(request.headers["signature-input"])
            missing = [c for c in self.extra_components if c not in params.components]
            if missing:
                required = required_components_11(extra=self.extra_components)
                value = format_signature_error(SignatureErrorField("invalid_input", required))
                return problem(401, "invalid_input", "", {"Signature-Error": value})
        typ = peek(parse_signature_key_member(request.headers["signature-key"], "sig", schemes=("jwt",)).jwt
                   or "").typ
        if path.startswith("/pending/"):
            return self._poll(request, path)
        if typ == "aa-agent+jwt":
            verified = verify_agent(self.service, request)
            if not isinstance(verified, VerifiedRequest):
                return verified
            if path == "/agent":
                return self._serve("agent", {"agent": verified.agent, "provider": verified.agent_provider})
            return 401, requirement("person-token"), b""
        checked = verify_token_request(request, {PS: self.ps_key}, self.world.clock())
        assert checked.claims["aud"] == RESOURCE
        if checked.claims["jti"] in self.revoked or self.revoke_everything:
            return signature_error("revoked_jwt", **requirement("person-token"))
        if typ == "aa-person+jwt" and path == "/person":
            return self._serve("person", {"sub": checked.claims["sub"]})
        if typ == "aa-person+jwt" and path == "/data":
            return 401, requirement("auth-token", resource_token=self._resource_token(checked)), b""
        if typ == "aa-person+jwt" and path == "/deferred":
            pending = secrets.token_urlsafe(8)
            self.pending[pending] = 0
            headers = {"Location": f"/pending/{pending}", "Retry-After": "1", "Cache-Control": "no-store",
                       **requirement("auth-token", resource_token=self._resource_token(checked))}
            return json_reply(202, {"status": "pending"}, headers)
        if typ == "aa-auth+jwt" and path == "/data" and self.refuse_auth_tokens:
            return 401, requirement("auth-token", resource_token=self._resource_token(checked)), b""
        if typ == "aa-auth+jwt" and path == "/data":
            return self._serve("data", {"sub": checked.claims["sub"], "scope": checked.claims.get("scope")})
        if typ == "aa-auth+jwt" and path == "/person":
            return 401, requirement("person-token"), b""
        return 401, requirement("agent-token"), b""

    def _serve(self, what: str, doc: dict[str, Any]) -> Reply:
        self.served.append((what, doc))
        return json_reply(200, doc)

    def _resource_token(self, checked: Checked) -> str:
        claims: dict[str, Any] = {
            "iss": RESOURCE, "aud": PS, "ps": checked.claims["iss"], "sub": checked.claims["sub"],
            "presented_jti": checked.claims["jti"], "agent_jkt": checked.jkt, "scope": "data.read",
            "now": self.world.clock(),
        }
        claims.update(self.resource_token)
        typ = claims.pop("typ", None)
        if typ is not None:  # a token of another type, minted by hand
            now = claims.pop("now")
            claims.update(dwk="aauth-resource.json", jti="rt-x", iat=int(now), exp=int(now) + 300)
            return mint(self.key, claims, typ=typ)
        return mint_resource_token_11(self.key, **claims)

    def _poll(self, request: Any, path: str) -> Reply:
        pending = path.rsplit("/", 1)[1]
        checked = verify_token_request(request, {PS: self.ps_key}, self.world.clock())
        assert checked.typ == "aa-auth+jwt" and checked.claims["aud"] == RESOURCE
        if pending not in self.pending or self.gone:
            return problem(410, "invalid_code", "already delivered")
        if self.refresh_on_poll:  # once: a fresh resource token for the auth token presented
            self.refresh_on_poll = False
            headers = {"Location": path, **requirement("auth-token", resource_token=self._resource_token(checked))}
            return json_reply(202, {"status": "pending"}, headers)
        self.pending[pending] += 1
        if self.pending[pending] <= self.pending_polls:
            return json_reply(202, {"status": "working"}, {"Location": path, "Retry-After": "2"})
        del self.pending[pending]
        return self._serve("deferred", {"sub": checked.claims["sub"], "result": "done"})


# ----------------------------------------------------------------------------- the person server


class TinyPersonServer:
    """``https://ps.example``: metadata, ``/person`` and ``/token`` (JSON, agent token), pending URLs.

    ``metadata`` is served as is (tests change it); ``person_claims`` / ``auth_claims`` override
    claims of what it mints (``typ`` too); ``person_replies`` / ``token_replies`` answer the
    next POSTs instead; ``pending`` is the script of answers a pending URL gives before the
    result (each a Reply, or ``None`` for the result)."""

    def __init__(self, world: World, ap_keys: dict[str, SigningKey]) -> None:
        self.world = world
        self.key = SigningKey.generate(kid="ps-key-1")
        self.ap_keys = ap_keys
        self.service = agent_service(world, PS, self.key)
        self.metadata: dict[str, Any] = {
            "issuer": PS, "jwks_uri": f"{PS}/.well-known/jwks.json", "person_token_endpoint": f"{PS}/person",
            "auth_token_endpoint": f"{PS}/token",
        }
        self.person_claims: dict[str, Any] = {}
        self.auth_claims: dict[str, Any] = {}
        self.person_replies: list[Reply] = []
        self.token_replies: list[Reply] = []
        self.pending: list[Reply | None] = []
        self.calls: list[tuple[str, Any]] = []
        self._held: dict[str, dict[str, Any]] = {}

    def __call__(self, request: Any) -> Reply:
        path = request.url.path
        if path == "/.well-known/aauth-person.json":
            return json_reply(200, self.metadata)
        verified = verify_agent(self.service, request)
        if not isinstance(verified, VerifiedRequest):
            return verified
        agent = peek(verified.token or "").claims
        if path.startswith("/pending/"):
            self.calls.append(("poll", None))
            return self._poll(path)
        body = json.loads(request.content)
        self.calls.append((path, body))
        if path == "/person":
            if self.person_replies:
                return self.person_replies.pop(0)
            return json_reply(200, self._person(body, agent))
        if path == "/token":
            if self.token_replies:
                return self.token_replies.pop(0)
            result = self._auth(body, agent)
            if self.pending:
                held = secrets.token_urlsafe(8)
                self._held[held] = result
                return json_reply(202, {"status": "pending"}, {"Location": f"/pending/{held}", "Retry-After": "3"})
            return json_reply(200, result)
        return problem(404, "not_found")

    def _person(self, body: dict[str, Any], agent: dict[str, Any]) -> dict[str, Any]:
        claims: dict[str, Any] = {"iss": PS, "aud": body["resource"], "sub": "person-" + body["resource"][8:11],
                                  "cnf_jwk": agent["cnf"]["jwk"], "now": self.world.clock(),
                                  "mission_s256": body.get("mission_s256")}
        claims.update(self.person_claims)
        return {"person_token": self._mint(claims, "aa-person+jwt", mint_person_token_11), "expires_in": 3600}

    def _auth(self, body: dict[str, Any], agent: dict[str, Any]) -> dict[str, Any]:
        resource_token = peek(body["resource_token"]).claims
        presented = peek(body["presented_token"]).claims
        assert presented["jti"] == resource_token["presented_jti"]
        claims: dict[str, Any] = {"iss": PS, "aud": resource_token["iss"], "ps": PS, "sub": resource_token["sub"],
                                  "cnf_jwk": agent["cnf"]["jwk"], "now": self.world.clock(),
                                  "scope": resource_token.get("scope")}
        claims.update(self.auth_claims)
        return {"auth_token": self._mint(claims, "aa-auth+jwt", mint_auth_token_11), "expires_in": 3600}

    def _mint(self, claims: dict[str, Any], typ: str, minter: Callable[..., str]) -> str:
        typ = claims.pop("typ", typ)
        if typ.startswith("aa-") and minter.__name__.endswith(f"{typ[3:-4]}_token_11"):
            return minter(self.key, **claims)
        now = claims.pop("now")
        claims["cnf"] = {"jwk": dict(claims.pop("cnf_jwk"))}
        claims.update(dwk="aauth-person.json", jti="x-1", iat=int(now), exp=int(now) + 600)
        return mint(self.key, {k: v for k, v in claims.items() if v is not None}, typ=typ)

    def _poll(self, path: str) -> Reply:
        held = path.rsplit("/", 1)[1]
        if held not in self._held:
            return problem(410, "invalid_code")
        step = self.pending.pop(0) if self.pending else None
        if step is not None:
            return step
        return json_reply(200, self._held.pop(held))
