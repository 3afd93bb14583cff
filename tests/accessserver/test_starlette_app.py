"""The access server over HTTP (``aauth_starlette.accessserver``): the same answers through a
real ASGI app, signed requests built for the issuer's own authority."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_starlette.accessserver import MAX_BODY, build_access_server_app

from ..conftest import FrozenClock
from .harness import AS, TOKEN, FourParty, build, claims_of


def run(four: FourParty, method: str, url: str, *, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_access_server_app(four.server))
        async with httpx.AsyncClient(transport=transport, base_url=AS) as client:
            return await client.request(method, url, content=body, headers=headers)

    return asyncio.run(go())


def test_documents(four: FourParty) -> None:
    meta = run(four, "GET", "/.well-known/aauth-access.json")
    assert meta.status_code == 200 and meta.json() == four.server.metadata()
    assert meta.headers["cache-control"] == "max-age=300"
    assert run(four, "GET", "/jwks.json").json() == four.server.jwks()


def test_a_token_over_http_and_the_resource_accepts_it(four: FourParty) -> None:
    raw = json.dumps(four.body()).encode()
    reply = run(four, "POST", TOKEN, body=raw, headers=four.ps_headers("POST", TOKEN, raw))
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    token = reply.json()["auth_token"]
    assert claims_of(token)["iss"] == AS
    four.clock.advance(1)
    assert four.call_resource(token)[0] == 200


def test_a_refusal_over_http(four: FourParty) -> None:
    raw = json.dumps(four.body()).encode()
    reply = run(four, "POST", TOKEN, body=raw, headers={"Content-Type": "application/json"})
    assert reply.status_code == 401 and reply.headers["signature-error"] == "error=invalid_signature"
    assert reply.headers["content-type"] == "application/problem+json"


def test_a_body_too_large(four: FourParty) -> None:
    raw = b"{" + b" " * MAX_BODY + b"}"
    reply = run(four, "POST", TOKEN, body=raw, headers={"Content-Type": "application/json"})
    assert reply.status_code == 413 and reply.json()["error"] == "invalid_request"


class Approval:
    def decide(self, request: AccessRequest) -> AccessDecision:
        return AccessDecision.need_approval()


def test_pending_over_http(clock: FrozenClock) -> None:
    four = build(clock, policy=Approval())
    raw = json.dumps(four.body()).encode()
    reply = run(four, "POST", TOKEN, body=raw, headers=four.ps_headers("POST", TOKEN, raw))
    assert reply.status_code == 202 and reply.json() == {"status": "pending"}
    location = reply.headers["location"]
    four.clock.advance(1)
    poll: Any = run(four, "GET", location, headers=four.ps_headers("GET", location, None))
    assert poll.status_code == 202 and poll.headers["aauth-requirement"] == "requirement=approval"
    assert four.server.approve(location.rsplit("/", 1)[1])
    four.clock.advance(1)
    poll = run(four, "GET", location, headers=four.ps_headers("GET", location, None))
    assert poll.status_code == 200 and "auth_token" in poll.json()
