"""What the browser tests share: Debian's Chromium, axe-core, a real uvicorn auth server on loopback.

Only 127.0.0.1 is ever contacted: the auth server (and any callback) listen there, the
agent and resource documents come from the in-process network, and Chromium resolves no
other name (``--host-resolver-rules``): a navigation to the agent's ``https://agent.example``
callback fails inside the browser, where the tests see it (``page.expect_request``).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from aauth_core import dialect
from aauth_core.authserver import AuthServer, AuthServerConfig, Branding, MemoryUserStore, RequireConsent
from aauth_core.tokens import mint_resource_token
from aauth_starlette.authserver import build_auth_server_app

from ..conftest import AGENT, RESOURCE, World, signed_request
from ..servers import serve_asgi
from .conftest import USERS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 # no name resolves: nothing but the loopback addresses the tests use is ever contacted
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
AGENT_CALLBACK = f"{AGENT}/callback"

needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="Debian's chromium is not installed at /usr/bin/chromium: apt-get install chromium "
           "(scripts/test.sh does it when run as root)")


def axe_script() -> Path:
    """axe-core's ``axe.min.js``, installed by ``scripts/test-assets.sh`` (run here when missing).

    Skips, loudly, only when npm is missing (and never under CI); a failed install fails."""
    if not AXE.is_file():
        if shutil.which("npm") is None and not os.environ.get("CI"):
            pytest.skip("SKIPPED ACCESSIBILITY AUDIT: npm is missing, so axe-core cannot be installed "
                        "(install Node.js and npm, then run bash scripts/test-assets.sh)")
        done = subprocess.run(["bash", str(ROOT / "scripts" / "test-assets.sh")], cwd=ROOT, check=False,
                              timeout=300, capture_output=True, text=True)
        if not AXE.is_file():
            pytest.fail(f"axe-core could not be installed for the accessibility audit:\n{done.stderr}")
    return AXE


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG (its IHDR chunk)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@dataclass
class Stack:
    """A served auth server, the browser, and how to start a consent request in it."""

    world: World
    server: AuthServer
    issuer: str
    browser: Any
    redirect_uri: str
    scope: str
    sent: int = 0

    def request_token(self) -> str:
        """The agent's token request (consent needed): a fresh request token."""
        world = self.world
        rt = mint_resource_token(world.resource.key, iss=RESOURCE, aud=self.issuer, agent=AGENT,
                                 agent_jkt=world.agent.key.thumbprint, now=world.clock(), scope=self.scope)
        self.sent += 1  # the same resource token twice is the same signature: a fresh created avoids a replay
        response = agent_post(world, self.issuer, {"request_type": "auth", "resource_token": rt,
                                                   "redirect_uri": self.redirect_uri}, int(world.clock()) + self.sent)
        assert response.status_code == 200, response.text
        return str(response.json()["request_token"])

    def auth_url(self, request_token: str | None = None, state: str = "s-1") -> str:
        query = {"request_token": request_token or self.request_token(), "redirect_uri": self.redirect_uri}
        if state:
            query["state"] = state
        return f"{self.issuer}/agent/auth?{urlencode(query)}"

    def context(self, **options: Any) -> Any:
        return self.browser.new_context(**options)

    def sign_in(self, page: Any, user: str = "alice") -> None:
        page.fill("#username", user)
        page.fill("#password", USERS[user])
        page.click("#login")
        page.wait_for_selector("#consent-form", timeout=10_000)
        page.wait_for_load_state("load")  # the element exists before its stylesheet has loaded


def agent_post(world: World, issuer: str, form: Mapping[str, str], created: int | None = None) -> httpx.Response:
    """A signed token-endpoint request from the agent."""
    created = int(world.clock()) if created is None else created
    body = urlencode(dict(form)).encode()
    headers, _ = signed_request("POST", f"{issuer}/agent/token", key=world.agent.key, body=body,
                                headers={"Content-Type": dialect.FORM_CONTENT_TYPE}, created=created)
    with httpx.Client(trust_env=False) as client:
        return client.post(f"{issuer}/agent/token", headers=headers, content=body)


@contextmanager
def consent_stack(world: World, *, agent_name: str = "Trip Planner", resource_name: str | None = "Example Calendar",
                  descriptions: Mapping[str, str] | None = None, scope: str = "calendar.read calendar.write",
                  branding: Branding | None = None, redirect_uri: str = AGENT_CALLBACK,
                  app: Callable[[AuthServer], Any] | None = None) -> Iterator[Stack]:
    """A consent-policy auth server on 127.0.0.1 (alice is "Alice Liddell"), and a Chromium."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    world.network.publish(f"{AGENT}/.well-known/aauth-agent", {
        "agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "name": agent_name, "redirect_uris": [redirect_uri]})
    resource_meta: dict[str, Any] = {
        "resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json", "resource_token_endpoint": f"{RESOURCE}/resource/token",
        "scope_descriptions": dict(descriptions if descriptions is not None else {
            "calendar.read": "See your calendar events", "calendar.write": "Create and change events in your calendar"}),
    }
    if resource_name is not None:
        resource_meta["name"] = resource_name
    world.network.publish(f"{RESOURCE}/.well-known/aauth-resource", resource_meta)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = AuthServerConfig(issuer=issuer, keys=[world.issuer.key], branding=branding or Branding())
    server = AuthServer(config, policy=RequireConsent(), users=MemoryUserStore(USERS, names={"alice": "Alice Liddell"}),
                        discovery=world.discovery(config.verifier_settings()), clock=world.clock)
    asgi = app(server) if app is not None else build_auth_server_app(server)
    with serve_asgi(asgi, sock=sock) as origin, playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield Stack(world=world, server=server, issuer=origin, browser=browser, redirect_uri=redirect_uri,
                        scope=scope)
        finally:
            browser.close()
