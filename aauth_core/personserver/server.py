"""The person server (-11 §2.3 of our reference): metadata, JWKS, the JSON endpoints, the
consent page's decisions and revocation by ``jti``.

:class:`PersonServer` is the facade, like the January :class:`~aauth_core.authserver.AuthServer`:
it holds the configuration and the collaborators (policy, store, users, the agents' request
verifier, clock) and answers each public call, blocking or awaiting, by running one flow on
the sans-I/O driver (:mod:`aauth_core.effects`).  The flows live by concern:
:mod:`.endpoints` (the JSON endpoints), :mod:`.deferred` (pending answers), :mod:`.checks`
(the auth token endpoint's token checks), :mod:`.issuing`, :mod:`.interaction` (the page) and
:mod:`.revocation`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from .. import effects
from ..authserver.policy import Policy, RequireConsent
from ..authserver.store import AuthServerStore
from ..authserver.users import User, UserStore
from ..discovery import Discovery, Resolver
from ..effects import Flow
from ..errors import AAuthError
from ..keys import PublicKey, SigningKey, jwks_document
from ..request import Headers, RequestView
from ..resource.service import AAuthService
from ..tokens.mint_11 import jose_alg
from .as_client import AccessServerClient
from .chaining import ChainScopes, no_widening
from .config import PersonServerConfig
from .deferred import PENDING_PATH, Deferred, Sleep, StillPending
from .endpoints import Endpoints
from .federation import ClaimsRelease, Federation
from .issuing import Issuer
from .revocation import Revoker
from .state import Records, open_store
from .wire import PersonServerError, Reply, problem_reply

__all__ = ["PENDING_PATH", "PersonServer"]

log = logging.getLogger("aauth.personserver")


async def _asleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class PersonServer:
    """One person server.  ``policy`` defaults to :class:`RequireConsent` (a user approves each
    agent's first request at a resource, and each new scope set); ``store`` to the one
    ``config.store_url`` names; ``users`` backs the consent page's own sign-in form (demos and
    tests).  ``discovery``, ``clock``, ``sleep``/``asleep`` (how a ``Prefer: wait`` poll waits)
    and ``transport``/``async_transport``/``resolver`` (revocation and access server calls) are
    injectable.  ``claims``: what may be released to an access server asking for claims
    (:class:`~.federation.ClaimsRelease`; none by default).  ``chain_scopes``: the scopes a
    chained auth token may carry (:func:`~.chaining.no_widening` by default)."""

    def __init__(
        self,
        config: PersonServerConfig,
        *,
        policy: Policy | None = None,
        store: AuthServerStore | None = None,
        users: UserStore | None = None,
        discovery: Discovery | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = _asleep,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        claims: ClaimsRelease | None = None,
        chain_scopes: ChainScopes | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.policy: Policy = policy if policy is not None else RequireConsent()
        self.store: AuthServerStore = store if store is not None else open_store(config.store_url, clock=clock)
        self.users = users
        settings = config.service_settings()
        self.service = AAuthService(settings, keys=list(config.keys), discovery=discovery, clock=clock)
        self.records = Records(self.store)
        self._keys: list[SigningKey] = list(config.keys)
        self.deferred = Deferred(self.records, issuer=config.issuer, interaction_url=config.interaction_url,
                                 poll_interval=config.poll_interval, lifetime=config.lifetimes.pending, clock=clock,
                                 sleep=Sleep(sleep, asleep))
        self.issuer_ = Issuer(config, self.records, lambda: self._keys[0], clock)
        self.endpoints = Endpoints(self)
        self.revoker = Revoker(self, transport=transport, async_transport=async_transport, resolver=resolver)
        self.chain_scopes: ChainScopes = chain_scopes if chain_scopes is not None else no_widening
        as_client = AccessServerClient(issuer=config.issuer, signing_key=lambda: self._keys[0], clock=clock,
                                       loopback=config.allow_insecure_loopback, transport=transport,
                                       async_transport=async_transport, resolver=resolver)
        self.federation = Federation(self, as_client, claims)

    # ------------------------------------------------------------------ documents and keys

    @property
    def issuer(self) -> str:
        return self.config.issuer

    def public_keys(self) -> Sequence[PublicKey]:
        return [k.public for k in self._keys]

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-person.json`` (-11 §11.2.2)."""
        c = self.config
        doc: dict[str, Any] = {"issuer": c.issuer, "jwks_uri": c.jwks_uri,
                               "person_token_endpoint": c.person_token_endpoint,
                               "auth_token_endpoint": c.auth_token_endpoint, "mission_endpoint": c.mission_endpoint}
        if c.scopes_supported:
            doc["scopes_supported"] = list(c.scopes_supported)
        return doc

    def jwks(self) -> dict[str, Any]:
        """Every signing key, each with its JOSE ``alg`` (SK-09 §3.3)."""
        doc = jwks_document(self._keys)
        for jwk, key in zip(doc["keys"], self._keys, strict=True):
            jwk["alg"] = jose_alg(key)
        return doc

    # ------------------------------------------------------------------ requests

    def view(self, *, method: str, path: str, query: str | None,
             headers: Headers | Mapping[str, str] | Sequence[tuple[str, str]], body: bytes | None) -> RequestView:
        """The neutral request, under the issuer's authority (never the Host header)."""
        return self.service.view(method=method, path=path, query=query, headers=headers, body=body,
                                 host=None, scheme="https")

    def handle(self, view: RequestView) -> Reply:
        """Answer one request to a JSON endpoint (blocking I/O)."""
        try:
            return effects.run(self._route(view))
        except AAuthError as exc:
            return self._refusal(exc, view)
        except StillPending as pending:
            return pending.reply

    async def ahandle(self, view: RequestView) -> Reply:
        """Answer one request to a JSON endpoint (async I/O)."""
        try:
            return await effects.arun(self._route(view))
        except AAuthError as exc:
            return self._refusal(exc, view)
        except StillPending as pending:
            return pending.reply

    def _route(self, view: RequestView) -> Flow[Reply]:
        path, method, c = view.path, view.method, self.config
        routes = {_path(c.person_token_endpoint): self.endpoints.person,
                  _path(c.auth_token_endpoint): self.endpoints.token, _path(c.mission_endpoint): self.endpoints.mission}
        if method == "POST" and path in routes:
            return (yield from routes[path](view))
        if method == "GET" and path.startswith(PENDING_PATH) and 0 < len(path) - len(PENDING_PATH) <= 64:
            return (yield from self.endpoints.poll(view, path[len(PENDING_PATH):]))
        raise PersonServerError("no such endpoint", code="not_found", status_code=404)

    def _refusal(self, exc: AAuthError, view: RequestView) -> Reply:
        if exc.profile == "aauth-11":  # the agent's signature or token: the verifier's -11 answer
            rendered = self.service.error_response(exc)
            self.service.log_refusal(exc, view.method, view.path, view.headers)
            return Reply(rendered.status, dict(rendered.headers), rendered.body)
        if exc.status_code >= 500 and not isinstance(exc, PersonServerError):
            log.warning("person server: %s failed: %s", view.path, exc.code)
            exc = PersonServerError("the request could not be completed; try again", code="server_error",
                                    status_code=503 if exc.code == "cache_unavailable" else 500)
        log.info("person server refused %s %s: %s (%s)", view.method, view.path, exc.code, exc.status_code)
        return problem_reply(exc)

    # ------------------------------------------------------------------ users (the consent page)

    def authenticate(self, username: str, password: str) -> User | None:
        if self.users is None:
            raise PersonServerError("this person server has no user store", code="server_error", status_code=500)
        return self.users.authenticate(username, password)

    async def aauthenticate(self, username: str, password: str) -> User | None:
        return await asyncio.to_thread(self.authenticate, username, password)

    # ------------------------------------------------------------------ revocation (admin API)

    def revoke(self, jti: str) -> bool:
        """Revoke the token ``jti`` we issued: refused here from now on, and reported to its
        resource's ``revocation_endpoint``.  ``True`` when the resource acknowledged it."""
        return effects.run(self.revoker.flow(jti))

    async def arevoke(self, jti: str) -> bool:
        return await effects.arun(self.revoker.flow(jti))


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
