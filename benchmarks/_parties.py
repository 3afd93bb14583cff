"""In-process parties for benchmarks: real keys, real documents, an httpx MockTransport.

No sockets: key discovery is answered in memory, so the numbers measure our code
and the cryptography, not the network.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from aauth_core import dialect
from aauth_core.discovery import Discovery
from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import mint_auth_token

NOW = 1_768_786_273
AGENT = "https://agent.example"
RESOURCE = "https://api.example"
ISSUER = "https://as.example"


class Parties:
    """An agent, an auth server and a resource; ``now`` is when the auth token is minted."""

    def __init__(self, now: int = NOW) -> None:
        self.now = now
        self.agent = SigningKey.generate(kid="key-1")
        self.issuer = SigningKey.generate(kid="auth-key-1")
        self.resource = SigningKey.generate(kid="resource-key-1")
        self.documents: dict[str, Any] = {
            f"{AGENT}/.well-known/aauth-agent": {"agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json"},
            f"{AGENT}/jwks.json": jwks_document([self.agent]),
            f"{ISSUER}/.well-known/aauth-issuer": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks.json"},
            f"{ISSUER}/jwks.json": jwks_document([self.issuer]),
        }
        self.token = mint_auth_token(self.issuer, iss=ISSUER, aud=RESOURCE, cnf_jwk=self.agent.public_jwk(),
                                     now=now, agent=AGENT, scope="data.read data.write")

    def settings(self, **overrides: Any) -> AAuthSettings:
        values: dict[str, Any] = dict(resource_id=RESOURCE, auth_server=ISSUER, trusted_issuers=(ISSUER,),
                                      resource_scopes=("data.read", "data.write"), replay_cache_size=1_000_000)
        values.update(overrides)
        return AAuthSettings(**values)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        doc = self.documents.get(str(request.url))
        if doc is None:
            return httpx.Response(404)
        return httpx.Response(200, content=json.dumps(doc).encode(), headers={"Cache-Control": "max-age=86400"})

    def discovery(self, settings: AAuthSettings) -> Discovery:
        async def ahandle(request: httpx.Request) -> httpx.Response:
            return self._handle(request)

        return Discovery(settings, transport=httpx.MockTransport(self._handle),
                         async_transport=httpx.MockTransport(ahandle), clock=lambda: NOW,
                         resolver=lambda host: ["93.184.216.34"])

    def sign(self, method: str, url: str, scheme: str, body: bytes | None = None,
             created: int = NOW) -> tuple[dict[str, str], bytes | None]:
        if scheme == "jwks":
            params = {"id": AGENT, "kid": "key-1", "well-known": dialect.WELL_KNOWN_AGENT}
        elif scheme == "jwt":
            params = {"jwt": self.token}
        else:
            params = {k: v for k, v in self.agent.public_jwk().items() if k != "kid"}
        headers = {"Content-Type": "application/json"} if body else {}
        signed = sign_request(method, url, headers, body, key=self.agent, created=created,
                              signature_key=SignatureKey.build(scheme, params))  # type: ignore[arg-type]
        return {**headers, **signed.headers}, body
