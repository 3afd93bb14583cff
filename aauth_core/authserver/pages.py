"""The consent pages, framework-free: what ``GET``/``POST /agent/auth`` and the static files answer.

An adapter (``aauth_starlette``, ``aauth_flask``, ``aauth_django``) turns its request
into a :class:`PageRequest`, runs :meth:`ConsentPages.handle` (blocking) or
:meth:`ConsentPages.ahandle` (async), and copies the :class:`PageResponse` back.  The
pages' logic is one flow on the sans-I/O driver (:mod:`aauth_core.effects`).

Who the user is comes from one of two places:

* the host application (``external=True``): the adapter asks its authenticator
  (``request -> User | None``) and passes the answer as :attr:`PageRequest.user`; a
  signed-out user is sent to ``login_url?next=<this page>``;
* the server's :class:`~aauth_core.authserver.UserStore`, through the sign-in form of
  these pages (demos and tests).

Either way the pages keep their own server-side session (the store, keyed by the
SHA-256 of a random ``HttpOnly; SameSite=Strict`` cookie): it holds the CSRF secret
every form carries, compared in constant time, and the user the page was shown to.
Signing in (or a different user from the host) gets a fresh session id and secret
(no fixation); a cross-origin ``Origin`` or ``Sec-Fetch-Site`` is refused outright.
Every value is HTML-escaped, and every page goes out with a strict CSP (no script,
styles and images from this origin only), no framing, no caching and no
cross-origin referrer (the request token is in the URL).
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from .. import dialect, effects
from ..effects import Flow, call
from ..errors import AAuthError, SettingsError
from .branding import PageKit
from .consent import ConsentError, ConsentRequest
from .store import Session
from .users import User

if TYPE_CHECKING:
    from .server import AuthServer

__all__ = ["AUTH_PATH", "CSP", "MAX_BODY", "SESSION_COOKIE", "ConsentPages", "PageRequest", "PageResponse",
           "SessionCookie"]

log = logging.getLogger("aauth.authserver")

SESSION_COOKIE = "aauth_session"
AUTH_PATH = "/agent/auth"
#: Largest consent-form body accepted (bytes); adapters read at most one byte more.
MAX_BODY = 64 * 1024
_MAX_STATE = 512

#: No script at all; styles, images and fonts from this origin only; never framed.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
_PAGE_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the form posts
    ("Referrer-Policy", "same-origin"),
)
_STATIC_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "public, max-age=86400"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One request to the pages, as the adapter saw it.

    ``query``: the raw query string.  ``body``: the posted form (read at most
    :data:`MAX_BODY` + 1 bytes).  ``session_id``: the :data:`SESSION_COOKIE` cookie.
    ``user``: with an authenticator, who the host application says is signed in.
    """

    method: str
    query: str = ""
    body: bytes = b""
    content_type: str = ""
    session_id: str = ""
    origin: str | None = None
    sec_fetch_site: str | None = None
    user: User | None = None


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """The pages' session cookie to set: always ``HttpOnly; SameSite=Strict``, scoped to :data:`AUTH_PATH`."""

    value: str
    max_age: int
    secure: bool
    name: str = SESSION_COOKIE
    path: str = AUTH_PATH

    def header(self) -> str:
        """The ``Set-Cookie`` value, for adapters without a cookie API."""
        parts = [f"{self.name}={self.value}", f"Max-Age={self.max_age}", f"Path={self.path}", "HttpOnly",
                 "SameSite=Strict"]
        return "; ".join([*parts, "Secure"] if self.secure else parts)


