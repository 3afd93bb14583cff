"""Auth-server discovery rules: issuer must match, SSRF guard before any packet, bad responses."""

from __future__ import annotations

from typing import Any

import pytest

from aauth_core.client import TokenCache
from aauth_core.errors import AAuthError
from aauth_core.resource import challenge_header

from ..conftest import ISSUER, OTHER_ISSUER, RESOURCE
from .conftest import Net
from .parties import json_reply


def _challenge_from(net: Net, auth_server: str) -> None:
    """Make the resource answer every request with an auth-token challenge naming ``auth_server``."""
    token = net.resource.service.resource.mint_resource_token(  # type: ignore[union-attr]
        agent="https://agent.example", agent_jkt=net.world.agent.key.thumbprint, scope="data.read")
    value = challenge_header(resource_token=token, auth_server=auth_server)
    net.router.routes[RESOURCE] = lambda request: (401, {"Agent-Auth": value}, b"")


def _fail(request: Any) -> None:
    pytest.fail(f"the client sent a packet to {request.url}")


def test_metadata_with_mismatched_issuer_refused(net: Net, mode: str) -> None:
    net.world.network.documents[f"{ISSUER}/.well-known/aauth-issuer"]["issuer"] = OTHER_ISSUER
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), mode=mode)
    assert info.value.code == "issuer_mismatch"
    assert net.auth_server.calls == []  # no token request was made
    assert net.resource.seen == []


@pytest.mark.parametrize("auth_server", [
    "https://169.254.169.254",
    "https://10.0.0.1",
    "http://127.0.0.1:8003",  # loopback without the development switch
    "https://[::1]",
    "https://0x7f.1",
    "ftp://as.example",
])
def test_ssrf_shaped_auth_server_refused(net: Net, mode: str, auth_server: str) -> None:
    _challenge_from(net, auth_server)
    net.router.strict = _fail
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), mode=mode)
    assert info.value.code == "blocked_url"
    assert [s.url for s in net.router.seen] == [f"{RESOURCE}/data-auth"]


def test_token_endpoint_in_metadata_is_guarded_too(net: Net) -> None:
    net.world.network.documents[f"{ISSUER}/.well-known/aauth-issuer"]["agent_token_endpoint"] = (
        "https://169.254.169.254/latest/meta-data")
    net.router.strict = _fail
    net.router.routes[ISSUER] = net.auth_server
    with pytest.raises(AAuthError) as info:
        net.get(net.auth())
    assert info.value.code == "blocked_url"
    assert net.auth_server.calls == []


def test_loopback_auth_server_allowed_with_dev_switch(net: Net) -> None:
    local = "http://127.0.0.1:8003"
    _challenge_from(net, local)
    net.router.routes[local] = lambda request: json_reply(404, {"error": "not_found"})
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(options=net.options(allow_insecure_loopback=True)))
    assert info.value.code == "discovery_failed"  # it got as far as fetching the metadata
    assert net.router.seen[-1].url == f"{local}/.well-known/aauth-issuer"


def test_token_endpoint_error_is_reported_with_its_code(net: Net) -> None:
    net.router.routes[ISSUER] = lambda request: (
        json_reply(403, {"error": "access_denied", "error_description": "policy"})
        if request.url.path == "/agent/token" else net.auth_server(request))
    with pytest.raises(AAuthError) as info:
        net.get(net.auth())
    assert info.value.code == "access_denied" and info.value.status_code == 403
    assert net.resource.seen == []


@pytest.mark.parametrize("reply", [
    (200, {}, b"not json"),
    json_reply(200, ["a list"]),
    json_reply(200, {"expires_in": 3600}),
    json_reply(200, {"auth_token": "not-a-jwt"}),
])
def test_malformed_token_response_refused(net: Net, reply: Any) -> None:
    net.router.routes[ISSUER] = lambda request: (
        reply if request.url.path == "/agent/token" else net.auth_server(request))
    cache = TokenCache()
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(cache=cache))
    assert info.value.code == "invalid_token_response"
    assert len(cache) == 0 and net.resource.seen == []


def test_unparseable_challenge_is_returned_as_is(net: Net) -> None:
    net.router.routes[RESOURCE] = lambda request: (401, {"Agent-Auth": "bogus;;"}, b"")
    assert net.get(net.auth()).status_code == 401
    assert len(net.router.seen) == 1


def test_hwk_signer_without_redirect_uri_is_a_clear_error(net: Net) -> None:
    from aauth_core.client import RequestSigner

    _challenge_from(net, ISSUER)
    net.router.routes[ISSUER] = net.auth_server
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(RequestSigner.hwk(net.world.agent.key)))
    assert info.value.code == "invalid_request" and "redirect_uri" in info.value.description


def test_a_nesting_bomb_from_the_auth_server_is_a_clear_error(net: Net) -> None:
    """A hostile auth server answering with deeply nested JSON gets an AAuthError, not a crash."""
    bomb = b"[" * 100_000 + b"]" * 100_000

    def hostile(request: Any) -> tuple[int, dict[str, str], bytes]:
        if request.url.path == "/agent/token":
            return 200, {"Content-Type": "application/json"}, bomb
        return json_reply(200, net.world.network.documents[str(request.url)])

    net.router.routes[ISSUER] = hostile
    with pytest.raises(AAuthError):
        net.get(net.auth())
