"""Pending answers: the person server's 202 (polling, Prefer: wait, Retry-After, 429, interaction,
terminal codes) and a resource's deferred delivery of an auth-token requirement (RS-36)."""

from __future__ import annotations

import pytest

from aauth_core.client import InteractionRequired
from aauth_core.errors import AAuthError
from aauth_core.tokens import peek

from .conftest import Net11
from .parties import PS, RESOURCE, json_reply, problem, requirement


def test_auth_token_endpoint_202_is_polled(net: Net11, mode: str) -> None:
    net.ps.pending = [json_reply(202, {"status": "interacting"}), json_reply(202, {"status": "something-new"},
                                                                             {"Retry-After": "7"})]
    response = net.get(net.auth(), "/data", mode=mode)
    assert response.status_code == 200, response.text
    polls = net.router.to(f"{PS}/pending/")
    assert len(polls) == 3 and all(p.method == "GET" and p.body == b"" for p in polls)
    assert all(p.typ == "aa-agent+jwt" and p.headers["prefer"] == "wait=30" for p in polls)
    # Retry-After 3 (the 202 of the POST), the default 5 s (none given), then 7
    assert net.waits == [3.0, 5.0, 7.0]


def test_prefer_wait_is_configurable_and_can_be_left_out(net: Net11) -> None:
    assert net.get(net.auth(polling=net.polling(prefer_wait=5)), "/data").status_code == 200
    assert {s.headers["prefer"] for s in net.router.to(PS + "/") if s.method == "POST"} == {"wait=5"}
    net.router.seen.clear()
    net.world.clock.advance(1)
    assert net.get(net.auth(polling=net.polling(prefer_wait=None)), "/data").status_code == 200
    assert all("prefer" not in s.headers for s in net.router.to(PS + "/"))


def test_slow_down_adds_five_seconds_per_429(net: Net11) -> None:
    net.ps.pending = [problem(429, "slow_down"), problem(429, "slow_down", headers={"Retry-After": "1"}),
                      json_reply(202, {"status": "pending"})]
    assert net.get(net.auth(), "/data").status_code == 200
    # 3 (POST's Retry-After), 5+5, 5+10 (a smaller Retry-After does not shorten it), then the grown interval
    assert net.waits == [3.0, 10.0, 15.0, 15.0]


def test_interaction_on_a_pending_answer(net: Net11, mode: str) -> None:
    net.ps.pending = [json_reply(202, {"status": "pending"},
                                 requirement("interaction", url="https://ps.example/interact", code="A1B2-C3D4")),
                      json_reply(202, {"status": "interacting"},
                                 requirement("interaction", url="https://ps.example/interact", code="A1B2-C3D4"))]
    shown: list[str] = []
    response = net.get(net.auth(interaction=shown.append), "/data", mode=mode)
    assert response.status_code == 200
    assert shown == ["https://ps.example/interact?code=A1B2-C3D4"]  # once, though repeated
    # an agent with an interaction handler says so to its person server
    assert net.ps.calls[0] == ("/person", {"resource": RESOURCE, "capabilities": ["interaction"]})


def test_interaction_without_a_handler_raises_with_the_url(net: Net11) -> None:
    net.ps.pending = [json_reply(202, {"status": "pending"},
                                 requirement("interaction", url="https://ps.example/i?lang=en", code="Z9"))]
    with pytest.raises(InteractionRequired) as info:
        net.get(net.auth(), "/data")
    assert info.value.url == "https://ps.example/i?lang=en&code=Z9"
    assert not net.resource.served


def test_interaction_url_must_be_https(net: Net11) -> None:
    net.ps.pending = [json_reply(202, {}, requirement("interaction", url="javascript:alert(1)", code="Z9"))]
    shown: list[str] = []
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(interaction=shown.append), "/data")
    assert info.value.code == "unsupported_requirement" and shown == []


