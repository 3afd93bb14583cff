"""The one scenario table every adapter runs (docs/architecture.md, "one scenario suite").

Each scenario builds a request against a small resource with these routes:

    /data            signature level (any scheme), GET
    /data-jwks       identity level
    /data-auth       authorization level, scope data.read
    /data-admin      authorization level, scope data.admin (never granted: 403)
    /upload          signature level, POST; echoes the body's length and sha-256
    /files/{name}    signature level; the signature covers the raw, percent-encoded path

and states the expected status, error code, challenge shape and, for successes,
what the handler saw.  The core test drives them through ``Verifier.authorize``;
the adapter tests through each framework's own test client.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aauth_core.context import Requirement
from aauth_core.headers import SignatureKey, SignatureParams, format_signature, format_signature_input
from aauth_core.httpsig import signature_base
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.tokens import mint_agent_token

from .conftest import AGENT, NOW, RESOURCE, World, signed_request

ROUTES: dict[str, Requirement] = {
    "/data": Requirement("signature"),
    "/data-jwks": Requirement("identity"),
    "/data-auth": Requirement("authorization", frozenset({"data.read"})),
    "/data-admin": Requirement("authorization", frozenset({"data.admin"})),
    "/upload": Requirement("signature"),
    "/files/": Requirement("signature"),
}


def requirement_for(path: str) -> Requirement | None:
    route = path.split("?", 1)[0]
    if route.startswith("/files/"):
        return ROUTES["/files/"]
    return ROUTES.get(route)


@dataclass
class Request:
    method: str
    path: str  # raw path, possibly with a query
    headers: dict[str, str]
    body: bytes | None = None

    @property
    def url(self) -> str:
        return RESOURCE + self.path

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass
class Scenario:
    name: str
    build: Callable[[World], Request]
    status: int
    code: str | None = None
    challenge: str | None = None  # the expected Agent-Auth prefix
    context: dict[str, Any] = field(default_factory=dict)  # expected VerifiedRequest fields on success
    repeat: int = 1  # send the same request this many times; the last response is checked


def _sign(w: World, method: str, path: str, **kw: Any) -> Request:
    headers, body = signed_request(method, RESOURCE + path, key=kw.pop("key", w.agent.key), **kw)
    return Request(method, path, headers, body)


def _jwt(w: World, method: str, path: str, token: str, key: SigningKey | None = None, **kw: Any) -> Request:
    return _sign(w, method, path, key=key or w.agent.key, scheme="jwt", params={"jwt": token}, **kw)


def _custom(w: World, method: str, path: str, components: tuple[str, ...], *, body: bytes | None = None) -> Request:
    """Sign with a chosen component list (to show a missing component is refused)."""
    sk = SignatureKey.build("jwks", {"id": AGENT, "kid": "key-1", "well-known": "aauth-agent"})
    headers = {"Signature-Key": sk.raw}
    if body:
        headers["Content-Type"] = "application/json"
        headers["Content-Digest"] = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    params = SignatureParams("sig1", components, created=NOW)
    view = RequestView.from_url(method, RESOURCE + path, headers, body)
    sig = w.agent.key.sign(signature_base(view, params))
    headers["Signature-Input"] = format_signature_input(params)
    headers["Signature"] = format_signature("sig1", sig)
    return Request(method, path, headers, body)


def _tamper(req: Request, **changes: Any) -> Request:
    return Request(changes.get("method", req.method), changes.get("path", req.path),
                   {**req.headers, **changes.get("headers", {})}, changes.get("body", req.body))


def _digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _other_host(w: World) -> Request:
    headers, body = signed_request("GET", "https://evil.example/data", key=w.agent.key)
    return Request("GET", "/data", headers, body)


def _unknown_kid(w: World) -> Request:
    return _sign(w, "GET", "/data-jwks", params={"id": AGENT, "kid": "no-such-key", "well-known": "aauth-agent"})


def _delegate_token(w: World) -> Request:
    delegate = SigningKey.generate(kid="delegate-key-1")
    token = mint_agent_token(w.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(), now=NOW)
    return _jwt(w, "GET", "/data-jwks", token, key=delegate)


def _agent_token_on_auth_route(w: World) -> Request:
    delegate = SigningKey.generate(kid="delegate-key-1")
    token = mint_agent_token(w.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(), now=NOW)
    return _jwt(w, "GET", "/data-auth", token, key=delegate)


BIG = bytes(range(256)) * 4096  # 1 MiB

IDENTITY_CHALLENGE = "httpsig; identity=?1"
AUTH_CHALLENGE = "httpsig; auth-token; resource_token="

SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------ successes
    Scenario("valid_hwk", lambda w: _sign(w, "GET", "/data", scheme="hwk"), 200,
             context={"scheme": "hwk", "agent": None}),
    Scenario("valid_jwks", lambda w: _sign(w, "GET", "/data-jwks"), 200,
             context={"scheme": "jwks", "agent": AGENT}),
    Scenario("valid_auth_token", lambda w: _jwt(w, "GET", "/data-auth", w.auth_token()), 200,
             context={"scheme": "jwt", "agent": AGENT, "scope": "data.read data.write", "token_type": "auth+jwt"}),
    Scenario("valid_agent_token", _delegate_token, 200,
             context={"scheme": "jwt", "agent": AGENT, "agent_delegate": "delegate-1", "token_type": "agent+jwt"}),
    Scenario("valid_act_chain",
             lambda w: _jwt(w, "GET", "/data-auth", w.auth_token(act={"agent": "https://upstream.example"})), 200,
             context={"act": {"agent": "https://upstream.example"}}),
    Scenario("query_string", lambda w: _sign(w, "GET", "/data?b=2&a=%20x"), 200, context={"scheme": "jwks"}),
    Scenario("percent_encoded_path", lambda w: _sign(w, "GET", "/files/caf%C3%A9%20x", scheme="hwk"), 200,
             context={"scheme": "hwk", "name": "café x"}),
    Scenario("post_body", lambda w: _sign(w, "POST", "/upload", body=b'{"hello": "world"}'), 200,
             context={"body_length": 18}),
    Scenario("large_body", lambda w: _sign(w, "POST", "/upload", body=BIG,
                                           headers={"Content-Type": "application/octet-stream"}), 200,
             context={"body_length": len(BIG)}),
    Scenario("demo_base_refused_by_default", lambda w: _sign(w, "GET", "/data", base="demo-2026-01"), 401,
             "invalid_signature", "httpsig"),
    # ------------------------------------------------------------ missing or insufficient
    Scenario("unsigned_signature_route", lambda w: Request("GET", "/data", {}), 401, "signature_required", "httpsig"),
    Scenario("unsigned_auth_route", lambda w: Request("GET", "/data-auth", {}), 401, "identity_required",
             IDENTITY_CHALLENGE),
    Scenario("missing_headers",
             lambda w: Request("GET", "/data", {"Signature-Key": _sign(w, "GET", "/data").headers["Signature-Key"]}),
             401, "missing_signature", "httpsig"),
    Scenario("hwk_on_identity_route", lambda w: _sign(w, "GET", "/data-jwks", scheme="hwk"), 401,
             "identity_required", IDENTITY_CHALLENGE),
    Scenario("hwk_on_auth_route", lambda w: _sign(w, "GET", "/data-auth", scheme="hwk"), 401,
             "authorization_required", IDENTITY_CHALLENGE),
    Scenario("jwks_on_auth_route", lambda w: _sign(w, "GET", "/data-auth"), 401, "authorization_required",
             AUTH_CHALLENGE),
    Scenario("agent_token_where_auth_token_needed", _agent_token_on_auth_route, 401, "authorization_required",
             AUTH_CHALLENGE),
    Scenario("insufficient_scope", lambda w: _jwt(w, "GET", "/data-admin", w.auth_token()), 403,
             "insufficient_scope", AUTH_CHALLENGE),
    # ------------------------------------------------------------ tampering
    Scenario("tampered_method", lambda w: _tamper(_sign(w, "GET", "/data"), method="DELETE"), 401,
             "invalid_signature", "httpsig"),
    Scenario("tampered_path", lambda w: _tamper(_sign(w, "GET", "/data"), path="/data-jwks"), 401,
             "invalid_signature", "httpsig"),
    Scenario("tampered_query", lambda w: _tamper(_sign(w, "GET", "/data?a=1"), path="/data?a=2"), 401,
             "invalid_signature", "httpsig"),
    Scenario("added_query", lambda w: _tamper(_sign(w, "GET", "/data"), path="/data?a=1"), 401,
             "missing_component", "httpsig"),
    Scenario("wrong_authority", _other_host, 401, "invalid_signature", "httpsig"),
    Scenario("tampered_body_and_digest",
             lambda w: _tamper(_sign(w, "POST", "/upload", body=b'{"a": 1}'), body=b'{"a": 2}',
                               headers={"Content-Digest": _digest(b'{"a": 2}')}), 401, "invalid_signature", "httpsig"),
    Scenario("digest_mismatch", lambda w: _tamper(_sign(w, "POST", "/upload", body=b'{"a": 1}'), body=b'{"a": 2}'),
             401, "digest_mismatch", "httpsig"),
    Scenario("body_not_covered", lambda w: _custom(w, "POST", "/upload", ("@method", "@authority", "@path",
                                                                           "signature-key"), body=b"{}"),
             401, "missing_component", "httpsig"),
    Scenario("missing_path_component", lambda w: _custom(w, "GET", "/data", ("@method", "@authority", "signature-key")),
             401, "missing_component", "httpsig"),
    Scenario("label_mismatch", lambda w: _tamper(_sign(w, "GET", "/data"), headers={
        "Signature": _sign(w, "GET", "/data").headers["Signature"].replace("sig1=", "sig2=", 1)}),
        401, "label_mismatch", "httpsig"),
    Scenario("stale_created", lambda w: _sign(w, "GET", "/data", created=NOW - 120), 401, "signature_expired",
             "httpsig"),
    Scenario("future_created", lambda w: _sign(w, "GET", "/data", created=NOW + 120), 401,
             "signature_not_yet_valid", "httpsig"),
    Scenario("replayed_request", lambda w: _sign(w, "GET", "/data"), 401, "replayed_request", "httpsig", repeat=2),
    # ------------------------------------------------------------ keys and tokens
    Scenario("unknown_kid", _unknown_kid, 401, "unknown_key", "httpsig"),
    Scenario("untrusted_issuer", lambda w: _jwt(w, "GET", "/data-auth", w.auth_token(issuer=w.rogue)), 401,
             "untrusted_issuer", IDENTITY_CHALLENGE),
    Scenario("wrong_aud", lambda w: _jwt(w, "GET", "/data-auth", w.auth_token(aud="https://other.example")), 401,
             "invalid_audience", IDENTITY_CHALLENGE),
    Scenario("expired_token", lambda w: _jwt(w, "GET", "/data-auth", w.auth_token(lifetime=60, now=NOW - 200)),
             401, "token_expired", IDENTITY_CHALLENGE),
    Scenario("cnf_mismatch", lambda w: _jwt(w, "GET", "/data-auth", w.auth_token(cnf=SigningKey.generate(kid="x"))),
             401, "invalid_signature", "httpsig"),
    Scenario("ssrf_identifier",
             lambda w: _sign(w, "GET", "/data-jwks", params={"id": "https://169.254.169.254", "kid": "k",
                                                              "well-known": "aauth-agent"}),
             401, "blocked_url", "httpsig"),
]
