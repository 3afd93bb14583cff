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
from collections.abc import Mapping
from importlib.resources import files
from string import Template
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
    templates = {name: _template(f"{name}.html") for name in ("login", "consent", "error")}
    issuer_origin = _origin(server.issuer)
    secure_cookie = urlsplit(server.issuer).scheme == "https"

    def page(name: str, values: Mapping[str, str], *, status: int = 200,
             raw: Mapping[str, str] | None = None) -> HTMLResponse:
        escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
        escaped.update(raw or {})
        escaped.setdefault("issuer", html.escape(server.issuer))
        return HTMLResponse(templates[name].substitute(escaped), status_code=status, headers=_PAGE_HEADERS)

    def error_page(status: int, code: str, description: str) -> HTMLResponse:
        return page("error", {"code": code, "description": description}, status=status)

    def set_session(response: Response, session_id: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, session_id, max_age=server.config.lifetimes.session, path=AUTH_PATH,
            secure=secure_cookie, httponly=True, samesite="strict",
        )

    def consent_values(consent: ConsentRequest, state: str, csrf: str) -> dict[str, str]:
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

    def login_page(consent: ConsentRequest, state: str, session: Session, message: str | None = None,
                   status: int = 200) -> HTMLResponse:
        message_html = f'<p id="message" role="alert">{html.escape(message)}</p>' if message else ""
        return page("login", consent_values(consent, state, session.csrf), status=status,
                    raw={"message_html": message_html})

    def consent_page(consent: ConsentRequest, state: str, session: Session) -> HTMLResponse:
        items = []
        for scope, description in consent.scopes:
            text = f"<code>{html.escape(scope)}</code>"
            if description:
                text += f" — {html.escape(description)}"
            items.append(f'<li class="scope" data-scope="{html.escape(scope)}">{text}</li>')
        delegate = (f" on behalf of delegate <code id=\"delegate\">{html.escape(consent.agent_delegate)}</code>"
                    if consent.agent_delegate else "")
        values = {**consent_values(consent, state, session.csrf), "user": session.user or ""}
        return page("consent", values, raw={"scopes_html": "\n".join(items), "delegate_html": delegate})

    async def metadata(request: Request) -> Response:
        return JSONResponse(server.metadata(), headers={"Cache-Control": "max-age=300"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(server.jwks(), headers={"Cache-Control": "max-age=300"})

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

    async def current_session(request: Request) -> tuple[str, Session] | None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        session = await server.asession(session_id) if session_id else None
        return (session_id, session) if session is not None else None

    async def auth_get(request: Request) -> Response:
        params = request.query_params
        if any(len(params.getlist(n)) > 1 for n in ("request_token", "redirect_uri", "state")):
            return error_page(400, "invalid_request", "a parameter is repeated")
        request_token, redirect_uri = params.get("request_token", ""), params.get("redirect_uri", "")
        state = params.get("state", "")
        if len(state) > _MAX_STATE:
            return error_page(400, "invalid_request", "state is too long")
        try:
            consent = await server.aconsent_request(request_token, redirect_uri)
        except ConsentError as exc:
            return error_page(exc.status_code, exc.code, exc.description)
        current = await current_session(request)
        if current is None:
            session_id, session = await server.anew_session()
            response = login_page(consent, state, session)
            set_session(response, session_id)
            return response
        _, session = current
        if session.user is None:
            return login_page(consent, state, session)
        return consent_page(consent, state, session)

    async def auth_post(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != issuer_origin:
            return error_page(403, "invalid_request", "cross-origin form submissions are refused")
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return error_page(403, "invalid_request", "cross-site form submissions are refused")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != dialect.FORM_CONTENT_TYPE:
            return error_page(400, "invalid_request", "the form must be sent as a URL-encoded form")
        try:
            form = _parse_form(await _read_body(request))
        except (_BodyTooLarge, ValueError):
            return error_page(400, "invalid_request", "the form could not be read")
        current = await current_session(request)
        sent_csrf = form.get("csrf_token", "")
        if current is None or not sent_csrf or not hmac.compare_digest(
            current[1].csrf.encode("utf-8"), sent_csrf.encode("utf-8")
        ):
            log.info("consent form refused: CSRF check failed")
            return error_page(403, "invalid_request",
                              "the form has expired or did not come from this site; start again from the agent")
        session_id, session = current
        state = form.get("state", "")
        if len(state) > _MAX_STATE:
            return error_page(400, "invalid_request", "state is too long")
        request_token, redirect_uri = form.get("request_token", ""), form.get("redirect_uri", "")
        try:
            consent = await server.aconsent_request(request_token, redirect_uri)
        except ConsentError as exc:
            return error_page(exc.status_code, exc.code, exc.description)
        action = form.get("action", "")
        try:
            if action == "login":
                user = await run_in_threadpool(server.authenticate, form.get("username", ""),
                                               form.get("password", ""))
                if user is None:
                    log.info("consent login failed")
                    return login_page(consent, state, session, "Wrong user name or password.", 401)
                new_id, _ = await server.alogin(session_id, user)
                query = {"request_token": request_token, "redirect_uri": redirect_uri}
                if state:
                    query["state"] = state
                response: Response = RedirectResponse(f"{AUTH_PATH}?{urlencode(query)}", status_code=303,
                                                      headers=_PAGE_HEADERS)
                set_session(response, new_id)
                return response
            if session.user is None:
                return login_page(consent, state, session, "Please sign in first.", 401)
            if action == "approve":
                location = await server.aapprove(request_token, User(session.user), state=state or None)
            elif action == "deny":
                location = await server.adeny(request_token, state=state or None)
            else:
                return error_page(400, "invalid_request", "unknown action")
        except ConsentError as exc:
            return error_page(exc.status_code, exc.code, exc.description)
        except AAuthError as exc:
            log.warning("consent step failed: %s", exc.code)
            return error_page(503, "server_error", "the authorization could not be recorded; try again")
        return RedirectResponse(location, status_code=303, headers=_PAGE_HEADERS)

    routes = [
        Route(f"/.well-known/{dialect.WELL_KNOWN_ISSUER}", metadata, methods=["GET"]),
        Route("/jwks.json", jwks, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(AUTH_PATH, auth_get, methods=["GET"]),
        Route(AUTH_PATH, auth_post, methods=["POST"]),
    ]
    return Starlette(debug=debug, routes=routes)


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
