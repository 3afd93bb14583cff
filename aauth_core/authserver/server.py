"""The auth server: metadata, JWKS, key rotation, and the token endpoint and consent flows.

:class:`AuthServer` is the facade: it holds the configuration and the collaborators
(policy, store, users, discovery, verifier, clock) and answers each public call,
blocking or awaiting, by running one flow on the sans-I/O driver
(:mod:`aauth_core.effects`).  The flows themselves live by concern:
:mod:`.token_endpoint` (request types ``auth``, ``code``, ``refresh``, ``exchange``,
and the resource-token checks) and :mod:`.consent` (the consent request, the user's
answer, the pages' sessions).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import effects
from ..cache import ReplayCache
from ..discovery import Discovery
from ..errors import AAuthError
from ..keys import PublicKey, SigningKey, jwks_document
from ..request import Headers, RequestView, canonical_authority
from ..resource.verifier import Verifier
from .config import AuthServerConfig
from .consent import ConsentError, ConsentFlows, ConsentRequest
from .policy import Policy, RequireConsent
from .store import AuthServerStore, Session, store_from_url
from .token_endpoint import TokenEndpoint, TokenResponse, refusal
from .users import User, UserStore

__all__ = ["AuthServer", "ConsentError", "ConsentRequest", "TokenResponse"]

log = logging.getLogger("aauth.authserver")


class AuthServer:
    """One auth server.  ``policy`` defaults to :class:`RequireConsent`, ``store`` to an
    in-memory store; ``users`` is needed only for the consent pages' own sign-in form
    (demos and tests: in production the host application's login decides, see
    :class:`~aauth_core.authserver.ConsentPages`).  ``discovery``,
    ``replay_cache`` and ``clock`` are injectable like the verifier's; an injected
    ``discovery`` brings its own settings (build it from ``config.verifier_settings()``)."""

    def __init__(
        self,
        config: AuthServerConfig,
        *,
        policy: Policy | None = None,
        store: AuthServerStore | None = None,
        users: UserStore | None = None,
        discovery: Discovery | None = None,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.settings = config.verifier_settings()
        self.clock = clock
        self.policy: Policy = policy if policy is not None else RequireConsent()
        self.store: AuthServerStore = store if store is not None else store_from_url(config.store_url, clock=clock)
        self.users = users
        self.discovery = discovery if discovery is not None else Discovery(self.settings, clock=clock)
        self.verifier = Verifier(self.settings, discovery=self.discovery, replay_cache=replay_cache, clock=clock)
        self.authority = canonical_authority(config.issuer)
        self._keys: list[SigningKey] = list(config.keys)
        self._retired: list[tuple[PublicKey, float]] = []
        self._tokens = TokenEndpoint(self)
        self._consent = ConsentFlows(self)

    # ------------------------------------------------------------------ documents and keys

    @property
    def issuer(self) -> str:
        return self.config.issuer

    @property
    def signing_key(self) -> SigningKey:
        return self._keys[0]

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-issuer`` (B §4.2); ``refresh`` is advertised only when enabled."""
        types = ["auth", "code", "exchange"]
        if self.config.lifetimes.refresh_token is not None:
            types.append("refresh")
        doc: dict[str, Any] = {
            "issuer": self.issuer,
            "jwks_uri": self.config.jwks_uri,
            "agent_token_endpoint": self.config.token_endpoint,
            "agent_auth_endpoint": self.config.auth_endpoint,
            "agent_signing_algs_supported": list(self.settings.algorithms),
            "request_types_supported": types,
        }
        if self.config.scopes_supported:
            doc["scopes_supported"] = list(self.config.scopes_supported)
        return doc

    def jwks(self) -> dict[str, Any]:
        """Every current key, and each retired key until the last token it signed has expired."""
        horizon = self.config.lifetimes.auth_token + self.settings.token_leeway
        now = self.clock()
        self._retired = [(k, at) for k, at in self._retired if now < at + horizon]
        return jwks_document([*self._keys, *(k for k, _ in self._retired)])

    def rotate_key(self, new_key: SigningKey) -> None:
        """Sign with ``new_key`` from now on; the previous signer stays published until its tokens expire."""
        if new_key.kid is None:
            raise ValueError("auth server signing keys need a 'kid'")
        if any(k.kid == new_key.kid for k in self._keys) or any(k.kid == new_key.kid for k, _ in self._retired):
            raise ValueError(f"kid {new_key.kid!r} is already published")
        old = self._keys.pop(0)
        self._retired.append((old.public, self.clock()))
        self._keys.insert(0, new_key)
        log.info("auth server signing key rotated to kid %s", new_key.kid)

    # ------------------------------------------------------------------ token endpoint

    def view(
        self,
        *,
        method: str,
        path: str,
        query: str | None,
        headers: Headers | Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes | None,
        scheme: str = "https",
    ) -> RequestView:
        """The neutral request for the token endpoint, under this issuer's canonical authority."""
        hdrs = headers if isinstance(headers, Headers) else Headers(headers)
        return RequestView(method=method.upper(), authority=self.authority, path=path or "/", query=query,
                           headers=hdrs, body=body, scheme=scheme)

    def token(self, view: RequestView) -> TokenResponse:
        """Answer one token request (blocking I/O)."""
        try:
            return effects.run(self._tokens.flow(view))
        except AAuthError as exc:
            return refusal(exc)

    async def atoken(self, view: RequestView) -> TokenResponse:
        """Answer one token request (async I/O)."""
        try:
            return await effects.arun(self._tokens.flow(view))
        except AAuthError as exc:
            return refusal(exc)

    # ------------------------------------------------------------------ consent flow (called by the HTML app)

    def consent_request(self, request_token: str, redirect_uri: str) -> ConsentRequest:
        return effects.run(self._consent.request(request_token, redirect_uri))

    async def aconsent_request(self, request_token: str, redirect_uri: str) -> ConsentRequest:
        return await effects.arun(self._consent.request(request_token, redirect_uri))

    def approve(self, request_token: str, user: User, *, state: str | None = None) -> str:
        """The user approved: store a single-use code; return the redirect URL carrying it."""
        return effects.run(self._consent.approve(request_token, user, state))

    async def aapprove(self, request_token: str, user: User, *, state: str | None = None) -> str:
        return await effects.arun(self._consent.approve(request_token, user, state))

    def deny(self, request_token: str, *, state: str | None = None) -> str:
        """The user refused: drop the request; return the redirect URL carrying ``error=access_denied``."""
        return effects.run(self._consent.deny(request_token, state))

    async def adeny(self, request_token: str, *, state: str | None = None) -> str:
        return await effects.arun(self._consent.deny(request_token, state))

    def authenticate(self, username: str, password: str) -> User | None:
        """Check a user's credentials (blocking: password hashing is deliberately slow)."""
        if self.users is None:
            raise ConsentError("this auth server has no user store", code="server_error", status_code=500)
        return self.users.authenticate(username, password)

    async def aauthenticate(self, username: str, password: str) -> User | None:
        """:meth:`authenticate` in a worker thread, so the event loop is not held up by the hashing."""
        return await asyncio.to_thread(self.authenticate, username, password)

    # sessions of the consent pages (server-side, in the store, keyed by a random cookie)

    def new_session(self) -> tuple[str, Session]:
        return effects.run(self._consent.new_session(None))

    async def anew_session(self) -> tuple[str, Session]:
        return await effects.arun(self._consent.new_session(None))

    def session(self, session_id: str) -> Session | None:
        return effects.run(self._consent.session(session_id))

    async def asession(self, session_id: str) -> Session | None:
        return await effects.arun(self._consent.session(session_id))

    def login(self, session_id: str, user: User) -> tuple[str, Session]:
        """Replace the anonymous session by a new, logged-in one (new id and CSRF secret: no fixation)."""
        return effects.run(self._consent.login(session_id, user))

    async def alogin(self, session_id: str, user: User) -> tuple[str, Session]:
        return await effects.arun(self._consent.login(session_id, user))
