"""The raw request target: from RAW_URI / REQUEST_URI when present, else re-quoted from PATH_INFO."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask import Flask

from aauth_core.resource.contract import raw_path_from_environ as raw_path

from ..conftest import World
from ..scenarios import _sign
from .apps import scenario_app, send


def wsgi_path(text: str) -> str:
    """How a WSGI server puts a decoded path into the environ (UTF-8 bytes as latin-1)."""
    return text.encode().decode("latin-1")


@pytest.mark.parametrize("environ, expected", [
    ({"RAW_URI": "/files/caf%C3%A9%20x?b=2", "PATH_INFO": "ignored"}, "/files/caf%C3%A9%20x"),
    ({"REQUEST_URI": "/a%2Fb%41?"}, "/a%2Fb%41"),
    ({"RAW_URI": "", "REQUEST_URI": "/from-request-uri"}, "/from-request-uri"),
    ({"RAW_URI": "//double/slash"}, "//double/slash"),
    ({"RAW_URI": "https://api.example/x%20y?q=1"}, "/x%20y"),
    ({"RAW_URI": "https://api.example"}, "/"),
    ({"RAW_URI": "*"}, "*"),
    ({"SCRIPT_NAME": "/app", "PATH_INFO": wsgi_path("/files/café x")}, "/app/files/caf%C3%A9%20x"),
    ({"PATH_INFO": "/100%/a?b#c"}, "/100%25/a%3Fb%23c"),
    ({"PATH_INFO": "/a:b@c!$&'()*+,;=-._~"}, "/a:b@c!$&'()*+,;=-._~"),
    ({}, "/"),
])
def test_raw_path(environ: dict[str, Any], expected: str) -> None:
    assert raw_path(environ) == expected


def without_raw_uri(app: Flask) -> None:
    """Act like a WSGI server that only provides the decoded PATH_INFO."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ.pop("RAW_URI", None)
        environ.pop("REQUEST_URI", None)
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]


def test_fallback_requotes_a_canonically_encoded_path(world: World) -> None:
    app = scenario_app(world)
    without_raw_uri(app)
    resp = send(app.test_client(), _sign(world, "GET", "/files/caf%C3%A9%20x?q=%20", scheme="hwk"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"] == "café x"


def test_fallback_fails_closed_on_an_unusual_encoding(world: World) -> None:
    """``%41`` decodes to ``A``; re-quoting cannot restore it, so the signature fails (never passes wrongly)."""
    req = _sign(world, "GET", "/files/%41bc", scheme="hwk")
    app = scenario_app(world)
    assert send(app.test_client(), req).get_json()["name"] == "Abc"  # with RAW_URI: the exact bytes
    app = scenario_app(world)
    without_raw_uri(app)
    resp = send(app.test_client(), req)
    assert (resp.status_code, resp.get_json()["error"]) == (401, "invalid_signature")
    assert app.extensions["test_calls"] == []
