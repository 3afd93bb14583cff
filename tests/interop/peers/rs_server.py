"""Driver: aauth 0.5.0's resource (``RequestVerifier``, ``ChallengeBuilder``) behind a small ASGI
app served by uvicorn on 127.0.0.1.  Runs under .interop/py, never under .venv;
tests/interop/peer_servers.py starts it (the stdin/stdout protocol is in loopback.py).

configuration: {"fd", "routes", "resource": "https://rs-peer.example",
  "person_servers": [trusted for person and auth tokens], "scope": the scope /data asks for}

Routes (the HTTP glue is this driver's; every verdict and challenge is aauth's):

* ``/.well-known/aauth-resource.json`` and ``/.well-known/jwks.json``: its metadata and the key
  its resource tokens are signed with (unsigned GETs).
* ``/whoami``, agent-token mode: ``verify_request(require_identity=True)``; 200 with the verified
  agent, or 401 (``AAuth-Requirement: requirement=agent-token`` from ``ChallengeBuilder`` when no
  signature is sent; ``Signature-Error: error=<aauth's code>`` from ``build_signature_error`` when
  verification fails).
* ``/data``, three-party mode: an agent token or nothing gets the ``person-token`` requirement; a
  verified person token gets the ``auth-token`` requirement with a resource token that
  ``ChallengeBuilder`` mints (``aud`` = the person token's issuer); a verified auth token with the
  scope gets 200.

The ``JWKS`` fetcher does two-step discovery (``{iss}/.well-known/{dwk}``, ``issuer`` checked,
https ``jwks_uri``) over the loopback host table.  Error bodies carry aauth's code, never its
message (which can quote a signature header).
"""

import asyncio
import json
from urllib.parse import urlsplit

import httpx
from aauth.headers.aauth_header import (
    HEADER_AAUTH_REQUIREMENT,
    HEADER_SIGNATURE_ERROR,
    build_person_token_requirement,
    build_signature_error,
)
from aauth.keys.jwk import calculate_jwk_thumbprint, jwk_to_public_key, public_key_to_jwk
from aauth.resource.challenge_builder import ChallengeBuilder
from aauth.resource.verifier import RequestVerifier
from aauth.signing.signature_key import parse_signature_key
from aauth.tokens.common import parse_jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from loopback import LoopbackTransport, read_config, serve  # beside this driver

KID = "rs-peer-key-1"
SIGNATURE_HEADERS = ("signature", "signature-input", "signature-key")


def jwks_fetcher(routes):
    client = httpx.Client(transport=LoopbackTransport(routes), follow_redirects=False, timeout=10)

    def fetch(issuer, dwk, kid=None):
        try:
            metadata = client.get(f"{issuer}/.well-known/{dwk}").json()
            if metadata.get("issuer") != issuer or not str(metadata.get("jwks_uri", "")).startswith("https://"):
                return None
            return client.get(metadata["jwks_uri"]).json()
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    return fetch


def presented_typ(headers):
    """The ``typ`` of the token the Signature-Key presents (unverified: it only picks the branch)."""
    try:
        key = parse_signature_key(headers.get("signature-key", ""))
        header, _ = parse_jwt(key["params"].get("jwt"))
        return header.get("typ")
    except Exception:  # a malformed header is the verifier's to refuse
        return None


class Resource:
    def __init__(self, config):
        self.id = config["resource"]
        self.scope = config["scope"]
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.fetcher = jwks_fetcher(config["routes"])
        self.verifier = RequestVerifier({urlsplit(self.id).netloc}, self.fetcher,
                                        trusted_person_servers=config["person_servers"],
                                        trusted_auth_servers=config["person_servers"], resource_id=self.id)

    def documents(self):
        return {"/.well-known/aauth-resource.json": {"issuer": self.id, "jwks_uri": f"{self.id}/.well-known/jwks.json",
                                                     "access_mode": ["agent-token", "auth-token"]},
                "/.well-known/jwks.json": {"keys": [public_key_to_jwk(self.key.public_key(), KID)]}}

    def whoami(self, method, uri, headers, body):
        if not any(name in headers for name in SIGNATURE_HEADERS):
            return challenge(ChallengeBuilder(self.id, self.key, KID, None).build_challenge(require_identity=True))
        verdict = self.verifier.verify_request(method, uri, headers, body, require_identity=True)
        if not verdict["valid"]:
            return refusal(verdict)
        claims = verdict["claims"]
        return 200, {}, {"agent": verdict["agent_id"], "agent_provider": claims["iss"], "ps": claims.get("ps"),
                         "jkt": calculate_jwk_thumbprint(claims["cnf"]["jwk"]), "token_type": verdict["token_type"]}

    def data(self, method, uri, headers, body):
        typ = presented_typ(headers) if any(name in headers for name in SIGNATURE_HEADERS) else None
        if typ == "aa-auth+jwt":
            verdict = self.verifier.verify_request(method, uri, headers, body, require_auth_token=True,
                                                   required_scopes=[self.scope])
            if not verdict["valid"]:
                return refusal(verdict)
            return 200, {}, {"sub": verdict["user_sub"], "ps": verdict["person_server"], "scope": verdict["scopes"]}
        if typ != "aa-person+jwt":
            if typ is not None:
                verdict = self.verifier.verify_request(method, uri, headers, body)
                if not verdict["valid"]:
                    return refusal(verdict)
            return challenge((HEADER_AAUTH_REQUIREMENT, build_person_token_requirement()))
        verdict = self.verifier.verify_request(method, uri, headers, body, require_person_token=True)
        if not verdict["valid"]:
            return refusal(verdict)
        person = verdict["claims"]
        builder = ChallengeBuilder(self.id, self.key, KID, person["iss"], self.fetcher)
        return challenge(builder.build_challenge(
            require_auth_token=True, presented_token=parse_signature_key(headers["signature-key"])["params"]["jwt"],
            agent_public_key=jwk_to_public_key(person["cnf"]["jwk"]), scope=self.scope))


def challenge(header):
    name, value = header
    return 401, {name: value}, None


def refusal(verdict):
    code = verdict.get("error_code") or "invalid_signature"
    if code == "insufficient_scope":
        return 403, {}, {"error": code}
    return 401, {HEADER_SIGNATURE_ERROR: build_signature_error(code)}, {"error": code}


def build(config):
    resource = Resource(config)
    documents, routes = resource.documents(), {"/whoami": resource.whoami, "/data": resource.data}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope["query_string"].decode("latin-1")
        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        uri = f"https://{headers.get('host', '')}{path}" + (f"?{query}" if query else "")
        if scope["method"] == "GET" and scope["path"] in documents:
            status, extra, answer = 200, {}, documents[scope["path"]]
        elif scope["path"] in routes:
            status, extra, answer = await asyncio.to_thread(routes[scope["path"]], scope["method"], uri, headers,
                                                            body or None)
        else:
            status, extra, answer = 404, {}, {"error": "not_found"}
        out = [(k.encode(), v.encode()) for k, v in extra.items()]
        if answer is not None:
            media = "application/json" if status == 200 else "application/problem+json"
            out.append((b"content-type", media.encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"" if answer is None else json.dumps(answer).encode()})

    return app


def main():
    config = read_config()
    serve(build(config), config["fd"])


main()
