"""The challenge loop end to end, sync and async, httpx and httpx2, against real core parties."""

from __future__ import annotations

import pytest

from aauth_core.client import InteractionRequired, TokenCache
from aauth_core.tokens import peek

from ..conftest import AGENT, ISSUER, RESOURCE
from .conftest import Net


def test_autonomous_authorization(net: Net, mode: str) -> None:
    response = net.get(net.auth(), mode=mode)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == AGENT and body["token_type"] == "auth+jwt" and body["scope"] == "data.read"
    seen = net.router.seen
    # GET (jwks) -> 401 challenge; AS metadata; token POST; GET (jwt)
    assert [s.method + " " + s.url for s in seen] == [
        f"GET {RESOURCE}/data-auth",
        f"GET {ISSUER}/.well-known/aauth-issuer",
        f"POST {ISSUER}/agent/token",
        f"GET {RESOURCE}/data-auth",
    ]
    assert 'scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent"' in seen[0].headers[
        "signature-key"]
    post = seen[2]
    assert post.form["request_type"] == "auth" and post.form["redirect_uri"] == f"{AGENT}/callback"
    assert post.body.decode().startswith("request_type=auth&resource_token=ey")
    assert post.body.decode().endswith("&redirect_uri=https://agent.example/callback")
    assert '"content-type" "content-digest" "signature-key"' in post.headers["signature-input"]
    assert post.headers["signature-key"].startswith("sig1=(scheme=jwks ")
    assert seen[3].headers["signature-key"].startswith('sig1=(scheme=jwt jwt="ey')
    assert net.auth_server.calls == ["auth"]


def test_consent_with_interaction_callback(net: Net, mode: str) -> None:
    net.auth_server.consent = True
    urls: list[str] = []

    def handler(url: str) -> str:
        urls.append(url)
        return net.auth_server.approve(url)  # the full redirect URL; the flow parses `code`

    response = net.get(net.auth(interaction=handler), mode=mode)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == "testuser"
    assert net.auth_server.calls == ["auth", "code"]
    assert urls[0].startswith(f"{ISSUER}/agent/auth?request_token=")
    assert "redirect_uri=https%3A%2F%2Fagent.example%2Fcallback" in urls[0]
    code_post = net.router.to(f"{ISSUER}/agent/token")[1]
    assert code_post.body.decode().startswith("request_type=code&code=")
    assert code_post.form["redirect_uri"] == f"{AGENT}/callback"


def test_consent_callback_returning_bare_code(net: Net) -> None:
    net.auth_server.consent = True
    response = net.get(net.auth(interaction=lambda url: net.auth_server.approve(url).split("code=")[1]))
    assert response.status_code == 200 and response.json()["sub"] == "testuser"


def test_consent_denied_by_user(net: Net) -> None:
    net.auth_server.consent = True
    with pytest.raises(Exception) as info:
        net.get(net.auth(interaction=lambda url: f"{AGENT}/callback?error=access_denied"))
    assert getattr(info.value, "code", None) == "access_denied"
    assert net.auth_server.calls == ["auth"]


def test_consent_default_handler_raises_interaction_required(net: Net, mode: str) -> None:
    net.auth_server.consent = True
    with pytest.raises(InteractionRequired) as info:
        net.get(net.auth(), mode=mode)
    assert info.value.code == "interaction_required"
    assert info.value.url.startswith(f"{ISSUER}/agent/auth?request_token=")
    assert net.auth_server.calls == ["auth"]  # no code was redeemed
    assert len(net.resource.seen) == 0  # nothing was accepted


def test_token_cache_reuse(net: Net, mode: str) -> None:
    auth = net.auth()

    def tick(request: object) -> None:
        net.world.clock.advance(1)  # distinct `created`, so the replay cache sees distinct signatures

    net.resource.before = tick
    responses = net.send(auth, [("GET", f"{RESOURCE}/data-auth", {})] * 5, mode=mode)
    assert [r.status_code for r in responses] == [200] * 5
    assert net.auth_server.calls == ["auth"]  # 5 requests -> 1 token call
    assert len(net.router.to(f"{RESOURCE}/")) == 6  # one challenge, five authorised GETs
    assert len(net.router.to(f"{ISSUER}/.well-known/")) == 1


def test_cached_token_rejected_retries_once_with_fresh_token(net: Net, mode: str) -> None:
    cache = TokenCache()
    auth = net.auth(cache=cache)
    assert net.get(auth, mode=mode).status_code == 200
    first = net.resource.seen[-1].token
    assert first is not None
    net.resource.revoked.add(first)
    net.world.clock.advance(2)
    response = net.get(auth, mode=mode)
    assert response.status_code == 200
    second = net.resource.seen[-1].token
    assert second is not None and second != first
    assert net.auth_server.calls == ["auth", "auth"]
    # cached token -> 401; identity -> challenge; new token -> 200
    schemes = [s.headers["signature-key"].split()[0] for s in net.router.to(f"{RESOURCE}/")][2:]
    assert schemes == ["sig1=(scheme=jwt", "sig1=(scheme=jwks", "sig1=(scheme=jwt"]


def test_fresh_token_refused_again_is_returned_not_looped(net: Net) -> None:
    net.resource.before = lambda request: None
    auth = net.auth()
    original = net.auth_server._issue

    def issue_revoked(p, **kw):  # type: ignore[no-untyped-def]
        out = original(p, **kw)
        net.resource.revoked.add(out["auth_token"])
        return out

    net.auth_server._issue = issue_revoked  # type: ignore[method-assign]
    response = net.get(auth)
    assert response.status_code == 401
    assert net.auth_server.calls == ["auth"]
    assert len(net.resource.seen) == 0


