"""The four-party wire in one process: an agent provider, a test-only person server, our
resource (``AAuthService`` with ``access_server``) and the access server under test.

Every party publishes real metadata and JWKS on the test network; tokens are real JWTs and
every request is really signed.  The test person server signs as itself
(``sig=jwks_uri;id=…;dwk="aauth-person.json";kid=…``, body covered, standard base64) and
mints person tokens with ``mint_person_token_11``.  One ``httpx.MockTransport`` carries every
fetch and the access server's revocation POSTs; it fails the test if asked for a host the SSRF
guard must have stopped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from aauth_core.accessserver import AccessPolicy, AccessServer, AccessServerConfig
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError
from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings, parse_requirement
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import mint_agent_token_11, mint_person_token_11, mint_resource_token_11
from aauth_core.wire.coverage import required_components_11
from aauth_core.wire.requirement import parse_requirement as parse_aauth_requirement

from ..conftest import NOW, PUBLIC_IP, FrozenClock, Network
from ..profile11.mint import publish_ap, publish_server, sign11

AP = "https://ap.example"
PS = "https://ps.example"
AS = "https://as.example"
RESOURCE = "https://api.example"
AGENT_ID = "aauth:Assistant.7f@ap.example"
PERSON_SUB = "8f14e45fceea167a5a36dedd4bea2543"
MISSION = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
DATA = RESOURCE + "/data"
TOKEN = AS + "/token"
#: Hosts the SSRF guard must refuse before any packet: they resolve to non-public addresses.
FORBIDDEN = {"internal.example": "10.0.0.7", "loopback.example": "127.0.0.1", "meta.example": "169.254.169.254"}


@dataclass
class FourParty:
    """The parties, their keys, and what crossed the wire."""

    clock: FrozenClock
    network: Network
    ap_key: SigningKey
    ps_key: SigningKey
    as_key: SigningKey
    resource_key: SigningKey
    agent_key: SigningKey
    resource: AAuthService
    server: AccessServer
    revocations_sent: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ the agent's and PS's tokens

    def agent_token(self, *, key: SigningKey | None = None, **over: Any) -> str:
        args: dict[str, Any] = {"iss": AP, "sub": AGENT_ID, "cnf_jwk": (key or self.agent_key).public_jwk(),
                                "now": self.clock(), "ps": PS}
        args.update(over)
        return mint_agent_token_11(self.ap_key, **args)

    def person_token(self, *, key: SigningKey | None = None, jti: str = "pt-1", **over: Any) -> str:
        args: dict[str, Any] = {"iss": PS, "aud": RESOURCE, "sub": PERSON_SUB,
                                "cnf_jwk": (key or self.agent_key).public_jwk(), "now": self.clock(),
                                "mission_s256": MISSION, "tenant": "acme", "jti": jti}
        args.update(over)
        return mint_person_token_11(self.ps_key, **args)

    def minted_resource_token(self, *, key: SigningKey | None = None, **over: Any) -> str:
        """A resource token minted by hand (what our resource would mint, unless told otherwise)."""
        args: dict[str, Any] = {"iss": RESOURCE, "aud": AS, "ps": PS, "sub": PERSON_SUB, "presented_jti": "pt-1",
                                "agent_jkt": self.agent_key.thumbprint, "now": self.clock(), "scope": "data.read",
                                "mission_s256": MISSION, "tenant": "acme"}
        args.update(over)
        return mint_resource_token_11(key or self.resource_key, **{k: v for k, v in args.items() if v is not None})

    def stored(self) -> int:
        """How many pending requests and issued tokens the access server holds."""
        return len(self.server.store.inner)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the resource

    def call_resource(self, token: str, *, level: str = "authorization:data.read",
                      created: int | None = None) -> tuple[int, dict[str, str], Any]:
        """The agent calls the resource, signing with its key and presenting ``token``."""
        headers = sign11("GET", DATA, self.agent_key, token, created=int(self.clock()) if created is None else created)
        view = RequestView.from_url("GET", DATA, headers)
        svc = self.resource
        try:
            svc.require(svc.verify(view), parse_requirement(level))
        except AAuthError as exc:
            reply = svc.error_response(exc)
            return reply.status, dict(reply.headers), json.loads(reply.body)
        return 200, {}, None

    def resource_token(self, presented: str | None = None, *, level: str = "authorization:data.read") -> str:
        """The resource's challenge to a person token: its ``resource-token``."""
        status, headers, _ = self.call_resource(presented or self.person_token(), level=level)
        assert status == 401, (status, headers)
        token = parse_aauth_requirement(headers["AAuth-Requirement"]).resource_token
        assert token is not None
        return token

    # ------------------------------------------------------------------ the person server's call

    def ps_headers(self, method: str, url: str, body: bytes | None, *, server: str = PS,
                   key: SigningKey | None = None, dwk: str = "aauth-person.json", created: int | None = None,
                   components: tuple[str, ...] | None = None, extra: Mapping[str, str] | None = None,
                   ) -> dict[str, str]:
        key = key or self.ps_key
        sigkey = SignatureKey.build("jwks", {"id": server, "well-known": dwk, "kid": key.kid or ""},
                                    label="sig", fmt="sk")
        headers = {"Content-Type": "application/json"} if body else {}
        headers.update(extra or {})
        signed = sign_request(method, url, headers, body, key=key, signature_key=sigkey,
                              created=int(self.clock()) if created is None else created, encoding="base64",
                              components=components or required_components_11(body=bool(body)))
        return {**headers, **signed.headers}

    def token_request(self, body: Mapping[str, Any] | bytes, **kw: Any) -> tuple[RequestView, bytes]:
        raw = body if isinstance(body, bytes) else json.dumps(dict(body)).encode()
        return RequestView.from_url("POST", TOKEN, self.ps_headers("POST", TOKEN, raw, **kw), raw), raw

    def federate(self, body: Mapping[str, Any] | bytes | None = None, **kw: Any) -> tuple[int, dict[str, str], Any]:
        """The person server's ``POST /token`` to the access server (blocking)."""
        view, _ = self.token_request(self.body() if body is None else body, **kw)
        reply = self.server.token(view)
        return reply.status, dict(reply.headers), json.loads(reply.body) if reply.body else None

    def body(self, **over: Any) -> dict[str, Any]:
        """A valid federation body: resource token from the resource, agent and person tokens."""
        person = over.pop("presented_token", None) or self.person_token()
        body = {"resource_token": over.pop("resource_token", None) or self.resource_token(person),
                "agent_token": over.pop("agent_token", None) or self.agent_token(), "presented_token": person}
        body.update(over)
        return {k: v for k, v in body.items() if v is not None}

    def poll(self, location: str, *, method: str = "GET", body: Mapping[str, Any] | None = None,
             **kw: Any) -> tuple[int, dict[str, str], Any]:
        raw = None if body is None else json.dumps(dict(body)).encode()
        view = RequestView.from_url(method, location, self.ps_headers(method, location, raw, **kw), raw)
        reply = self.server.poll(view, location.rsplit("/", 1)[1])
        return reply.status, dict(reply.headers), json.loads(reply.body) if reply.body else None


