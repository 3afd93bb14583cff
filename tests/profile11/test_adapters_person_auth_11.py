"""aauth-11 person and auth tokens through every adapter's real test client (issue 14).

Starlette (middleware + ``@aauth_required``), FastAPI (``Depends(RequireAAuth(...))``), Flask
(extension + decorator), Django (middleware + decorator, WSGI and ASGI) and DRF (permission),
each configured in its own spelling of the settings (``tests/profile11/adapters11.py``): the
-11 documents, a ``person`` route, an ``authorization`` route with its auth-token challenge,
step-up, and every refusal in -11's shape.  The routes report what their code saw.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from aauth_core.keys import PublicKey, SigningKey
from aauth_core.resource.service import DOCUMENT_CACHE_CONTROL
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import NOW, RESOURCE, World
from .adapters11 import AUTH_JTI, BUILDERS, PERSON_JTI, RULED, Result, Send, auth_token, person_token
from .mint import ACCESS, MISSION, PERSON_SUB, PS, agent_token, sign11
from .mint import BASE as COMPONENTS

ADAPTERS = list(BUILDERS)
LINK = f'<{RESOURCE}/.well-known/aauth-resource.json>; rel="aauth-resource"'


def app(world: World, name: str, **config: Any) -> Send:
    return BUILDERS[name](world, config)


def signed(send: Send, path: str, key: SigningKey, token: str, *, created: int = NOW, **kw: Any) -> Result:
    return send("GET", path, sign11("GET", RESOURCE + path, key, token, created=created, **kw))


def body_of(result: Result) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result[2])
    return parsed


def sig_refused(result: Result, code: str) -> dict[str, str]:
    """A -11 signature or token refusal: 401, ``Signature-Error``, problem+json with SK-09's
    ``type``, the metadata ``Link``, no January challenge, and the route never ran."""
    status, headers, _, ran = result
    body = body_of(result)
    assert (status, ran) == (401, False), (status, body)
    assert parse_signature_error(headers["signature-error"]).error == code, (headers, body)
    assert headers["content-type"].startswith("application/problem+json")
    assert body["error"] == code and body["type"] == f"urn:ietf:params:sig-error:{code}" and body["detail"]
    assert "agent-auth" not in headers and headers["link"] == LINK
    return headers


def requirement_refused(result: Result, requirement: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A verified request that does not meet the route: 401 ``AAuth-Requirement``, ``Link``, no
    ``Signature-*`` (the signature was good), the route never ran; the header and the body."""
    status, headers, _, ran = result
    assert (status, ran) == (401, False), (status, result[2])
    assert parse_requirement(headers["aauth-requirement"]).requirement == requirement
    assert headers["link"] == LINK and not any(h.startswith("signature-") for h in headers)
    assert headers["cache-control"] == "no-store"
    return headers, body_of(result)


def resource_token_claims(send: Send, header: str) -> dict[str, Any]:
    """The resource token of an ``auth-token`` requirement, its JWS checked with a key from the
    JWKS the same adapter serves (what a person server does with it)."""
    assert header.startswith('requirement=auth-token; resource-token="')
    token = parse_requirement(header).resource_token
    assert token is not None
    jws = peek(token)
    assert (jws.header["typ"], jws.header["alg"]) == ("aa-resource+jwt", "Ed25519")
    status, _, body, _ = send("GET", "/jwks.json", {})
    assert status == 200
    [jwk] = [k for k in json.loads(body)["keys"] if k["kid"] == jws.header["kid"]]
    verify_signature(token, jwk["alg"], PublicKey.from_jwk(jwk))
    return dict(jws.claims)


