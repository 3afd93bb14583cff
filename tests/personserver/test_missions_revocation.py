"""Missions in their minimal form, and revocation by ``jti`` reaching our resource."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx

from aauth_core.keys import SigningKey
from aauth_core.personserver import mission_s256
from aauth_core.tokens import peek
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from ..profile11.mint import sign11
from .raw import get, person_request, post
from .stack import RESOURCE, Stack, approve
from .test_token_endpoint import person_token, resource_token


def approved_mission(stack: Stack, key: SigningKey | None = None) -> dict[str, str]:
    reply = post(stack, "/mission", {"description": "# Plan trip", "resources": [RESOURCE]}, key=key)
    assert reply.status_code == 202, reply.text
    requirement = parse_requirement(reply.headers["aauth-requirement"])
    assert approve(stack.browser(), f"{requirement.url}?code={requirement.code}").status_code == 200
    done = get(stack, reply.headers["location"], key=key)
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_a_mission_the_user_approves(open_stack: Stack) -> None:
    mission = approved_mission(open_stack)
    blob = base64.urlsafe_b64decode(mission["mission"] + "=" * (-len(mission["mission"]) % 4))
    expected = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
    assert mission["s256"] == expected == mission_s256(blob)
    assert json.loads(blob)["description"] == "# Plan trip"
    assert json.loads(blob)["agent"] == "aauth:assistant@ap.example"


def test_person_tokens_carry_an_approved_mission(open_stack: Stack) -> None:
    s256 = approved_mission(open_stack)["s256"]
    reply = person_request(open_stack, {"resource": RESOURCE, "mission_s256": s256})
    assert reply.status_code == 200 and peek(reply.json()["person_token"]).claims["mission_s256"] == s256
    with open_stack.client(open_stack.auth(mission_s256=s256)) as client:
        data = client.get(f"{RESOURCE}/data")
    assert data.status_code == 200 and data.json()["mission"] == s256


def test_an_unknown_or_foreign_mission_is_not_found(open_stack: Stack) -> None:
    other = SigningKey.generate()
    s256 = approved_mission(open_stack, key=other)  # same agent id, other key: still this agent's mission
    assert person_request(open_stack, {"resource": RESOURCE, "mission_s256": s256["s256"]}).status_code == 200
    foreign = open_stack.agent_token(local="planner")
    for value, token in (("x" * 43, None), (s256["s256"], foreign)):
        reply = person_request(open_stack, {"resource": RESOURCE, "mission_s256": value}, token=token)
        assert reply.status_code == 404 and reply.json()["error"] == "mission_not_found"
        assert "person_token" not in reply.text


def test_revocation_reaches_our_resource(open_stack: Stack) -> None:
    stack = open_stack
    pt = person_token(stack)
    reply = post(stack, "/token", {"resource_token": resource_token(stack, pt), "presented_token": pt})
    auth_token = reply.json()["auth_token"]
    client = httpx.Client(transport=stack.net)

    def call() -> httpx.Response:
        headers = sign11("GET", f"{RESOURCE}/data", stack.agent_key, auth_token, created=int(stack.clock()))
        return client.get(f"{RESOURCE}/data", headers=headers)

    assert call().status_code == 200
    assert stack.ps.revoke(peek(auth_token).claims["jti"]) is True
    posted = [u for m, u in stack.net.seen if m == "POST" and u.startswith(RESOURCE)]
    assert posted == [f"{RESOURCE}/aauth/revoke"]
    stack.clock.advance(1)
    refused = call()
    assert refused.status_code == 401
    assert parse_signature_error(refused.headers["signature-error"]).error == "revoked_jwt"


def test_revoking_an_unknown_jti(open_stack: Stack) -> None:
    import pytest

    from aauth_core.personserver import PersonServerError

    with pytest.raises(PersonServerError) as caught:
        open_stack.ps.revoke("never-issued")
    assert caught.value.code == "not_found"


def test_a_revocation_is_never_sent_off_the_resources_origin(open_stack: Stack) -> None:
    """The signed revocation goes to the resource itself: a ``revocation_endpoint`` its metadata
    names on another origin is not called (the transport records every host asked for)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    stack = open_stack
    real = stack.net.clients["api.example"]

    async def metadata(request: Request) -> JSONResponse:
        doc = real.get(f"{RESOURCE}/.well-known/aauth-resource.json").json()
        return JSONResponse({**doc, "revocation_endpoint": "https://collector.example/aauth/revoke"})

    async def passthrough(request: Request) -> Response:
        answer = real.request(request.method, str(request.url), headers=request.headers.items(),
                              content=await request.body())
        return Response(answer.content, status_code=answer.status_code, headers=dict(answer.headers))

    stack.net.asgi("api.example", Starlette(routes=[Route("/.well-known/aauth-resource.json", metadata),
                                                    Route("/{path:path}", passthrough, methods=["GET", "POST"])]))
    stack.net.asgi("collector.example", Starlette())
    pt = person_token(stack)
    reply = post(stack, "/token", {"resource_token": resource_token(stack, pt), "presented_token": pt})
    jti = peek(reply.json()["auth_token"]).claims["jti"]
    assert stack.ps.revoke(jti) is False
    assert not [u for _, u in stack.net.seen if "collector.example" in u]
