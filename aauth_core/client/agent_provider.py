"""An aauth-11 agent provider (-11 §5, reference §2.5): what it publishes and the agent
tokens it issues.

An agent provider is a server identifier (``https://host``; ``http://127.0.0.1:PORT`` only
with ``allow_loopback=True``, decision P7, for tests and samples).  It publishes
``/.well-known/aauth-agent.json`` (``issuer``, ``jwks_uri``) and a JWKS whose every key
names its JOSE ``alg``, and issues ``aa-agent+jwt`` tokens binding an agent identifier
``aauth:local@<its host>`` to the agent's own key.  New tokens are signed with the first
key; the others stay published, so tokens signed before a rotation keep verifying.

:meth:`AgentProvider.asgi_app` serves the two documents without any framework, so tests,
samples and ``aauth request`` can publish a provider on a loopback port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..keys import SigningKey, jwks_document
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import AgentIdentifier, check_server_identifier, parse_agent_identifier
from ..tokens.mint_11 import MAX_LIFETIME_11, jose_alg, mint_agent_token_11
from .signer import RequestSigner, SignerOptions

__all__ = ["AgentProvider", "AgentTokenSource"]

METADATA_PATH = f"/.well-known/{AAUTH_11.well_known_agent}"
JWKS_PATH = "/.well-known/jwks.json"
#: Re-issue an agent token this long before it expires (reference §2.2, "Refresh": < 5 min left).
RENEW_MARGIN = 300.0

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AgentTokenSource:
    """A callable giving the agent's current ``aa-agent+jwt``, re-issued when it has less
    than :data:`RENEW_MARGIN` seconds left (or half its lifetime, if that is shorter), so a
    long-running agent never presents an expired token.  Thread-safe."""

    def __init__(self, provider: AgentProvider, agent: str, key: SigningKey, *, ps: str | None,
                 lifetime: int | None) -> None:
        self._provider, self._agent, self._key, self._ps = provider, agent, key, ps
        self._lifetime = lifetime or provider.agent_token_lifetime
        self._margin = min(RENEW_MARGIN, self._lifetime / 2)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self()  # a bad identifier or ps fails here, not on the first request

    def __call__(self) -> str:
        with self._lock:
            now = self._provider.clock()
            if self._token is None or now >= self._expires - self._margin:
                self._token = self._provider.issue_agent_token(self._agent, self._key.public_jwk(), ps=self._ps,
                                                               lifetime=self._lifetime)
                self._expires = now + self._lifetime
            return self._token


@dataclass
class AgentProvider:
    """An agent provider's identity: its documents, its keys and the agent tokens it issues.

    ``issuer``: its server identifier.  ``keys``: signing keys, each with a ``kid``; the
    first signs.  ``metadata_extra``: optional members of ``aauth-agent.json``
    (``callback_endpoint``, ``event_endpoint``, ``localhost_callback_allowed``, ...).
    """

    issuer: str
    keys: Sequence[SigningKey]
    clock: Callable[[], float] = time.time
    allow_loopback: bool = False
    metadata_extra: Mapping[str, Any] = field(default_factory=dict)
    agent_token_lifetime: int = 3600

    def __post_init__(self) -> None:
        check_server_identifier(self.issuer, allow_loopback_http=self.allow_loopback)
        if not self.keys or any(not k.kid for k in self.keys):
            raise ValueError("an agent provider needs signing keys, each with a kid")
        if len({k.kid for k in self.keys}) != len(self.keys):
            raise ValueError("an agent provider's keys need distinct kids")
        reserved = {"issuer", "jwks_uri", "login_endpoint"} & set(self.metadata_extra)
        if reserved:  # -11 drops login_endpoint; issuer and jwks_uri are the provider's own
            raise ValueError(f"metadata_extra may not set {sorted(reserved)}")
        cap = MAX_LIFETIME_11[AAUTH_11.typ_agent]
        if not 0 < self.agent_token_lifetime <= cap:
            raise ValueError(f"agent_token_lifetime must be between 1 and {cap} seconds")

    # ------------------------------------------------------------------ identity

    @property
    def host(self) -> str:
        """The domain of this provider's agent identifiers (``host`` or ``127.0.0.1:PORT``)."""
        return self.issuer.split("://", 1)[1]

    @property
    def jwks_uri(self) -> str:
        return self.issuer + JWKS_PATH

    def agent_id(self, local_or_agent_id: str) -> str:
        """``aauth:<local>@<host>``, validated (-11 §5.2); an identifier given whole must name this host."""
        return str(self._agent(local_or_agent_id))

    def _agent(self, local_or_agent_id: str) -> AgentIdentifier:
        text = local_or_agent_id if local_or_agent_id.startswith("aauth:") else (
            f"aauth:{local_or_agent_id}@{self.host}")
        agent = parse_agent_identifier(text, allow_loopback_http=self.allow_loopback)
        if agent.domain != self.host:
            raise ValueError(f"agent identifiers of {self.issuer} end in @{self.host}")
        return agent

    # ------------------------------------------------------------------ documents

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-agent.json``."""
        return {"issuer": self.issuer, "jwks_uri": self.jwks_uri, **dict(self.metadata_extra)}

    def jwks(self) -> dict[str, Any]:
        """Every key, each naming its JOSE ``alg`` (-11 §11.3.1: ``alg`` on every JWK)."""
        doc = jwks_document(self.keys)
        for jwk, key in zip(doc["keys"], self.keys, strict=True):
            jwk["alg"] = jose_alg(key)
        return doc

    # ------------------------------------------------------------------ agent tokens

    def issue_agent_token(self, local_or_agent_id: str, cnf_jwk: Mapping[str, Any], *, ps: str | None = None,
                          lifetime: int | None = None) -> str:
        """An ``aa-agent+jwt`` for the agent holding ``cnf_jwk`` (public only).  ``ps``: the
        agent's person server (-11 §5.3: required when the agent has one).  A sub-agent
        (``parent+x``) gets ``parent_agent``."""
        agent = self._agent(local_or_agent_id)
        if ps is not None:
            check_server_identifier(ps, allow_loopback_http=self.allow_loopback)
        parent = agent.parent
        return mint_agent_token_11(
            self.keys[0], iss=self.issuer, sub=str(agent), cnf_jwk=cnf_jwk, now=self.clock(),
            lifetime=lifetime or self.agent_token_lifetime, ps=ps,
            parent_agent=str(parent) if parent is not None else None,
        )

    def token_source(self, local_or_agent_id: str, key: SigningKey, *, ps: str | None = None,
                     lifetime: int | None = None) -> AgentTokenSource:
        """The agent's token, re-issued before it runs out (what :meth:`agent_auth` presents)."""
        return AgentTokenSource(self, local_or_agent_id, key, ps=ps, lifetime=lifetime)

    def agent_signer(self, local_or_agent_id: str, key: SigningKey, *, ps: str | None = None,
                     lifetime: int | None = None, options: SignerOptions | None = None) -> RequestSigner:
        """Issue a token for ``key`` and return the agent's -11 ``scheme=jwt`` signer."""
        options = options or SignerOptions.aauth_11()
        if options.profile != "aauth-11":
            raise ValueError("an agent provider's signer signs under aauth-11")
        token = self.issue_agent_token(local_or_agent_id, key.public_jwk(), ps=ps, lifetime=lifetime)
        return RequestSigner.jwt(key, token, options=options)

    def agent_auth(self, local_or_agent_id: str, key: SigningKey, *, ps: str | None = None,
                   lifetime: int | None = None, **kwargs: Any) -> Any:
        """An ``httpx.Auth`` / ``httpx2.Auth`` for this agent under aauth-11 (see
        :func:`~aauth_core.client.auth.agent_auth_11`; keywords are passed on)."""
        from .auth import agent_auth_11

        source = self.token_source(local_or_agent_id, key, ps=ps, lifetime=lifetime)
        return agent_auth_11(source, key, **kwargs)

    # ------------------------------------------------------------------ serving

    def asgi_app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """A dependency-free ASGI app serving the metadata and the JWKS (``GET``/``HEAD``);
        404 elsewhere, 405 for other methods.  The documents are rendered on each request,
        so keys added to ``keys`` are published at once."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            if scope["type"] != "http":
                return
            documents = {METADATA_PATH: self.metadata, JWKS_PATH: self.jwks}
            render = documents.get(scope.get("path", ""))
            if render is None:
                status, body, extra = 404, b'{"error":"not_found"}', []
            elif scope.get("method") not in ("GET", "HEAD"):
                status, body, extra = 405, b'{"error":"method_not_allowed"}', [(b"allow", b"GET, HEAD")]
            else:
                status, extra = 200, [(b"cache-control", b"max-age=300")]
                body = json.dumps(render(), separators=(",", ":")).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       *extra]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

        return app
