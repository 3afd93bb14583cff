"""The loopback host table the live aauth-11 rows rely on (peer_servers.py), on its own: no peer
needed.  An identifier's host reaches its 127.0.0.1 port with the ``Host`` header unchanged,
through httpx and httpx2, blocking and awaitable, and the caller's request keeps its URL; anything
off the table is refused before a packet is sent; a stopped server, ASGI or WSGI, leaves no
listener."""

from __future__ import annotations

import socket

import httpx
import httpx2
import pytest

from .peer_servers import DocumentServer, LoopbackNet, assert_no_listener, recorded_wsgi, serve_ours, serve_wsgi_ours

DOC = {"issuer": "https://ap.example"}


def _served() -> tuple[LoopbackNet, DocumentServer, socket.socket]:
    net, docs = LoopbackNet(), DocumentServer()
    docs.publish("https://ap.example/.well-known/aauth-agent.json", DOC)
    return net, docs, net.listen("https://ap.example", "https://rs.example")


def test_httpx_blocking_reaches_the_identifier_host_with_its_host_header() -> None:
    net, docs, sock = _served()
    with serve_ours(docs, sock), net.client() as client:
        assert client.get("https://ap.example/.well-known/aauth-agent.json").json() == DOC
        # the same port serves rs.example, which has no such document: routing is by Host
        assert client.get("https://rs.example/.well-known/aauth-agent.json").status_code == 404
    assert docs.fetched == ["https://ap.example/.well-known/aauth-agent.json",
                            "https://rs.example/.well-known/aauth-agent.json"]


async def test_httpx_and_httpx2_awaitable_and_httpx2_blocking_reach_it_too() -> None:
    net, docs, sock = _served()
    url = "https://ap.example/.well-known/aauth-agent.json"
    with serve_ours(docs, sock):
        async with httpx.AsyncClient(transport=net.transport()) as client:
            assert (await client.get(url)).json() == DOC
        async with httpx2.AsyncClient(transport=net.transport2()) as client2:
            assert (await client2.get(url)).json() == DOC
        with httpx2.Client(transport=net.transport2()) as blocking2:
            assert blocking2.get(url).json() == DOC
    assert docs.fetched == [url] * 3


@pytest.mark.parametrize("url", ["https://elsewhere.example/x", "http://ap.example/x", "https://ap.example:8443/x",
                                 "https://127.0.0.1/x"])
def test_a_url_off_the_table_is_refused_before_any_packet(url: str) -> None:
    net, docs, sock = _served()
    with serve_ours(docs, sock), net.client() as client:
        with pytest.raises(httpx.ConnectError, match="not on the loopback table"):
            client.get(url)
        with httpx2.Client(transport=net.transport2()) as client2, pytest.raises(httpx2.ConnectError):
            client2.get(url)
    assert docs.fetched == []


def test_a_host_is_served_by_one_port_only_and_identifiers_are_bare() -> None:
    net = LoopbackNet()
    net.listen("https://ap.example").close()
    with pytest.raises(ValueError, match="already served"):
        net.listen("https://ap.example")
    for not_an_identifier in ("https://rs.example/path", "https://rs.example:8443", "http://rs.example"):
        with pytest.raises(ValueError):
            net.listen(not_an_identifier)
    assert list(net.routes) == ["ap.example"]


def test_a_stopped_server_leaves_no_listener() -> None:
    net, docs, sock = _served()
    with serve_ours(docs, sock) as port, net.client() as client:
        assert client.get("https://ap.example/.well-known/aauth-agent.json").status_code == 200
    assert_no_listener(port)
    with socket.socket() as listening:  # the control: a live listener is reported
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        with pytest.raises(AssertionError, match="a listener is left"):
            assert_no_listener(listening.getsockname()[1])


def test_the_callers_request_keeps_its_identifier_url() -> None:
    """A client reads its request back after sending it (our -11 client resolves a pending
    ``Location`` against it): the transport sends a rewritten copy, never the request itself."""
    net, docs, sock = _served()
    url = "https://ap.example/.well-known/aauth-agent.json"
    with serve_ours(docs, sock), net.client() as client, httpx2.Client(transport=net.transport2()) as client2:
        for answer in (client.get(url), client2.get(url)):
            assert answer.status_code == 200 and str(answer.request.url) == url


def test_a_wsgi_app_is_served_on_its_socket_and_leaves_no_listener() -> None:
    net = LoopbackNet()
    sock = net.listen("https://flask.example")
    fetched: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [str(environ["HTTP_HOST"]).encode()]

    with serve_wsgi_ours(recorded_wsgi(app, fetched), sock) as port, net.client() as client:
        assert client.get("https://flask.example/x").text == "flask.example"
    assert fetched == ["https://flask.example/x"]
    assert_no_listener(port)
