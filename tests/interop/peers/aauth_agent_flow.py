"""Driver: aauth 0.5.0's agent runs the three-party flow against OUR live servers (issue 15).
Runs under .interop/py, never under .venv; one JSON request on stdin, one JSON answer on stdout.

Every step is aauth's own agent code: ``create_agent_token`` (aauth as its agent provider, the
token naming ``ps``), ``AgentRequestSigner`` for the resource requests, ``ChallengeHandler``
for the resource's ``AAuth-Requirement``, ``request_person_token`` (the person server's
metadata, a signed ``POST person_token_endpoint``, the person token verified against the
person server's JWKS), ``extract_resource_token`` and ``exchange_resource_token`` (the resource
token and the returned auth token verified, a signed ``POST auth_token_endpoint``).  The driver
only sequences them:

  GET url (agent token) → 401 person-token → person token → GET url (person token)
  → 401 auth-token + resource token → auth token → GET url (auth token) → 200

stdin: {"routes": {host: port}, "ap", "ap_key" (private JWK with kid), "agent_key" (private
        JWK), "sub", "ps", "resource" (the resource identifier), "url",
        "person_token_for" (the resource asked for in the person-token request; default
        "resource"), "agent_token_ps" (the agent token's ``ps``; default "ps"),
        "tamper_hosts" (hosts whose Signature is changed in flight)}
stdout: {"exchanges": every HTTP exchange (loopback_async.py: no body, no token),
         "error": null or {"stage", "type", "code"}: aauth's error, or ``Unexpected`` with the
         status when the resource did not challenge as expected,
         "answer": the final JSON body or null,
         "person", "resource_token", "auth": the claims of each token (never the token)}
"""

import asyncio
import json
import sys

import httpx
from aauth.agent import AgentRequestSigner, ChallengeHandler, exchange_resource_token, extract_resource_token
from aauth.agent.token_exchange import request_person_token
from aauth.errors import AAuthError
from aauth.headers.aauth_header import get_challenge_header_value
from aauth.tokens.agent_token import create_agent_token
from aauth.tokens.common import parse_jwt
from jwk_keys import private_key  # beside this driver
from loopback import LoopbackTransport
from loopback_async import AsyncLoopbackTransport


def jwks_fetcher(routes):
    """aauth's two-step discovery, ``{iss}/.well-known/{dwk}`` (issuer checked) then its https
    ``jwks_uri``, over the loopback host table (as rs_server.py)."""
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


class Unexpected(Exception):
    """The resource answered something other than the challenge the flow expects next."""

    def __init__(self, status):
        super().__init__(status)
        self.error_code = status


def claims(token):
    return parse_jwt(token)[1] if token else None


class Flow:
    def __init__(self, req):
        self.req = req
        agent_jwk = req["agent_key"]
        self.key = private_key(agent_jwk)
        cnf = {k: agent_jwk[k] for k in ("kty", "crv", "x", "y") if k in agent_jwk}
        cnf["alg"] = "Ed25519" if agent_jwk["kty"] == "OKP" else "ES256"
        self.agent_jwt = create_agent_token(req["ap"], req["sub"], cnf, private_key(req["ap_key"]),
                                            req["ap_key"]["kid"], ps=req.get("agent_token_ps") or req["ps"])
        self.signer = AgentRequestSigner(self.key, agent_token=self.agent_jwt)
        self.fetcher = jwks_fetcher(req["routes"])
        self.transport = AsyncLoopbackTransport(req["routes"], tamper_hosts=req.get("tamper_hosts") or ())
        self.tokens = {}
        self.stage = "agent-token request"

    async def call(self, client, token=None):
        headers = {}
        headers.update(self.signer.sign_request("GET", self.req["url"], headers, None, token=token))
        return await client.get(self.req["url"], headers=headers)

    def requirement(self, response, expected):
        if "aauth-requirement" not in response.headers:
            raise Unexpected(response.status_code)
        challenge = ChallengeHandler().parse_challenge(get_challenge_header_value(response.headers))
        ChallengeHandler().determine_response_scheme(challenge, has_agent_token=True, has_person_token=True,
                                                     has_auth_token=True)
        if response.status_code != 401 or challenge.get("requirement") != expected:
            raise Unexpected(response.status_code)

    async def run(self, client):
        req = self.req
        self.requirement(await self.call(client), "person-token")
        self.stage = "person token"
        self.tokens["person"] = await request_person_token(
            req["ps"], req.get("person_token_for") or req["resource"], self.key, self.agent_jwt,
            jwks_fetcher=self.fetcher, http_client=client)
        self.stage = "person-token request"
        answer = await self.call(client, self.tokens["person"])
        self.requirement(answer, "auth-token")
        self.tokens["resource_token"] = extract_resource_token(answer.headers)
        self.stage = "auth token"
        self.tokens["auth"] = await exchange_resource_token(
            self.tokens["resource_token"], self.key, self.agent_jwt, presented_token=self.tokens["person"],
            resource_id=req["resource"], person_server=req["ps"], jwks_fetcher=self.fetcher, http_client=client)
        self.stage = "auth-token request"
        answer = await self.call(client, self.tokens["auth"])
        return answer.json() if answer.status_code == 200 else None


async def main():
    flow = Flow(json.load(sys.stdin))
    answer, error = None, None
    async with httpx.AsyncClient(transport=flow.transport, follow_redirects=False, timeout=30) as client:
        try:
            answer = await flow.run(client)
        except (AAuthError, Unexpected) as exc:  # a refusal, by aauth's own code; its message may quote a header
            error = {"stage": flow.stage, "type": type(exc).__name__, "code": getattr(exc, "error_code", None)}
    json.dump({"exchanges": flow.transport.exchanges, "error": error, "answer": answer,
               **{name: claims(flow.tokens.get(name)) for name in ("person", "resource_token", "auth")}},
              sys.stdout)


asyncio.run(main())
