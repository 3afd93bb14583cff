"""The auth server over HTTP: an ASGI (Starlette) app around :class:`aauth_core.authserver.AuthServer`.

Routes: ``GET /.well-known/aauth-issuer``, ``GET /jwks.json``, ``POST /agent/token``
and ``GET``/``POST /agent/auth`` (the user's login and consent pages).  Protocol
rules live in the core; this module only translates requests and renders pages.

The consent pages keep a server-side session (in the auth server's store, keyed by
the SHA-256 of a random ``HttpOnly; SameSite=Strict`` cookie).  Every form carries
the session's CSRF token, compared in constant time; a logged-in session gets a
fresh id and token (no fixation); a cross-origin ``Origin`` is refused outright.
Every page is rendered with HTML-escaped values and sent with a strict CSP, no
framing, no caching and no cross-origin referrer (the request token is in the URL).

::

    config = AuthServerConfig(issuer="https://as.example", keys=[load_signing_key("as.jwk")],
                              trusted_upstreams=("https://upstream-as.example",),
                              lifetimes=Lifetimes(refresh_token=86_400))
    server = AuthServer(config, users=MemoryUserStore({"alice": "..."}))  # RequireConsent by default
    app = build_auth_server_app(server)   # uvicorn module:app
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from importlib.resources import files
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from aauth_core import dialect
from aauth_core.authserver import AuthServer, ConsentError, ConsentRequest, User
from aauth_core.authserver.store import Session
from aauth_core.errors import AAuthError

__all__ = ["SESSION_COOKIE", "MAX_BODY", "build_auth_server_app"]

log = logging.getLogger("aauth.starlette")

SESSION_COOKIE = "aauth_session"
#: Largest token-request or consent-form body accepted (bytes).
MAX_BODY = 64 * 1024
_MAX_STATE = 512

TOKEN_PATH = "/agent/token"  # noqa: S105 - a path, not a secret
AUTH_PATH = "/agent/auth"

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the form posts
    "Referrer-Policy": "same-origin",
}


class _BodyTooLarge(Exception):
    pass


def _template(name: str) -> Template:
    return Template(files("aauth_starlette").joinpath("templates", name).read_text(encoding="utf-8"))


def build_auth_server_app(server: AuthServer, *, debug: bool = False) -> Starlette:
    """The auth server's ASGI app.  Mount it at the root of the issuer's origin."""
    consent = _ConsentEndpoint(server, _Pages(server))
    routes = [
        Route(f"/.well-known/{dialect.WELL_KNOWN_ISSUER}", _document(server.metadata), methods=["GET"]),
        Route("/jwks.json", _document(server.jwks), methods=["GET"]),
        Route(TOKEN_PATH, _token_endpoint(server), methods=["POST"]),
        Route(AUTH_PATH, consent.get, methods=["GET"]),
        Route(AUTH_PATH, consent.post, methods=["POST"]),
    ]
    return Starlette(debug=debug, routes=routes)


# ----------------------------------------------------------------------------- documents, token endpoint


def _document(produce: Callable[[], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
    """``GET`` of a JSON document (the metadata, the JWKS), cacheable for five minutes."""

    async def document(request: Request) -> Response:
        return JSONResponse(produce(), headers={"Cache-Control": "max-age=300"})

    return document


def _token_endpoint(server: AuthServer) -> Callable[[Request], Awaitable[Response]]:
    """``POST /agent/token``: the raw request, as received, to :meth:`AuthServer.atoken`."""

    async def token(request: Request) -> Response:
        try:
            body = await _read_body(request)
        except _BodyTooLarge:
            return JSONResponse({"error": "invalid_request", "error_description": "request body is too large"},
                                status_code=413, headers={"Cache-Control": "no-store"})
        scope = request.scope
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else scope["path"]
        path = path.split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1") or None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        view = server.view(method=request.method, path=path, query=query, headers=headers, body=body,
                           scheme=urlsplit(server.issuer).scheme)
        result = await server.atoken(view)
        return Response(result.content(), status_code=result.status, headers=dict(result.headers))

    return token


# ----------------------------------------------------------------------------- pages


class _Pages:
    """The login, consent and error pages (every value HTML-escaped, strict headers) and the session cookie."""

    def __init__(self, server: AuthServer) -> None:
        self._server = server
        self._templates = {name: _template(f"{name}.html") for name in ("login", "consent", "error")}
        self._secure_cookie = urlsplit(server.issuer).scheme == "https"

    def page(self, name: str, values: Mapping[str, str], *, status: int = 200,
             raw: Mapping[str, str] | None = None) -> HTMLResponse:
        escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
        escaped.update(raw or {})
        escaped.setdefault("issuer", html.escape(self._server.issuer))
        return HTMLResponse(self._templates[name].substitute(escaped), status_code=status, headers=_PAGE_HEADERS)

    def error(self, status: int, code: str, description: str) -> HTMLResponse:
        return self.page("error", {"code": code, "description": description}, status=status)

    def login(self, consent: ConsentRequest, state: str, session: Session, message: str | None = None,
              status: int = 200) -> HTMLResponse:
        message_html = f'<p id="message" role="alert">{html.escape(message)}</p>' if message else ""
        return self.page("login", _consent_values(consent, state, session.csrf), status=status,
                         raw={"message_html": message_html})

    def consent(self, consent: ConsentRequest, state: str, session: Session) -> HTMLResponse:
        items = []
        for scope, description in consent.scopes:
            text = f"<code>{html.escape(scope)}</code>"
            if description:
                text += f" — {html.escape(description)}"
            items.append(f'<li class="scope" data-scope="{html.escape(scope)}">{text}</li>')
        delegate = (f" on behalf of delegate <code id=\"delegate\">{html.escape(consent.agent_delegate)}</code>"
                    if consent.agent_delegate else "")
        values = {**_consent_values(consent, state, session.csrf), "user": session.user or ""}
        return self.page("consent", values, raw={"scopes_html": "\n".join(items), "delegate_html": delegate})

    def set_session(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, session_id, max_age=self._server.config.lifetimes.session, path=AUTH_PATH,
            secure=self._secure_cookie, httponly=True, samesite="strict",
        )


def _consent_values(consent: ConsentRequest, state: str, csrf: str) -> dict[str, str]:
    return {
        "action": AUTH_PATH,
        "agent": consent.agent,
        "agent_label": consent.agent_name or consent.agent,
        "resource": consent.resource,
        "request_token": consent.request_token,
        "redirect_uri": consent.redirect_uri,
        "state": state,
        "csrf": csrf,
    }


# ----------------------------------------------------------------------------- the consent endpoint


class _ConsentEndpoint:
    """``GET``/``POST /agent/auth``: the login and consent pages, and the forms they post."""

    def __init__(self, server: AuthServer, pages: _Pages) -> None:
        self._server = server
        self._pages = pages
        self._issuer_origin = _origin(server.issuer)

    async def get(self, request: Request) -> Response:
        params = request.query_params
        if any(len(params.getlist(n)) > 1 for n in ("request_token", "redirect_uri", "state")):
            return self._pages.error(400, "invalid_request", "a parameter is repeated")
        request_token, redirect_uri = params.get("request_token", ""), params.get("redirect_uri", "")
        state = params.get("state", "")
        if len(state) > _MAX_STATE:
            return self._pages.error(400, "invalid_request", "state is too long")
        try:
            consent = await self._server.aconsent_request(request_token, redirect_uri)
        except ConsentError as exc:
            return self._pages.error(exc.status_code, exc.code, exc.description)
        current = await self._session(request)
        if current is None:
            session_id, session = await self._server.anew_session()
            response = self._pages.login(consent, state, session)
            self._pages.set_session(response, session_id)
            return response
        _, session = current
        if session.user is None:
            return self._pages.login(consent, state, session)
        return self._pages.consent(consent, state, session)

    async def post(self, request: Request) -> Response:
        refused = self._cross_site(request)
        if refused is not None:
            return self._pages.error(403, "invalid_request", refused)
        form = await _read_form(request)
        if isinstance(form, str):
            return self._pages.error(400, "invalid_request", form)
        current = await self._session(request)
        if current is None or not _csrf_matches(current[1], form.get("csrf_token", "")):
            log.info("consent form refused: CSRF check failed")
            return self._pages.error(403, "invalid_request",
                                     "the form has expired or did not come from this site; start again from the agent")
        state = form.get("state", "")
        if len(state) > _MAX_STATE:
            return self._pages.error(400, "invalid_request", "state is too long")
        try:
            consent = await self._server.aconsent_request(form.get("request_token", ""), form.get("redirect_uri", ""))
        except ConsentError as exc:
            return self._pages.error(exc.status_code, exc.code, exc.description)
        try:
            return await self._act(form, consent, state, *current)
        except ConsentError as exc:
            return self._pages.error(exc.status_code, exc.code, exc.description)
        except AAuthError as exc:
            log.warning("consent step failed: %s", exc.code)
            return self._pages.error(503, "server_error", "the authorization could not be recorded; try again")

    def _cross_site(self, request: Request) -> str | None:
        """Why a form post is refused as cross-origin or cross-site (``Origin``, ``Sec-Fetch-Site``), if it is."""
        origin = request.headers.get("origin")
        if origin is not None and origin != self._issuer_origin:
            return "cross-origin form submissions are refused"
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return "cross-site form submissions are refused"
        return None

    async def _session(self, request: Request) -> tuple[str, Session] | None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        session = await self._server.asession(session_id) if session_id else None
        return (session_id, session) if session is not None else None

    async def _act(self, form: Mapping[str, str], consent: ConsentRequest, state: str, session_id: str,
                   session: Session) -> Response:
        """The form's ``action``: log in, or (signed in) approve or deny."""
        action = form.get("action", "")
        if action == "login":
            return await self._login(form, consent, state, session_id, session)
        if session.user is None:
            return self._pages.login(consent, state, session, "Please sign in first.", 401)
        request_token = form.get("request_token", "")
        if action == "approve":
            location = await self._server.aapprove(request_token, User(session.user), state=state or None)
        elif action == "deny":
            location = await self._server.adeny(request_token, state=state or None)
        else:
            return self._pages.error(400, "invalid_request", "unknown action")
        return RedirectResponse(location, status_code=303, headers=_PAGE_HEADERS)

    async def _login(self, form: Mapping[str, str], consent: ConsentRequest, state: str, session_id: str,
                     session: Session) -> Response:
        """Check the credentials; a new, logged-in session (no fixation), then the consent page again."""
        user = await run_in_threadpool(self._server.authenticate, form.get("username", ""),
                                       form.get("password", ""))
        if user is None:
            log.info("consent login failed")
            return self._pages.login(consent, state, session, "Wrong user name or password.", 401)
        new_id, _ = await self._server.alogin(session_id, user)
        query = {"request_token": form.get("request_token", ""), "redirect_uri": form.get("redirect_uri", "")}
        if state:
            query["state"] = state
        response = RedirectResponse(f"{AUTH_PATH}?{urlencode(query)}", status_code=303, headers=_PAGE_HEADERS)
        self._pages.set_session(response, new_id)
        return response


# ----------------------------------------------------------------------------- form handling


def _csrf_matches(session: Session, sent: str) -> bool:
    """The form's CSRF token is the session's (compared in constant time); an empty one never matches."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode("utf-8"), sent.encode("utf-8"))


async def _read_form(request: Request) -> dict[str, str] | str:
    """The posted URL-encoded form, or why it cannot be read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != dialect.FORM_CONTENT_TYPE:
        return "the form must be sent as a URL-encoded form"
    try:
        return _parse_form(await _read_body(request))
    except (_BodyTooLarge, ValueError):
        return "the form could not be read"


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=16)
    if any(len(v) > 1 for v in parsed.values()):
        raise ValueError("repeated form field")
    return {k: v[0] for k, v in parsed.items()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
