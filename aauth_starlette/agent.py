"""An agent identity's public documents as an ASGI app: ``/.well-known/aauth-agent`` and its JWKS.

What resources and auth servers fetch to verify a ``scheme=jwks`` signature.  Mount it
at the root of the agent identifier's origin."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.client import AgentServer
from aauth_core.service import DOCUMENT_CACHE_CONTROL

__all__ = ["build_agent_app"]


def build_agent_app(agent: AgentServer) -> Starlette:
    headers = {"Cache-Control": DOCUMENT_CACHE_CONTROL}

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(agent.metadata(), headers=headers)

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(agent.jwks(), headers=headers)

    return Starlette(routes=[Route(agent.metadata_path, metadata), Route("/jwks.json", jwks)])
