"""Attack rows on our -11 person server's pending URLs, consent page and revocation (issue 15)."""

from __future__ import annotations

import re
from typing import Any

from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.wire.requirement import parse_requirement

from ..personserver.stack import PS, RESOURCE, approve, csrf
from .servers11_env import Answer, PSEnv, Req, ServerAttack, _answer

__all__ = ["PAGE_ROWS"]

_CODE_FIELD = re.compile(r'name="code" value="([^"]+)"')
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _page(got: Any) -> Answer:
    return _answer(got.status_code, got.headers, got.content)


def _start(env: PSEnv, *, key: SigningKey | None = None) -> tuple[str, str]:
    """A person-token request the user must approve: its pending URL and interaction code."""
    got = env.send(env.sign("POST", "/person", {"resource": RESOURCE, "capabilities": ["interaction"]}, key=key))
    assert got.status == 202, got.text
    requirement = parse_requirement(got.headers["aauth-requirement"])
    assert requirement.code is not None
    return got.headers["location"], requirement.code


def _link(code: str) -> str:
    return f"/interaction?code={code}"


def _poll(env: PSEnv, location: str, **kw: Any) -> Req:
    return env.sign("GET", location, **kw)


def _other_key(env: PSEnv) -> Req:
    location, _ = _start(env)
    return _poll(env, location, key=SigningKey.generate())


def _replayed_poll(env: PSEnv) -> list[Any]:
    location, _ = _start(env)
    req = _poll(env, location)
    return [lambda: env.send(req), req]


def _delivered_twice(env: PSEnv) -> list[Any]:
    location, code = _start(env)
    approve(env.browser(), _link(code))
    env.clock.advance(1)
    first = _poll(env, location)
    env.clock.advance(1)
    return [lambda: env.send(first), lambda: env.send(_poll(env, location))]


def _denied(env: PSEnv) -> list[Any]:
    location, code = _start(env)
    approve(env.browser(), _link(code), action="deny")
    env.clock.advance(1)
    return [lambda: env.send(_poll(env, location))]


def _signed_in(env: PSEnv, user: str = "alice", password: str = "wonderland") -> tuple[Any, str, str, str]:
    """The user's browser signed in on the consent page of a fresh request: browser, csrf, code, location."""
    location, code = _start(env)
    browser = env.browser()
    login = browser.get(_link(code))
    page = browser.post("/interaction", data={"action": "login", "csrf_token": csrf(login.text), "code": code,
                                              "username": user, "password": password})
    assert page.status_code == 200 and 'id="consent-form"' in page.text, page.text
    return browser, csrf(page.text), code, location


def _decide(*, token: str | None = "ok", headers: dict[str, str] | None = None,
            user: str = "alice", password: str = "wonderland", csrf_from_other: bool = False) -> Any:
    def build(env: PSEnv) -> list[Any]:
        browser, secret, code, _location = _signed_in(env, user, password)
        if csrf_from_other:
            other = env.browser()
            secret = csrf(other.get(_link(code)).text)
        form = {"action": "approve", "code": code}
        if token is not None:
            form["csrf_token"] = secret
        return [lambda: _page(browser.post("/interaction", data=form, headers=headers or {}))]

    return build


def _still_pending(env: PSEnv, answer: Answer) -> None:
    """After a refused approval the agent's poll is still pending: nothing was decided."""
    assert answer.status != 200
    keys = [key for kind, key in list(env.ps.store._entries) if kind == "pending"]  # type: ignore[attr-defined]
    records = [env.ps.store.get("pending", key) for key in keys]
    assert records and all(r is not None and r.get("status") == "pending" for r in records), records


def _not_signed_in(env: PSEnv) -> list[Any]:
    _, code = _start(env)
    browser = env.browser()
    secret = csrf(browser.get(_link(code)).text)
    return [lambda: _page(browser.post("/interaction", data={"action": "approve", "code": code,
                                                             "csrf_token": secret}))]


def _code_reuse(env: PSEnv) -> list[Any]:
    browser, secret, code, _ = _signed_in(env)
    form = {"action": "approve", "code": code, "csrf_token": secret}
    return [lambda: _page(browser.post("/interaction", data=form)),
            lambda: _page(browser.post("/interaction", data=form))]


def _guessing(env: PSEnv) -> list[Any]:
    _start(env)
    browser = env.browser()
    guesses = [f"ABCD-{n:04d}".replace("0", "Z").replace("1", "Y") for n in range(30)]
    return [lambda g=g: _page(browser.get(_link(g))) for g in guesses]


def _no_cookie(env: PSEnv, answer: Answer) -> None:
    assert "set-cookie" not in answer.headers, answer.headers


def _wrong_user(env: PSEnv) -> list[Any]:
    browser, secret, code, _ = _signed_in(env, "bob", "builder")
    return [lambda: _page(browser.post("/interaction", data={"action": "approve", "code": code,
                                                             "csrf_token": secret}))]


def _xss_mission(env: PSEnv) -> list[Any]:
    got = env.send(env.sign("POST", "/mission", {"description": XSS}))
    assert got.status == 202, got.text
    code = parse_requirement(got.headers["aauth-requirement"]).code
    browser = env.browser()
    login = browser.get(_link(str(code)))
    return [lambda: _page(browser.post("/interaction", data={
        "action": "login", "csrf_token": csrf(login.text), "code": str(code), "username": "alice",
        "password": "wonderland"}))]


