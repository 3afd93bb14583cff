"""After verification the view still gets the whole body; without a covered digest it is never read."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask import Flask, request

from aauth_flask import aauth_required

from ..conftest import World
from ..scenarios import BIG, _custom, _sign
from .apps import new_app, send

FORM = b"a=1&b=two+words&c=%C3%A9"
MULTIPART = (b'--BOUNDARY\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
             b'--BOUNDARY\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n'
             b"Content-Type: text/plain\r\n\r\nhello file\r\n--BOUNDARY--\r\n")


class CountingInput(io.RawIOBase):
    """Wraps ``wsgi.input`` and counts the bytes anyone read from it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def counting(app: Flask) -> list[CountingInput]:
    """Install a WSGI middleware that records every request's input counter."""
    seen: list[CountingInput] = []
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        counter = CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = environ["test.counter"] = counter
        seen.append(counter)
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return seen


def read_before() -> int:
    return int(request.environ["test.counter"].count)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body_app(world: World) -> tuple[Flask, list[CountingInput]]:
    app, _ = new_app(world)
    seen = counting(app)

    @app.post("/json")
    @aauth_required
    def json_view() -> dict[str, Any]:
        return {"before": read_before(), "json": request.get_json()}

    @app.post("/async-json")
    @aauth_required
    async def async_json_view() -> dict[str, Any]:
        return {"before": read_before(), "json": request.get_json()}

    @app.post("/form")
    @aauth_required()
    def form_view() -> dict[str, Any]:
        files = {k: v.read().decode() for k, v in request.files.items()}
        return {"before": read_before(), "form": request.form.to_dict(), "files": files}

    @app.post("/async-form")
    @aauth_required()
    async def async_form_view() -> dict[str, Any]:
        return {"before": read_before(), "form": request.form.to_dict()}

    @app.post("/stream")
    @aauth_required
    def stream_view() -> dict[str, Any]:
        before = read_before()
        streamed = request.stream.read()
        raw = request.input_stream.read()
        return {"before": before, "stream": sha(streamed), "input": sha(raw), "data": sha(request.get_data())}

    @app.post("/async-stream")
    @aauth_required
    async def async_stream_view() -> dict[str, Any]:
        before = read_before()
        return {"before": before, "stream": sha(request.stream.read())}

    @app.route("/open", methods=["GET", "POST"])
    def open_view() -> dict[str, Any]:  # no requirement: unsigned requests pass
        before = read_before()
        return {"before": before, "stream": sha(request.stream.read()), "signed": request.headers.get("Signature")
                is not None}

    return app, seen


@pytest.mark.parametrize("route", ["/json", "/async-json"])
def test_json_after_verification(world: World, route: str) -> None:
    app, _ = body_app(world)
    body = b'{"hello": "world", "n": [1, 2, 3]}'
    resp = send(app.test_client(), _sign(world, "POST", route, body=body))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"before": len(body), "json": {"hello": "world", "n": [1, 2, 3]}}


@pytest.mark.parametrize("route", ["/form", "/async-form"])
def test_urlencoded_form_after_verification(world: World, route: str) -> None:
    app, _ = body_app(world)
    req = _sign(world, "POST", route, body=FORM, headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = send(app.test_client(), req)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert out["before"] == len(FORM)
    assert out["form"] == {"a": "1", "b": "two words", "c": "é"}


def test_multipart_form_and_files_after_verification(world: World) -> None:
    app, _ = body_app(world)
    req = _sign(world, "POST", "/form", body=MULTIPART,
                headers={"Content-Type": "multipart/form-data; boundary=BOUNDARY"})
    resp = send(app.test_client(), req)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["form"] == {"a": "1"}
    assert resp.get_json()["files"] == {"f": "hello file"}


@pytest.mark.parametrize("route", ["/stream", "/async-stream"])
def test_raw_stream_after_verification(world: World, route: str) -> None:
    app, _ = body_app(world)
    req = _sign(world, "POST", route, body=BIG, headers={"Content-Type": "application/octet-stream"})
    resp = send(app.test_client(), req)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert out["before"] == len(BIG)  # read once, for the digest
    assert out["stream"] == sha(BIG)
    if route == "/stream":
        assert out["input"] == sha(BIG) and out["data"] == sha(BIG)


def test_unsigned_body_is_not_read_before_the_view(world: World) -> None:
    app, seen = body_app(world)
    resp = app.test_client().post("/open", data=BIG, headers={"Content-Type": "application/octet-stream"},
                                  base_url="https://api.example")
    assert resp.status_code == 200
    assert resp.get_json() == {"before": 0, "stream": sha(BIG), "signed": False}
    assert seen[-1].count == len(BIG)  # the view, and only the view, read it


def test_signed_request_without_digest_leaves_body_alone(world: World) -> None:
    app, seen = body_app(world)
    req = _sign(world, "GET", "/open")
    resp = send(app.test_client(), req)
    assert resp.status_code == 200 and resp.get_json()["before"] == 0 and resp.get_json()["signed"]
    # A body the signature does not cover is refused without reading a byte of it.
    req = _custom(world, "POST", "/open", ("@method", "@authority", "@path", "signature-key"), body=b'{"x": 1}')
    resp = send(app.test_client(), req)
    assert (resp.status_code, resp.get_json()["error"]) == (401, "missing_component")
    assert seen[-1].count == 0


def test_digest_mismatch_refused_before_the_view(world: World) -> None:
    app, _ = body_app(world)
    req = _sign(world, "POST", "/stream", body=b'{"a": 1}')
    req.body = b'{"a": 2}'
    resp = send(app.test_client(), req)
    assert (resp.status_code, resp.get_json()["error"]) == (401, "digest_mismatch")
