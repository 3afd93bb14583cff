"""The agent against the library's own -11 resource (``AAuthService`` with ``person_servers``):
agent-token, person-token and auth-token routes, every token verified by the real verifier."""

from __future__ import annotations

import json
from typing import Any

from aauth_core.context import Requirement
from aauth_core.errors import AAuthError
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings

from .conftest import AGENT_ID, Net11
from .parties import PS, RESOURCE, Reply, json_reply

ROUTES = {"/agent": Requirement("identity"), "/data": Requirement("authorization", frozenset({"data.read"}))}


def real_resource(net: Net11) -> AAuthService:
    """Publishes the person server's documents for the resource's discovery and returns its service."""
    net.world.network.publish(f"{PS}/.well-known/aauth-person.json", net.ps.metadata)
    net.world.network.publish(net.ps.metadata["jwks_uri"], {"keys": [{**net.ps.key.public_jwk(), "alg": "Ed25519"}]})
    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-11",), person_servers=(PS,),
                             resource_scopes=("data.read",))
    return AAuthService(settings, keys=[net.resource.key], discovery=net.world.discovery(settings),
                        clock=net.world.clock)


def handler(service: AAuthService) -> Any:
    def handle(request: Any) -> Reply:
        document = service.document(request.url.path)  # aauth-resource.json, the JWKS
        if document is not None:
            return 200, {"Content-Type": "application/json"}, document
        view = service.view(method=request.method, path=request.url.path, query=request.url.query.decode() or None,
                            headers=list(request.headers.multi_items()), body=request.content or None)
        try:
            verified = service.require(service.verify(view), ROUTES[request.url.path])
        except AAuthError as exc:
            rendered = service.error_response(exc)
            return rendered.status, dict(rendered.headers), rendered.body
        return json_reply(200, {"agent": verified.agent, "sub": verified.sub, "token": verified.token_type,
                                "scope": sorted(verified.scope or ())})

    return handle


def test_against_the_library_resource(net: Net11, mode: str) -> None:
    net.router.routes[RESOURCE] = handler(real_resource(net))
    auth = net.auth()
    agent, data, again = net.send(auth, [("GET", RESOURCE + "/agent", {}), ("GET", RESOURCE + "/data", {}),
                                         ("GET", RESOURCE + "/data?page=2", {})], mode=mode)
    assert agent.status_code == 200 and agent.json()["agent"] == AGENT_ID
    assert data.status_code == 200, data.text
    assert data.json() == {"agent": None, "sub": "person-api", "token": "aa-auth+jwt", "scope": ["data.read"]}
    assert again.status_code == 200 and [c[0] for c in net.ps.calls] == ["/person", "/token"]
    challenges = [s for s in net.router.to(RESOURCE + "/data")]
    assert [s.typ for s in challenges] == ["aa-agent+jwt", "aa-person+jwt", "aa-auth+jwt", "aa-auth+jwt"]
    assert json.loads(net.router.to(PS + "/person")[0].body) == {"resource": RESOURCE}
    assert net.router.to(RESOURCE + "/.well-known/aauth-resource.json")  # its issuer was checked
