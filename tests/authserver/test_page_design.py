"""The pages people see, in a real headless Chromium: layout at 390 px and 1280 px, light and dark,
an axe-core audit of every page, keyboard-only approval, no layout shift, and the screenshots
shown in docs/authserver.md.

Screenshots are written to a temporary directory and compared (dimensions) with the committed
``docs/images/`` ones; ``AAUTH_UPDATE_SCREENSHOTS=1`` writes them there instead.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aauth_core.authserver import AuthServer, Branding
from aauth_starlette.authserver import build_auth_server_app

from ..conftest import AGENT, RESOURCE, World
from .browser_stack import ROOT, Stack, axe_script, consent_stack, needs_chromium, png_size

pytestmark = [pytest.mark.browser, needs_chromium]

IMAGES = ROOT / "docs" / "images"
#: The two screenshots docs/authserver.md shows: (file, width, color scheme).
DOC_SHOTS = (("consent-desktop.png", 1280, "light"), ("consent-phone.png", 390, "dark"))
VIEWPORTS = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}
BRANDING = Branding(product_name="Example Accounts")

_LAYOUT_SHIFT = """() => new Promise(resolve => {
    let total = 0;
    new PerformanceObserver(list => { for (const e of list.getEntries()) total += e.value; })
        .observe({type: 'layout-shift', buffered: true});
    setTimeout(() => resolve(total), 300);
})"""
_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                         targets: v.nodes.map(n => n.target.join(' '))}));
}"""
_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def stack(world: World) -> Iterator[Stack]:
    with consent_stack(world, branding=BRANDING) as built:
        yield built


def _as_shown(page: Any, url: str, method: str = "POST") -> None:
    """Show the response a redirect (303) carries, as a page: what a browser that does not follow sees."""

    def matches(target: str) -> bool:
        return target.split("?", 1)[0] == url

    def show(route: Any) -> None:
        if route.request.method != method:
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "location"}
        route.fulfill(status=200, headers=headers, body=response.body())

    page.route(matches, show)


def _pages(stack: Stack, context: Any) -> Iterator[tuple[str, Any]]:
    """Open every page in turn: sign-in, sign-in with an error, consent, both results, an error."""
    page = context.new_page()
    page.goto(stack.auth_url())
    yield "sign-in", page
    page.fill("#username", "alice")
    page.fill("#password", "wrong")
    page.click("#login")
    page.wait_for_selector("#message")
    page.wait_for_load_state("load")
    yield "sign-in, wrong password", page
    stack.sign_in(page)
    yield "consent", page
    _as_shown(page, f"{stack.issuer}/agent/auth")
    page.click("#approve")
    page.wait_for_selector("#continue")
    page.wait_for_load_state("load")
    assert page.inner_text("h1") == "Access approved"
    yield "result: approved", page
    page.goto(stack.auth_url())
    page.click("#deny")
    page.wait_for_selector("#continue")
    page.wait_for_load_state("load")
    assert page.inner_text("h1") == "Access not granted"
    yield "result: denied", page
    page.unroute_all()
    page.goto(stack.auth_url("no-such-request"))
    yield "error", page
    page.close()


def _check_layout(page: Any, width: int) -> None:
    assert page.evaluate(_OVERFLOW) <= 0, "the page scrolls sideways"
    card = page.locator(".card").bounding_box()
    assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= width
    assert abs(card["x"] + card["width"] / 2 - width / 2) <= 8, "the card is not centred"
    assert page.evaluate(_LAYOUT_SHIFT) == 0, "the layout shifted while loading"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith("system-ui"), font
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_fits_and_follows_the_color_scheme(stack: Stack, width: int, scheme: str) -> None:
    context = stack.context(viewport=VIEWPORTS[width], color_scheme=scheme)
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for name, page in _pages(stack, context):
        _check_layout(page, width)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text = page.evaluate("getComputedStyle(document.body).color")
        dark = scheme == "dark"
        assert (_luminance(background) < 0.2) is dark and (_luminance(text) > 0.6) is dark, (name, background, text)
        if name == "consent":
            approve = page.locator("#approve")
            deny = page.locator("#deny")
            assert approve.evaluate("e => getComputedStyle(e).backgroundColor") != \
                deny.evaluate("e => getComputedStyle(e).backgroundColor")
            box_approve, box_deny = approve.bounding_box(), deny.bounding_box()
            assert box_approve is not None and box_deny is not None
            assert box_approve["y"] < box_deny["y"] and box_approve["height"] >= 44 and box_deny["height"] >= 44
    context.close()
    assert not [e for e in errors if "401" not in e and "400" not in e], errors  # the expected refusals only


