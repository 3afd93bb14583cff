"""The pages' words and look without a browser: names and scope descriptions (and where they come from),
escaping, branding overrides and their start-up checks, the static files, the result pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from aauth_core.authserver import AuthServer, AuthServerConfig, Branding, ConsentPages, PageRequest, RequireConsent
from aauth_core.authserver.branding import TEMPLATES
from aauth_core.errors import SettingsError
from aauth_core.keys import SigningKey
from aauth_core.resource import ResourceIdentity
from aauth_core.settings import AAuthSettings

from ..conftest import AGENT, ISSUER, RESOURCE, World
from .conftest import AS, REDIRECT, USERS, MakeAS, hidden


def _publish(world: World, *, agent_name: object = "Trip <b>Planner</b>", resource: dict[str, object] | None = None
             ) -> None:
    world.network.publish(f"{AGENT}/.well-known/aauth-agent", {
        "agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json", "name": agent_name, "redirect_uris": [REDIRECT]})
    world.network.publish(f"{RESOURCE}/.well-known/aauth-resource", {
        "resource": RESOURCE, "jwks_uri": f"{RESOURCE}/jwks.json", "resource_token_endpoint": f"{RESOURCE}/resource/token",
        **(resource or {})})


async def _consent_text(env: AS, scope: str = "data.read data.write") -> str:
    """Sign in as alice and return the consent page."""
    answer = await env.post({"request_type": "auth", "resource_token": env.resource_token(scope=scope),
                             "redirect_uri": REDIRECT})
    request_token = answer.json()["request_token"]
    url = "/agent/auth?" + urlencode({"request_token": request_token, "redirect_uri": REDIRECT})
    async with env.client() as client:
        login = await client.get(url)
        signed_in = await client.post("/agent/auth", data={
            "action": "login", "csrf_token": hidden(login.text, "csrf_token"), "request_token": request_token,
            "redirect_uri": REDIRECT, "username": "alice", "password": USERS["alice"]})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == url
        assert "Signed in" in signed_in.text and "text/html" in signed_in.headers["content-type"]
        page = await client.get(url)
    assert page.status_code == 200
    return page.text


async def test_names_and_descriptions_from_metadata_escaped(make_as: MakeAS, world: World) -> None:
    _publish(world, resource={"name": "Reports & <Co>", "scope_descriptions": {
        "data.read": "Read <script>alert(1)</script>", "data.write": 42}})
    text = await _consent_text(make_as(policy=RequireConsent()))
    assert 'id="agent">Trip &lt;b&gt;Planner&lt;/b&gt;<' in text and "<b>Planner" not in text
    assert 'id="resource">Reports &amp; &lt;Co&gt;<' in text
    assert '<span class="scope-text">Read &lt;script&gt;alert(1)&lt;/script&gt;</span>' in text
    assert "<script>" not in text
    assert '<code class="scope-text">data.write</code>' in text  # not a string: shown by its name only
    assert 'id="redirect-origin">agent.example<' in text and f'id="redirect">{REDIRECT}<' in text
    assert 'class="avatar">T<' in text and 'class="avatar avatar-resource">R<' in text


async def test_auth_server_descriptions_are_the_fallback(make_as: MakeAS, world: World) -> None:
    _publish(world, agent_name=None, resource={"scope_descriptions": {"data.read": "Read your reports"}})
    env = make_as(policy=RequireConsent(), scope_descriptions={"data.read": "(not used)", "data.write": "Edit reports"})
    text = await _consent_text(env)
    assert "Read your reports" in text and "(not used)" not in text and "Edit reports" in text
    # no names in the metadata: the hosts, with the identifiers beside them
    assert 'id="agent">agent.example<' in text and f'id="agent-id">{AGENT}<' in text
    assert 'id="resource">api.example<' in text and f'id="resource-id">{RESOURCE}<' in text


def test_a_resource_publishes_its_name_and_scope_descriptions() -> None:
    settings = AAuthSettings(resource_id=RESOURCE, resource_name="Example Reports",
                             resource_scope_descriptions={"data.read": "Read your reports"})
    identity = ResourceIdentity.from_settings(settings, [SigningKey.generate(kid="r-1")])
    metadata = identity.metadata()
    assert metadata["name"] == "Example Reports"
    assert metadata["scope_descriptions"] == {"data.read": "Read your reports"}
    assert "name" not in ResourceIdentity.from_settings(AAuthSettings(resource_id=RESOURCE),
                                                        [SigningKey.generate(kid="r-1")]).metadata()
    flask_style = AAuthSettings.from_mapping({"AAUTH_RESOURCE_SCOPE_DESCRIPTIONS": {"a": "b"}}, prefix="AAUTH_")
    assert dict(flask_style.resource_scope_descriptions) == {"a": "b"}
    with pytest.raises(SettingsError):
        AAuthSettings(resource_scope_descriptions={"data.read": 1})  # type: ignore[dict-item]
    with pytest.raises(SettingsError):
        AuthServerConfig(issuer=ISSUER, keys=[SigningKey.generate(kid="a")],
                         scope_descriptions={"data.read": None})  # type: ignore[dict-item]


# ----------------------------------------------------------------------------- branding and static files


def _server(**branding: object) -> AuthServer:
    return AuthServer(AuthServerConfig(issuer=ISSUER, keys=[SigningKey.generate(kid="as-1")],
                                       branding=Branding(**branding)))  # type: ignore[arg-type]


def test_static_files_and_their_headers() -> None:
    pages = ConsentPages(_server())
    css = pages.static("aauth.css")
    assert css.status == 200 and css.header("Content-Type") == "text/css; charset=utf-8"
    assert css.header("X-Content-Type-Options") == "nosniff" and "sandbox" in (css.header("Content-Security-Policy")
                                                                               or "")
    assert b"prefers-color-scheme: dark" in css.body and b"@import" not in css.body and b"url(" not in css.body
    assert pages.static("aauth-mark.svg").header("Content-Type") == "image/svg+xml"
    for name in ("../pages.py", "..", ".hidden.css", "pages.py", "nope.css", "aauth.css/x"):
        assert pages.static(name).status == 404, name


def test_error_pages_are_pages() -> None:
    pages = ConsentPages(_server())
    for method in ("PUT", "DELETE"):
        answer = pages.handle(PageRequest(method))
        assert answer.status == 405 and b"cannot be completed" in answer.body
    missing = pages.handle(PageRequest("GET", query="redirect_uri=x"))
    assert missing.status == 400 and b"Request_token is required" not in missing.body
    assert b"request_token is required." in missing.body
    repeated = pages.handle(PageRequest("GET", query="request_token=a&request_token=b"))
    assert repeated.status == 400 and b"A parameter is repeated." in repeated.body
    assert missing.header("Content-Security-Policy") == (
        "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'")


def test_branding_directories_replace_the_packages_files(tmp_path: Path) -> None:
    (tmp_path / "error.html").write_text('<p id="mine">$description ($code) at $product</p>\n')
    static = tmp_path / "static"
    static.mkdir()
    (static / "aauth.css").write_text("body { color: rebeccapurple }\n")
    (static / "brand-font.woff2").write_bytes(b"wOF2")
    (static / "notes.txt").write_text("not served")
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    pages = ConsentPages(_server(product_name="Acme & Co", templates=tmp_path, static=static, logo=logo))
    error = pages.error(400, "invalid_request", "bad <thing>").body.decode()
    assert '<p id="mine">Bad &lt;thing&gt;. (invalid_request) at Acme &amp; Co</p>' in error
    assert "<title>Request cannot be completed · Acme &amp; Co</title>" in error  # the package's layout
    assert pages.static("aauth.css").body == b"body { color: rebeccapurple }\n"
    assert pages.static("brand-font.woff2").header("Content-Type") == "font/woff2"
    assert pages.static("notes.txt").status == 404
    assert pages.static("logo.png").body.startswith(b"\x89PNG")
    assert '/agent/static/logo.png?v=' in error and '/agent/static/aauth.css?v=' in error


def test_a_brand_stylesheet_is_linked_after_the_packages(tmp_path: Path) -> None:
    plain = ConsentPages(_server()).error(400, "invalid_request", "x").body.decode()
    assert "brand.css" not in plain
    (tmp_path / "brand.css").write_text(":root { --primary: #6f2dbd }\n")
    pages = ConsentPages(_server(static=tmp_path))
    page = pages.error(400, "invalid_request", "x").body.decode()
    ours, theirs = page.index("/agent/static/aauth.css?v="), page.index('<link rel="stylesheet" href="/agent/static/brand.css?v=')
    assert ours < theirs
    assert pages.static("brand.css").body == b":root { --primary: #6f2dbd }\n"


def test_branding_mistakes_fail_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "consent.html").write_text("<p>$agent_name</p>")  # a placeholder the page does not have
    with pytest.raises(SettingsError, match=r"agent_name"):
        ConsentPages(_server(templates=tmp_path))
    (tmp_path / "consent.html").write_text("<p>costs $5</p>")  # a stray $: not a template
    with pytest.raises(SettingsError, match=r"consent\.html"):
        ConsentPages(_server(templates=tmp_path))
    with pytest.raises(SettingsError, match="does not exist"):
        ConsentPages(_server(static=tmp_path / "nowhere"))
    with pytest.raises(SettingsError, match="not an image"):
        ConsentPages(_server(logo=tmp_path / "consent.html"))
    with pytest.raises(SettingsError, match="Branding"):
        AuthServerConfig(issuer=ISSUER, keys=[SigningKey.generate(kid="a")], branding="Acme")  # type: ignore[arg-type]


def test_every_packaged_template_uses_known_placeholders_only() -> None:
    pages = ConsentPages(_server())
    assert set(TEMPLATES) == {"layout", "login", "consent", "result", "error"}
    assert pages.kit.product == "as.example"  # no product name: the issuer's host
