"""The protocol's flows end to end: the real agent client against real servers on loopback."""

from __future__ import annotations

import pytest

from aauth_core.authserver import Lifetimes
from aauth_core.client import InteractionRequired, TokenCache, agent_auth

from .conftest import USER, Parties, interaction_over_http

pytestmark = pytest.mark.e2e


def test_autonomous_authorization(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    with parties.client(agent.signer()) as client:
        response = client.get(f"{r1.url}/data-auth")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scheme"] == "jwt" and body["token_type"] == "auth+jwt"
    assert body["agent"] == agent.url and body["issuer"] == as1.url
    assert body["scope"] == "data.read data.write" and body["sub"] is None and body["act"] is None
    assert as1.counter.calls == [("auth", 200)]


async def test_autonomous_authorization_with_the_async_client(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    auth = agent_auth(agent.signer(), options=parties.options())
    async with auth.async_client(timeout=30.0, trust_env=False) as client:
        responses = [await client.get(f"{r1.url}/data-auth") for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200], responses[0].text
    assert responses[0].json()["agent"] == agent.url and responses[0].json()["token_type"] == "auth+jwt"
    assert as1.counter.calls == [("auth", 200)]


def test_consent_over_http(parties: Parties) -> None:
    """RequireConsent: the client hands the consent URL to its handler, which plays the user."""
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    consent_urls: list[str] = []
    with parties.client(agent.signer(), interaction=interaction_over_http(consent_urls)) as client:
        response = client.get(f"{r1.url}/data-auth")
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == USER[0] and response.json()["agent"] == agent.url
    assert len(consent_urls) == 1 and consent_urls[0].startswith(f"{as1.url}/agent/auth?request_token=")
    assert as1.counter.calls == [("auth", 200), ("code", 200)]


def test_consent_without_a_handler_is_reported(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    with parties.client(agent.signer()) as client, pytest.raises(InteractionRequired) as raised:
        client.get(f"{r1.url}/data-auth")
    assert raised.value.code == "interaction_required"
    assert raised.value.url.startswith(f"{as1.url}/agent/auth?request_token=")
    assert as1.counter.calls == [("auth", 200)]


def test_exchange_across_two_auth_servers(parties: Parties) -> None:
    agent, as1, as2, r1, _r2 = parties.exchange_chain()
    with parties.client(agent.signer()) as client:
        response = client.get(f"{r1.url}/aggregate")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["upstream"]["agent"] == agent.url and body["upstream"]["issuer"] == as1.url
    downstream = body["downstream"]
    assert downstream["agent"] == r1.url and downstream["issuer"] == as2.url
    assert downstream["act"] == {"agent": agent.url}
    assert downstream["scope"] == "data.read data.write"
    assert as1.counter.calls == [("auth", 200)]
    assert as2.counter.calls == [("exchange", 200)]


def test_three_hop_chain(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server()
    as2 = parties.auth_server(trust=[as1.url])
    as3 = parties.auth_server(trust=[as2.url])
    r3 = parties.resource(as3)
    r2 = parties.resource(as2, downstream=f"{r3.url}/data-auth")
    r1 = parties.resource(as1, downstream=f"{r2.url}/aggregate")
    with parties.client(agent.signer()) as client:
        response = client.get(f"{r1.url}/aggregate")
    assert response.status_code == 200, response.text
    hop1 = response.json()
    hop2 = hop1["downstream"]
    hop3 = hop2["downstream"]
    assert hop1["upstream"]["agent"] == agent.url and hop1["upstream"]["act"] is None
    assert hop2["upstream"]["agent"] == r1.url and hop2["upstream"]["act"] == {"agent": agent.url}
    assert hop3["agent"] == r2.url and hop3["issuer"] == as3.url
    assert hop3["act"] == {"agent": r1.url, "act": {"agent": agent.url}}
    assert (as1.counter.types, as2.counter.types, as3.counter.types) == (["auth"], ["exchange"], ["exchange"])


def test_cached_token_reuse(parties: Parties) -> None:
    """One token-endpoint call per resource, however many requests; a new resource needs its own."""
    agent = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    r2 = parties.resource(as1)
    with parties.client(agent.signer()) as client:
        first = [client.get(f"{r1.url}/data-auth") for _ in range(3)]
        assert len(as1.counter) == 1
        posted = client.post(f"{r1.url}/data-auth", json={"n": 1})
        other = client.get(f"{r2.url}/data-auth")
        again = client.get(f"{r1.url}/data-auth")
    assert [r.status_code for r in [*first, posted, other, again]] == [200] * 6
    assert as1.counter.calls == [("auth", 200), ("auth", 200)]


def test_exchanged_token_is_reused_by_the_intermediary(parties: Parties) -> None:
    agent, as1, as2, r1, _r2 = parties.exchange_chain()
    with parties.client(agent.signer()) as client:
        responses = [client.get(f"{r1.url}/aggregate") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
    assert as1.counter.types == ["auth"] and as2.counter.types == ["exchange"]


def test_refresh(parties: Parties) -> None:
    """An expired auth token is refreshed (request_type=refresh), not re-challenged."""
    agent = parties.agent()
    as1 = parties.consent_auth_server(lifetimes=Lifetimes(auth_token=120, refresh_token=3600))
    r1 = parties.resource(as1)
    consent_urls: list[str] = []
    cache = TokenCache(margin=10)
    with parties.client(agent.signer(), interaction=interaction_over_http(consent_urls), cache=cache) as client:
        first = client.get(f"{r1.url}/data-auth")
        assert first.status_code == 200, first.text
        assert as1.counter.types == ["auth", "code"]
        parties.clock.advance(200)  # past the auth token's exp, well within the refresh token's
        second = client.get(f"{r1.url}/data-auth")
        third = client.get(f"{r1.url}/data-auth")
    assert second.status_code == 200 and third.status_code == 200, second.text
    assert second.json()["sub"] == USER[0]
    assert as1.counter.calls == [("auth", 200), ("code", 200), ("refresh", 200)]
    assert len(consent_urls) == 1  # the user was asked once


def test_without_refresh_an_expired_token_is_replaced_by_a_new_challenge(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server(lifetimes=Lifetimes(auth_token=120))
    r1 = parties.resource(as1)
    with parties.client(agent.signer()) as client:
        assert client.get(f"{r1.url}/data-auth").status_code == 200
        parties.clock.advance(200)
        assert client.get(f"{r1.url}/data-auth").status_code == 200
    assert as1.counter.types == ["auth", "auth"]
