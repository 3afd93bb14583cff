"""Paired checks for docs/authserver.md's "your own login" recipes (``check=login-starlette`` and so on).

Each runs the page's own app (``starlette_app.py``, ``flask_app.py``, the Django
``settings.py`` + ``urls.py``, all around the page's ``auth.py`` server) through its
framework's test client: a consent request waits; the signed-out user is sent to the
application's login and back; the consent page shows the application's user; the
approval redirects to the agent with a code.  The pending request is put in the
server's store directly, so no agent or resource document has to be fetched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["LOGIN_CHECKS"]

_COMMON = '''
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

from aauth_core.authserver.store import PendingRequest, secret_key
from auth import server

REQUEST_TOKEN = "doc-check-request-token"
REDIRECT = "https://agent.example/callback"
pending = PendingRequest(agent="https://agent.example", resource="https://api.example", scope="data.read",
                         agent_claim=False, redirect_uri=REDIRECT, agent_name="Report bot",
                         expires_at=time.time() + 600)
server.store.put("pending", secret_key(REQUEST_TOKEN), pending.to_dict(), pending.expires_at)
CONSENT = "/agent/auth?" + urlencode({"request_token": REQUEST_TOKEN, "redirect_uri": REDIRECT})


def hidden(page, name):
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def check_consent_page(text):
    assert "Report bot" in text and "Read your reports" in text, text
    assert 'id="user-name">Alice Liddell<' in text and 'id="user">alice<' in text, text
    assert "<title>Authorize Report bot · Example</title>" in text, text


def approval(text):
    return {"action": "approve", "csrf_token": hidden(text, "csrf_token"), "request_token": REQUEST_TOKEN,
            "redirect_uri": REDIRECT}


def check_code(location):
    assert location.startswith(REDIRECT + "?") and parse_qs(urlsplit(location).query)["code"], location
'''

_STARLETTE = _COMMON + '''
import asyncio

import httpx

from starlette_app import app


async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://example.com") as browser:
        first = await browser.get(CONSENT)
        assert first.status_code == 303 and first.headers["location"] == "/login?" + urlencode({"next": CONSENT})
        signed_in = await browser.post(first.headers["location"], data={"username": "alice", "password": "s3cret"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == CONSENT, signed_in.text
        page = await browser.get(CONSENT)
        check_consent_page(page.text)
        approved = await browser.post("/agent/auth", data=approval(page.text))
        assert approved.status_code == 303, approved.text
        check_code(approved.headers["location"])


asyncio.run(main())
'''

_FLASK = _COMMON + '''
from flask_app import app

browser = app.test_client()
first = browser.get(CONSENT, base_url="https://example.com")
assert first.status_code == 303 and first.headers["Location"] == "/login?" + urlencode({"next": CONSENT})
signed_in = browser.post(first.headers["Location"], data={"username": "alice", "password": "s3cret"},
                         base_url="https://example.com")
assert signed_in.status_code == 303 and signed_in.headers["Location"] == CONSENT
page = browser.get(CONSENT, base_url="https://example.com")
check_consent_page(page.get_data(as_text=True))
approved = browser.post("/agent/auth", data=approval(page.get_data(as_text=True)), base_url="https://example.com")
assert approved.status_code == 303
check_code(approved.headers["Location"])
'''

_DJANGO = '''
import os

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

call_command("check", fail_level="WARNING")
call_command("migrate", verbosity=0)
setup_test_environment()   # lets the test client's host in
''' + _COMMON + '''
alice = get_user_model().objects.create_user("alice", password="s3cret", first_name="Alice", last_name="Liddell")
browser = Client()
first = browser.get(CONSENT)
assert first.status_code == 303 and first["Location"] == "/accounts/login/?" + urlencode({"next": CONSENT})
browser.force_login(alice)   # Django's login view would do this, then send the user back to next
page = browser.get(CONSENT)
check_consent_page(page.content.decode())
approved = browser.post("/agent/auth", urlencode(approval(page.content.decode())),
                       content_type="application/x-www-form-urlencoded")
assert approved.status_code == 303, approved.content
check_code(approved["Location"])
'''

_SCRIPTS = {"login-starlette": _STARLETTE, "login-flask": _FLASK, "login-django": _DJANGO}


def _check(name: str) -> Callable[..., None]:
    def check(block: object, workdir: Path, env: dict[str, str]) -> None:
        from .test_snippets import _run  # the one runner: network guard, timeout, exit status

        script = workdir / f"_doc_check_{name.replace('-', '_')}.py"
        script.write_text(_SCRIPTS[name], encoding="utf-8")
        _run([sys.executable, str(script)], block, workdir, env)  # type: ignore[arg-type]

    check.__doc__ = f"docs/authserver.md's {name.removeprefix('login-').title()} recipe: the application's own login."
    return check


LOGIN_CHECKS: dict[str, Callable[..., None]] = {name: _check(name) for name in _SCRIPTS}