@pytest.mark.parametrize(("reply", "code", "status"), [
    (problem(403, "denied", "the person said no"), "denied", 403),
    (problem(403, "abandoned"), "abandoned", 403),
    (json_reply(403, {}), "denied", 403),
    (problem(408, "expired"), "expired", 408),
    (json_reply(408, {}), "expired", 408),
    (problem(410, "invalid_code"), "invalid_code", 410),
    (json_reply(410, {}), "invalid_code", 410),
    (problem(500, "server_error"), "server_error", 500),
])
def test_terminal_pending_answers(net: Net11, mode: str, reply: tuple, code: str, status: int) -> None:
    net.ps.pending = [json_reply(202, {"status": "pending"}), reply]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data", mode=mode)
    assert (info.value.code, info.value.status_code) == (code, status)
    assert len(net.router.to(f"{PS}/pending/")) == 2  # no poll after a terminal answer
    assert [s.typ for s in net.router.to(RESOURCE + "/data")] == ["aa-agent+jwt", "aa-person+jwt"]


def test_polling_is_bounded(net: Net11) -> None:
    net.ps.pending = [json_reply(202, {"status": "pending"})] * 10
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(polling=net.polling(max_polls=4)), "/data")
    assert info.value.code == "pending_timeout"
    assert len(net.router.to(f"{PS}/pending/")) == 4  # max_polls polls, then no more


def test_retry_after_is_capped(net: Net11) -> None:
    net.ps.pending = [json_reply(202, {}, {"Retry-After": "99999999999"}), json_reply(202, {}, {"Retry-After": "x"})]
    assert net.get(net.auth(polling=net.polling(max_interval=60)), "/data").status_code == 200
    assert net.waits == [3.0, 60.0, 5.0]


def test_pending_location_on_another_origin_is_refused(net: Net11) -> None:
    net.router.forbidden.add("https://evil.example")
    net.ps.token_replies = [json_reply(202, {}, {"Location": "https://evil.example/pending/1"})]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "blocked_url"


def test_pending_without_location_is_refused(net: Net11) -> None:
    net.ps.token_replies = [json_reply(202, {"status": "pending"})]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "invalid_token_response"


def test_person_token_endpoint_may_answer_202_too(net: Net11, mode: str) -> None:
    net.ps.person_replies = [json_reply(202, {"status": "pending"}, {"Location": "/pending/p1", "Retry-After": "2"})]
    net.ps._held["p1"] = net.ps._person({"resource": RESOURCE}, {"cnf": {"jwk": net.agent_key.public_jwk()}})
    assert net.get(net.auth(), "/person", mode=mode).status_code == 200
    assert net.waits == [2.0]


# ----------------------------------------------------------------------------- deferred delivery (RS-36)


def test_resource_202_auth_token_then_polls_the_resource(net: Net11, mode: str) -> None:
    net.resource.pending_polls = 1
    response = net.get(net.auth(), "/deferred", mode=mode)
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "person-api", "result": "done"}
    polls = net.router.to(f"{RESOURCE}/pending/")
    assert len(polls) == 2 and all(p.typ == "aa-auth+jwt" and p.method == "GET" for p in polls)
    assert [c[0] for c in net.ps.calls] == ["/person", "/token"]
    assert net.waits == [1.0, 2.0]  # the resource's Retry-After values


def test_resource_410_on_a_pending_result_is_an_error(net: Net11, mode: str) -> None:
    net.resource.gone = True
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/deferred", mode=mode)
    assert info.value.code == "invalid_code" and info.value.status_code == 410
    assert len(net.router.to(f"{RESOURCE}/pending/")) == 1 and not net.resource.served


def test_a_later_202_with_a_fresh_resource_token_gets_a_new_auth_token(net: Net11) -> None:
    """RS-36: a later poll may carry a fresh resource token (naming the auth token presented)."""
    net.resource.pending_polls = 0
    net.resource.refresh_on_poll = True
    response = net.get(net.auth(), "/deferred")
    assert response.status_code == 200 and response.json()["result"] == "done"
    assert [c[0] for c in net.ps.calls] == ["/person", "/token", "/token"]
    second = net.ps.calls[2][1]
    assert peek(second["presented_token"]).typ == "aa-auth+jwt"