def claims_of(token: str) -> dict[str, Any]:
    return dict(peek(token).claims)


def build(clock: FrozenClock, *, policy: AccessPolicy | None = None,
          resources: Mapping[str, tuple[str, ...]] | None = None, person_servers: tuple[str, ...] = (), store_url: str = "memory://") -> FourParty:
    network = Network()
    ap_key, ps_key = SigningKey.generate(kid="ap-key-1"), SigningKey.generate(kid="ps-key-1")
    as_key, resource_key = SigningKey.generate(kid="as-key-1"), SigningKey.generate(kid="rs-key-1")
    publish_ap(network, ap_key, ap=AP)
    publish_server(network, ps_key, PS, "aauth-person.json")
    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), access_server=AS,
                             resource_scopes=("data.read", "data.write"))
    resolver = _resolver
    resource = AAuthService(settings, keys=[resource_key], clock=clock, discovery=Discovery(
        settings, transport=network.transport, async_transport=network.async_transport, clock=clock,
        resolver=resolver))
    for path in ("/.well-known/aauth-resource.json", "/jwks.json"):
        network.publish(RESOURCE + path, json.loads(resource.document(path) or b""))
    party: FourParty
    transport = httpx.MockTransport(lambda request: _route(party, request))

    async def arouted(request: httpx.Request) -> httpx.Response:
        return _route(party, request)

    config = AccessServerConfig(issuer=AS, keys=(as_key,), person_servers=person_servers, store_url=store_url,
                                resources=resources if resources is not None else {RESOURCE: ("data.read",)})
    server = AccessServer(config, policy=policy, clock=clock, resolver=resolver, transport=transport,
                          async_transport=httpx.MockTransport(arouted))
    network.publish(AS + "/.well-known/aauth-access.json", server.metadata())
    network.publish(AS + "/jwks.json", server.jwks())
    party = FourParty(clock, network, ap_key, ps_key, as_key, resource_key, SigningKey.generate(), resource, server)
    return party


def _resolver(host: str) -> list[str]:
    return [FORBIDDEN.get(host, PUBLIC_IP)]


def _route(party: FourParty, request: httpx.Request) -> httpx.Response:
    """The network: the resource's revocation endpoint, else the published documents."""
    host = request.url.host
    assert host not in FORBIDDEN, f"the SSRF guard let a request through to {host}"
    if request.method == "POST" and str(request.url) == RESOURCE + "/aauth/revoke":
        body = request.read()
        view = RequestView.from_url("POST", str(request.url), list(request.headers.items()), body)
        reply = party.resource.revoke(view)
        party.revocations_sent.append({"status": reply.status, "body": json.loads(body)})
        return httpx.Response(reply.status, content=reply.body, headers=dict(reply.headers))
    assert request.method == "GET", f"unexpected {request.method} {request.url}"
    return party.network._handle(request)


__all__ = ["AGENT_ID", "AP", "AS", "DATA", "FORBIDDEN", "MISSION", "NOW", "PERSON_SUB", "PS", "RESOURCE", "TOKEN",
           "FourParty", "build", "claims_of"]