def _escaped(env: PSEnv, answer: Answer) -> None:
    text = answer.text
    assert "<script>alert" not in text and "<img src=x" not in text, text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, text
    assert "script-src" not in answer.headers["content-security-policy"] or \
        "'unsafe-inline'" not in answer.headers["content-security-policy"], answer.headers


def _revoked_behind(host: str, endpoint: str) -> Any:
    """A resource whose metadata aims the revocation at ``endpoint``: the revocation is recorded,
    nothing is sent there, and the token is refused when presented back."""

    def build(env: PSEnv) -> Req:
        origin = env.publish_resource(host, revocation_endpoint=endpoint)
        pt = env.person_token(resource=origin)
        assert env.ps.revoke(str(peek(pt).claims["jti"])) is False
        return env.sign("POST", "/token", {"resource_token": env.resource_token(pt), "presented_token": pt})

    return build


def row(name: str, endpoint: str, build: Any, outcome: tuple[int, str], description: str, **kw: Any) -> ServerAttack:
    kw.setdefault("consent", True)
    return ServerAttack(name, "PS", endpoint, build, outcome[0], outcome[1], description, **kw)


PEND, PAGE = "/pending/{id}", "/interaction"

PAGE_ROWS: list[ServerAttack] = [
    # ---------------------------------------------------------------- pending URLs
    row("ps_pending_other_key", PEND, _other_key, (404, "not_found"),
        "the pending URL polled by another agent key (with its own valid agent token)"),
    row("ps_pending_unsigned", PEND, lambda e: Req("GET", _start(e)[0], {}), (401, "identity_required"),
        "the pending URL polled without a signature"),
    row("ps_pending_unknown_id", PEND, lambda e: _poll(e, f"{PS}/pending/{'A' * 32}"), (404, "not_found"),
        "a pending id never issued"),
    row("ps_pending_oversized_id", PEND, lambda e: _poll(e, f"{PS}/pending/{'A' * 65}"), (404, "not_found"),
        "a pending id of 65 characters"),
    row("ps_pending_replayed", PEND, _replayed_poll, (401, "invalid_signature"), "a signed poll sent twice"),
    row("ps_pending_delivered_twice", PEND, _delivered_twice, (410, "invalid_code"),
        "the approved answer polled again after its delivery"),
    row("ps_pending_denied", PEND, _denied, (403, "denied"), "the poll after the user said no: no token"),
    # ---------------------------------------------------------------- the consent page
    row("ps_consent_no_csrf", PAGE, _decide(token=None), (403, "invalid_request"),
        "an approval posted without the form's CSRF token", page=True, check=_still_pending),
    row("ps_consent_csrf_of_other_session", PAGE, _decide(csrf_from_other=True), (403, "invalid_request"),
        "an approval carrying the CSRF token of another browser's session", page=True, check=_still_pending),
    row("ps_consent_cross_origin", PAGE, _decide(headers={"Origin": "https://evil.example"}), (403, "invalid_request"),
        "an approval posted with `Origin: https://evil.example`", page=True, check=_still_pending),
    row("ps_consent_cross_site", PAGE, _decide(headers={"Sec-Fetch-Site": "cross-site"}), (403, "invalid_request"),
        "an approval posted with `Sec-Fetch-Site: cross-site`", page=True, check=_still_pending),
    row("ps_consent_not_signed_in", PAGE, _not_signed_in, (401, "login_required"),
        "an approval from a browser that never signed in", page=True, check=_still_pending),
    row("ps_consent_wrong_user", PAGE, _wrong_user, (403, "wrong_user"),
        "bob approves the request of alice's agent", page=True, check=_still_pending),
    row("ps_consent_code_reuse", PAGE, _code_reuse, (410, "invalid_code"),
        "the same code approved twice", page=True),
    row("ps_consent_code_guessing", PAGE, _guessing, (410, "invalid_code"),
        "30 guessed codes from one browser: each refused, no session made (attempts are not counted: "
        "a code is ~40 bits, single-use, 10 min)", page=True, check=_no_cookie),
    row("ps_consent_code_repeated", PAGE, lambda e: [lambda: _page(e.browser().get("/interaction?code=A&code=B"))],
        (400, "invalid_request"), "`code` twice in the link", page=True),
    row("ps_consent_xss_mission", PAGE, _xss_mission, (200, ""),
        "a mission `description` with `<script>` and an `onerror` attribute: shown escaped, CSP without "
        "inline script", page=True, check=_escaped),
    # ---------------------------------------------------------------- revocation
    row("ps_revoke_endpoint_metadata_ip", "/token", _revoked_behind("rs-meta.example", "https://169.254.169.254/r"),
        (400, "revoked_presented_token"), "a resource whose `revocation_endpoint` is the metadata address: "
        "nothing sent, the token still refused", forbidden=("169.254.169.254",), consent=False),
    row("ps_revoke_endpoint_private_name", "/token", _revoked_behind("rs-int.example", "https://internal.example/r"),
        (400, "revoked_presented_token"), "a resource whose `revocation_endpoint` resolves to 10.0.0.1",
        forbidden=("internal.example", "10.0.0.1"), consent=False),
]