# ----------------------------------------------------------------------------- the documents


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_11_resource_document_and_jwks_in_every_adapter(world: World, name: str) -> None:
    send = app(world, name, default_requirement="person", additional_signature_components=("@query",))
    status, headers, body, _ = send("GET", "/.well-known/aauth-resource.json", {})
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers["cache-control"] == DOCUMENT_CACHE_CONTROL
    doc = json.loads(body)
    assert (doc["issuer"], doc["jwks_uri"], doc["access_mode"]) == (RESOURCE, f"{RESOURCE}/jwks.json", "person-token")
    assert doc["additional_signature_components"] == ["@query"] and doc["accept_signature_algs"] == ["Ed25519"]
    assert "login_endpoint" not in doc  # RS-02
    assert send("HEAD", "/.well-known/aauth-resource.json", {})[0] == 200

    status, headers, body, _ = send("GET", "/jwks.json", {})
    assert status == 200 and headers["cache-control"] == DOCUMENT_CACHE_CONTROL
    [jwk] = json.loads(body)["keys"]
    assert (jwk["kid"], jwk["alg"]) == ("resource-key-1", "Ed25519")
    assert PublicKey.from_jwk(jwk).thumbprint == world.resource.key.thumbprint
    assert send("GET", "/.well-known/aauth-resource", {})[0] == 200  # January's document is still served


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_january_only_resource_has_no_11_document(world: World, name: str) -> None:
    send = app(world, name, profiles=("aauth-2026-01",), person_servers=())
    assert send("GET", "/.well-known/aauth-resource.json", {})[0] == 404
    status, _, body, _ = send("GET", "/jwks.json", {})
    assert status == 200 and all("alg" not in k for k in json.loads(body)["keys"])


# ----------------------------------------------------------------------------- person routes


@pytest.mark.parametrize("path", ["/person", RULED])
@pytest.mark.parametrize("name", ADAPTERS)
def test_a_person_token_opens_a_person_route(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                            name: str, path: str) -> None:
    result = signed(app(world, name), path, agent_key, person_token(ps_key, agent_key))
    assert result[0] == 200 and result[3], result[2]
    ctx = body_of(result)
    assert (ctx["profile"], ctx["level"], ctx["token_type"]) == ("aauth-11", "person", "aa-person+jwt")
    assert ctx["person"] == [PS, PERSON_SUB] and ctx["sub"] == PERSON_SUB and ctx["issuer"] == PS
    assert (ctx["mission_s256"], ctx["tenant"]) == (MISSION, "acme")
    assert ctx["agent"] is None and ctx["scope"] == [] and ctx["key"] == agent_key.thumbprint


@pytest.mark.parametrize("path", ["/person", RULED])
@pytest.mark.parametrize("name", ADAPTERS)
def test_a_person_route_asks_for_a_person_token(world: World, ap_key: SigningKey, agent_key: SigningKey,
                                                name: str, path: str) -> None:
    """RS-11: unsigned, and an agent token alone: ``requirement=person-token``, no parameters."""
    send = app(world, name)
    status, headers, _, ran = result = send("GET", path, {})
    assert (status, ran) == (401, False)
    assert headers["aauth-requirement"] == "requirement=person-token" and headers["link"] == LINK
    assert headers["content-type"].startswith("application/problem+json") and "agent-auth" not in headers
    assert body_of(result)["error"] == "person_token_required"

    headers, body = requirement_refused(signed(send, path, agent_key, agent_token(ap_key, agent_key)),
                                        "person-token")
    assert headers["aauth-requirement"] == "requirement=person-token" and body["error"] == "person_token_required"


# ----------------------------------------------------------------------------- authorization routes


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_person_token_at_an_authorization_route_gets_an_auth_token_challenge(
        world: World, ps_key: SigningKey, agent_key: SigningKey, name: str) -> None:
    send = app(world, name)
    headers, body = requirement_refused(signed(send, "/authorization", agent_key, person_token(ps_key, agent_key)),
                                        "auth-token")
    assert headers["content-type"].startswith("application/problem+json") and "agent-auth" not in headers
    assert body["error"] == "authorization_required"
    claims = resource_token_claims(send, headers["aauth-requirement"])
    assert (claims["iss"], claims["aud"], claims["ps"], claims["sub"]) == (RESOURCE, PS, PS, PERSON_SUB)
    assert (claims["presented_jti"], claims["agent_jkt"]) == (PERSON_JTI, agent_key.thumbprint)
    assert (claims["scope"], claims["mission_s256"], claims["tenant"]) == ("data.read", MISSION, "acme")
    assert claims["iat"] == NOW and claims["exp"] - claims["iat"] <= 300


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_auth_token_opens_the_authorization_route(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                                     name: str) -> None:
    result = signed(app(world, name), "/authorization", agent_key, auth_token(ps_key, agent_key))
    assert result[0] == 200 and result[3], result[2]
    ctx = body_of(result)
    assert (ctx["level"], ctx["token_type"], ctx["scope"]) == ("authorization", "aa-auth+jwt", ["data.read"])
    assert ctx["person"] == [PS, PERSON_SUB] and ctx["mission_s256"] == MISSION and ctx["agent"] is None
    if name == "starlette":  # Starlette's own request.auth carries the granted scopes
        assert ctx["credentials"] == ["authenticated", "data.read"]


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_auth_token_also_opens_a_person_route(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                                 name: str) -> None:
    result = signed(app(world, name), "/person", agent_key, auth_token(ps_key, agent_key))
    assert result[0] == 200 and body_of(result)["person"] == [PS, PERSON_SUB]


