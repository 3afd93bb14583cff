"""The consent pages over plain HTTP (in process): login, consent, CSRF, deny, codes, redirects."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from aauth_core.authserver import RequireConsent

from ..conftest import AGENT, ISSUER, RESOURCE, World
from .conftest import AS, REDIRECT, USERS, MakeAS, assert_refused, hidden

PASSWORD = USERS["alice"]
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'"


@pytest.fixture
def consent_env(make_as: MakeAS, world: World) -> AS:
    world.network.publish(f"{AGENT}/.well-known/aauth-agent", {
        "agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "name": "Travel <Bot> & Co",
        "redirect_uris": [REDIRECT],
    })
    world.network.publish(f"{RESOURCE}/.well-known/aauth-resource", {
        "resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json",
        "resource_token_endpoint": f"{RESOURCE}/resource/token",
        "scope_descriptions": {"data.read": "Read your <data>", "data.write": "Change your data"},
    })
    return make_as(policy=RequireConsent())


async def _request_token(env: AS) -> str:
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(),
                               "redirect_uri": REDIRECT})
    return str(response.json()["request_token"])


def _auth_url(request_token: str, redirect_uri: str = REDIRECT, **extra: str) -> str:
    return "/agent/auth?" + urlencode({"request_token": request_token, "redirect_uri": redirect_uri, **extra})


async def _login(client: httpx.AsyncClient, request_token: str, *, password: str = PASSWORD,
                 state: str = "") -> httpx.Response:
    page = await client.get(_auth_url(request_token, **({"state": state} if state else {})))
    assert page.status_code == 200
    form = {"action": "login", "csrf_token": hidden(page.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT, "state": state, "username": "alice", "password": password}
    return await client.post("/agent/auth", data=form)


async def _consent_page(client: httpx.AsyncClient, request_token: str, state: str = "") -> httpx.Response:
    logged_in = await _login(client, request_token, state=state)
    assert logged_in.status_code == 303
    return await client.get(logged_in.headers["location"])


async def test_login_consent_approve_and_redeem(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        login = await client.get(_auth_url(request_token, state="xyz"))
        assert login.status_code == 200
        for name, value in {"content-security-policy": CSP,
                            "x-frame-options": "DENY", "cache-control": "no-store",
                            "referrer-policy": "same-origin"}.items():
            assert login.headers[name] == value
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/agent/auth" in cookie
        assert "Travel &lt;Bot&gt; &amp; Co" in login.text and "<Bot>" not in login.text
        assert 'id="username"' in login.text

        wrong = await client.post("/agent/auth", data={
            "action": "login", "csrf_token": hidden(login.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT, "state": "xyz", "username": "alice", "password": "wrong"})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text

        consent = await _consent_page(client, request_token, state="xyz")
        assert consent.status_code == 200
        text = consent.text
        assert 'id="user">alice<' in text and "Travel &lt;Bot&gt; &amp; Co" in text and AGENT in text
        assert 'id="resource">api.example<' in text and f'id="resource-id">{RESOURCE}<' in text
        assert 'data-scope="data.read"' in text and "Read your &lt;data&gt;" in text
        assert 'data-scope="data.write"' in text and "Change your data" in text

        approved = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": hidden(text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT, "state": hidden(text, "state")})
        assert approved.status_code == 303
        location = urlsplit(approved.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == ["xyz"] and len(query["code"]) == 1

        # the pending request is answered: the page cannot be used again
        again = await client.get(_auth_url(request_token))
        assert again.status_code == 400

    code = query["code"][0]
    token = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT})
    assert token.status_code == 200, token.text
    verified = env.use_at_resource(token.json()["auth_token"])
    assert verified.sub == "alice" and verified.agent == AGENT
    assert_refused(await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}),
                   400, "invalid_grant")


async def test_deny_redirects_with_access_denied(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        consent = await _consent_page(client, request_token)
        denied = await client.post("/agent/auth", data={
            "action": "deny", "csrf_token": hidden(consent.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT})
    assert denied.status_code == 303
    location = urlsplit(denied.headers["location"])
    query = parse_qs(location.query)
    assert query["error"] == ["access_denied"] and "error_description" in query and "code" not in query
    assert env.stored() == 1  # only the session; no pending request, no code


async def test_csrf_failures_change_nothing(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        consent = await _consent_page(client, request_token)
        csrf = hidden(consent.text, "csrf_token")
        form = {"action": "approve", "request_token": request_token, "redirect_uri": REDIRECT}
        for bad in ({**form, "csrf_token": "forged"}, form):
            response = await client.post("/agent/auth", data=bad)
            assert response.status_code == 403 and "location" not in response.headers
        cross = await client.post("/agent/auth", data={**form, "csrf_token": csrf},
                                  headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        cross_site = await client.post("/agent/auth", data={**form, "csrf_token": csrf},
                                       headers={"Sec-Fetch-Site": "cross-site"})
        assert cross_site.status_code == 403
    # the right token without the session cookie (another browser) fails too
    async with env.client() as other:
        response = await other.post("/agent/auth", data={**form, "csrf_token": csrf})
        assert response.status_code == 403
    # still pending: a real approval works afterwards
    async with env.client() as client:
        consent = await _consent_page(client, request_token)
        ok = await client.post("/agent/auth", data={**form, "csrf_token": hidden(consent.text, "csrf_token")})
        assert ok.status_code == 303 and "code=" in ok.headers["location"]


async def test_login_is_required_before_approval(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        login = await client.get(_auth_url(request_token))
        response = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": hidden(login.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT})
        assert response.status_code == 401 and "location" not in response.headers
        assert 'id="username"' in response.text


async def test_session_id_changes_at_login(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        login = await client.get(_auth_url(request_token))
        before = client.cookies["aauth_session"]
        pre_login_csrf = hidden(login.text, "csrf_token")
        await client.post("/agent/auth", data={
            "action": "login", "csrf_token": pre_login_csrf, "request_token": request_token,
            "redirect_uri": REDIRECT, "username": "alice", "password": PASSWORD})
        assert client.cookies["aauth_session"] != before
        # the anonymous session's CSRF token is dead now
        response = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": pre_login_csrf, "request_token": request_token,
            "redirect_uri": REDIRECT})
        assert response.status_code == 403


async def test_redirect_uri_mismatch_shows_an_error_page(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        response = await client.get(_auth_url(request_token, redirect_uri="https://evil.example/callback"))
        assert response.status_code == 400 and "location" not in response.headers
        assert "redirect_uri does not match" in response.text
        unknown = await client.get(_auth_url("no-such-request"))
        assert unknown.status_code == 400
        repeated = await client.get(_auth_url(request_token) + "&redirect_uri=https%3A%2F%2Fevil.example")
        assert repeated.status_code == 400


async def test_code_expires(consent_env: AS, world: World) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        consent = await _consent_page(client, request_token)
        approved = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": hidden(consent.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT})
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    world.clock.advance(61)
    assert_refused(await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT}),
                   400, "invalid_grant")


async def test_request_token_expires(consent_env: AS, world: World) -> None:
    env = consent_env
    request_token = await _request_token(env)
    world.clock.advance(601)
    async with env.client() as client:
        response = await client.get(_auth_url(request_token))
    assert response.status_code == 400 and "expired" in response.text


async def test_form_must_be_urlencoded(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        await client.get(_auth_url(request_token))
        response = await client.post("/agent/auth", json={"action": "approve"})
    assert response.status_code == 400


async def test_issuer_origin_is_accepted(consent_env: AS) -> None:
    env = consent_env
    request_token = await _request_token(env)
    async with env.client() as client:
        consent = await _consent_page(client, request_token)
        ok = await client.post("/agent/auth", headers={"Origin": ISSUER, "Sec-Fetch-Site": "same-origin"}, data={
            "action": "approve", "csrf_token": hidden(consent.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT})
    assert ok.status_code == 303
