"""The aauth-11 agent end to end, sync and async, httpx and httpx2: agent, person and auth tokens."""

from __future__ import annotations

import pytest

from aauth_core.client import AgentProvider, agent_auth
from aauth_core.headers import parse_signature_input
from aauth_core.tokens import peek

from .conftest import AGENT_ID, LOCAL, Net11
from .parties import AP, PS, RESOURCE


def test_agent_token_resource(net: Net11, mode: str) -> None:
    response = net.get(net.auth(), "/agent", mode=mode)
    assert response.status_code == 200, response.text
    assert response.json() == {"agent": AGENT_ID, "provider": AP}
    [seen] = net.router.seen
    assert seen.headers["signature-key"].startswith('sig=jwt;jwt="ey') and seen.typ == "aa-agent+jwt"
    params = parse_signature_input(seen.headers["signature-input"])
    assert params.components == ("@method", "@authority", "@path", "signature-key")
    assert params.label == "sig" and params.alg is None and params.keyid is None and params.nonce is None
    assert params.created == int(net.world.clock())
    assert seen.headers["signature"].startswith("sig=:") and seen.headers["signature"].endswith("=:")


def test_person_token_challenge(net: Net11, mode: str) -> None:
    response = net.get(net.auth(), "/person", mode=mode)
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "person-api"}
    assert [f"{s.method} {s.url}" for s in net.router.seen] == [
        f"GET {RESOURCE}/person",
        f"GET {RESOURCE}/.well-known/aauth-resource.json",
        f"GET {PS}/.well-known/aauth-person.json",
        f"POST {PS}/person",
        f"GET {RESOURCE}/person",
    ]
    post = net.router.to(f"{PS}/person")[0]
    assert post.json == {"resource": RESOURCE}
    assert post.typ == "aa-agent+jwt" and post.headers["content-type"] == "application/json"
    assert post.headers["prefer"] == "wait=30"
    components = parse_signature_input(post.headers["signature-input"]).components
    assert components == ("@method", "@authority", "@path", "signature-key", "content-digest", "content-type")
    assert net.router.seen[-1].typ == "aa-person+jwt"


def test_auth_token_challenge(net: Net11, mode: str) -> None:
    response = net.get(net.auth(), "/data", mode=mode)
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "person-api", "scope": "data.read"}
    paths = [f"{s.method} {s.url}" for s in net.router.seen]
    assert paths == [
        f"GET {RESOURCE}/data",  # agent token -> person-token
        f"GET {RESOURCE}/.well-known/aauth-resource.json",
        f"GET {PS}/.well-known/aauth-person.json",
        f"POST {PS}/person",
        f"GET {RESOURCE}/data",  # person token -> auth-token
        f"POST {PS}/token",
        f"GET {RESOURCE}/data",  # auth token -> 200
    ]
    token_post = net.router.to(f"{PS}/token")[0]
    person_token = net.router.seen[4].token
    assert set(token_post.json) == {"resource_token", "presented_token"}
    assert token_post.json["presented_token"] == person_token
    assert peek(token_post.json["resource_token"]).typ == "aa-resource+jwt"
    assert token_post.typ == "aa-agent+jwt" and token_post.headers["prefer"] == "wait=30"
    assert net.router.seen[-1].typ == "aa-auth+jwt"


def test_tokens_are_cached_per_resource(net: Net11, mode: str) -> None:
    auth = net.auth()
    first, second, person = net.send(auth, [("GET", RESOURCE + "/data", {}), ("GET", RESOURCE + "/data", {}),
                                            ("GET", RESOURCE + "/person", {})], mode=mode)
    assert first.status_code == second.status_code == 200
    assert [c[0] for c in net.ps.calls] == ["/person", "/token"]  # nothing asked twice
    assert net.router.seen[-3].typ == "aa-auth+jwt"  # the second request presents the auth token at once
    # /person takes no auth token: the cached person token is presented on the retry, without the PS
    assert person.status_code == 200 and [s.typ for s in net.router.seen[-2:]] == ["aa-auth+jwt", "aa-person+jwt"]