@pytest.mark.parametrize("name", ADAPTERS)
def test_step_up_mints_from_the_auth_token(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                           name: str) -> None:
    """RS-34: the auth token lacks ``data.write``; the new resource token asks for the union."""
    send = app(world, name)
    headers, body = requirement_refused(signed(send, "/write", agent_key, auth_token(ps_key, agent_key)),
                                        "auth-token")
    assert body["error"] == "insufficient_scope" and "data.write" in body["detail"]
    claims = resource_token_claims(send, headers["aauth-requirement"])
    assert (claims["presented_jti"], claims["scope"], claims["aud"]) == (AUTH_JTI, "data.read data.write", PS)


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_unsigned_request_at_an_authorization_route_is_asked_for_a_person_token(world: World,
                                                                                  name: str) -> None:
    """Dual-stack: January's identity challenge stays beside -11's ``requirement=person-token``."""
    status, headers, _, ran = app(world, name)("GET", "/authorization", {})
    assert (status, ran) == (401, False)
    assert headers["aauth-requirement"] == "requirement=person-token" and headers["link"] == LINK
    assert "agent-auth" in headers


# ----------------------------------------------------------------------------- refusals in -11's shape


@pytest.mark.parametrize(("case", "code"), [
    ("expired person token", "expired_jwt"),
    ("person token for another resource", "invalid_jwt"),
    ("signed by a key other than cnf", "invalid_signature"),
    ("created in the future", "clock_skew"),
    ("auth token from an unlisted server", "invalid_jwt"),
])
@pytest.mark.parametrize("name", ADAPTERS)
def test_refusals_carry_signature_error_and_problem_json(world: World, ps_key: SigningKey, as_key: SigningKey,
                                                         agent_key: SigningKey, name: str, case: str,
                                                         code: str) -> None:
    send, key, created = app(world, name), agent_key, NOW
    token = person_token(ps_key, agent_key)
    if case == "expired person token":
        token = person_token(ps_key, agent_key, now=NOW - 3600, lifetime=3599)
    elif case == "person token for another resource":
        token = person_token(ps_key, agent_key, aud="https://other.example")
    elif case == "signed by a key other than cnf":
        key = SigningKey.generate()
    elif case == "created in the future":
        created = NOW + 3600
    else:
        token = auth_token(as_key, agent_key, iss=ACCESS, dwk="aauth-access.json")
    path = "/authorization" if case.startswith("auth token") else "/person"
    sig_refused(signed(send, path, key, token, created=created), code)


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_tampered_request_is_refused_before_any_route_runs(world: World, ps_key: SigningKey,
                                                             agent_key: SigningKey, name: str) -> None:
    headers = sign11("GET", RESOURCE + "/person", agent_key, person_token(ps_key, agent_key))
    sig_refused(app(world, name)("GET", "/authorization", headers), "invalid_signature")  # @path differs


# ----------------------------------------------------------------------------- settings, each framework's spelling


