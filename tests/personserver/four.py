"""The four-party additions to :mod:`.stack`: our access server (the Starlette app) at
``as.example`` and a resource governed by it (``access_server``) at ``gov.example``, on the
same in-process network; and an impostor access server that answers with a token of its
choosing, to show what the person server refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth_core.accessserver import AccessPolicy, AccessServer, AccessServerConfig
from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek
from aauth_core.tokens.mint_11 import jose_alg, mint_auth_token_11
from aauth_starlette import AAuthMiddleware
from aauth_starlette.accessserver import build_access_server_app

from .stack import PS, RESOURCE, Stack, data, resolver, whoami

AS = "https://as.example"
GOV = "https://gov.example"


@dataclass
class FourParty:
    stack: Stack
    access: AccessServer
    gov_key: SigningKey


def add_access_server(stack: Stack, *, policy: AccessPolicy | None = None,
                      resources: dict[str, tuple[str, ...]] | None = None) -> FourParty:
    """Our access server governing ``gov.example`` (and ``api.example``, for hand-made resource
    tokens), and the ``gov.example`` resource naming it as ``access_server``."""
    net, clock = stack.net, stack.clock
    config = AccessServerConfig(issuer=AS, keys=(SigningKey.generate(kid="as-1"),),
                                resources=resources if resources is not None else {GOV: ("data.read",),
                                                                                   RESOURCE: ("data.read",)})
    access = AccessServer(config, policy=policy, clock=clock, resolver=resolver, transport=net, async_transport=net)
    net.asgi("as.example", build_access_server_app(access))
    gov_key = SigningKey.generate(kid="gov-1")
    settings = AAuthSettings(resource_id=GOV, profiles=("aauth-11",), access_server=AS,
                             resource_scopes=("data.read",))
    discovery = Discovery(settings, transport=net, async_transport=net, clock=clock, resolver=resolver)
    net.asgi("gov.example", AAuthMiddleware(Starlette(routes=[Route("/data", data), Route("/whoami", whoami)]),
                                            settings=settings, keys=[gov_key], discovery=discovery, clock=clock))
    return FourParty(stack, access, gov_key)


def impostor(stack: Stack, claims: Callable[[dict[str, Any]], dict[str, Any]], *, host: str = "as.example",
             key: SigningKey | None = None, status: int = 200) -> SigningKey:
    """An access server at ``host`` whose ``POST /token`` answers an auth token minted from
    the resource token it was sent, then changed by ``claims`` (or ``status`` with a problem)."""
    as_key = SigningKey.generate(kid="as-1")
    issuer = f"https://{host}"
    signer = key or as_key

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": issuer, "jwks_uri": f"{issuer}/jwks.json",
                             "auth_token_endpoint": f"{issuer}/token"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [{**as_key.public_jwk(), "kid": "as-1", "alg": jose_alg(as_key)}]})

    async def token(request: Request) -> Response:
        if status != 200:
            return Response(json.dumps({"error": "server_error"}), status_code=status,
                            media_type="application/problem+json")
        body = json.loads(await request.body())
        rt = peek(body["resource_token"]).claims
        agent = peek(body["agent_token"]).claims
        args = claims({"iss": issuer, "aud": rt["iss"], "ps": PS, "sub": rt["sub"], "cnf_jwk": agent["cnf"]["jwk"],
                       "now": stack.clock(), "dwk": "aauth-access.json", "scope": rt.get("scope"),
                       "not_after": peek(body["presented_token"]).claims["exp"]})
        minted = mint_auth_token_11(signer, **args)
        return JSONResponse({"auth_token": minted, "expires_in": 3600})

    stack.net.asgi(host, Starlette(routes=[Route("/.well-known/aauth-access.json", metadata),
                                           Route("/jwks.json", jwks), Route("/token", token, methods=["POST"])]))
    return as_key