def test_agent_token_route_after_an_auth_token(net: Net11) -> None:
    """A cached auth token is presented first; a route that wants the agent token gets it on the retry."""
    auth = net.auth()
    net.get(auth, "/data")
    net.resource.replies.append((401, {"AAuth-Requirement": "requirement=agent-token"}, b""))
    response = net.get(auth, "/agent")
    assert response.status_code == 200 and [s.typ for s in net.router.seen[-2:]] == ["aa-auth+jwt", "aa-agent+jwt"]


def test_agent_provider_auth_renews_the_agent_token(net: Net11, mode: str) -> None:
    auth = net.provider.agent_auth(LOCAL, net.agent_key, ps=PS, library=net.lib.__name__, options=net.options(),
                                   polling=net.polling(), lifetime=900)
    assert net.get(auth, "/agent", mode=mode).status_code == 200
    first = net.router.seen[-1].token
    net.world.clock.advance(700)  # < 5 minutes left: re-issued before the request
    assert net.get(auth, "/agent", mode=mode).status_code == 200
    second = net.router.seen[-1].token
    assert first != second and peek(second).claims["iat"] == int(net.world.clock())


def test_agent_auth_profile_switch(net: Net11, mode: str) -> None:
    auth = agent_auth(agent_token=net.agent_token(), key=net.agent_key, profile="aauth-11",
                      library=net.lib.__name__, options=net.options(), polling=net.polling())
    assert net.get(auth, "/data", mode=mode).json()["scope"] == "data.read"
    signer = net.provider.agent_signer(LOCAL, net.agent_key, ps=PS)
    auth = agent_auth(signer, profile="aauth-11", library=net.lib.__name__, options=net.options())
    assert net.get(auth, "/agent", mode=mode).status_code == 200


def test_agent_auth_refuses_mixed_arguments(net: Net11) -> None:
    signer = net.provider.agent_signer(LOCAL, net.agent_key, ps=PS)
    with pytest.raises(ValueError, match="agent_token and key"):
        agent_auth(profile="aauth-11", key=net.agent_key)
    with pytest.raises(ValueError, match="scheme=jwt"):
        agent_auth(signer, agent_token=net.agent_token(), profile="aauth-11")
    with pytest.raises(ValueError, match="signer"):
        agent_auth(agent_token=net.agent_token(), key=net.agent_key)


def test_an_agent_token_for_another_key_is_refused_before_any_request(net: Net11) -> None:
    from aauth_core.errors import AAuthError
    from aauth_core.keys import SigningKey

    other = net.agent_token(key=SigningKey.generate())
    with pytest.raises(AAuthError) as info:
        net.auth(agent_token=other)
    assert info.value.code == "invalid_token" and net.router.seen == []


def test_sub_agent_token_names_its_parent(net: Net11) -> None:
    provider = AgentProvider(AP, net.provider.keys, clock=net.world.clock)
    token = provider.issue_agent_token(f"{LOCAL}+search1", net.agent_key.public_jwk(), ps=PS)
    claims = peek(token).claims
    assert claims["sub"] == f"aauth:{LOCAL}+search1@ap.example" and claims["parent_agent"] == AGENT_ID
    response = net.get(net.auth(agent_token=token), "/agent")
    assert response.json()["agent"] == f"aauth:{LOCAL}+search1@ap.example"


def test_tokens_with_less_than_five_minutes_left_are_replaced(net: Net11) -> None:
    auth = net.auth()
    assert net.get(auth, "/data").status_code == 200
    net.world.clock.advance(3600 - 301)
    assert net.get(auth, "/data").status_code == 200
    assert [c[0] for c in net.ps.calls] == ["/person", "/token"]  # still 301 s: reused
    net.world.clock.advance(2)
    assert net.get(auth, "/data").status_code == 200
    assert [c[0] for c in net.ps.calls] == ["/person", "/token", "/person", "/token"]
