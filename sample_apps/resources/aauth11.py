"""What the sample resources serve under aauth-11 (the demos ``three-party``, ``four-party``
and ``call-chaining``), whatever their framework.

``/records`` answers with what the route saw of the verified request: the person
``(ps, sub)``, the token's type and issuer, its scope, and the names of its claims (never the
token).  ``/chain`` is the intermediary of call chaining: the resource calls its
``--downstream`` as an agent of its own (RS-70: it is its own agent provider, publishing
``aauth-agent.json`` on its own origin), presenting the token it was called with as
``upstream_token`` to the person server that token names (RS-72, RS-73).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from aauth_core.client import AgentProvider, ClientOptions
from aauth_core.context import VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek

from ..config import PartyConfig
from ..printer import Printer
from ..printer11 import jwts_in

__all__ = ["REQUIREMENT", "ChainAgent", "records"]

#: The requirement of ``/records`` and ``/chain``: an auth token granting ``data.read``.
REQUIREMENT = "authorization:data.read"
#: This resource's agent name at its own agent provider (``aauth:resource@127.0.0.1:PORT``).
LOCAL_AGENT = "resource"


def records(ctx: VerifiedRequest, resource: str) -> dict[str, Any]:
    """``/records``: what the route saw (the person, the token's issuer, scope and claim names)."""
    return {"message": "Access granted", "resource": resource, "profile": ctx.profile,
            "token_type": ctx.token_type, "issuer": ctx.issuer,
            "person": list(ctx.person) if ctx.person else None, "scope": sorted(ctx.scope),
            "agent": ctx.agent, "act": [a.agent for a in ctx.act] or None, "token_claims": sorted(ctx.claims)}


class ChainAgent:
    """This resource as an agent: its own agent provider (a fresh key per process, published on
    its origin) and its own agent key."""

    def __init__(self, config: PartyConfig) -> None:
        self.config = config
        self.provider = AgentProvider(config.id, [SigningKey.generate(kid="rs-provider-1")], allow_loopback=True)
        self.key = SigningKey.generate(kid="rs-agent-1")

    def metadata(self) -> dict[str, Any]:
        return self.provider.metadata()

    def jwks(self) -> dict[str, Any]:
        return self.provider.jwks()

    def _auth(self, ctx: VerifiedRequest) -> Any:
        upstream = ctx.token
        if upstream is None:
            raise AAuthError("no token on the upstream request", code="invalid_request")
        claims = peek(upstream).claims
        # The person server the upstream token names: an auth token's ps, a person token's iss.
        ps = str(claims.get("ps") or claims.get("iss"))
        return self.provider.agent_auth(LOCAL_AGENT, self.key, ps=ps, upstream_token=upstream,
                                        options=ClientOptions(allow_insecure_loopback=True))

    def call(self, ctx: VerifiedRequest, printer: Printer) -> tuple[int, dict[str, Any]]:
        """Call ``--downstream`` for ``ctx`` (sync frameworks)."""
        assert self.config.downstream is not None
        seen = _Seen()
        hooks = printer.hooks(f"{self.config.label} (as agent)") if self.config.debug else {"response": []}
        hooks = {**hooks, "response": [*hooks["response"], seen.record]}
        try:
            with self._auth(ctx).client(event_hooks=hooks, timeout=30.0, trust_env=False) as client:
                response = client.get(self.config.downstream)
        except AAuthError as exc:
            return self._refused(ctx, exc, seen)
        return self._body(ctx, response, seen)

    async def acall(self, ctx: VerifiedRequest, printer: Printer) -> tuple[int, dict[str, Any]]:
        """Call ``--downstream`` for ``ctx`` (async frameworks)."""
        assert self.config.downstream is not None
        seen = _Seen()
        hooks = printer.async_hooks(f"{self.config.label} (as agent)") if self.config.debug else {"response": []}
        hooks = {**hooks, "response": [*hooks["response"], seen.arecord]}
        try:
            async with self._auth(ctx).async_client(event_hooks=hooks, timeout=30.0, trust_env=False) as client:
                response = await client.get(self.config.downstream)
        except AAuthError as exc:
            return self._refused(ctx, exc, seen)
        return self._body(ctx, response, seen)

    def _refused(self, ctx: VerifiedRequest, exc: AAuthError, seen: _Seen) -> tuple[int, dict[str, Any]]:
        """The person server (or the downstream resource) refused: say who and why, plainly."""
        return 502, {"message": "The downstream call was refused", "resource": self.config.id,
                     "upstream": records(ctx, self.config.id), "error": exc.code, "error_description": str(exc),
                     "exchanges": seen.exchanges}

    def _body(self, ctx: VerifiedRequest, response: httpx.Response, seen: _Seen) -> tuple[int, dict[str, Any]]:
        try:
            downstream: Any = response.json()
        except ValueError:
            downstream = response.text
        presented = jwts_in(response.request.headers.get("signature-key", ""))
        return (200 if response.status_code == 200 else 502), {
            "message": "Aggregated response", "resource": self.config.id,
            "upstream": records(ctx, self.config.id),
            "upstream_token": _claims(ctx.token),
            "downstream_status": response.status_code, "downstream": downstream,
            "downstream_token": _claims(presented[0]) if presented else None,
            "tokens": seen.tokens, "exchanges": seen.exchanges,
        }


class _Seen:
    """What this resource saw as an agent: each exchange (method, URL, status, the body's
    member names) and each token's claims, first of its type (never the token itself)."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []
        self.tokens: dict[str, dict[str, Any] | None] = {}

    def record(self, response: httpx.Response) -> None:
        request = response.request
        try:
            body: Any = json.loads(request.content) if request.content else {}
        except ValueError:
            body = {}
        self.exchanges.append({"method": request.method, "url": str(request.url), "status": response.status_code,
                               "members": sorted(body) if isinstance(body, dict) else []})
        response.read()
        texts = [*request.headers.values(), request.content.decode("utf-8", "replace"),
                 *response.headers.values(), response.text]
        for token in (t for text in texts for t in jwts_in(text)):
            typ = str(peek(token).header.get("typ"))
            self.tokens.setdefault(typ, _claims(token))

    async def arecord(self, response: httpx.Response) -> None:
        await response.aread()
        self.record(response)


def _claims(token: str | None) -> dict[str, Any] | None:
    """A token's claims for the demo's report (decoded, never the token itself)."""
    if token is None:
        return None
    return {k: _plain(v) for k, v in peek(token).claims.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value
