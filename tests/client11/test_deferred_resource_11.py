"""Our -11 client against our own resource with deferred delivery (RS-36): the resource holds
the call (202 + pending URL), the client obtains the auth token from the person server and
polls; the held call runs once and its answer is what the caller gets.  The resource is the
real Starlette middleware, reached through a Starlette test client inside the router."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from aauth_core.settings import AAuthSettings
from aauth_starlette import AAuthMiddleware, aauth_required, get_aauth

from .conftest import Net11
from .parties import PS, RESOURCE, Reply


def deferred_resource(net: Net11, ran: list[str]) -> Any:
    net.world.network.publish(f"{PS}/.well-known/aauth-person.json", net.ps.metadata)
    net.world.network.publish(net.ps.metadata["jwks_uri"], {"keys": [{**net.ps.key.public_jwk(), "alg": "Ed25519"}]})

    @aauth_required("authorization", scopes=["data.read"])
    async def data(request: Request) -> JSONResponse:
        ran.append(request.url.path)
        ctx = get_aauth(request)
        return JSONResponse({"sub": ctx.sub, "scope": sorted(ctx.scope), "token": ctx.token_type})

    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), person_servers=(PS,),
                             resource_scopes=("data.read",), deferred_delivery=True)
    app = AAuthMiddleware(Starlette(routes=[Route("/data", data)]), settings=settings, keys=[net.resource.key],
                          discovery=net.world.discovery(settings), clock=net.world.clock)
    client = TestClient(app, base_url=RESOURCE)

    def handle(request: Any) -> Reply:
        r = client.request(request.method, request.url.raw_path.decode(), headers=dict(request.headers),
                           content=request.content)
        return r.status_code, dict(r.headers), r.content

    return handle


def test_the_client_follows_a_held_call_to_its_answer(net: Net11, mode: str) -> None:
    ran: list[str] = []
    net.router.routes[RESOURCE] = deferred_resource(net, ran)
    response = net.get(net.auth(), mode=mode)
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "person-api", "scope": ["data.read"], "token": "aa-auth+jwt"}
    assert ran == ["/data"]  # the held call ran once, on the poll
    pending = [s for s in net.router.to(RESOURCE + "/aauth/pending/")]
    assert pending and all(s.method == "GET" and s.typ == "aa-auth+jwt" for s in pending)
    assert [c[0] for c in net.ps.calls] == ["/person", "/token"]
