"""The access server: metadata, JWKS, the auth token endpoint, pending URLs, revocation
(draft -11 §2.4, four-party).

:class:`AccessServer` is the facade, as :class:`~aauth_core.authserver.AuthServer` is for the
January server: it holds the configuration and collaborators (policy, store, discovery,
replay cache, clock, HTTP transports) and answers each call, blocking or awaited, by running
one flow on the sans-I/O driver.  The rules live by concern: :mod:`.body_tokens` (the tokens a
person server sends), :mod:`.token_endpoint` (deciding and answering), :mod:`.grant` (the
auth token), :mod:`.revocation`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from .. import effects
from ..cache import MemoryReplayCache, ReplayCache
from ..discovery import Discovery, Resolver
from ..effects import Call, call
from ..errors import AAuthError, ReplayError
from ..headers import SignatureParams
from ..keys import PublicKey, SigningKey, canonical_signature, jwks_document
from ..profile.aauth_11 import AAUTH_11
from ..request import RequestView
from ..tokens.mint_11 import jose_alg
from .body_tokens import BodyTokens
from .config import AccessServerConfig
from .policy import AccessPolicy, AllowListedScopes
from .revocation import RevocationResult, Revoker
from .store import AccessStore, access_store_from_url
from .token_endpoint import TOKEN_PATH, AccessReply, TokenEndpoint, pending_key, refusal

__all__ = ["JWKS_PATH", "METADATA_PATH", "AccessServer"]

METADATA_PATH = f"/.well-known/{AAUTH_11.well_known_access}"
JWKS_PATH = "/jwks.json"
_WAIT_STEP = 0.05  # seconds between re-reads of a pending request while a poll waits


class AccessServer:
    """One access server.  ``policy`` defaults to :class:`AllowListedScopes` over
    ``config.resources``; ``store`` to ``config.store_url``; ``discovery``, ``replay_cache``,
    ``clock``, ``resolver`` (the SSRF guard's DNS) and the HTTP transports (revocation calls)
    are injectable."""

    def __init__(
        self,
        config: AccessServerConfig,
        *,
        policy: AccessPolicy | None = None,
        store: AccessStore | None = None,
        discovery: Discovery | None = None,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
        resolver: Resolver | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.resolver = resolver
        self.policy: AccessPolicy = policy if policy is not None else AllowListedScopes(config.resources)
        self.store: AccessStore = store if store is not None else access_store_from_url(config.store_url,
                                                                                         clock=clock)
        self.discovery = discovery if discovery is not None else Discovery(
            config.discovery_settings(), clock=clock, resolver=resolver, transport=transport,
            async_transport=async_transport)
        self.replay_cache: ReplayCache = replay_cache if replay_cache is not None else MemoryReplayCache(clock=clock)
        self._keys: tuple[SigningKey, ...] = config.keys
        self.tokens = BodyTokens(self.discovery, issuer=config.issuer, resources=config.resources,
                                 loopback=config.allow_loopback_http, own_key=self._own_key)
        self._endpoint = TokenEndpoint(self)
        self._revoker = Revoker(self, transport=transport, async_transport=async_transport)

    # ------------------------------------------------------------------ documents and keys

    @property
    def issuer(self) -> str:
        return self.config.issuer

    @property
    def signing_key(self) -> SigningKey:
        return self._keys[0]

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-access.json`` (-11 §11.2.3)."""
        return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}{JWKS_PATH}",
                "auth_token_endpoint": f"{self.issuer}{TOKEN_PATH}"}

    def jwks(self) -> dict[str, Any]:
        """Every key, each naming its JOSE ``alg`` (SK-09 §3.3)."""
        doc = jwks_document(self._keys)
        for jwk, key in zip(doc["keys"], self._keys, strict=True):
            jwk["alg"] = jose_alg(key)
        return doc

    def _own_key(self, kid: str) -> PublicKey | None:
        return next((k.public for k in self._keys if k.kid == kid), None)

    # ------------------------------------------------------------------ the endpoints

    def token(self, view: RequestView) -> AccessReply:
        """``POST /token`` (blocking I/O)."""
        return _answer(lambda: effects.run(self._endpoint.token_flow(view)))

    async def atoken(self, view: RequestView) -> AccessReply:
        return await _aanswer(effects.arun(self._endpoint.token_flow(view)))

    def poll(self, view: RequestView, pending_id: str) -> AccessReply:
        """``GET`` / ``POST`` ``/token/pending/{id}``; ``Prefer: wait`` is honoured only by :meth:`apoll`."""
        return _answer(lambda: effects.run(self._endpoint.pending_flow(view, pending_id)))

    async def apoll(self, view: RequestView, pending_id: str) -> AccessReply:
        """As :meth:`poll`; a ``GET`` with ``Prefer: wait=N`` is held (at most ``max_wait``
        seconds) until the request is decided."""
        reply = await _aanswer(effects.arun(self._endpoint.pending_flow(view, pending_id)))
        wait = min(_prefer_wait(view.headers.get("prefer")), self.config.max_wait)
        if view.method != "GET" or reply.status != 202 or wait <= 0:
            return reply
        caller = await self._pending_caller(pending_id)
        deadline = asyncio.get_running_loop().time() + wait
        while reply.status == 202 and caller is not None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(_WAIT_STEP)
            reply = await _aanswer(effects.arun(self._endpoint.pending_answer(pending_id, caller)))
        return reply

    async def _pending_caller(self, pending_id: str) -> str | None:
        record = await self.store.aget("pending", pending_key(pending_id))
        return None if record is None else str(record["ps"])

    # ------------------------------------------------------------------ decisions from the operator

    def approve(self, pending_id: str, scope: frozenset[str] | None = None) -> bool:
        """Approve a request waiting for ``approval`` (optionally for less scope); the next poll
        gets its auth token.  False when no such request waits."""
        return effects.run(self._decide_flow(pending_id, "approved", scope))

    async def aapprove(self, pending_id: str, scope: frozenset[str] | None = None) -> bool:
        return await effects.arun(self._decide_flow(pending_id, "approved", scope))

    def deny(self, pending_id: str) -> bool:
        """Deny a waiting request; the next poll gets 403 ``denied``."""
        return effects.run(self._decide_flow(pending_id, "denied", None))

    async def adeny(self, pending_id: str) -> bool:
        return await effects.arun(self._decide_flow(pending_id, "denied", None))

    def _decide_flow(self, pending_id: str, state: str,
                     scope: frozenset[str] | None) -> Generator[Call[Any], Any, bool]:
        store, key = self.store, pending_key(pending_id)
        record = yield from call(store.get, store.aget, "pending", key)
        if record is None or record["state"] != "approval":
            return False
        updated = {**record, "state": state}
        if scope is not None:
            updated["scope"] = sorted(scope)
        yield from call(store.put, store.aput, "pending", key, updated, float(record["expires_at"]))
        return True

    # ------------------------------------------------------------------ revocation

    def revoke(self, jti: str) -> RevocationResult:
        """Revoke an auth token this server issued, at its resource (blocking I/O)."""
        return effects.run(self._revoker.flow(jti))

    async def arevoke(self, jti: str) -> RevocationResult:
        return await effects.arun(self._revoker.flow(jti))

    # ------------------------------------------------------------------ the replay step

    def remember(self, params: SignatureParams, signature: bytes, key: PublicKey) -> Generator[Call[Any], Any, None]:
        """Each accepted signature once inside its window (ECDSA: its low-S form)."""
        until = (params.created or 0) + self.config.signature_window
        if key.alg == "p256":
            signature = canonical_signature(signature)
        digest = hashlib.sha256(key.thumbprint.encode() + b"\0" + signature).hexdigest()
        cache = self.replay_cache
        if not (yield from call(cache.add, cache.aadd, f"aauth:access:replay:{digest}", until)):
            raise ReplayError("this signature was already used", code="replayed_request")


def _prefer_wait(value: str | None) -> int:
    """``Prefer: wait=N`` (RFC 7240); anything else is no wait."""
    for part in (value or "").split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() == "wait" and number.strip().isdigit():
            return int(number.strip())
    return 0


def _answer(run: Callable[[], AccessReply]) -> AccessReply:
    try:
        return run()
    except AAuthError as exc:
        return refusal(exc)


async def _aanswer(pending: Any) -> AccessReply:
    try:
        reply: AccessReply = await pending
    except AAuthError as exc:
        return refusal(exc)
    return reply

