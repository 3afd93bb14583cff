"""The aauth-11 agent provider: its documents, its agent tokens, key rotation, and its ASGI app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from aauth_core.client import AgentProvider, SignerOptions
from aauth_core.keys import PublicKey, SigningKey
from aauth_core.profile.identifiers import InvalidIdentifier
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature

from ..conftest import NOW, FrozenClock
from .conftest import Net11
from .parties import AP, PS, RESOURCE


def provider(*keys: SigningKey, **kw: Any) -> AgentProvider:
    return AgentProvider(kw.pop("issuer", AP), keys or [SigningKey.generate(kid="ap-1")], clock=FrozenClock(), **kw)


def test_documents() -> None:
    p256 = SigningKey.generate("p256", kid="ap-2")
    ap = provider(SigningKey.generate(kid="ap-1"), p256, metadata_extra={"callback_endpoint": f"{AP}/callback"})
    assert ap.metadata() == {"issuer": AP, "jwks_uri": f"{AP}/.well-known/jwks.json",
                             "callback_endpoint": f"{AP}/callback"}
    keys = ap.jwks()["keys"]
    assert [(k["kid"], k["alg"]) for k in keys] == [("ap-1", "Ed25519"), ("ap-2", "ES256")]
    assert all("d" not in k for k in keys)


def test_agent_token_claims() -> None:
    ap, agent = provider(), SigningKey.generate()
    token = ap.issue_agent_token("assistant", agent.public_jwk(), ps=PS, lifetime=600)
    unverified = peek(token)
    assert unverified.header == {"alg": "Ed25519", "kid": "ap-1", "typ": "aa-agent+jwt"}
    claims = unverified.claims
    assert (claims["iss"], claims["dwk"], claims["sub"], claims["ps"]) == (
        AP, "aauth-agent.json", "aauth:assistant@ap.example", PS)
    assert claims["exp"] - claims["iat"] == 600 and claims["iat"] == NOW and claims["jti"]
    assert PublicKey.from_jwk(claims["cnf"]["jwk"]).thumbprint == agent.thumbprint
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519" and "kid" not in claims["cnf"]["jwk"]
    verify_signature(token, "Ed25519", ap.keys[0].public)
    assert "ps" not in peek(ap.issue_agent_token("aauth:assistant@ap.example", agent.public_jwk())).claims


def test_rotation_signs_with_the_first_key_and_publishes_all() -> None:
    old, new = SigningKey.generate(kid="old"), SigningKey.generate(kid="new")
    before = provider(old).issue_agent_token("a", SigningKey.generate().public_jwk())
    rotated = provider(new, old)
    after = rotated.issue_agent_token("a", SigningKey.generate().public_jwk())
    assert peek(before).kid == "old" and peek(after).kid == "new"
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {"new", "old"}  # tokens signed before still verify


@pytest.mark.parametrize("issuer", ["http://ap.example", "https://ap.example/", "https://ap.example:8443",
                                    "https://AP.example", "https://10.0.0.1", "http://127.0.0.1:8001"])
def test_bad_issuers_are_refused(issuer: str) -> None:
    with pytest.raises(InvalidIdentifier):
        provider(issuer=issuer)


def test_loopback_for_development() -> None:
    ap = provider(issuer="http://127.0.0.1:8001", allow_loopback=True)
    assert ap.host == "127.0.0.1:8001" and ap.agent_id("dev") == "aauth:dev@127.0.0.1:8001"
    token = ap.issue_agent_token("dev", SigningKey.generate().public_jwk(), ps="http://127.0.0.1:8002")
    assert peek(token).claims["ps"] == "http://127.0.0.1:8002"


@pytest.mark.parametrize(("kw", "message"), [
    ({"keys": []}, "kid"),
    ({"keys": [SigningKey.generate()]}, "kid"),
    ({"keys": [SigningKey.generate(kid="a"), SigningKey.generate(kid="a")]}, "distinct"),
    ({"metadata_extra": {"login_endpoint": "https://ap.example/login"}}, "login_endpoint"),
    ({"metadata_extra": {"issuer": "https://other.example"}}, "issuer"),
    ({"agent_token_lifetime": 25 * 3600}, "between"),
])
def test_bad_configuration_is_refused(kw: dict[str, Any], message: str) -> None:
    keys = kw.pop("keys", [SigningKey.generate(kid="ap-1")])
    with pytest.raises(ValueError, match=message):
        AgentProvider(AP, keys, **kw)


@pytest.mark.parametrize("agent", ["bad local!", "aauth:a@other.example", "a+b+c", "", "aauth:a@ap.example:1"])
def test_bad_agent_identifiers_are_refused(agent: str) -> None:
    with pytest.raises(ValueError):
        provider().issue_agent_token(agent, SigningKey.generate().public_jwk())


@pytest.mark.parametrize("ps", ["http://ps.example", "https://ps.example/", "ps.example"])
def test_bad_person_servers_are_refused(ps: str) -> None:
    with pytest.raises(InvalidIdentifier):
        provider().issue_agent_token("a", SigningKey.generate().public_jwk(), ps=ps)


def test_a_private_cnf_key_is_refused() -> None:
    with pytest.raises(ValueError):
        provider().issue_agent_token("a", SigningKey.generate().private_jwk())


def test_agent_signer_signs_under_aauth_11(net: Net11) -> None:
    signer = net.provider.agent_signer("assistant", net.agent_key, ps=PS)
    assert signer.scheme == "jwt" and signer.options.profile == "aauth-11"
    assert peek(signer.params["jwt"]).claims["sub"] == "aauth:assistant@ap.example"
    with pytest.raises(ValueError, match="aauth-11"):
        net.provider.agent_signer("assistant", net.agent_key, options=SignerOptions())


def test_token_source_renews_before_expiry() -> None:
    ap, agent = provider(), SigningKey.generate()
    source = ap.token_source("a", agent, lifetime=3600)
    first = source()
    assert source() is first
    ap.clock.advance(3600 - 301)  # type: ignore[attr-defined]
    assert source() is first
    ap.clock.advance(2)  # type: ignore[attr-defined]
    assert source() != first


# ----------------------------------------------------------------------------- the ASGI app


def serve(ap: AgentProvider, method: str, path: str) -> httpx.Response:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ap.asgi_app()), base_url=AP) as client:
            return await client.request(method, path)

    return asyncio.run(run())


def test_asgi_app_serves_the_documents() -> None:
    ap = provider()
    meta = serve(ap, "GET", "/.well-known/aauth-agent.json")
    assert meta.status_code == 200 and meta.json() == ap.metadata()
    assert meta.headers["content-type"] == "application/json" and meta.headers["cache-control"] == "max-age=300"
    jwks = serve(ap, "GET", "/.well-known/jwks.json")
    assert jwks.json() == ap.jwks()
    head = serve(ap, "HEAD", "/.well-known/jwks.json")
    assert head.status_code == 200 and head.content == b""
    assert serve(ap, "POST", "/.well-known/jwks.json").status_code == 405
    assert serve(ap, "GET", "/other").status_code == 404


def test_asgi_app_lifespan() -> None:
    app = provider().asgi_app()
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app({"type": "lifespan"}, receive, send))  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_resource_verifies_agents_of_a_provider_published_by_its_app(net: Net11) -> None:
    """The documents the app serves are what a resource's real verifier needs."""
    ap = AgentProvider("https://ap2.example", [SigningKey.generate(kid="k")], clock=net.world.clock)
    for path in ("/.well-known/aauth-agent.json", "/.well-known/jwks.json"):
        net.world.network.publish("https://ap2.example" + path, json.loads(serve(ap, "GET", path).content))
    auth = ap.agent_auth("bot", net.agent_key, library=net.lib.__name__, options=net.options())
    response = net.get(auth, "/agent")
    assert response.status_code == 200 and response.json()["agent"] == "aauth:bot@ap2.example"
    assert RESOURCE in net.router.seen[0].url
