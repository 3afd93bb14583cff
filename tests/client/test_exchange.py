"""Resource as agent: token exchange over two and three hops, with nested ``act``."""

from __future__ import annotations

from typing import Any

import pytest

from aauth_core import dialect
from aauth_core.client import ResourceAgent
from aauth_core.context import VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek

from ..conftest import AGENT, ISSUER, RESOURCE, Party
from .conftest import Net
from .parties import TinyAS, TinyResource

R2, AS2 = "https://r2.example", "https://as2.example"
R3, AS3 = "https://r3.example", "https://as3.example"


def _party(net: Net, ident: str, kid: str, well_known: str) -> Party:
    party = Party(ident, SigningKey.generate(kid=kid), well_known)
    party.publish(net.world.network)
    return party


def _hop(net: Net, upstream: TinyResource, resource_id: str, as_id: str, trusted_upstream: str) -> TinyResource:
    """Add resource ``resource_id`` guarded by ``as_id`` (which trusts ``trusted_upstream``) and make
    ``upstream`` call it through a ResourceAgent on every authorised request."""
    party = _party(net, resource_id, "resource-key-1", dialect.WELL_KNOWN_RESOURCE)  # kids collide on purpose
    as_party = _party(net, as_id, "auth-key-1", dialect.WELL_KNOWN_ISSUER)
    resource = TinyResource(net.world, party, auth_server=as_id, trusted=(as_id,))
    net.router.routes[resource_id] = resource
    net.router.routes[as_id] = TinyAS(net.world, as_party, trusted=(trusted_upstream,))
    agent = ResourceAgent(upstream.party.id, [upstream.party.key], options=net.options(),
                          library=net.lib.__name__)

    def call(verified: VerifiedRequest) -> Any:
        try:
            with agent.client(verified, transport=net.router.transport) as client:
                response = client.get(f"{resource_id}/data-auth")
        except AAuthError as exc:
            return {"error": exc.code, "status": exc.status_code}
        return {"status": response.status_code, "body": response.json()}

    upstream.downstream = call
    return resource


def test_two_hops(net: Net, mode: str) -> None:
    r2 = _hop(net, net.resource, R2, AS2, ISSUER)
    response = net.get(net.auth(), mode=mode)
    assert response.status_code == 200, response.text
    down = response.json()["downstream"]
    assert down["status"] == 200, down
    claims = down["body"]["claims"]
    assert claims["iss"] == AS2 and claims["aud"] == R2 and claims["agent"] == RESOURCE
    assert claims["act"] == {"agent": AGENT}
    assert r2.seen[-1].act[0].agent == AGENT
    # The wire shape of vector 5: exchange form, upstream token presented, R1's jwks identity first.
    to_r2 = net.router.to(f"{R2}/")
    assert to_r2[0].headers["signature-key"] == (
        'sig1=(scheme=jwks id="https://api.example" kid="resource-key-1" well-known="aauth-resource")')
    exchange = net.router.to(f"{AS2}/agent/token")[0]
    assert exchange.body.decode().startswith("request_type=exchange&resource_token=ey")
    assert "redirect_uri" not in exchange.form
    upstream_token = net.resource.seen[-1].token
    assert exchange.headers["signature-key"] == f'sig1=(scheme=jwt jwt="{upstream_token}")'
    exchanged = to_r2[-1].headers["signature-key"]
    assert exchanged.startswith('sig1=(scheme=jwt jwt="') and upstream_token not in exchanged


def test_three_hops_nest_act(net: Net) -> None:
    r2 = _hop(net, net.resource, R2, AS2, ISSUER)
    _hop(net, r2, R3, AS3, AS2)
    response = net.get(net.auth())
    assert response.status_code == 200, response.text
    hop2 = response.json()["downstream"]
    hop3 = hop2["body"]["downstream"]
    assert hop3["status"] == 200, hop3
    claims = hop3["body"]["claims"]
    assert claims["iss"] == AS3 and claims["aud"] == R3 and claims["agent"] == R2
    assert claims["act"] == {"agent": RESOURCE, "act": {"agent": AGENT}}
    assert hop3["body"]["act"] == {"agent": RESOURCE, "act": {"agent": AGENT}}


def test_exchange_carries_user_sub(net: Net) -> None:
    net.auth_server.consent = True
    _hop(net, net.resource, R2, AS2, ISSUER)
    response = net.get(net.auth(interaction=net.auth_server.approve))
    claims = response.json()["downstream"]["body"]["claims"]
    assert claims["sub"] == "testuser" and claims["act"] == {"agent": AGENT, "sub": "testuser"}


def test_exchanged_token_cached_per_upstream(net: Net) -> None:
    _hop(net, net.resource, R2, AS2, ISSUER)
    as2: TinyAS = net.router.routes[AS2]  # type: ignore[assignment]

    def tick(request: object) -> None:
        net.world.clock.advance(1)

    net.resource.before = tick
    auth = net.auth()
    net.send(auth, [("GET", f"{RESOURCE}/data-auth", {})] * 3)
    assert as2.calls == ["exchange"]  # same upstream token: reused
    net.send(net.auth(), [("GET", f"{RESOURCE}/data-auth", {})])  # a new agent session: new upstream token
    assert as2.calls == ["exchange", "exchange"]


def test_untrusted_upstream_issuer_refused(net: Net) -> None:
    _hop(net, net.resource, R2, AS2, "https://someone-else.example")
    response = net.get(net.auth())
    assert response.json()["downstream"] == {"error": "untrusted_issuer", "status": 401}
    assert len(net.router.to(f"{R2}/")) == 1  # challenged once, never retried with a token


def test_exchange_needs_an_auth_token_upstream(net: Net) -> None:
    agent = ResourceAgent(RESOURCE, [net.world.resource.key])
    verified = VerifiedRequest(scheme="jwks", label="sig1", key=net.world.agent.key.public, created=0,
                               components=(), agent=AGENT)
    with pytest.raises(AAuthError) as info:
        agent.auth_for(verified)
    assert info.value.code == "authorization_required"


def test_exchange_request_signed_by_own_key_not_cnf(net: Net) -> None:
    _hop(net, net.resource, R2, AS2, ISSUER)
    net.get(net.auth())
    exchange = net.router.to(f"{AS2}/agent/token")[0]
    upstream = peek(exchange.headers["signature-key"].split('jwt="')[1].rstrip('")'))
    assert upstream.claims["cnf"]["jwk"]["x"] == net.world.agent.key.public_jwk()["x"]  # cnf = the agent's key
    # ...yet AS2 (verify_exchange) accepted it: it verified with R1's key found by agent_jkt.
    assert net.router.routes[AS2].calls == ["exchange"]  # type: ignore[attr-defined]
