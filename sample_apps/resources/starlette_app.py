"""A sample resource in Starlette (served by uvicorn)."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth_starlette import AAuthMiddleware, aauth_required

from ..config import PartyConfig
from ..printer import Printer
from . import aauth11, payloads
from .common import aaggregate, resource_agent, resource_service

__all__ = ["starlette_resource"]


def _json(body: object, status: int = 200) -> Response:
    # Compact separators: the transcript's bodies, byte for byte.
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json")


def starlette_resource(config: PartyConfig, printer: Printer) -> Starlette:
    agent = resource_agent(config)

    @aauth_required("signature")
    async def data(request: Request) -> Response:
        return _json(payloads.data(request.scope["aauth"], request.method))

    @aauth_required("identity")
    async def data_jwks(request: Request) -> Response:
        return _json(payloads.data_jwks(request.scope["aauth"], request.method))

    @aauth_required("authorization")
    async def data_auth(request: Request) -> Response:
        return _json(payloads.data_auth(request.scope["aauth"], request.method))

    @aauth_required("authorization")
    async def aggregate(request: Request) -> Response:
        if config.downstream is None:
            return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
        status, body = await aaggregate(config, agent, request.scope["aauth"], printer)
        return _json(body, status)

    chain_agent = aauth11.ChainAgent(config)

    @aauth_required(aauth11.REQUIREMENT)
    async def records(request: Request) -> Response:
        return _json(aauth11.records(request.scope["aauth"], config.id))

    @aauth_required(aauth11.REQUIREMENT)
    async def chain(request: Request) -> Response:
        if config.downstream is None:
            return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
        status, body = await chain_agent.acall(request.scope["aauth"], printer)
        return _json(body, status)

    async def agent_metadata(request: Request) -> Response:
        return JSONResponse(chain_agent.metadata())

    async def agent_jwks(request: Request) -> Response:
        return JSONResponse(chain_agent.jwks())

    app = Starlette(routes=[
        Route("/data", data, methods=["GET", "POST"]),
        Route("/data-jwks", data_jwks, methods=["GET", "POST"]),
        Route("/data-auth", data_auth, methods=["GET", "POST"]),
        Route("/aggregate", aggregate),
        Route("/records", records, methods=["GET", "POST"]),  # aauth-11 (the -11 demos)
        Route("/chain", chain),
        Route("/.well-known/aauth-agent.json", agent_metadata),  # this resource as its own agent provider
        Route("/.well-known/jwks.json", agent_jwks),
    ])
    return AAuthMiddleware(app, service=resource_service(config))  # type: ignore[return-value]