def test_axe_finds_no_serious_violations_on_any_page(stack: Stack, tmp_path: Path) -> None:
    """axe-core (npm's, injected as an init script, so the pages keep their CSP) on every page, light
    and dark, phone and desktop; also the sign-in redirect of an application's own login."""
    axe = axe_script()
    report: dict[str, list[dict[str, Any]]] = {}
    for width in (390, 1280):
        for scheme in ("light", "dark"):
            context = stack.context(viewport=VIEWPORTS[width], color_scheme=scheme)
            context.add_init_script(path=str(axe))
            for name, page in _pages(stack, context):
                report[f"{name} ({width}px, {scheme})"] = page.evaluate(_AXE)
            context.close()
    (tmp_path / "axe.json").write_text(json.dumps(report, indent=1))
    serious = {page: [v for v in found if v["impact"] in ("serious", "critical")] for page, found in report.items()}
    assert not any(serious.values()), json.dumps(serious, indent=1)
    assert len(report) == 24
    print("axe-core violations per page:", json.dumps({k: [v["id"] for v in found] for k, found in report.items()}))


def test_axe_and_layout_of_the_sign_in_redirect(world: World) -> None:
    """With the application's own login, a signed-out user gets a redirect page; audited the same way."""
    axe = axe_script()

    def app(server: AuthServer) -> Any:
        return build_auth_server_app(server, authenticator=lambda request: None, login_url="/login")

    with consent_stack(world, branding=BRANDING, app=app) as stack:
        for scheme in ("light", "dark"):
            context = stack.context(viewport=VIEWPORTS[390], color_scheme=scheme)
            context.add_init_script(path=str(axe))
            page = context.new_page()
            _as_shown(page, f"{stack.issuer}/agent/auth", method="GET")
            page.goto(stack.auth_url())
            assert page.inner_text("h1") == "Sign in to continue"
            assert page.get_attribute("#continue", "href").startswith("/login?next=%2Fagent%2Fauth%3F")
            _check_layout(page, 390)
            violations = page.evaluate(_AXE)
            assert not [v for v in violations if v["impact"] in ("serious", "critical")], violations
            context.close()


def test_keyboard_only_sign_in_and_approval(stack: Stack) -> None:
    """Tab and Enter alone: sign in, reach Approve (first in the tab order), see where focus is, approve."""
    context = stack.context(viewport=VIEWPORTS[390])
    page = context.new_page()
    page.goto(stack.auth_url())
    assert page.evaluate("document.activeElement.id") == "username"  # autofocus
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.wait_for_selector("#consent-form")
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "approve"
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                            "return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert outline[0] == "solid" and outline[1] >= 2, f"focus is not visible: {outline}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "deny"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "approve"
    with page.expect_request(lambda request: request.url.startswith(stack.redirect_uri)) as sent_back:
        page.keyboard.press("Enter")
    query = parse_qs(urlsplit(sent_back.value.url).query)
    assert "code" in query and query["state"] == ["s-1"]
    context.close()