def test_expired_cached_token_uses_refresh(net: Net, mode: str) -> None:
    net.auth_server.refresh = True
    auth = net.auth()
    assert net.get(auth, mode=mode).status_code == 200
    net.world.clock.advance(3600 - 30)  # inside the cache margin: stale
    before = len(net.router.to(f"{RESOURCE}/"))
    response = net.get(auth, mode=mode)
    assert response.status_code == 200
    assert net.auth_server.calls == ["auth", "refresh"]
    refresh = net.router.to(f"{ISSUER}/agent/token")[-1]
    assert refresh.body.decode().startswith("request_type=refresh&refresh_token=")
    assert len(net.router.to(f"{RESOURCE}/")) == before + 1  # no challenge round trip
    assert net.resource.seen[-1].token != net.resource.seen[0].token


def test_failed_refresh_falls_back_to_challenge(net: Net) -> None:
    net.auth_server.refresh = True
    auth = net.auth()
    assert net.get(auth).status_code == 200
    net.auth_server.refresh_tokens.clear()  # the AS forgot it
    net.world.clock.advance(3600 - 30)
    assert net.get(auth).status_code == 200
    assert net.auth_server.calls == ["auth", "refresh", "auth"]


def test_fresh_created_on_each_retry(net: Net, mode: str) -> None:
    def tick(request: object) -> None:
        net.world.clock.advance(5)

    net.resource.before = tick
    assert net.get(net.auth(), mode=mode).status_code == 200
    first, second = net.router.to(f"{RESOURCE}/")
    assert first.headers["signature"] != second.headers["signature"]
    created = [int(s.headers["signature-input"].rsplit("created=", 1)[1].split(";")[0]) for s in (first, second)]
    assert created[1] > created[0]


def test_identity_challenge_upgrades_pseudonymous_start(net: Net, mode: str) -> None:
    response = net.get(net.auth(options=net.options(start_pseudonymous=True)), "/data-jwks", mode=mode)
    assert response.status_code == 200
    schemes = [s.headers["signature-key"].split()[0] for s in net.router.seen]
    assert schemes == ["sig1=(scheme=hwk", "sig1=(scheme=jwks"]


def test_pseudonymous_start_stays_hwk_when_enough(net: Net) -> None:
    response = net.get(net.auth(options=net.options(start_pseudonymous=True)), "/data")
    assert response.status_code == 200 and response.json()["agent"] is None
    assert len(net.router.seen) == 1


def test_resource_token_scope_is_cache_key(net: Net) -> None:
    cache = TokenCache()
    net.get(net.auth(cache=cache))
    (token,) = cache._tokens.values()
    assert token.scope == "data.read" and token.resource == RESOURCE
    assert peek(token.auth_token).claims["aud"] == RESOURCE
    assert token.auth_token not in repr(token)


def test_identical_requests_in_the_same_second_are_told_apart_by_a_nonce(net: Net, mode: str) -> None:
    """Ed25519 is deterministic: without a nonce the second request would be a byte-identical
    replay, which the resource's replay cache (on by default) rightly refuses."""
    auth = net.auth()
    first, second, third = net.send(auth, [("GET", RESOURCE + "/data-auth", {})] * 3, mode=mode)
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 200)
    inputs = [r.request.headers["signature-input"] for r in (first, second, third)]
    assert "nonce=" not in inputs[0]
    assert "nonce=" in inputs[1] and "nonce=" in inputs[2] and inputs[1] != inputs[2]


def test_two_clients_with_one_key_in_the_same_second_do_not_collide(net: Net) -> None:
    first = net.get(net.auth(), "/data")
    second = net.get(net.auth(), "/data")  # a second client, same key, same second
    assert (first.status_code, second.status_code) == (200, 200)
    assert "nonce=" not in first.request.headers["signature-input"]
    assert "nonce=" in second.request.headers["signature-input"]


def test_a_replay_reported_by_the_resource_is_retried_once_with_a_nonce(net: Net) -> None:
    """The same request sent by another process (so this one could not know) first."""
    from aauth_core.client import RequestSigner

    signer = RequestSigner.jwks(net.world.agent.key, net.world.agent.id)
    signed = signer.sign("GET", RESOURCE + "/data", {}, None, created=int(net.world.clock()))
    with net.lib.Client(transport=net.router.transport) as other_process:
        assert other_process.get(RESOURCE + "/data", headers=dict(signed.headers)).status_code == 200
    response = net.get(net.auth(), "/data")  # same second: byte-identical signature
    assert response.status_code == 200
    assert "nonce=" in response.request.headers["signature-input"]
    assert len(net.router.to(f"{RESOURCE}/data")) == 3  # other process, refused replay, re-signed retry


def test_one_auth_object_works_with_httpx_and_httpx2_clients(net: Net) -> None:
    """Starlette's TestClient is httpx2, most apps use httpx: the same ``auth`` serves both."""
    import httpx
    import httpx2

    auth = net.auth()
    assert isinstance(auth, httpx.Auth) and isinstance(auth, httpx2.Auth)
    for lib in (httpx, httpx2):
        net.router.lib = lib  # the in-process parties answer in the client's own library
        with lib.Client(auth=auth, transport=net.router.transport) as client:
            assert client.get(RESOURCE + "/data-auth").status_code == 200
    assert net.auth_server.calls == ["auth"]  # the second library reused the cached token
