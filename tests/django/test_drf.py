"""Django REST framework: authentication, permissions, challenges, request.data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aauth_core.keys import SigningKey
from aauth_core.tokens import mint_agent_token
from aauth_django.drf import AAuthUser, RequiresAAuth

from ..conftest import AGENT, NOW, World
from ..scenarios import AUTH_CHALLENGE, IDENTITY_CHALLENGE, _jwt, _sign
from .clients import RawPathAsyncClient, asend, send

pytestmark = pytest.mark.urls("tests.django.urls_drf")


@pytest.fixture(params=["middleware", "no-middleware"])
def mw(request: pytest.FixtureRequest, settings: Any) -> str:
    if request.param == "no-middleware":
        settings.MIDDLEWARE = []
    return str(request.param)


def test_request_data_json_after_verification(world: World, client: Client, mw: str) -> None:
    response = send(client, _sign(world, "POST", "/echo", body=b'{"a": 1}'))
    assert response.status_code == 200, response.content
    assert response.json() == {"data": {"a": 1}, "user": AGENT, "agent": AGENT}


def test_request_data_form_after_verification(world: World, client: Client, mw: str) -> None:
    req = _sign(world, "POST", "/echo", body=b"a=1&b=caf%C3%A9",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = send(client, req)
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"a": "1", "b": "café"}


async def test_request_data_under_asgi(world: World) -> None:
    response = await asend(RawPathAsyncClient(), _sign(world, "POST", "/echo", body=b'{"a": 1}'))
    assert response.status_code == 200 and response.json()["data"] == {"a": 1}


def test_invalid_signature_is_answered_with_the_challenge(world: World, client: Client, mw: str) -> None:
    req = _sign(world, "POST", "/echo", body=b'{"a": 1}')
    req.body = b'{"a": 2}'
    response = send(client, req)
    assert response.status_code == 401
    assert response.json() == {"error": "digest_mismatch", "error_description": response.json()["error_description"]}
    assert response["Agent-Auth"].startswith("httpsig")


def test_is_authenticated_gets_the_identity_challenge(world: World, client: Client, mw: str) -> None:
    """DRF's own IsAuthenticated: our authenticate_header makes it 401 (not 403) with Agent-Auth."""
    response = client.get("/is-authenticated")
    assert response.status_code == 401
    assert response.json()["error"] == "identity_required"
    assert set(response.json()) == {"error", "error_description"}
    assert response["Agent-Auth"] == IDENTITY_CHALLENGE
    assert "WWW-Authenticate" not in response
    response = send(client, _sign(world, "GET", "/is-authenticated"))
    assert response.status_code == 200 and response.json() == {"user": AGENT}


def test_challenge_follows_the_permission_level(world: World, client: Client) -> None:
    response = client.get("/data")
    assert response.status_code == 401 and response["Agent-Auth"] == "httpsig"
    response = client.get("/data-auth")
    assert response.status_code == 401 and response["Agent-Auth"] == IDENTITY_CHALLENGE


def test_missing_auth_token_gets_a_resource_token_challenge(world: World, client: Client, mw: str) -> None:
    response = send(client, _sign(world, "GET", "/data-auth"))
    assert response.status_code == 401 and response.json()["error"] == "authorization_required"
    assert response["Agent-Auth"].startswith(AUTH_CHALLENGE)


def test_insufficient_scope_is_403_with_step_up(world: World, client: Client, mw: str) -> None:
    response = send(client, _jwt(world, "GET", "/data-admin", world.auth_token()))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    assert response["Agent-Auth"].startswith(AUTH_CHALLENGE)


def test_preflight_is_answered_and_bare_options_challenged(client: Client) -> None:
    preflight = client.options("/data-auth", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (preflight.status_code, preflight.content) == (204, b"")
    assert client.options("/data-auth").status_code == 401


def test_without_our_exception_handler_status_and_body_survive(world: World, client: Client,
                                                               settings: Any) -> None:
    """What check aauth.W006 warns about: DRF's default handler drops the Agent-Auth header."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "EXCEPTION_HANDLER":
                               "rest_framework.views.exception_handler"}
    response = send(client, _sign(world, "GET", "/data-auth"))
    assert response.status_code == 401 and response.json()["error"] == "authorization_required"
    assert "Agent-Auth" not in response


def test_other_exceptions_go_to_drf(world: World, client: Client) -> None:
    response = send(client, _sign(world, "POST", "/echo", body=b"{not json"))
    assert response.status_code == 400 and "detail" in response.json()


def test_pseudonymous_user_is_the_key_thumbprint(world: World, client: Client) -> None:
    response = send(client, _sign(world, "GET", "/is-authenticated", scheme="hwk"))
    assert response.json() == {"user": f"jkt:{world.agent.key.thumbprint}"}


def test_delegate_user_over_the_wire(world: World, client: Client) -> None:
    delegate = SigningKey.generate(kid="delegate-key-1")
    token = mint_agent_token(world.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(), now=NOW)
    response = send(client, _jwt(world, "GET", "/is-authenticated", token, key=delegate))
    assert response.json() == {"user": f"{AGENT}#delegate-1"}


def test_aauth_user_behaves_like_a_user(world: World) -> None:
    from aauth_core.context import VerifiedRequest
    key = world.agent.key.public
    user = AAuthUser(VerifiedRequest("jwks", "sig1", key, NOW, (), agent=AGENT))
    assert user.is_authenticated and not user.is_anonymous and not user.is_staff
    assert user.pk == user.id == user.username == user.get_username() == str(user) == AGENT
    assert not user.has_perm("x") and not user.has_perms(["x"]) and not user.has_module_perms("x")
    assert user == AAuthUser(VerifiedRequest("jwks", "sig1", key, NOW + 1, (), agent=AGENT))
    assert len({user, AAuthUser(VerifiedRequest("jwks", "sig1", key, NOW, (), agent=AGENT))}) == 1


def test_requires_aauth_factory() -> None:
    perm = RequiresAAuth("authorization", scopes=["data.read"])
    assert perm.aauth_requirement is not None and perm.aauth_requirement.scopes == {"data.read"}
    assert RequiresAAuth().aauth_requirement is None
    with pytest.raises(ValueError):
        RequiresAAuth("root")


def test_permission_without_the_authentication_class(world: World, client: Client, mw: str) -> None:
    response = send(client, _sign(world, "GET", "/permission-only"))
    assert response.status_code == 200 and response.json() == {"agent": AGENT, "auth": None}
    response = send(client, _sign(world, "GET", "/permission-only", scheme="hwk"))
    assert response.status_code == 401 and response["Agent-Auth"] == IDENTITY_CHALLENGE
    bad = _sign(world, "GET", "/permission-only")
    bad.headers["Signature-Input"] = bad.headers["Signature-Input"].replace("created=", "created=1")
    response = send(client, bad)
    assert response.status_code == 401 and response.json()["error"] != "identity_required"