@pytest.mark.parametrize("name", ADAPTERS)
def test_person_servers_limit_whose_person_tokens_are_accepted(world: World, ps_key: SigningKey,
                                                               agent_key: SigningKey, name: str) -> None:
    send = app(world, name, person_servers=("https://other-ps.example",))
    sig_refused(signed(send, "/person", agent_key, person_token(ps_key, agent_key)), "invalid_jwt")
    open_send = app(world, name, person_servers=())  # none listed: person tokens from any person server
    assert signed(open_send, "/person", agent_key, person_token(ps_key, agent_key))[0] == 200
    # ... but no resource token is minted for a person server whose auth tokens would be refused
    status, headers, body, ran = signed(open_send, "/authorization", agent_key, person_token(ps_key, agent_key),
                                        created=NOW + 1)
    assert (status, ran, json.loads(body)["error"]) == (403, False, "untrusted_person_server")
    assert "aauth-requirement" not in headers


@pytest.mark.parametrize("name", ADAPTERS)
def test_access_server_makes_the_resource_four_party(world: World, ps_key: SigningKey, as_key: SigningKey,
                                                     agent_key: SigningKey, name: str) -> None:
    send = app(world, name, person_servers=(), access_server=ACCESS)
    headers, _ = requirement_refused(signed(send, "/authorization", agent_key, person_token(ps_key, agent_key)),
                                     "auth-token")
    claims = resource_token_claims(send, headers["aauth-requirement"])
    assert (claims["aud"], claims["ps"]) == (ACCESS, PS)  # RS-31: our own AS; the person stays the PS's
    token = auth_token(as_key, agent_key, iss=ACCESS, dwk="aauth-access.json")
    result = signed(send, "/authorization", agent_key, token, created=NOW + 1)
    assert result[0] == 200 and body_of(result)["issuer"] == ACCESS and body_of(result)["person"] == [PS, PERSON_SUB]


@pytest.mark.parametrize("name", ADAPTERS)
def test_additional_signature_components_are_required(world: World, ps_key: SigningKey, agent_key: SigningKey,
                                                      name: str) -> None:
    send = app(world, name, additional_signature_components=("@query",))
    token = person_token(ps_key, agent_key)
    url = RESOURCE + "/person?page=2"
    headers = sig_refused(send("GET", "/person?page=2", sign11("GET", url, agent_key, token)), "invalid_input")
    assert parse_signature_error(headers["signature-error"]).required_input == (*COMPONENTS, "@query")
    covered = sign11("GET", url, agent_key, token, components=(*COMPONENTS, "@query"), created=NOW + 1)
    assert send("GET", "/person?page=2", covered)[0] == 200


# ----------------------------------------------------------------------------- an MCP tool demanding a person


class Context:  # what the MCP SDKs call a tool's context; aauth_starlette.mcp finds the request behind it
    def __init__(self, request: Any) -> None:
        self.request_context = SimpleNamespace(request=request)


def test_an_mcp_tool_demanding_a_person(world: World, ps_key: SigningKey, ap_key: SigningKey,
                                        agent_key: SigningKey) -> None:
    """``require_aauth(ctx, "person")`` names what the tool needs in its refusal, and lets a
    person token through (the tool sees the person)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from aauth_core.settings import AAuthSettings
    from aauth_starlette import AAuthMiddleware
    from aauth_starlette.mcp import AAuthToolError, require_aauth

    async def tool(request: Request) -> JSONResponse:
        try:
            ctx = require_aauth(Context(request), "person")
        except AAuthToolError as refusal:
            return JSONResponse({"refused": str(refusal), "code": refusal.code})
        return JSONResponse({"person": list(ctx.person or ())})

    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-2026-01", "aauth-11"), person_servers=(PS,))
    client = TestClient(AAuthMiddleware(Starlette(routes=[Route("/mcp", tool)]), settings=settings,
                                        keys=[world.resource.key], discovery=world.discovery(settings),
                                        clock=world.clock), base_url=RESOURCE)
    answer = client.get("/mcp").json()
    assert answer["code"] == "person_token_required" and answer["refused"].endswith("; this tool needs a person token")
    agent = client.get("/mcp", headers=sign11("GET", RESOURCE + "/mcp", agent_key, agent_token(ap_key, agent_key)))
    assert agent.json()["code"] == "person_token_required"
    person = sign11("GET", RESOURCE + "/mcp", agent_key, person_token(ps_key, agent_key), created=NOW + 1)
    assert client.get("/mcp", headers=person).json() == {"person": [PS, PERSON_SUB]}