def test_the_consent_page_says_who_and_what_in_words(stack: Stack) -> None:
    context = stack.context(viewport=VIEWPORTS[1280])
    page = context.new_page()
    page.goto(stack.auth_url())
    stack.sign_in(page)
    assert page.inner_text("h1") == "Trip Planner wants to access Example Calendar"
    assert page.inner_text("#agent") == "Trip Planner" and page.inner_text("#agent-id") == AGENT
    assert page.inner_text("#resource") == "Example Calendar" and page.inner_text("#resource-id") == RESOURCE
    assert page.inner_text("#user-name") == "Alice Liddell" and page.inner_text("#user") == "alice"
    assert page.inner_text("#redirect-origin") == "agent.example" and page.inner_text("#redirect") == stack.redirect_uri
    scopes = page.locator("#scopes li.scope")
    assert [scopes.nth(i).locator(".scope-text").inner_text() for i in range(2)] == [
        "See your calendar events", "Create and change events in your calendar"]
    assert [scopes.nth(i).locator(".scope-name").inner_text() for i in range(2)] == ["calendar.read", "calendar.write"]
    # the identifiers are there, but secondary: smaller and muted beside the names
    name_size = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#agent')).fontSize)"))
    id_size = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#agent-id')).fontSize)"))
    assert id_size < name_size
    assert page.title() == "Authorize Trip Planner · Example Accounts"
    assert page.inner_text(".brand-name") == "Example Accounts"
    context.close()


def _screenshot(stack: Stack, width: int, scheme: str, path: Path) -> None:
    context = stack.context(viewport=VIEWPORTS[width], color_scheme=scheme)
    page = context.new_page()
    page.goto(stack.auth_url())
    stack.sign_in(page)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    context.close()


def test_screenshots_for_the_docs(stack: Stack, tmp_path: Path) -> None:
    """The consent page at 1280 px (light) and 390 px (dark), as docs/authserver.md shows them."""
    update = os.environ.get("AAUTH_UPDATE_SCREENSHOTS") == "1"
    for name, width, scheme in DOC_SHOTS:
        shot = tmp_path / name
        _screenshot(stack, width, scheme, shot)
        taken = png_size(shot)
        assert taken[0] == width and taken[1] >= 600, taken
        committed = IMAGES / name
        if update:
            IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, committed)
        assert committed.is_file(), f"{committed} is missing: run with AAUTH_UPDATE_SCREENSHOTS=1"
        shown = png_size(committed)
        assert shown[0] == taken[0] and abs(shown[1] - taken[1]) <= taken[1] * 0.1, (name, shown, taken)
    text = (ROOT / "docs" / "authserver.md").read_text(encoding="utf-8")
    for name, _, _ in DOC_SHOTS:
        assert f"(images/{name})" in text, f"docs/authserver.md does not show {name}"


def test_branding_overrides_in_the_browser(world: World, tmp_path: Path) -> None:
    """An application's stylesheet, template and logo replace the package's, under the same CSP."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "aauth.css").write_text("body { background: rgb(1, 2, 3); color: rgb(250, 250, 250) }\n")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "error.html").write_text('<h1 id="custom">Sorry: $description</h1>\n')
    logo = tmp_path / "acme.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>')
    branding = Branding(product_name="Acme <Accounts>", logo=logo, templates=templates, static=static)
    with consent_stack(world, branding=branding) as stack:
        context = stack.context(viewport=VIEWPORTS[390])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(stack.auth_url("unknown"))
        assert page.inner_text("#custom").startswith("Sorry: This authorization request is unknown")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(1, 2, 3)"
        assert page.inner_text(".brand-name") == "Acme <Accounts>"
        assert page.get_attribute(".brand-logo", "src").startswith("/agent/static/logo.svg?v=")
        assert page.evaluate("document.querySelector('.brand-logo').naturalWidth") == 8
        assert [e for e in errors if "400" not in e] == []
        context.close()


def _luminance(css: str) -> float:
    """Relative luminance of a computed ``rgb(...)`` colour."""
    values = [float(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in values)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b

