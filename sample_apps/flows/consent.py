"""Flow 4 — user consent: a scripted user logs in and approves through the real HTML pages."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from aauth_core.errors import AAuthError

from ..parties.authserver import SAMPLE_USER
from ..runner import PartySpec, pick_ports
from .base import FlowContext, keyfile

TITLE = "User Consent Demo"
BANNER = ("The auth server needs a user's approval: it answers with a request token, the agent sends the\n"
          "user to the consent page, the user logs in and approves, and the agent redeems the code.")


class _Form(HTMLParser):
    """The first form's action and fields, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self.buttons[a.get("id", a["name"])] = f"{a['name']}={a.get('value', '')}"


def _form(page: httpx.Response) -> _Form:
    form = _Form()
    form.feed(page.text)
    return form


def _scopes(page: str) -> list[str]:
    """Each scope the consent page lists, as the user reads it: its words, then its name."""
    shown = []
    for scope, inner in re.findall(r'<li class="scope" data-scope="([^"]*)">(.*?)</li>', page, re.S):
        words = re.search(r'<span class="scope-text">(.*?)</span>', inner, re.S)
        name = html.unescape(scope)
        shown.append(f"{html.unescape(words.group(1))} ({name})" if words else name)
    return shown


def scripted_user(approve: bool, printer: Any) -> Any:
    """An interaction handler: a user who logs in with the sample account and approves (or denies)."""

    def handle(consent_url: str) -> str:
        printer.line(f"\n👤 User opens the consent page: {consent_url.split('?')[0]}")
        with httpx.Client(follow_redirects=False, timeout=30.0, trust_env=False) as browser:
            page = browser.get(consent_url)
            form = _form(page)
            target = httpx.URL(consent_url).join(form.action or consent_url)
            login = dict(form.fields, username=SAMPLE_USER[0], password=SAMPLE_USER[1])
            name, _, value = form.buttons.get("login", "action=login").partition("=")
            login[name] = value
            printer.line(f"👤 User logs in as {SAMPLE_USER[0]}")
            page = browser.post(target, data=login, headers={"Origin": f"{target.scheme}://{target.netloc.decode()}"})
            while page.status_code in (302, 303):
                page = browser.get(target.join(page.headers["location"]))
            form = _form(page)
            printer.line(f"👤 Consent page asks to allow: {', '.join(_scopes(page.text))}")
            choice = "approve" if approve else "deny"
            name, _, value = form.buttons.get(choice, f"action={choice}").partition("=")
            decision = dict(form.fields)
            decision[name] = value
            printer.line(f"👤 User chooses: {choice}")
            answer = browser.post(httpx.URL(consent_url).join(form.action or consent_url), data=decision,
                                  headers={"Origin": f"{target.scheme}://{target.netloc.decode()}"})
            location = answer.headers.get("location", "")
            printer.line(f"👤 Browser is sent back to the agent: {location.split('?')[0]}")
            return location

    return handle


def run(ctx: FlowContext, workdir: Path, *, resource: str = "starlette") -> None:
    agent_port, res_port, as_port = pick_ports([8001, 8002, 8003])
    key_file, key = keyfile(workdir, "agent1", "key-1")
    agent, res, issuer = (f"http://127.0.0.1:{p}" for p in (agent_port, res_port, as_port))
    specs = [
        PartySpec("Agent 1", "agent", agent_port, ("--key", str(key_file))),
        PartySpec("Resource 1", "resource", res_port, ("--framework", resource, "--auth-server", issuer)),
        PartySpec("Auth Server 1", "authserver", as_port, ("--policy", "consent")),
    ]
    with ctx.parties(specs):
        ctx.printer.banner("TEST 1: The User Approves", "Agent 1 needs Test User's approval to call Resource 1.")
        with ctx.agent_client(key, agent, interaction=scripted_user(True, ctx.printer)) as client:
            approved = client.get(f"{res}/data-auth")
        body = approved.json() if approved.status_code == 200 else {}
        ctx.check("TEST 1", approved.status_code == 200 and body.get("agent") == agent,
                  f"HTTP {approved.status_code} after consent")
        ctx.printer.banner("TEST 2: The User Denies")
        with ctx.agent_client(key, agent, interaction=scripted_user(False, ctx.printer)) as client:
            try:
                denied = client.get(f"{res}/data-auth")
                outcome = f"HTTP {denied.status_code}"
                refused = False  # a denial must reach the agent as access_denied, not as a response
            except AAuthError as exc:  # the client reports the user's refusal as access_denied
                outcome = exc.code
                refused = outcome == "access_denied"
        ctx.check("TEST 2", refused, f"agent told: {outcome}")
