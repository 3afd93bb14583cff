"""The resource the multi-worker test runs as separate uvicorn processes.

``uvicorn tests.redis.app:create_app --factory``; configured by environment:
``AAUTH_TEST_CACHE_URL`` (the shared ``cache_url``) and ``AAUTH_TEST_WORKER`` (a
name echoed back, so the test can tell which process answered).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware, get_aauth

RESOURCE_ID = "https://api.example"


async def data(request: Request) -> JSONResponse:
    ctx = get_aauth(request)
    assert ctx is not None  # the path rule demands a signature
    body = await request.body()
    return JSONResponse({"worker": os.environ.get("AAUTH_TEST_WORKER", "?"), "scheme": ctx.scheme,
                         "body_length": len(body)})


def create_app() -> AAuthMiddleware:
    settings = AAuthSettings(
        resource_id=RESOURCE_ID,
        cache_url=os.environ["AAUTH_TEST_CACHE_URL"],
        protected_paths={"/data": "signature"},
    )
    keys = [SigningKey.generate(kid="worker-key-1")]
    app = Starlette(routes=[Route("/data", data, methods=["GET", "POST"])])
    return AAuthMiddleware(app, settings=settings, keys=keys)
