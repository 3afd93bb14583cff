"""The consent pages in a real headless Chromium (Debian's), against a real uvicorn auth server:
the whole flow, and the security properties as a browser enforces them (CSP, framing, CSRF).

Only 127.0.0.1 is ever contacted: the auth server and the agent's callback listen
there; the agent and resource documents come from the in-process network.
"""

from __future__ import annotations

import html
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from aauth_core import dialect
from aauth_core.authserver import AuthServer, AuthServerConfig, MemoryUserStore, RequireConsent
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import mint_resource_token
from aauth_core.verifier import Verifier
from aauth_starlette.authserver import build_auth_server_app

from ..conftest import AGENT, RESOURCE, World, signed_request
from ..servers import serve_asgi as serve
from .browser_stack import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from .conftest import USERS

pytestmark = [pytest.mark.browser, needs_chromium]


class Callback:
    """The agent's redirect target (records what the auth server sent the browser back with), and
    pages of another origin: one that frames the consent page, one that posts a forged form to it."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.target = ""

    async def handle(self, request: Request) -> PlainTextResponse:
        self.queries.append(parse_qs(request.url.query))
        return PlainTextResponse("agent received the callback")

    async def frame(self, request: Request) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><title>framer</title><iframe id="f" src="{html.escape(self.target)}">'
                            "</iframe>")

    async def forge(self, request: Request) -> HTMLResponse:
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in request.query_params.items())
        action = html.escape(self.target)
        return HTMLResponse(f'<!doctype html><title>forger</title><form method="post" action="{action}">'
                            f'{fields}<button id="go" name="action" value="approve">win a prize</button></form>')

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/callback", self.handle), Route("/frame", self.frame),
                                 Route("/forge", self.forge)])


@pytest.fixture
def stack(world: World) -> Iterator[dict[str, Any]]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    callback = Callback()
    with serve(callback.app()) as callback_origin:
        redirect_uri = f"{callback_origin}/callback"
        world.network.publish(f"{AGENT}/.well-known/aauth-agent", {
            "agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "name": "Trip Planner",
            "redirect_uris": [redirect_uri]})
        world.network.publish(f"{RESOURCE}/.well-known/aauth-resource", {
            "resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json",
            "resource_token_endpoint": f"{RESOURCE}/resource/token",
            "scope_descriptions": {"data.read": "Read your data", "data.write": "Change your data"}})
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = AuthServerConfig(issuer=issuer, keys=[world.issuer.key])
        server = AuthServer(config, policy=RequireConsent(), users=MemoryUserStore(USERS),
                            discovery=world.discovery(config.verifier_settings()), clock=world.clock)
        with serve(build_auth_server_app(server), sock=sock) as origin, playwright_sync.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield {"issuer": origin, "redirect_uri": redirect_uri, "callback": callback,
                       "browser": browser, "world": world, "callback_origin": callback_origin}
            finally:
                browser.close()


def _agent_post(world: World, issuer: str, form: dict[str, str], created: int) -> httpx.Response:
    body = urlencode(form).encode()
    headers, _ = signed_request("POST", f"{issuer}/agent/token", key=world.agent.key, body=body,
                                headers={"Content-Type": dialect.FORM_CONTENT_TYPE}, created=created)
    with httpx.Client() as client:
        return client.post(f"{issuer}/agent/token", headers=headers, content=body)


def _start(stack: dict[str, Any]) -> tuple[str, Any]:
    world: World = stack["world"]
    issuer = stack["issuer"]
    rt = mint_resource_token(world.resource.key, iss=RESOURCE, aud=issuer, agent=AGENT,
                             agent_jkt=world.agent.key.thumbprint, now=world.clock(), scope="data.read data.write")
    response = _agent_post(world, issuer, {"request_type": "auth", "resource_token": rt,
                                           "redirect_uri": stack["redirect_uri"]}, int(world.clock()))
    assert response.status_code == 200, response.text
    request_token = response.json()["request_token"]
    page = stack["browser"].new_context().new_page()
    query = urlencode({"request_token": request_token, "redirect_uri": stack["redirect_uri"], "state": "s-1"})
    page.goto(f"{issuer}/agent/auth?{query}")
    assert "Trip Planner" in page.inner_text("#agent")
    page.fill("#username", "alice")
    page.fill("#password", USERS["alice"])
    page.click("#login")
    page.wait_for_selector("#consent-form", timeout=10_000)
    return request_token, page


def test_browser_login_approve_and_use_the_token(stack: dict[str, Any]) -> None:
    world: World = stack["world"]
    _, page = _start(stack)
    assert page.inner_text("#user") == "alice"
    assert page.inner_text("#agent") == "Trip Planner" and page.inner_text("#agent-id") == AGENT
    assert page.inner_text("#resource") == "api.example" and page.inner_text("#resource-id") == RESOURCE
    scopes = page.locator("#scopes li.scope")
    assert scopes.count() == 2
    assert "Read your data" in scopes.nth(0).inner_text() and "Change your data" in scopes.nth(1).inner_text()
    page.click("#approve")
    page.wait_for_url(f"{stack['redirect_uri']}**")
    assert page.inner_text("body") == "agent received the callback"
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["s-1"]
    assert stack["callback"].queries[-1]["code"] == query["code"]

    token = _agent_post(world, stack["issuer"], {"request_type": "code", "code": query["code"][0],
                                                 "redirect_uri": stack["redirect_uri"]}, int(world.clock()) + 1)
    assert token.status_code == 200, token.text
    body = token.json()
    assert set(body) == {"auth_token", "expires_in", "token_type"}
    # the resource (trusting this auth server) accepts the token from the agent
    world.network.publish(f"{stack['issuer']}/.well-known/aauth-issuer",
                          {"issuer": stack["issuer"], "jwks_uri": f"{stack['issuer']}/jwks.json"})
    world.network.publish(f"{stack['issuer']}/jwks.json", {"keys": [world.issuer.key.public_jwk()]})
    settings = AAuthSettings(resource_id=RESOURCE, trusted_issuers=(stack["issuer"],), allow_insecure_loopback=True)
    verifier = Verifier(settings, discovery=world.discovery(settings), clock=world.clock)
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key, scheme="jwt",
                                params={"jwt": body["auth_token"]})
    verified = verifier.verify(RequestView.from_url("GET", f"{RESOURCE}/data", headers))
    assert verified is not None and verified.level == "authorization"
    assert verified.sub == "alice" and verified.agent == AGENT and verified.scope == {"data.read", "data.write"}


def test_browser_deny(stack: dict[str, Any]) -> None:
    world: World = stack["world"]
    _, page = _start(stack)
    page.click("#deny")
    page.wait_for_url(f"{stack['redirect_uri']}**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["access_denied"] and "code" not in query and query["state"] == ["s-1"]
    assert stack["callback"].queries[-1]["error"] == ["access_denied"]
    # going back and approving is impossible: the request was answered
    page.go_back()
    page.reload()
    assert "cannot be completed" in page.inner_text("h1")
    assert world is stack["world"]


def test_browser_enforces_the_csp(stack: dict[str, Any]) -> None:
    """The stylesheet (same origin) applies; styles and scripts injected inline do not: no 'unsafe-inline'."""
    _, page = _start(stack)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.reload()
    page.wait_for_selector("#consent-form")
    assert not problems, problems  # the real page triggers no CSP report and loads every resource
    assert page.evaluate("getComputedStyle(document.querySelector('#approve')).backgroundColor") != "rgba(0, 0, 0, 0)"
    injected = page.evaluate("""() => {
        const style = document.createElement('style');
        style.textContent = 'body { background-color: rgb(255, 0, 0) !important }';
        document.head.append(style);
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.head.append(script);
        return [getComputedStyle(document.body).backgroundColor, window.injected === true];
    }""")
    assert injected[0] != "rgb(255, 0, 0)" and injected[1] is False
    assert any("Content Security Policy" in p for p in problems)


def test_browser_refuses_framing(stack: dict[str, Any]) -> None:
    """frame-ancestors 'none' (and X-Frame-Options): another origin cannot show the page in a frame."""
    _, page = _start(stack)
    stack["callback"].target = page.url
    framer = stack["browser"].new_page()
    framer.goto(f"{stack['callback_origin']}/frame")
    framer.wait_for_load_state("load")
    child = next(f for f in framer.frames if f != framer.main_frame)
    assert child.url.startswith("chrome-error://") or child.query_selector("#consent-form") is None
    assert page.query_selector("#consent-form") is not None  # the page itself is fine


def test_browser_refuses_a_forged_form_from_another_site(stack: dict[str, Any]) -> None:
    """A signed-in user lured to another origin: its form post to the consent endpoint is refused (its
    ``Origin`` is not the issuer's; the CSRF token is a guess, and from another site the SameSite=Strict
    cookie would not even be sent), and the request stays pending."""
    request_token, page = _start(stack)
    fields = {"request_token": request_token, "redirect_uri": stack["redirect_uri"], "state": "s-1",
              "csrf_token": "guessed"}
    stack["callback"].target = f"{stack['issuer']}/agent/auth"
    forged = page.context.new_page()
    forged.goto(f"{stack['callback_origin']}/forge?{urlencode(fields)}")
    forged.click("#go")
    forged.wait_for_selector("#error", timeout=10_000)
    assert forged.get_attribute("#error", "data-code") == "invalid_request"
    assert "cannot be completed" in forged.inner_text("h1")
    assert stack["callback"].queries == []
    page.click("#approve")  # the real page still works
    page.wait_for_url(f"{stack['redirect_uri']}**")
    assert "code" in parse_qs(urlsplit(page.url).query)