@dataclass(frozen=True, slots=True)
class PageResponse:
    """What to send: status, headers (``Location`` included), body, and the session cookie to set, if any."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    cookie: SessionCookie | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class ConsentPages:
    """The sign-in, consent, result and error pages of one auth server.

    ``external``: the user comes from the host application (:attr:`PageRequest.user`),
    and a signed-out user is sent to ``login_url`` (or what it returns, when it is a
    callable) with ``next`` set to this page.
    Otherwise the pages show their own sign-in form, checked against the server's
    user store.  The look (:class:`~aauth_core.authserver.branding.Branding`) is read
    from ``server.config.branding`` once, here.
    """

    def __init__(self, server: AuthServer, *, external: bool = False,
                 login_url: str | Callable[[], str] | None = None) -> None:
        if external and not login_url:
            raise SettingsError("an authenticator needs a login_url to send signed-out users to")
        self._server = server
        self._external = external
        self._login_url = login_url
        self.kit = PageKit(server.config.branding, server.issuer)
        self._secure = urlsplit(server.issuer).scheme == "https"
        self._issuer_origin = _origin(server.issuer)

    # ------------------------------------------------------------------ entry points

    def handle(self, request: PageRequest) -> PageResponse:
        return effects.run(self.flow(request))

    async def ahandle(self, request: PageRequest) -> PageResponse:
        return await effects.arun(self.flow(request))

    def flow(self, request: PageRequest) -> Flow[PageResponse]:
        """``GET`` shows the sign-in or consent page; ``POST`` signs in, approves or denies."""
        try:
            if request.method in ("GET", "HEAD"):
                return (yield from self._get(request))
            if request.method == "POST":
                return (yield from self._post(request))
            return self.error(405, "invalid_request", "this page answers GET and POST only")
        except ConsentError as exc:
            return self.error(exc.status_code, exc.code, exc.description)
        except AAuthError as exc:
            log.warning("consent step failed: %s", exc.code)
            return self.error(503, "server_error", "the authorization could not be recorded; try again")

    def static(self, name: str) -> PageResponse:
        """A static file (the stylesheet, the logo) by name: the app's, else the package's."""
        asset = self.kit.asset(name)
        if asset is None:
            return PageResponse(404, (("Content-Type", "text/plain; charset=utf-8"), *_STATIC_HEADERS[:2]),
                                b"not found")
        return PageResponse(200, (("Content-Type", asset.content_type), *_STATIC_HEADERS), asset.body)

    def error(self, status: int, code: str, description: str) -> PageResponse:
        body = self.kit.render("error", "Request cannot be completed",
                               {"code": code, "description": _sentence(description)})
        return self._page(status, body)

    # ------------------------------------------------------------------ GET

    def _get(self, request: PageRequest) -> Flow[PageResponse]:
        params = parse_qs(request.query, keep_blank_values=True, max_num_fields=16)
        if any(len(params.get(n, ())) > 1 for n in ("request_token", "redirect_uri", "state")):
            return self.error(400, "invalid_request", "a parameter is repeated")
        fields = {n: params.get(n, [""])[0] for n in ("request_token", "redirect_uri", "state")}
        if len(fields["state"]) > _MAX_STATE:
            return self.error(400, "invalid_request", "state is too long")
        consent = yield from self._consent_request(fields)
        server = self._server
        session = yield from call(server.session, server.asession, request.session_id)
        if self._external:
            if request.user is None:
                return self._to_login(consent, fields)
            if session is None or session.user != request.user.id:
                new_id, session = yield from call(server.login, server.alogin, request.session_id, request.user)
                return self._consent_page(consent, fields["state"], session, request.user, cookie=new_id)
            return self._consent_page(consent, fields["state"], session, request.user)
        if session is None:
            new_id, session = yield from call(server.new_session, server.anew_session)
            return self._login_page(consent, fields["state"], session, cookie=new_id)
        if session.user is None:
            return self._login_page(consent, fields["state"], session)
        return self._consent_page(consent, fields["state"], session, User(session.user, session.user_name))

    # ------------------------------------------------------------------ POST

    def _post(self, request: PageRequest) -> Flow[PageResponse]:
        refused = self._cross_site(request)
        if refused is not None:
            return self.error(403, "invalid_request", refused)
        form = _read_form(request)
        if isinstance(form, str):
            return self.error(400, "invalid_request", form)
        server = self._server
        session = yield from call(server.session, server.asession, request.session_id)
        if session is None or not _csrf_matches(session, form.get("csrf_token", "")):
            log.info("consent form refused: CSRF check failed")
            return self.error(403, "invalid_request",
                              "the form has expired or did not come from this site; start again from the agent")
        if len(form.get("state", "")) > _MAX_STATE:
            return self.error(400, "invalid_request", "state is too long")
        fields = {n: form.get(n, "") for n in ("request_token", "redirect_uri", "state")}
        consent = yield from self._consent_request(fields)
        action = form.get("action", "")
        if action == "login" and not self._external:
            return (yield from self._login(form, consent, fields, request.session_id, session))
        if action not in ("approve", "deny"):
            return self.error(400, "invalid_request", "unknown action")
        if self._external:
            if request.user is None:
                return self._to_login(consent, fields)
            if session.user != request.user.id:  # the host's user changed since the page was shown: show it again
                new_id, session = yield from call(server.login, server.alogin, request.session_id, request.user)
                return self._consent_page(consent, fields["state"], session, request.user, cookie=new_id,
                                          message="You are signed in as someone else now. Review the request "
                                                  "again.", status=409)
            user = request.user
        elif session.user is None:
            return self._login_page(consent, fields["state"], session, "Please sign in first.", 401)
        else:
            user = User(session.user, session.user_name)
        state = fields["state"] or None
        if action == "approve":
            location = yield from call(server.approve, server.aapprove, consent.request_token, user, state=state)
        else:
            location = yield from call(server.deny, server.adeny, consent.request_token, state=state)
        return self._result(consent, location)

    def _login(self, form: Mapping[str, str], consent: ConsentRequest, fields: Mapping[str, str], session_id: str,
               session: Session) -> Flow[PageResponse]:
        """Check the credentials; a new, signed-in session (no fixation), then the consent page again."""
        server = self._server
        user = yield from call(server.authenticate, server.aauthenticate, form.get("username", ""),
                               form.get("password", ""))
        if user is None:
            log.info("consent login failed")
            return self._login_page(consent, fields["state"], session, "Wrong user name or password.", 401)
        new_id, _ = yield from call(server.login, server.alogin, session_id, user)
        location = f"{AUTH_PATH}?{urlencode(_query(fields))}"
        body = self.kit.render("result", "Signed in", {
            "kind": "signin", "heading": "Signed in", "text": "Opening the request for you to review.",
            "location": location, "link_text": "Review the request"})
        return self._page(303, body, cookie=new_id, location=location)

    # ------------------------------------------------------------------ pages

    def _login_page(self, consent: ConsentRequest, state: str, session: Session, message: str | None = None,
                    status: int = 200, *, cookie: str | None = None) -> PageResponse:
        body = self.kit.render("login", "Sign in", _request_values(consent, state, session.csrf),
                               {"message_html": _message(message)})
        return self._page(status, body, cookie=cookie)

    def _consent_page(self, consent: ConsentRequest, state: str, session: Session, user: User, *,
                      cookie: str | None = None, message: str | None = None, status: int = 200) -> PageResponse:
        items = []
        for scope, description in consent.scopes:
            name = html.escape(scope, quote=True)
            if description:
                text = (f'<span class="scope-text">{html.escape(description)}</span>'
                        f'<code class="scope-name">{name}</code>')
            else:
                text = f'<code class="scope-text">{name}</code>'
            items.append(f'<li class="scope" data-scope="{name}">{text}</li>')
        delegate = (f'<span class="delegate">on behalf of <code id="delegate">'
                    f'{html.escape(consent.agent_delegate)}</code></span>' if consent.agent_delegate else "")
        if user.name and user.name != user.id:
            user_html = (f'<span class="label" id="user-name">{html.escape(user.name)}</span> '
                         f'<span class="id" id="user">{html.escape(user.id)}</span>')
        else:
            user_html = f'<span class="label" id="user">{html.escape(user.id)}</span>'
        switch = ""
        if self._external and self._login_url:
            href = html.escape(self._login_location(consent, {"state": state}), quote=True)
            switch = f'<a class="switch" id="switch-user" href="{href}">Not you? Switch account</a>'
        values = {**_request_values(consent, state, session.csrf), "redirect_origin": _host(consent.redirect_uri)}
        label = values["agent_label"]
        body = self.kit.render("consent", f"Authorize {label}", values, {
            "scopes_html": "\n".join(items), "delegate_html": delegate, "user_html": user_html,
            "switch_html": switch, "message_html": _message(message)})
        return self._page(status, body, cookie=cookie)

    def _result(self, consent: ConsentRequest, location: str) -> PageResponse:
        """303 to the agent; the body says what happened, for a client that does not follow."""
        approved = "code" in parse_qs(urlsplit(location).query)
        host = _host(consent.redirect_uri)
        if approved:
            values = {"kind": "approved", "heading": "Access approved",
                      "text": f"Returning you to {host}."}
        else:
            values = {"kind": "denied", "heading": "Access not granted",
                      "text": f"{_label(consent.agent_name, consent.agent)} was not given access. "
                              f"Returning you to {host}."}
        body = self.kit.render("result", values["heading"], {**values, "location": location,
                                                              "link_text": f"Continue to {host}"})
        return self._page(303, body, location=location)

    def _to_login(self, consent: ConsentRequest, fields: Mapping[str, str]) -> PageResponse:
        """303 to the host application's sign-in page, which sends the user back here."""
        location = self._login_location(consent, fields)
        body = self.kit.render("result", "Sign in", {
            "kind": "signin", "heading": "Sign in to continue",
            "text": f"Sign in to {self.kit.product} to review the request from "
                    f"{_label(consent.agent_name, consent.agent)}.",
            "location": location, "link_text": "Sign in"})
        return self._page(303, body, location=location)

    def _login_location(self, consent: ConsentRequest, fields: Mapping[str, str]) -> str:
        assert self._login_url is not None
        login_url = self._login_url() if callable(self._login_url) else self._login_url
        query = _query({**fields, "request_token": consent.request_token, "redirect_uri": consent.redirect_uri})
        back = f"{AUTH_PATH}?{urlencode(query)}"
        if not login_url.startswith("/"):
            back = f"{self._server.issuer}{back}"  # a sign-in page elsewhere needs the whole URL
        separator = "&" if "?" in login_url else "?"
        return f"{login_url}{separator}{urlencode({'next': back})}"

    def _page(self, status: int, body: str, *, cookie: str | None = None, location: str | None = None
              ) -> PageResponse:
        headers = [("Content-Type", "text/html; charset=utf-8"), *_PAGE_HEADERS]
        if location is not None:
            headers.append(("Location", location))
        session = (SessionCookie(cookie, self._server.config.lifetimes.session, self._secure)
                   if cookie is not None else None)
        return PageResponse(status, tuple(headers), body.encode("utf-8"), session)

    # ------------------------------------------------------------------ checks

    def _consent_request(self, fields: Mapping[str, str]) -> Flow[ConsentRequest]:
        server = self._server
        return (yield from call(server.consent_request, server.aconsent_request, fields["request_token"],
                                fields["redirect_uri"]))

    def _cross_site(self, request: PageRequest) -> str | None:
        """Why a form post is refused as cross-origin or cross-site (``Origin``, ``Sec-Fetch-Site``), if it is."""
        if request.origin is not None and request.origin.lower() != self._issuer_origin:
            return "cross-origin form submissions are refused"
        if (request.sec_fetch_site or "same-origin") not in ("same-origin", "none"):
            return "cross-site form submissions are refused"
        return None


