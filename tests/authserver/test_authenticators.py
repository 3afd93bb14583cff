"""Your own login: the consent step asks the host application who is signed in.

Starlette (``auth_server_routes(..., authenticator=, login_url=)`` beside the app's own
session and sign-in route) and Flask (``auth_server_blueprint``), through their real test
clients and real session cookies; Django's integration is in ``test_django_authserver.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from aauth_core.authserver import ConsentPages, RequireConsent, User
from aauth_core.errors import SettingsError
from aauth_starlette.authserver import auth_server_routes, build_auth_server_app

from ..conftest import AGENT, ISSUER, RESOURCE, World
from .conftest import AS, FORM, REDIRECT, MakeAS, hidden

NAMES = {"alice": "Alice Liddell", "bob": "Bob Builder"}


@pytest.fixture
def env(make_as: MakeAS, world: World) -> AS:
    world.network.publish(f"{AGENT}/.well-known/aauth-agent", {
        "agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "name": "Trip Planner", "redirect_uris": [REDIRECT]})
    world.network.publish(f"{RESOURCE}/.well-known/aauth-resource", {
        "resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json", "resource_token_endpoint": f"{RESOURCE}/resource/token",
        "name": "Example Calendar", "scope_descriptions": {"data.read": "See your calendar"}})
    return make_as(policy=RequireConsent())


async def _request_token(env: AS) -> str:
    response = await env.post({"request_type": "auth", "resource_token": env.resource_token(), "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    return str(response.json()["request_token"])


def _auth_path(request_token: str, **extra: str) -> str:
    return "/agent/auth?" + urlencode({"request_token": request_token, "redirect_uri": REDIRECT, **extra})


def _host_app(env: AS, authenticator: Callable[[Request], Any] | None = None, login_url: str = "/login") -> Starlette:
    """The host application: its own session (SessionMiddleware), its own sign-in route, and the auth server."""

    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", ""))
        if username not in NAMES or form.get("password") != f"pw-{username}":
            return PlainTextResponse("wrong", status_code=401)
        request.session["user"] = username
        return RedirectResponse(request.query_params.get("next", "/"), status_code=303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return PlainTextResponse("bye")

    def current_user(request: Request) -> User | None:
        username = request.session.get("user")
        return User(username, name=NAMES[username]) if username else None

    return Starlette(
        routes=[Route("/login", login, methods=["POST"]), Route("/logout", logout),
                *auth_server_routes(env.server, authenticator=authenticator or current_user, login_url=login_url)],
        middleware=[Middleware(SessionMiddleware, secret_key="host-app-secret", https_only=True)],
    )


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)


async def _sign_in(client: httpx.AsyncClient, username: str, next_url: str) -> None:
    response = await client.post("/login", params={"next": next_url},
                                 data={"username": username, "password": f"pw-{username}"})
    assert response.status_code == 303 and response.headers["location"] == next_url


async def test_starlette_signed_out_user_is_sent_to_the_apps_login_and_back(env: AS) -> None:
    request_token = await _request_token(env)
    async with _client(_host_app(env)) as client:
        first = await client.get(_auth_path(request_token, state="s1"))
        assert first.status_code == 303
        location = urlsplit(first.headers["location"])
        assert location.path == "/login"
        next_url = parse_qs(location.query)["next"][0]
        assert next_url == _auth_path(request_token, state="s1")
        assert "Sign in to continue" in first.text and first.headers["content-security-policy"].startswith(
            "default-src 'none'")
        assert "aauth_session" not in first.headers.get("set-cookie", "")

        await _sign_in(client, "alice", next_url)
        page = await client.get(next_url)
        assert page.status_code == 200, page.text
        assert 'id="user-name">Alice Liddell<' in page.text and 'id="user">alice<' in page.text
        assert 'id="resource">Example Calendar<' in page.text and "See your calendar" in page.text
        assert 'id="switch-user" href="/login?next=%2Fagent%2Fauth%3F' in page.text
        assert 'value="login"' not in page.text and 'id="password"' not in page.text  # no sign-in form of ours
        approved = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": hidden(page.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT, "state": "s1"})
    assert approved.status_code == 303 and "Access approved" in approved.text
    query = parse_qs(urlsplit(approved.headers["location"]).query)
    assert query["state"] == ["s1"]
    token = await env.post({"request_type": "code", "code": query["code"][0], "redirect_uri": REDIRECT})
    assert token.status_code == 200, token.text
    assert env.use_at_resource(token.json()["auth_token"]).sub == "alice"


async def test_starlette_a_different_user_must_review_again(env: AS) -> None:
    """The page was shown to alice; bob signed in since: nothing is approved in bob's name unseen."""
    request_token = await _request_token(env)
    async with _client(_host_app(env)) as client:
        await _sign_in(client, "alice", "/")
        page = await client.get(_auth_path(request_token))
        csrf = hidden(page.text, "csrf_token")
        await _sign_in(client, "bob", "/")
        again = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": csrf, "request_token": request_token, "redirect_uri": REDIRECT})
        assert again.status_code == 409 and "location" not in again.headers
        assert 'id="user-name">Bob Builder<' in again.text and 'role="alert"' in again.text
        assert hidden(again.text, "csrf_token") != csrf  # a new session for bob
        approved = await client.post("/agent/auth", data={
            "action": "approve", "csrf_token": hidden(again.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT})
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    token = await env.post({"request_type": "code", "code": code, "redirect_uri": REDIRECT})
    assert env.use_at_resource(token.json()["auth_token"]).sub == "bob"


async def test_starlette_signed_out_before_answering(env: AS) -> None:
    request_token = await _request_token(env)
    async with _client(_host_app(env)) as client:
        await _sign_in(client, "alice", "/")
        page = await client.get(_auth_path(request_token))
        await client.get("/logout")
        form = {"csrf_token": hidden(page.text, "csrf_token"), "request_token": request_token, "redirect_uri": REDIRECT}
        answer = await client.post("/agent/auth", data={**form, "action": "approve"})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
        ours = await client.post("/agent/auth", data={**form, "action": "login", "username": "alice",
                                                      "password": "correct horse battery staple"})
        assert ours.status_code == 400  # no built-in sign-in once the application owns login
    assert env.stored() >= 1  # the request is still pending


async def test_starlette_async_authenticator_and_absolute_login_url(env: AS) -> None:
    request_token = await _request_token(env)

    async def nobody(request: Request) -> User | None:
        return None

    app = build_auth_server_app(env.server, authenticator=nobody, login_url="https://login.example/sso?app=1")
    async with _client(app) as client:
        first = await client.get(_auth_path(request_token))
    location = urlsplit(first.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://login.example/sso"
    query = parse_qs(location.query)
    assert query["app"] == ["1"] and query["next"] == [f"{ISSUER}{_auth_path(request_token)}"]


async def test_starlette_authenticator_must_answer_a_user(env: AS) -> None:
    request_token = await _request_token(env)
    app = build_auth_server_app(env.server, authenticator=lambda request: "alice", login_url="/login")
    async with _client(app) as client:
        with pytest.raises(TypeError, match="must return a User or None"):
            await client.get(_auth_path(request_token))


def test_an_authenticator_needs_a_login_url(env: AS) -> None:
    with pytest.raises(SettingsError, match="login_url"):
        build_auth_server_app(env.server, authenticator=lambda request: None)
    with pytest.raises(SettingsError, match="login_url"):
        ConsentPages(env.server, external=True)


# ----------------------------------------------------------------------------- Flask


def _flask_app(env: AS, *, own_login: bool = True) -> Any:
    flask = pytest.importorskip("flask")
    from aauth_flask.authserver import auth_server_blueprint

    app = flask.Flask("host")
    app.secret_key = "host-app-secret"
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.post("/login")
    def login() -> Any:
        username = flask.request.form.get("username", "")
        if username not in NAMES or flask.request.form.get("password") != f"pw-{username}":
            return "wrong", 401
        flask.session["user"] = username
        return flask.redirect(flask.request.args.get("next", "/"), code=303)

    def current_user(request: Any) -> User | None:
        username = flask.session.get("user")
        return User(username, name=NAMES[username]) if username else None

    blueprint = (auth_server_blueprint(env.server, authenticator=current_user, login_url="/login") if own_login
                 else auth_server_blueprint(env.server))
    app.register_blueprint(blueprint)
    return app


async def test_flask_blueprint_with_the_apps_login(env: AS) -> None:
    request_token = await _request_token(env)
    client = _flask_app(env).test_client()
    first = client.get(_auth_path(request_token), base_url=ISSUER)
    assert first.status_code == 303 and first.headers["Content-Security-Policy"].startswith("default-src 'none'")
    next_url = parse_qs(urlsplit(first.headers["Location"]).query)["next"][0]
    signed_in = client.post("/login", query_string={"next": next_url}, data={"username": "alice", "password": "pw-alice"},
                            base_url=ISSUER)
    assert signed_in.status_code == 303
    page = client.get(next_url, base_url=ISSUER)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="user-name">Alice Liddell<' in text
    cookie = next(v for k, v in page.headers.items() if k == "Set-Cookie" and v.startswith("aauth_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie and "Path=/agent/auth" in cookie
    stylesheet = re.search(r'href="(/agent/static/aauth\.css\?v=[0-9a-f]+)"', text)
    assert stylesheet and client.get(stylesheet.group(1), base_url=ISSUER).headers["Content-Type"].startswith("text/css")
    approved = client.post("/agent/auth", data={
        "action": "approve", "csrf_token": hidden(text, "csrf_token"), "request_token": request_token,
        "redirect_uri": REDIRECT}, base_url=ISSUER, headers={"Origin": ISSUER})
    assert approved.status_code == 303
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]

    # the blueprint's token endpoint redeems the code (a signed request, checked by the same core)
    headers, body = env.sign({"request_type": "code", "code": code, "redirect_uri": REDIRECT})
    token = client.post("/agent/token", data=body, headers=headers, base_url=ISSUER)
    assert token.status_code == 200, token.get_data(as_text=True)
    assert env.use_at_resource(token.get_json()["auth_token"]).sub == "alice"
    assert client.get("/.well-known/aauth-issuer", base_url=ISSUER).get_json()["issuer"] == ISSUER
    assert client.get("/jwks.json", base_url=ISSUER).get_json()["keys"]


async def test_flask_blueprint_with_the_demo_user_store(env: AS) -> None:
    request_token = await _request_token(env)
    client = _flask_app(env, own_login=False).test_client()
    page = client.get(_auth_path(request_token), base_url=ISSUER)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="password"' in text
    signed_in = client.post("/agent/auth", data={
        "action": "login", "csrf_token": hidden(text, "csrf_token"), "request_token": request_token,
        "redirect_uri": REDIRECT, "username": "alice", "password": "correct horse battery staple"}, base_url=ISSUER)
    assert signed_in.status_code == 303
    page = client.get(signed_in.headers["Location"], base_url=ISSUER)
    assert 'id="user">alice<' in page.get_data(as_text=True)
    too_big = client.post("/agent/token", data=b"x" * (70 * 1024), headers=FORM, base_url=ISSUER)
    assert too_big.status_code == 413
