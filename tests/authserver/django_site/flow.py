"""The consent flow through Django: Django's login view, its session, request.user, and the pages.

Exits non-zero (an AssertionError) when anything is off; prints ``django consent flow: ok``.
"""

from __future__ import annotations

import os
import re
from html import unescape
from itertools import count
from urllib.parse import parse_qs, urlencode, urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.authserver.django_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from aauth_core import dialect  # noqa: E402
from aauth_core.headers import parse_agent_auth  # noqa: E402
from aauth_core.tokens import peek  # noqa: E402

from .server import ISSUER, REDIRECT, agent, resource, server  # noqa: E402

_created = count(int(server.clock()))


def signed_post(client: Client, form: dict[str, str]):  # type: ignore[no-untyped-def]
    body = urlencode(form).encode()
    headers = {"Content-Type": dialect.FORM_CONTENT_TYPE}
    signed = agent.signer().sign("POST", f"{ISSUER}/agent/token", headers, body, created=next(_created))
    return client.post("/agent/token", data=body, content_type=dialect.FORM_CONTENT_TYPE,
                       headers={k: v for k, v in signed.headers.items() if k.lower() != "content-type"})


def request_token(client: Client) -> str:
    challenge = parse_agent_auth(resource.auth_token_challenge(
        agent="https://agent.example", agent_jkt=agent.keys[0].thumbprint, scope="data.read"))
    answer = signed_post(client, {"request_type": "auth", "resource_token": challenge.resource_token,
                                  "redirect_uri": REDIRECT})
    assert answer.status_code == 200, answer.content
    return str(answer.json()["request_token"])


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return unescape(found.group(1))


def main() -> None:
    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user("alice", password="s3cret", first_name="Alice", last_name="Liddell")
    client = Client(enforce_csrf_checks=True)  # Django's own CSRF check stays on for its login view
    token = request_token(client)
    consent_url = f"/agent/auth?{urlencode({'request_token': token, 'redirect_uri': REDIRECT, 'state': 'x'})}"

    # signed out: Django's login view (settings.LOGIN_URL, a URL name), next= brings the user back
    first = client.get(consent_url)
    assert first.status_code == 303, first.status_code
    login_at = urlsplit(first["Location"])
    assert login_at.path == "/accounts/login/" and parse_qs(login_at.query)["next"] == [consent_url]
    assert first["Content-Security-Policy"].startswith("default-src 'none'") and first["X-Frame-Options"] == "DENY"
    login_page = client.get(first["Location"])
    signed_in = client.post(first["Location"], {
        "username": "alice", "password": "s3cret", "next": consent_url,
        "csrfmiddlewaretoken": hidden(login_page.content.decode(), "csrfmiddlewaretoken")})
    assert signed_in.status_code == 302 and signed_in["Location"] == consent_url, signed_in.status_code
    assert client.cookies["sessionid"]["samesite"] == "Lax"  # Django's session reaches a link from the agent

    page = client.get(consent_url)
    text = page.content.decode()
    assert page.status_code == 200, text
    assert 'id="user-name">Alice Liddell<' in text and 'id="user">alice<' in text
    assert 'id="agent">Trip Planner<' in text and 'id="resource">Example Reports<' in text
    assert "Read your reports" in text and 'id="switch-user" href="/accounts/login/?next=' in text
    cookie = client.cookies["aauth_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/agent/auth"

    # Django's CSRF middleware does not get in the way; our own token does the job
    form = {"request_token": token, "redirect_uri": REDIRECT, "state": "x", "action": "approve"}
    forged = client.post("/agent/auth", urlencode({**form, "csrf_token": "forged"}),
                         content_type=dialect.FORM_CONTENT_TYPE)
    assert forged.status_code == 403, forged.status_code
    approved = client.post("/agent/auth", urlencode({**form, "csrf_token": hidden(text, "csrf_token")}),
                           content_type=dialect.FORM_CONTENT_TYPE)
    assert approved.status_code == 303, approved.content
    query = parse_qs(urlsplit(approved["Location"]).query)
    assert query["state"] == ["x"], query

    redeemed = signed_post(client, {"request_type": "code", "code": query["code"][0], "redirect_uri": REDIRECT})
    assert redeemed.status_code == 200, redeemed.content
    claims = peek(redeemed.json()["auth_token"]).claims
    assert claims["sub"] == "alice" and claims["agent"] == "https://agent.example", claims

    # the documents and the stylesheet
    assert client.get("/.well-known/aauth-issuer").json()["issuer"] == ISSUER
    assert client.get("/jwks.json").json()["keys"]
    stylesheet = re.search(r'href="(/agent/static/aauth\.css)\?v=', text)
    assert stylesheet and client.get(stylesheet.group(1))["Content-Type"].startswith("text/css")
    assert client.get("/agent/token").status_code == 405
    print("django consent flow: ok")


if __name__ == "__main__":
    main()