# ----------------------------------------------------------------------------- helpers


def _request_values(consent: ConsentRequest, state: str, csrf: str) -> dict[str, str]:
    agent_label = _label(consent.agent_name, consent.agent)
    resource_label = _label(consent.resource_name, consent.resource)
    return {
        "action": AUTH_PATH,
        "agent": consent.agent,
        "agent_label": agent_label,
        "agent_initial": _initial(agent_label),
        "resource": consent.resource,
        "resource_label": resource_label,
        "resource_initial": _initial(resource_label),
        "request_token": consent.request_token,
        "redirect_uri": consent.redirect_uri,
        "state": state,
        "csrf": csrf,
    }


def _label(name: str | None, identifier: str) -> str:
    """A party's name from its metadata, else the host of its identifier."""
    return name.strip() if name and name.strip() else _host(identifier)


def _initial(label: str) -> str:
    return next((c for c in label if c.isalnum()), "?").upper()


def _sentence(text: str) -> str:
    """A description as a sentence: a capital first letter (unless it starts with a name such as
    ``redirect_uri``), a full stop."""
    text = text.strip()
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _message(message: str | None) -> str:
    return f'<p id="message" class="alert" role="alert">{html.escape(message)}</p>' if message else ""


def _query(fields: Mapping[str, str]) -> dict[str, str]:
    query = {"request_token": fields.get("request_token", ""), "redirect_uri": fields.get("redirect_uri", "")}
    if fields.get("state"):
        query["state"] = fields["state"]
    return query


def _csrf_matches(session: Session, sent: str) -> bool:
    """The form's CSRF token is the session's (compared in constant time); an empty one never matches."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode("utf-8"), sent.encode("utf-8"))


def _read_form(request: PageRequest) -> dict[str, str] | str:
    """The posted URL-encoded form, or why it cannot be read."""
    if request.content_type.split(";")[0].strip().lower() != dialect.FORM_CONTENT_TYPE:
        return "the form must be sent as a URL-encoded form"
    if len(request.body) > MAX_BODY:
        return "the form could not be read"
    try:
        parsed = parse_qs(request.body.decode("utf-8"), keep_blank_values=True, max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        return "the form could not be read"
    if any(len(v) > 1 for v in parsed.values()):
        return "the form could not be read"
    return {k: v[0] for k, v in parsed.items()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()

