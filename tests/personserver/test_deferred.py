"""Deferred answers: the 202 with ``requirement=interaction``, polling with signed GETs,
``Prefer: wait``, other keys, expiry, delivery once, and the consent page's guards."""

from __future__ import annotations

from typing import Any

from aauth_core.keys import SigningKey
from aauth_core.wire.requirement import parse_requirement

from .raw import get, person_request
from .stack import PS, RESOURCE, Stack, approve, csrf


def pending(stack: Stack) -> tuple[str, str, Any]:
    reply = person_request(stack, {"resource": RESOURCE, "capabilities": ["interaction"]})
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"status": "pending"} and reply.headers["cache-control"] == "no-store"
    assert reply.headers["retry-after"] == "5"
    requirement = parse_requirement(reply.headers["aauth-requirement"])
    assert requirement.requirement == "interaction" and requirement.url == f"{PS}/interaction"
    assert requirement.code is not None and len(requirement.code) == 9 and requirement.code[4] == "-"
    location = reply.headers["location"]
    assert location.startswith(f"{PS}/pending/")
    return location, f"{requirement.url}?code={requirement.code}", reply


def test_poll_before_and_after_approval(stack: Stack) -> None:
    location, link, _ = pending(stack)
    first = get(stack, location)
    assert first.status_code == 202 and first.json() == {"status": "pending"}
    assert approve(stack.browser(), link).status_code == 200
    stack.clock.advance(1)
    done = get(stack, location)
    assert done.status_code == 200 and "person_token" in done.json()
    stack.clock.advance(1)
    again = get(stack, location)
    assert again.status_code == 410 and again.json()["error"] == "invalid_code"


def test_prefer_wait_holds_the_poll_until_the_user_answers(stack: Stack) -> None:
    location, link, _ = pending(stack)
    browser = stack.browser()
    calls: list[int] = []

    def user_acts() -> None:
        calls.append(1)
        if len(calls) == 3:
            assert approve(browser, link).status_code == 200

    stack.on_ps_wait = user_acts
    reply = get(stack, location, headers={"Prefer": "wait=10"})
    assert reply.status_code == 200 and "person_token" in reply.json()
    assert len(calls) == 3 and stack.waits == [1.0, 1.0, 1.0]


def test_prefer_wait_is_bounded(stack: Stack) -> None:
    location, _, _ = pending(stack)
    reply = get(stack, location, headers={"Prefer": "wait=9999"})
    assert reply.status_code == 202 and sum(stack.waits) == 30  # max_wait


def test_a_poll_from_another_key_is_not_found(stack: Stack) -> None:
    location, link, _ = pending(stack)
    other = get(stack, location, key=SigningKey.generate())
    assert other.status_code == 404 and other.json()["error"] == "not_found"
    approve(stack.browser(), link)
    assert get(stack, location, key=SigningKey.generate()).status_code == 404
    assert get(stack, f"{PS}/pending/unknown").status_code == 404
    assert get(stack, location).status_code == 200  # the right key still gets it


def test_denied(stack: Stack) -> None:
    location, link, _ = pending(stack)
    assert approve(stack.browser(), link, action="deny").status_code == 200
    reply = get(stack, location)
    assert reply.status_code == 403 and reply.json()["error"] == "denied" and "person_token" not in reply.text


def test_expired(stack: Stack) -> None:
    location, link, _ = pending(stack)
    stack.clock.advance(601)
    reply = get(stack, location)
    assert reply.status_code == 408 and reply.json()["error"] == "expired"
    page = stack.browser().get(link)
    assert page.status_code == 410


def test_a_code_is_used_once(stack: Stack) -> None:
    _, link, _ = pending(stack)
    browser = stack.browser()
    assert approve(browser, link).status_code == 200
    assert browser.get(link).status_code == 410


def test_the_form_needs_its_csrf_token_and_this_origin(stack: Stack) -> None:
    location, link, _ = pending(stack)
    browser = stack.browser()
    page = browser.get(link)
    token = csrf(page.text)
    code = link.rsplit("=", 1)[1]
    login = {"action": "login", "csrf_token": token, "code": code, "username": "alice", "password": "wonderland"}
    assert browser.post("/interaction", data={**login, "csrf_token": "forged"}).status_code == 403
    assert browser.post("/interaction", data=login, headers={"Origin": "https://evil.example"}).status_code == 403
    assert browser.post("/interaction", data=login, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    consent = browser.post("/interaction", data=login)
    assert consent.status_code == 200 and 'id="consent-form"' in consent.text
    assert browser.post("/interaction", data={"action": "approve", "csrf_token": token, "code": code}
                        ).status_code == 403  # the login rotated the session and its secret
    assert get(stack, location).status_code == 202


def test_a_wrong_password_is_refused(stack: Stack) -> None:
    _, link, _ = pending(stack)
    assert approve(stack.browser(), link, password="nope").status_code == 401


def test_another_user_cannot_approve_alices_request(stack: Stack) -> None:
    location, link, _ = pending(stack)
    answer = approve(stack.browser(), link, user="bob", password="builder")
    assert answer.status_code == 403 and "another account" in answer.text
    assert get(stack, location).status_code == 202
    assert approve(stack.browser(), link).status_code == 200  # the code still works for alice
    assert get(stack, location).status_code == 200


def test_the_page_escapes_what_the_agent_asserts(stack: Stack) -> None:
    from .raw import post
    reply = post(stack, "/mission", {"description": "<script>alert(1)</script>"})
    requirement = parse_requirement(reply.headers["aauth-requirement"])
    browser = stack.browser()
    page = browser.get(f"{requirement.url}?code={requirement.code}")
    token, code = csrf(page.text), requirement.code
    page = browser.post("/interaction", data={"action": "login", "csrf_token": token, "code": code,
                                              "username": "alice", "password": "wonderland"})
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
