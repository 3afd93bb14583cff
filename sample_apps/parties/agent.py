"""Agent 1: the agent server (publishes its identity; mints agent tokens for delegates)."""

from __future__ import annotations

import html
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from aauth_core.client import AgentServer
from aauth_core.errors import AAuthError
from aauth_core.keys import PublicKey

from ..config import PartyConfig

__all__ = ["agent_app"]


def agent_app(config: PartyConfig) -> Starlette:
    server = AgentServer(config.id, [config.key], metadata_extra={
        "name": "Sample Agent", "redirect_uris": [f"{config.id}/callback"],
    })

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(server.metadata())

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(server.jwks())

    async def delegate_token(request: Request) -> JSONResponse:
        """Demo-specific (B §1.2 flow 6): how a delegate gets its agent token is out of the
        protocol's scope; this sample hands one to whoever asks on loopback."""
        try:
            body: Any = await request.json()
            sub, cnf_jwk = body["sub"], body["cnf_jwk"]
            if not isinstance(sub, str) or not sub:
                raise ValueError("sub")
            PublicKey.from_jwk(cnf_jwk)
        except (ValueError, KeyError, TypeError, AAuthError):
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "send {\"sub\": str, \"cnf_jwk\": public JWK}"}, 400)
        public = {k: v for k, v in cnf_jwk.items() if k in ("kty", "crv", "x", "y", "kid")}
        return JSONResponse({"agent_token": server.issue_agent_token(sub, public),
                             "expires_in": server.agent_token_lifetime})

    async def callback(request: Request) -> HTMLResponse:
        """Where the auth server sends the user back after consent (redirect_uri)."""
        code = request.query_params.get("code")
        error = request.query_params.get("error")
        text = f"Authorization code received: {code}" if code else f"Authorization refused: {error}"
        return HTMLResponse(f"<!doctype html><title>Agent callback</title><p>{html.escape(text)}</p>")

    return Starlette(routes=[
        Route("/.well-known/aauth-agent", metadata),
        Route("/jwks.json", jwks),
        Route("/delegate/token", delegate_token, methods=["POST"]),
        Route("/callback", callback),
    ])
