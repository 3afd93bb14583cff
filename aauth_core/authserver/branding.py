"""How the consent pages look: product name, logo, templates and stylesheet, overridable without forking.

Every template and static file is looked up in the application's directory first
(``Branding.templates``, ``Branding.static``), then in the package's
(``aauth_core/authserver/templates/`` and ``static/``).  Everything is read once, at
start-up: a template that names an unknown placeholder, or a directory or logo that
does not exist, is a :class:`~aauth_core.errors.SettingsError` then, not a broken page
later.

Templates are :class:`string.Template` text (``$name``).  ``layout.html`` is the page
around every other template's body (``$content``); the others are ``login.html``,
``consent.html``, ``result.html`` and ``error.html``.  Every value is HTML-escaped
before it reaches a template; the few ``*_html`` placeholders are built by the code
from escaped parts.  Static files are served under :data:`STATIC_PATH`, with a
content hash in the URL the pages use.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from ..errors import SettingsError

__all__ = ["BRAND_CSS", "Asset", "Branding", "PageKit", "STATIC_PATH", "TEMPLATES"]

#: Where the auth server serves its static files (the stylesheet, the logo).
STATIC_PATH = "/agent/static"

#: Template name → the placeholders it may use (each one is optional).
_REQUEST = frozenset({"product", "issuer", "action", "agent", "agent_label", "agent_initial", "resource",
                      "resource_label", "resource_initial", "request_token", "redirect_uri", "state", "csrf",
                      "message_html"})
TEMPLATES: Mapping[str, frozenset[str]] = {
    "layout": frozenset({"title", "product", "issuer", "logo", "stylesheet", "brand_stylesheet_html", "content",
                         "page"}),
    "login": _REQUEST,
    "consent": _REQUEST | {"redirect_origin", "user_html", "switch_html", "scopes_html", "delegate_html"},
    "result": frozenset({"product", "issuer", "heading", "text", "location", "link_text", "kind"}),
    "error": frozenset({"product", "issuer", "code", "description"}),
}

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_MAX_ASSET = 1024 * 1024
#: A stylesheet of the application's, linked after ``aauth.css`` when its static directory has one.
BRAND_CSS = "brand.css"
_DEFAULT_LOGO = "aauth-mark.svg"


@dataclass(frozen=True, slots=True)
class Branding:
    """The pages' look.  ``product_name``: shown in the header and the titles (default: the
    issuer's host).  ``logo``: an image file (SVG, PNG, JPEG, WebP, GIF or ICO) shown beside it
    (default: the package's mark).  ``templates`` / ``static``: directories whose files
    replace the package's files of the same name (``layout.html``, ``consent.html``,
    ``aauth.css``, ...); files the package does not have are served too (a font, a picture),
    and a ``brand.css`` there is linked after ``aauth.css`` (to change a few colours)."""

    product_name: str | None = None
    logo: str | Path | None = None
    templates: str | Path | None = None
    static: str | Path | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file, read at start-up: its bytes, type and content hash (for the URL)."""

    body: bytes
    content_type: str
    version: str


def _directory(value: str | Path | None, what: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_dir():
        raise SettingsError(f"branding {what} directory {str(path)!r} does not exist")
    return path


def _asset(data: bytes, suffix: str, where: str) -> Asset:
    if len(data) > _MAX_ASSET:
        raise SettingsError(f"{where} is larger than {_MAX_ASSET} bytes")
    return Asset(data, _TYPES[suffix], hashlib.sha256(data).hexdigest()[:12])


def _is_served(name: str) -> bool:
    """A plain file name with a known type: no directories, no dot files."""
    stem, dot, suffix = name.rpartition(".")
    return (bool(stem) and bool(dot) and f".{suffix.lower()}" in _TYPES and not name.startswith(".")
            and all(c.isalnum() or c in "._-" for c in name))


class PageKit:
    """The templates and static files of one auth server's pages (search order: the app's, then ours)."""

    def __init__(self, branding: Branding, issuer: str) -> None:
        package = files("aauth_core.authserver")
        app_templates = _directory(branding.templates, "templates")
        app_static = _directory(branding.static, "static")
        self.product = branding.product_name or issuer.split("://", 1)[-1]
        self.issuer = issuer
        self._templates: dict[str, Template] = {}
        for name, allowed in TEMPLATES.items():
            custom = app_templates / f"{name}.html" if app_templates is not None else None
            source = custom if custom is not None and custom.is_file() else package / "templates" / f"{name}.html"
            template = Template(source.read_text(encoding="utf-8"))
            unknown = sorted(set(template.get_identifiers()) - allowed)
            if not template.is_valid() or unknown:
                raise SettingsError(f"template {source} uses unknown placeholders {unknown or '(invalid $ use)'}; "
                                    f"{name}.html may use {sorted(allowed)}")
            self._templates[name] = template
        self._assets: dict[str, Asset] = {}
        for entry in (package / "static").iterdir():
            if _is_served(entry.name):
                self._assets[entry.name] = _asset(entry.read_bytes(), _suffix(entry.name), entry.name)
        if app_static is not None:
            for path in sorted(app_static.iterdir()):
                if path.is_file() and _is_served(path.name):
                    self._assets[path.name] = _asset(path.read_bytes(), _suffix(path.name), str(path))
        self.logo_name = _DEFAULT_LOGO
        if branding.logo is not None:
            logo = Path(branding.logo)
            if not logo.is_file() or _suffix(logo.name) not in _TYPES or _suffix(logo.name) in (".css", ".woff2"):
                raise SettingsError(f"branding logo {str(logo)!r} is not an image file")
            self.logo_name = f"logo{_suffix(logo.name)}"
            self._assets[self.logo_name] = _asset(logo.read_bytes(), _suffix(logo.name), str(logo))
        for needed in ("aauth.css", self.logo_name):
            if needed not in self._assets:
                raise SettingsError(f"static file {needed} is missing")

    def asset(self, name: str) -> Asset | None:
        return self._assets.get(name)

    def url(self, name: str) -> str:
        """The URL the pages use for a static file (its content hash busts caches)."""
        return f"{STATIC_PATH}/{name}?v={self._assets[name].version}"

    def render(self, name: str, title: str, values: Mapping[str, str], raw: Mapping[str, str] | None = None) -> str:
        """``name``'s template inside the layout; every value escaped, ``raw`` (``*_html``) as built."""
        common = {"product": self.product, "issuer": self.issuer}
        escaped: dict[str, Any] = {k: html.escape(v, quote=True) for k, v in {**common, **values}.items()}
        escaped.update(raw or {})
        content = self._templates[name].substitute(escaped)
        brand = (f'<link rel="stylesheet" href="{html.escape(self.url(BRAND_CSS), quote=True)}">'
                 if BRAND_CSS in self._assets else "")
        return self._templates["layout"].substitute(
            title=html.escape(title, quote=True), product=escaped["product"], issuer=escaped["issuer"],
            logo=html.escape(self.url(self.logo_name), quote=True),
            stylesheet=html.escape(self.url("aauth.css"), quote=True), brand_stylesheet_html=brand,
            content=content, page=name,
        )


def _suffix(name: str) -> str:
    return "." + name.rpartition(".")[2].lower()
