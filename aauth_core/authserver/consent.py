"""The consent flow's state: the pending request a user is shown, their answer, the page sessions.

:mod:`.pages` renders the pages; this module decides.  A pending
request is answered once (the store's atomic ``take``); an approval stores a
single-use authorization code and redirects to the agent's ``redirect_uri``.  The
pages keep a server-side session (keyed by a random cookie) holding the CSRF secret
and, after login, the user; logging in replaces the session (no fixation).

Each operation is a flow on the sans-I/O driver (:mod:`aauth_core.effects`);
:class:`~aauth_core.authserver.AuthServer` runs it blocking or awaiting.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import dialect
from ..effects import Flow, call
from ..errors import AAuthError
from .policy import PolicyRequest, narrow
from .store import AuthorizationCode, PendingRequest, Session, secret_key
from .users import User
from .wire import redirect_url, scope_list

if TYPE_CHECKING:
    from .server import AuthServer

__all__ = ["ConsentError", "ConsentFlows", "ConsentRequest"]

log = logging.getLogger("aauth.authserver")


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """What the consent page shows: the agent, the resource and each scope (with its description).

    ``agent_name`` and ``resource_name`` are the ``name`` members of their metadata (self-asserted:
    the pages always show the identifiers too); a scope's description comes from the resource's
    ``scope_descriptions``, else from the auth server's own ``scope_descriptions`` setting.
    """

    request_token: str = field(repr=False)
    agent: str
    agent_name: str | None
    agent_delegate: str | None
    resource: str
    scopes: tuple[tuple[str, str | None], ...]
    redirect_uri: str
    expires_at: float
    resource_name: str | None = None


class ConsentError(AAuthError):
    """The consent endpoint cannot continue (unknown request, ``redirect_uri`` mismatch).

    Rendered as an error page; never as a redirect, since the redirect target is not trusted.
    """

    default_code = "invalid_request"
    default_status = 400


class ConsentFlows:
    """The consent and session flows of one :class:`~aauth_core.authserver.AuthServer`.

    Reads the server's configuration, clock, policy, store and discovery when a flow runs.
    """

    def __init__(self, server: AuthServer) -> None:
        self._server = server

    def request(self, request_token: str, redirect_uri: str) -> Flow[ConsentRequest]:
        """What the consent page shows for this pending request (which stays pending)."""
        pending = yield from self._pending(request_token, take=False)
        if redirect_uri != pending.redirect_uri:
            raise ConsentError("redirect_uri does not match the authorization request")
        meta: Mapping[str, Any] = {}
        if pending.agent_claim:
            discovery = self._server.discovery
            try:
                meta = yield from call(discovery.metadata, discovery.ametadata, pending.resource,
                                       dialect.WELL_KNOWN_RESOURCE)
            except AAuthError:  # names and descriptions are a courtesy; identifiers and scope names always show
                meta = {}
        found = meta.get("scope_descriptions")
        descriptions: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        fallback = self._server.config.scope_descriptions
        scopes = tuple(
            (s, descriptions[s] if isinstance(descriptions.get(s), str) else fallback.get(s))
            for s in scope_list(pending.scope or "")
        )
        name = meta.get("name")
        return ConsentRequest(
            request_token=request_token, agent=pending.agent, agent_name=pending.agent_name,
            agent_delegate=pending.agent_delegate, resource=pending.resource, scopes=scopes,
            redirect_uri=pending.redirect_uri, expires_at=pending.expires_at,
            resource_name=name if isinstance(name, str) and name.strip() else None,
        )

    def approve(self, request_token: str, user: User, state: str | None) -> Flow[str]:
        """The user approved: a single-use code, and the redirect URL carrying it."""
        pending = yield from self._pending(request_token, take=True)  # atomic: one answer per request
        requested = scope_list(pending.scope or "")
        decision = self._server.policy.decide(PolicyRequest(
            "code", pending.agent, pending.resource, frozenset(requested),
            agent_delegate=pending.agent_delegate, user=user.id,
        ))
        if decision.outcome == "deny":
            log.info("consent approved by the user but denied by policy (agent %s)", pending.agent)
            return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                    "error_description": "the request is not allowed"}, state)
        allowed = narrow(frozenset(requested), decision.scope)
        granted = [s for s in requested if s in allowed]
        if not granted:
            return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                    "error_description": "none of the scopes may be granted"}, state)
        code = secrets.token_urlsafe(32)
        expires_at = self._server.clock() + self._server.config.lifetimes.code
        record = AuthorizationCode(
            agent=pending.agent, resource=pending.resource, scope=" ".join(granted),
            agent_delegate=pending.agent_delegate, agent_claim=pending.agent_claim,
            redirect_uri=pending.redirect_uri, sub=user.id, expires_at=expires_at,
        )
        store = self._server.store
        yield from call(store.put, store.aput, "code", secret_key(code), record.to_dict(), expires_at)
        log.info("consent approved (agent %s, resource %s)", pending.agent, pending.resource)
        return redirect_url(pending.redirect_uri, {"code": code}, state)

    def deny(self, request_token: str, state: str | None) -> Flow[str]:
        """The user refused: the request is dropped; the redirect URL carries ``error=access_denied``."""
        pending = yield from self._pending(request_token, take=True)
        log.info("consent denied by the user (agent %s)", pending.agent)
        return redirect_url(pending.redirect_uri, {"error": "access_denied",
                                                "error_description": "the user denied the request"}, state)

    def _pending(self, request_token: str, *, take: bool) -> Flow[PendingRequest]:
        if not request_token:
            raise ConsentError("request_token is required")
        store, key = self._server.store, secret_key(request_token)
        if take:
            record = yield from call(store.take, store.atake, "pending", key)
        else:
            record = yield from call(store.get, store.aget, "pending", key)
        if record is None:
            raise ConsentError("this authorization request is unknown, expired or already answered")
        return PendingRequest.from_dict(record)

    # ------------------------------------------------------------------ sessions of the pages

    def new_session(self, user: User | None) -> Flow[tuple[str, Session]]:
        """A fresh session: random id (the cookie), new CSRF secret, ``user`` once logged in."""
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), user=user.id if user is not None else None,
                          expires_at=self._server.clock() + self._server.config.lifetimes.session,
                          user_name=user.name if user is not None else None)
        store = self._server.store
        yield from call(store.put, store.aput, "session", secret_key(session_id), session.to_dict(),
                        session.expires_at)
        return session_id, session

    def session(self, session_id: str) -> Flow[Session | None]:
        if not session_id:
            return None
        store = self._server.store
        record = yield from call(store.get, store.aget, "session", secret_key(session_id))
        return Session.from_dict(record) if record is not None else None

    def login(self, session_id: str, user: User) -> Flow[tuple[str, Session]]:
        """Replace the session by a new, logged-in one (new id and CSRF secret)."""
        store = self._server.store
        yield from call(store.delete, store.adelete, "session", secret_key(session_id))
        return (yield from self.new_session(user))
