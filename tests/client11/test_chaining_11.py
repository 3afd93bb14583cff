"""Call chaining (-11 §10.1.1, RS-70..73): an intermediary sends the token it received as
``upstream_token`` to the person server that token names; tokens are cached per upstream grant."""

from __future__ import annotations

import pytest

from aauth_core.client import TokenCache
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import mint_auth_token_11, mint_person_token_11

from .conftest import Net11
from .parties import PS, RESOURCE

MID = "https://ap.example"  # the intermediary is its own agent provider (RS-70)


def upstream_person(net: Net11) -> str:
    return mint_person_token_11(net.ps.key, iss=PS, aud=MID, sub="upstream-person",
                                cnf_jwk=SigningKey.generate().public_jwk(), now=net.world.clock())


def test_upstream_token_goes_to_the_person_server(net: Net11, mode: str) -> None:
    upstream = upstream_person(net)
    auth = net.auth(agent_token=net.agent_token(ps=None), upstream_token=upstream)  # own token names no PS
    response = net.get(auth, "/data", mode=mode)
    assert response.status_code == 200, response.text
    (person_path, person_body), (token_path, token_body) = net.ps.calls
    assert person_path == "/person" and person_body == {"resource": RESOURCE, "upstream_token": upstream}
    assert token_path == "/token" and token_body["upstream_token"] == upstream
    assert set(token_body) == {"resource_token", "presented_token", "upstream_token"}


def test_an_upstream_auth_token_names_its_person_server_in_ps(net: Net11) -> None:
    upstream = mint_auth_token_11(net.ps.key, iss="https://as.example", aud=MID, ps=PS, sub="u",
                                  cnf_jwk=SigningKey.generate().public_jwk(), now=net.world.clock(),
                                  dwk="aauth-access.json")
    assert net.get(net.auth(agent_token=net.agent_token(ps=None), upstream_token=upstream), "/data").status_code == 200
    assert net.ps.calls[0][1]["upstream_token"] == upstream


def test_tokens_are_kept_per_upstream_grant(net: Net11) -> None:
    cache = TokenCache()
    first, second = upstream_person(net), upstream_person(net)
    assert net.get(net.auth(upstream_token=first, cache=cache), "/data").status_code == 200
    net.world.clock.advance(1)
    assert net.get(net.auth(upstream_token=second, cache=cache), "/data").status_code == 200
    assert [c[0] for c in net.ps.calls] == ["/person", "/token", "/person", "/token"]
    net.world.clock.advance(1)
    assert net.get(net.auth(upstream_token=first, cache=cache), "/data").status_code == 200
    assert len(net.ps.calls) == 4  # the first grant's auth token was reused


def test_the_mission_is_named_and_keeps_its_own_tokens(net: Net11) -> None:
    cache = TokenCache()
    mission = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert net.get(net.auth(mission_s256=mission, cache=cache), "/person").status_code == 200
    assert net.ps.calls[0][1] == {"resource": RESOURCE, "mission_s256": mission}
    assert peek(net.router.seen[-1].token).claims["mission_s256"] == mission
    assert net.get(net.auth(cache=cache), "/person").status_code == 200
    assert len(net.ps.calls) == 2  # no mission: not the mission's person token


def test_an_upstream_token_of_another_type_is_refused(net: Net11) -> None:
    with pytest.raises(ValueError, match="upstream_token"):
        net.auth(upstream_token=net.agent_token())
