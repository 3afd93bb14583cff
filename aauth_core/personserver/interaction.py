"""The consent page of the person server: where the user goes with an interaction code
(``GET /interaction?code=<code>``, -11 §11.6.3) and approves or denies (``POST``).

The January pages' machinery is reused as it is: :class:`~aauth_core.authserver.pages.PageRequest`
and :class:`~aauth_core.authserver.pages.PageResponse`, the templates and static files
(:class:`~aauth_core.authserver.branding.PageKit`, with this package's ``consent``, ``login`` and
``result`` templates first), the server-side sessions holding the CSRF secret (compared in constant
time), the cross-site refusal (``Origin``, ``Sec-Fetch-Site``), strict page headers and escaping.
Who the user is comes from the host application (``external``) or the sign-in form checked
against a :class:`~aauth_core.authserver.users.UserStore`.

Agent-asserted text (``justification``, a mission's description) is shown apart from what the
resource asked (the scopes), as -11 §2.3 "Consent" asks.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Mapping
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .. import effects
from ..authserver.branding import PageKit
from ..authserver.pages import CSP, PageRequest, PageResponse, SessionCookie, _csrf_matches, _read_form
from ..authserver.store import Session
from ..authserver.users import User
from ..effects import Flow, call
from ..errors import AAuthError
from .state import secret_key

if TYPE_CHECKING:
    from .server import PersonServer

__all__ = ["INTERACTION_PATH", "InteractionPages"]

log = logging.getLogger("aauth.personserver")

INTERACTION_PATH = "/interaction"
_HEADERS = (("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-store"), ("Pragma", "no-cache"), ("Referrer-Policy", "same-origin"))
_MAX_CODE = 16


class InteractionPages:
    """``GET``/``POST /interaction`` for one person server (see the module docstring)."""

    def __init__(self, server: PersonServer, *, external: bool = False) -> None:
        self._server = server
        self._external = external
        branding = server.config.branding
        if branding.templates is None:
            branding = replace(branding, templates=Path(str(files("aauth_core.personserver") / "templates")))
        self.kit = PageKit(branding, server.issuer)
        self._secure = urlsplit(server.issuer).scheme == "https"
        parts = urlsplit(server.issuer)
        self._origin = f"{parts.scheme}://{parts.netloc}".lower()

    def handle(self, request: PageRequest) -> PageResponse:
        return effects.run(self.flow(request))

    async def ahandle(self, request: PageRequest) -> PageResponse:
        return await effects.arun(self.flow(request))

    def static(self, name: str) -> PageResponse:
        asset = self.kit.asset(name)
        if asset is None:
            return PageResponse(404, (("Content-Type", "text/plain; charset=utf-8"),), b"not found")
        return PageResponse(200, (("Content-Type", asset.content_type), ("X-Content-Type-Options", "nosniff"),
                                  ("Cache-Control", "public, max-age=86400")), asset.body)

    def flow(self, request: PageRequest) -> Flow[PageResponse]:
        try:
            if request.method in ("GET", "HEAD"):
                return (yield from self._get(request))
            if request.method == "POST":
                return (yield from self._post(request))
            return self._error("invalid_request", 405, "This page answers GET and POST only.")
        except AAuthError as exc:
            if exc.status_code >= 500 or exc.code == "cache_unavailable":
                log.warning("interaction step failed: %s", exc.code)
                return self._error("server_error", 503, "The answer could not be recorded; try again.")
            return self._error(exc.code, exc.status_code, exc.description)

    # ------------------------------------------------------------------ GET

    def _get(self, request: PageRequest) -> Flow[PageResponse]:
        params = parse_qs(request.query, keep_blank_values=True, max_num_fields=8)
        codes = params.get("code", [])
        if len(codes) != 1 or not 0 < len(codes[0]) <= _MAX_CODE:
            return self._error("invalid_request", 400, "Open the link your agent gave you (it carries a code).")
        code = codes[0].strip().upper()
        record = yield from self._server.deferred.shown(code)
        session = yield from self._session(request.session_id)
        if self._external:
            if request.user is None:
                return self._error("login_required", 401, "Sign in to this site first, then open the link again.")
            if session is None or session.user != request.user.id:
                new_id, session = yield from self._new_session(request.user)
                return self._consent(record, code, session, request.user, cookie=new_id)
            return self._consent(record, code, session, request.user)
        if session is None:
            new_id, session = yield from self._new_session(None)
            return self._login(record, code, session, cookie=new_id)
        if session.user is None:
            return self._login(record, code, session)
        return self._consent(record, code, session, User(session.user, session.user_name))

    # ------------------------------------------------------------------ POST

    def _post(self, request: PageRequest) -> Flow[PageResponse]:
        if request.origin is not None and request.origin.lower() != self._origin:
            return self._error("invalid_request", 403, "Cross-origin form submissions are refused.")
        if (request.sec_fetch_site or "same-origin") not in ("same-origin", "none"):
            return self._error("invalid_request", 403, "Cross-site form submissions are refused.")
        form = _read_form(request)
        if isinstance(form, str):
            return self._error("invalid_request", 400, form)
        session = yield from self._session(request.session_id)
        if session is None or not _csrf_matches(session, form.get("csrf_token", "")):
            log.info("interaction form refused: CSRF check failed")
            return self._error("invalid_request", 403, "The form has expired or did not come from this site; "
                                                       "open the link from your agent again.")
        code = form.get("code", "").strip().upper()[:_MAX_CODE]
        action = form.get("action", "")
        server = self._server
        if action == "login" and not self._external:
            record = yield from server.deferred.shown(code)
            user = yield from call(server.authenticate, server.aauthenticate, form.get("username", ""),
                                   form.get("password", ""))
            if user is None:
                return self._login(record, code, session, "Wrong user name or password.", 401)
            yield from call(server.store.delete, server.store.adelete, "session", secret_key(request.session_id))
            new_id, session = yield from self._new_session(user)
            return self._consent(record, code, session, user, cookie=new_id)
        if action not in ("approve", "deny"):
            return self._error("invalid_request", 400, "Unknown action.")
        if self._external:
            if request.user is None or session.user != request.user.id:
                return self._error("invalid_request", 409, "You are signed in as someone else now; open the link "
                                                           "from your agent again.")
        elif session.user is None:
            return self._error("login_required", 401, "Please sign in first.")
        user_id = str(session.user)
        record = yield from server.deferred.decide(code, user_id, action == "approve")
        if action == "approve":
            yield from server.endpoints.approved(record, user_id)
            return self._result("approved", "Approved", "Return to your agent: it continues on its own.")
        return self._result("denied", "Not approved", "Your agent was told that you said no.")

    # ------------------------------------------------------------------ sessions

    def _session(self, session_id: str) -> Flow[Session | None]:
        if not session_id:
            return None
        store = self._server.store
        found = yield from call(store.get, store.aget, "session", secret_key(session_id))
        return Session.from_dict(found) if found is not None else None

    def _new_session(self, user: User | None) -> Flow[tuple[str, Session]]:
        session_id = secrets.token_urlsafe(32)
        server = self._server
        session = Session(csrf=secrets.token_urlsafe(32), user=user.id if user is not None else None,
                          expires_at=server.clock() + server.config.lifetimes.session,
                          user_name=user.name if user is not None else None)
        yield from call(server.store.put, server.store.aput, "session", secret_key(session_id), session.to_dict(),
                        session.expires_at)
        return session_id, session

    # ------------------------------------------------------------------ pages

    def _values(self, record: Mapping[str, Any], code: str, csrf: str) -> dict[str, str]:
        agent, resource = str(record["agent"]), str(record["resource"])
        agent_label = agent.split("@", 1)[0].removeprefix("aauth:")
        resource_label = urlsplit(resource).netloc or resource
        return {"action": INTERACTION_PATH, "agent": agent, "agent_label": agent_label,
                "agent_initial": _initial(agent_label), "resource": resource, "resource_label": resource_label,
                "resource_initial": _initial(resource_label), "request_token": code, "csrf": csrf,
                "redirect_uri": "", "state": ""}

    def _login(self, record: Mapping[str, Any], code: str, session: Session, message: str | None = None,
               status: int = 200, *, cookie: str | None = None) -> PageResponse:
        body = self.kit.render("login", "Sign in", self._values(record, code, session.csrf),
                               {"message_html": _message(message)})
        return self._page(status, body, cookie)

    def _consent(self, record: Mapping[str, Any], code: str, session: Session, user: User, *,
                 cookie: str | None = None) -> PageResponse:
        values = self._values(record, code, session.csrf)
        items = [f'<li class="scope" data-scope="{html.escape(item, quote=True)}"><span class="scope-text">'
                 f'{html.escape(text)}</span></li>' for item, text in self._asks(record)]
        asserted = record.get("justification") or (record.get("description") if record.get("kind") == "mission"
                                                    else None)
        agent_says = (f'<div class="agent-says"><h2>The agent says</h2><p id="justification">'
                      f'{html.escape(str(asserted))}</p></div>' if asserted else "")
        name = html.escape(user.name or user.id)
        body = self.kit.render("consent", f"Approve {values['agent_label']}", values, {
            "scopes_html": "\n".join(items), "delegate_html": agent_says, "message_html": "", "switch_html": "",
            "user_html": f'<span class="label" id="user">{name}</span>'})
        return self._page(200, body, cookie)

    def _asks(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        kind = record.get("kind")
        if kind == "mission":
            return [("mission", "Start this mission on your behalf")]
        if kind == "person":
            return [("person", f"Identify you to {record['resource']} (a pseudonymous identifier for that site)")]
        descriptions = self._server.config.scope_descriptions
        scopes = record.get("scopes") or []
        return [(s, descriptions.get(s, s)) for s in scopes] or [("access", "Access it on your behalf")]

    def _result(self, kind: str, heading: str, text: str) -> PageResponse:
        body = self.kit.render("result", heading, {"kind": kind, "heading": heading, "text": text,
                                                   "location": "", "link_text": ""})
        return self._page(200, body, None)

    def _error(self, code: str, status: int, description: str) -> PageResponse:
        body = self.kit.render("error", "Request cannot be completed", {"code": code, "description": description})
        return self._page(status, body, None)

    def _page(self, status: int, body: str, cookie: str | None) -> PageResponse:
        session = (SessionCookie(cookie, self._server.config.lifetimes.session, self._secure, path=INTERACTION_PATH)
                   if cookie is not None else None)
        return PageResponse(status, (("Content-Type", "text/html; charset=utf-8"), *_HEADERS),
                            body.encode("utf-8"), session)


def _initial(label: str) -> str:
    return next((c for c in label if c.isalnum()), "?").upper()


def _message(message: str | None) -> str:
    return f'<p id="message" class="alert" role="alert">{html.escape(message)}</p>' if message else ""


def interaction_link(url: str, code: str) -> str:
    """``{url}?code={code}``, where the agent sends its user."""
    return f"{url}?{urlencode({'code': code})}"
