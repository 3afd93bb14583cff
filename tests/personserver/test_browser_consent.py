"""The person server's consent page in a real headless Chromium (Debian's, the January consent
tests' harness), against the person server served by uvicorn on 127.0.0.1: the agent's request
goes pending with ``requirement=interaction``, the browser opens ``{url}?code=…``, signs in and
approves (or denies), and the agent's signed poll gets its token (or ``403 denied``).

Only 127.0.0.1 is contacted: the person server listens there; the agent provider's documents
reach the person server through the in-process transport, and Chromium resolves no other name.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from aauth_core.authserver import MemoryUserStore
from aauth_core.client import AgentProvider
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.personserver import PersonServer, PersonServerConfig
from aauth_core.tokens import peek
from aauth_core.wire.requirement import parse_requirement
from aauth_starlette.personserver import build_person_server_app

from ..authserver.browser_stack import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from ..conftest import FrozenClock
from ..profile11.mint import sign11
from ..servers import serve_asgi
from .stack import AGENT, AP, RESOURCE, SECRET, Hosts, resolver

pytestmark = [pytest.mark.browser, needs_chromium]

BODY_SET = ("@method", "@authority", "@path", "signature-key", "content-digest", "content-type")


@dataclass
class Served:
    """The served person server, the agent's key and token, and a Chromium."""

    issuer: str
    clock: FrozenClock
    agent_key: SigningKey
    agent_token: str
    browser: Any

    def ask(self) -> tuple[str, str, str]:
        """The agent's person-token request: its pending URL, the interaction URL and code."""
        body = json.dumps({"resource": RESOURCE, "capabilities": ["interaction"]}).encode()
        url = f"{self.issuer}/person"
        headers = sign11("POST", url, self.agent_key, self.agent_token, body=body, components=BODY_SET,
                         created=int(self.clock()))
        with httpx.Client(trust_env=False) as client:
            reply = client.post(url, headers=headers, content=body)
        assert reply.status_code == 202, reply.text
        requirement = parse_requirement(reply.headers["aauth-requirement"])
        assert requirement.requirement == "interaction" and requirement.url and requirement.code
        return reply.headers["location"], requirement.url, requirement.code

    def poll(self, location: str) -> httpx.Response:
        self.clock.advance(1)
        headers = sign11("GET", location, self.agent_key, self.agent_token, created=int(self.clock()))
        with httpx.Client(trust_env=False) as client:
            return client.get(location, headers=headers)

    def user_answers(self, url: str, code: str, button: str) -> str:
        """What the user does in the browser: open the link, sign in, press ``button``; the result page."""
        page = self.browser.new_page()
        try:
            page.goto(f"{url}?code={code}")
            assert page.inner_text("#agent").strip() != ""
            page.fill("#username", "alice")
            page.fill("#password", "wonderland")
            page.click("#login")
            page.wait_for_selector("#consent-form", timeout=10_000)
            assert code in page.inner_text("#code")
            page.click(button)
            page.wait_for_selector("#result", timeout=10_000)
            return str(page.inner_text("#result"))
        finally:
            page.close()


@pytest.fixture
def served(clock: FrozenClock) -> Iterator[Served]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    net = Hosts()
    provider = AgentProvider(AP, [SigningKey.generate(kid="ap-1")], clock=clock, allow_loopback=True)
    net.asgi("ap.example", provider.asgi_app())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = PersonServerConfig(issuer=issuer, keys=[SigningKey.generate(kid="ps-1")], subject_secret=SECRET,
                                agents={AGENT: "alice"}, allow_insecure_loopback=True)
    discovery = Discovery(config.service_settings(), transport=net, async_transport=net, clock=clock,
                          resolver=resolver)
    server = PersonServer(config, users=MemoryUserStore({"alice": "wonderland"}), discovery=discovery, clock=clock)
    agent_key = SigningKey.generate()
    token = provider.issue_agent_token("assistant", agent_key.public_jwk(), ps=issuer)
    with serve_asgi(build_person_server_app(server), sock=sock) as origin, playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield Served(origin, clock, agent_key, token, browser)
        finally:
            browser.close()


def test_the_user_approves_in_a_browser_and_the_agent_gets_its_person_token(served: Served) -> None:
    location, url, code = served.ask()
    assert url == f"{served.issuer}/interaction"
    assert served.poll(location).status_code == 202  # the user has not answered yet
    assert "continues on its own" in served.user_answers(url, code, "#approve")
    reply = served.poll(location)
    assert reply.status_code == 200, reply.text
    token = peek(reply.json()["person_token"])
    assert token.typ == "aa-person+jwt" and token.claims["aud"] == RESOURCE
    assert token.claims["iss"] == served.issuer
    assert served.poll(location).status_code == 410  # delivered once


def test_the_user_denies_in_a_browser_and_the_agent_is_told(served: Served) -> None:
    location, url, code = served.ask()
    assert "you said no" in served.user_answers(url, code, "#deny")
    reply = served.poll(location)
    assert reply.status_code == 403 and reply.json()["error"] == "denied"
    assert "person_token" not in reply.text
