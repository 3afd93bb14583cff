"""Consent with a real browser: the agent client's interaction handler drives headless Chromium
through the real login and consent pages, then the client redeems the code and reaches the resource."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import USER, Parties

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="Debian's chromium is not installed at /usr/bin/chromium: "
                       "apt-get install chromium (scripts/test.sh does it when run as root)"),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_consent_in_a_browser(parties: Parties, browser: Any) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    seen: list[str] = []

    def user_in_a_browser(url: str) -> str:
        """What a real agent does: open the consent URL for the user and wait for the redirect back."""
        seen.append(url)
        page = browser.new_page()
        try:
            page.goto(url)
            assert page.inner_text("#agent") == "E2E Agent"
            page.fill("#username", USER[0])
            page.fill("#password", USER[1])
            page.click("#login")
            page.wait_for_selector("#consent-form", timeout=10_000)
            assert page.inner_text("#user") == USER[0]
            assert page.inner_text("#resource-id") == r1.url
            assert page.locator("#scopes li.scope").count() == 2
            page.click("#approve")
            page.wait_for_url(f"{agent.redirect_uri}**", timeout=10_000)
            assert page.inner_text("#done") == "agent received the callback"
            landed: str = page.url
            return landed
        finally:
            page.close()

    with parties.client(agent.signer(), interaction=user_in_a_browser) as client:
        response = client.get(f"{r1.url}/data-auth")
        again = client.get(f"{r1.url}/data-auth")  # the cached token: no second consent
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sub"] == USER[0] and body["agent"] == agent.url and body["issuer"] == as1.url
    assert body["scope"] == "data.read data.write"
    assert again.status_code == 200
    assert len(seen) == 1 and seen[0].startswith(f"{as1.url}/agent/auth?request_token=")
    assert len(agent.callbacks) == 1 and "code" in agent.callbacks[0]
    assert parse_qs(urlsplit(seen[0]).query)["redirect_uri"] == [agent.redirect_uri]
    assert as1.counter.calls == [("auth", 200), ("code", 200)]
