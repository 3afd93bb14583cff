"""Redirects, streaming bodies and debug logging: what the Auth does around the wire."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aauth_core.errors import AAuthError

from ..conftest import RESOURCE
from .conftest import Net
from .parties import json_reply

OTHER = "https://other.example"
SIG_HEADERS = {"signature", "signature-input", "signature-key", "content-digest"}


def test_cross_origin_redirect_is_not_signed(net: Net, mode: str) -> None:
    net.resource.redirects["/old"] = (307, f"{OTHER}/landing")
    net.router.routes[OTHER] = lambda request: json_reply(200, {"ok": True})
    response = net.send(net.auth(), [("GET", f"{RESOURCE}/old", {})], mode=mode, follow_redirects=True)[0]
    assert response.status_code == 200
    first, second = net.router.seen
    assert SIG_HEADERS & set(first.headers) == {"signature", "signature-input", "signature-key"}
    assert second.url == f"{OTHER}/landing"
    assert not SIG_HEADERS & set(second.headers)


def test_cross_origin_redirect_challenge_is_not_answered(net: Net) -> None:
    net.resource.redirects["/old"] = (302, f"{OTHER}/landing")
    net.router.routes[OTHER] = lambda request: (401, {"Agent-Auth": "httpsig; identity=?1"}, b"")
    response = net.send(net.auth(), [("GET", f"{RESOURCE}/old", {})], follow_redirects=True)[0]
    assert response.status_code == 401
    assert len(net.router.seen) == 2  # nothing retried towards either origin


def test_same_origin_redirect_is_re_signed(net: Net, mode: str) -> None:
    net.resource.redirects["/old"] = (307, "/data")
    response = net.send(net.auth(), [("GET", f"{RESOURCE}/old", {})], mode=mode, follow_redirects=True)[0]
    assert response.status_code == 200, response.text  # the resource verified the re-signed copy
    first, second = net.router.seen
    assert second.url == f"{RESOURCE}/data"
    assert second.headers["signature"] != first.headers["signature"]
    assert second.headers["signature-key"] == first.headers["signature-key"]


def test_same_origin_redirect_of_a_post_re_signs_body(net: Net) -> None:
    net.resource.redirects["/old"] = (308, "/data")
    response = net.send(net.auth(), [("POST", f"{RESOURCE}/old", {"json": {"a": 1}})], follow_redirects=True)[0]
    assert response.status_code == 200, response.text
    assert net.router.seen[1].headers["content-digest"] == net.router.seen[0].headers["content-digest"]


def test_client_without_guard_refuses_followed_redirect(net: Net) -> None:
    net.resource.redirects["/old"] = (307, "/data")
    client = net.lib.Client(auth=net.auth(), transport=net.router.transport, follow_redirects=True)
    with client, pytest.raises(AAuthError) as info:
        client.get(f"{RESOURCE}/old")
    assert info.value.code == "unguarded_redirect"


def test_redirect_not_followed_is_returned(net: Net) -> None:
    net.resource.redirects["/old"] = (307, f"{OTHER}/landing")
    response = net.send(net.auth(), [("GET", f"{RESOURCE}/old", {})])[0]
    assert response.status_code == 307 and len(net.router.seen) == 1


def _digest(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


CHUNKS = [b"hello ", b"streamed ", b"world"]
BODY = b"".join(CHUNKS)


def _stream(mode: str) -> Any:
    if mode == "sync":
        def gen() -> Iterator[bytes]:
            yield from CHUNKS
        return gen()

    async def agen() -> AsyncIterator[bytes]:
        for chunk in CHUNKS:
            await asyncio.sleep(0)
            yield chunk
    return agen()


def test_stream_with_caller_digest_is_signed_unread(net: Net, mode: str) -> None:
    headers = {"Content-Type": "text/plain", "Content-Digest": _digest(BODY)}
    response = net.send(net.auth(), [("POST", f"{RESOURCE}/data", {"content": _stream(mode), "headers": headers})],
                        mode=mode)[0]
    assert response.status_code == 200, response.text
    seen = net.router.seen[0]
    assert seen.body == BODY and '"content-digest"' in seen.headers["signature-input"]


def test_stream_retry_is_refused_with_clear_error(net: Net, mode: str) -> None:
    headers = {"Content-Type": "text/plain", "Content-Digest": _digest(BODY)}
    with pytest.raises(AAuthError) as info:
        net.send(net.auth(), [("POST", f"{RESOURCE}/data-auth", {"content": _stream(mode), "headers": headers})],
                 mode=mode)
    assert info.value.code == "body_not_replayable"
    assert "cannot be replayed" in info.value.description
    assert len(net.router.seen) == 1  # sent once; no token request, no retry
    assert net.auth_server.calls == []


def test_stream_without_digest_is_buffered_and_replayed(net: Net, mode: str) -> None:
    response = net.send(net.auth(), [("POST", f"{RESOURCE}/data-auth",
                                      {"content": _stream(mode), "headers": {"Content-Type": "text/plain"}})],
                        mode=mode)[0]
    assert response.status_code == 200, response.text
    first, last = net.router.to(f"{RESOURCE}/")
    assert first.body == last.body == BODY


def test_logs_carry_no_secrets(net: Net, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aauth")
    assert net.get(net.auth()).status_code == 200
    token = net.resource.seen[-1].token
    assert token is not None
    text = caplog.text
    assert token not in text and "resource_token=" not in text and "signature" not in text.lower().replace(
        "signature-key", "")
    assert "token request (auth)" in text


def test_debug_option_logs_like_the_transcript(net: Net, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aauth.client")
    assert net.get(net.auth(options=net.options(debug=True))).status_code == 200
    assert ">>> POST https://as.example/agent/token" in caplog.text
    assert "request_type=auth&resource_token=" in caplog.text


def test_cross_origin_redirect_does_not_leak_the_auth_token(net: Net, mode: str) -> None:
    net.resource.redirects["/old"] = (307, f"{OTHER}/landing")
    net.router.routes[OTHER] = lambda request: json_reply(200, {"ok": True})
    responses = net.send(net.auth(), [("GET", f"{RESOURCE}/data-auth", {}), ("GET", f"{RESOURCE}/old", {})],
                         mode=mode, follow_redirects=True)
    assert [r.status_code for r in responses] == [200, 200]
    token = net.resource.seen[-1].token
    assert token is not None
    to_old, to_other = net.router.seen[-2:]
    assert token in to_old.headers["signature-key"]
    assert to_other.url == f"{OTHER}/landing"
    assert all(token not in value for value in to_other.headers.values())


def test_a_streamed_answer_is_handed_back_unread(net: Net, mode: str) -> None:
    """An answer that needs nothing from the flow (no challenge) is not read by the auth: a
    ``text/event-stream`` (an MCP server's) reaches the caller as a stream, event by event."""
    pulled: list[int] = []

    def events() -> Iterator[bytes]:
        for i in range(3):
            pulled.append(i)
            yield f"data: {i}\n\n".encode()

    async def aevents() -> AsyncIterator[bytes]:
        for chunk in events():
            yield chunk

    def handler(request: Any) -> Any:
        assert "signature" in request.headers
        return net.lib.Response(200, headers={"Content-Type": "text/event-stream"},
                                content=events() if mode == "sync" else aevents())

    transport = net.lib.MockTransport(handler)
    if mode == "sync":
        with net.auth().client(transport=transport) as client, client.stream("GET", f"{RESOURCE}/events") as r:
            assert pulled == []
            assert next(r.iter_raw()) == b"data: 0\n\n" and pulled == [0]
        return

    async def run() -> None:
        async with net.auth().async_client(transport=transport) as client, \
                client.stream("GET", f"{RESOURCE}/events") as r:
            assert pulled == []
            assert await r.aiter_raw().__anext__() == b"data: 0\n\n" and pulled == [0]

    asyncio.run(run())
