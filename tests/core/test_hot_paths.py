"""The per-request fast paths added for performance behave exactly like the slow ones."""

from __future__ import annotations

import base64
import io
import sys

import pytest

from aauth_core.errors import HeaderError
from aauth_core.headers import parse_signature, parse_signature_input
from aauth_core.request import Headers


def _environ() -> dict[str, object]:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/x", "QUERY_STRING": "", "SERVER_NAME": "api.example",
        "SERVER_PORT": "443", "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "HTTP_HOST": "api.example", "HTTP_SIGNATURE_INPUT": 'sig1=("@method");created=1',
        "HTTP_SIGNATURE_KEY": "sig1=(scheme=hwk)", "HTTP_X_MULTI_WORD_NAME": "v", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "2", "HTTP_CONTENT_TYPE": "ignored/by-servers", "REMOTE_ADDR": "127.0.0.1",
    }


def _fields(headers: Headers) -> dict[str, list[str]]:
    return {name: headers.get_all(name) for name in headers}


def test_from_environ_matches_werkzeug_headers() -> None:
    from werkzeug.datastructures import EnvironHeaders

    environ = _environ()
    assert _fields(Headers.from_environ(environ)) == _fields(Headers(EnvironHeaders(environ).items()))


def test_from_environ_skips_an_empty_content_length() -> None:
    environ = {**_environ(), "CONTENT_LENGTH": ""}
    from werkzeug.datastructures import EnvironHeaders

    headers = Headers.from_environ(environ)
    assert "content-length" not in headers
    assert _fields(headers) == _fields(Headers(EnvironHeaders(environ).items()))


def test_from_environ_matches_django_request_headers() -> None:
    from django.http.request import HttpHeaders

    environ = {k: v for k, v in _environ().items() if k != "HTTP_CONTENT_TYPE"}  # Django folds both spellings
    assert _fields(Headers.from_environ(environ)) == _fields(Headers(HttpHeaders(environ).items()))


def test_from_asgi_matches_decoding_every_pair() -> None:
    raw = [(b"host", b"api.example"), (b"x-dup", b"a"), (b"signature", b"sig1=:YWJj:"), (b"x-dup", b"b"),
           (b"x-latin", "caf\u00e9".encode("latin-1"))]
    expected = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
    headers = Headers.from_asgi(raw)
    assert _fields(headers) == _fields(expected)
    assert headers["x-dup"] == "a, b" and headers.get_all("X-Dup") == ["a", "b"]


def test_get_without_raising() -> None:
    headers = Headers({"A": "1"})
    assert headers.get("a") == "1" and headers.get("A") == "1"
    assert headers.get("b") is None and headers.get("b", "d") == "d"


def test_signature_mixing_the_two_base64_alphabets_is_refused() -> None:
    raw = bytes.fromhex("fbeffbfcfdfeff00fbef")
    std, url = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    assert parse_signature(f"sig1=:{std}:")[1] == raw == parse_signature(f"sig1=:{url}:")[1]
    assert "+" in std or "/" in std
    mixed = std.replace("+", "-", 1) if "+" in std else std.replace("/", "_", 1)
    assert ("+" in mixed or "/" in mixed) and ("-" in mixed or "_" in mixed)
    with pytest.raises(HeaderError) as err:
        parse_signature(f"sig1=:{mixed}:")
    assert err.value.code == "invalid_signature_header"


def test_signature_with_url_alphabet_characters_only_late_in_the_value() -> None:
    # The old alternation backtracked over values like this one; the result must not change.
    raw = bytes(range(40, 104))
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert parse_signature(f"sig1=:{url}:") == ("sig1", raw)


def test_memoised_signature_input_still_refuses_bad_input_every_time() -> None:
    good = 'sig1=("@method" "@authority");created=1700000000'
    assert parse_signature_input(good) is parse_signature_input(good)  # the same immutable result
    for _ in range(2):  # errors are not cached away
        with pytest.raises(HeaderError) as err:
            parse_signature_input('sig1=("@method" "@method");created=1')
        assert err.value.code == "invalid_signature_input"
        with pytest.raises(HeaderError) as err:
            parse_signature_input('sig1=("@Method");created=1')
        assert err.value.code == "invalid_signature_input"


def test_environ_headers_view_reads_what_the_frameworks_show() -> None:
    """The WSGI view looks names up on demand; it must agree with a copied header mapping."""
    from aauth_core.request import Headers

    environ = {"HTTP_SIGNATURE_INPUT": "sig1=()", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "",
               "HTTP_CONTENT_TYPE": "ignored", "PATH_INFO": "/x", "HTTP_X_MULTI": "a, b"}
    view = Headers.from_environ(environ)
    assert view.get("Signature-Input") == "sig1=()" and view["content-type"] == "text/plain"
    assert "content-length" not in view and view.get("content-length") is None  # empty CGI field: absent
    assert view.get_all("x-multi") == ["a, b"] and view.get_all("nope") == []
    assert view.has_any(frozenset({"signature", "signature-input"}))
    assert not view.has_any(frozenset({"signature", "signature-key"}))
    assert dict(view) == {"signature-input": "sig1=()", "content-type": "text/plain", "x-multi": "a, b"}
    with pytest.raises(KeyError):
        view["signature"]


@pytest.mark.parametrize("fields", [
    [("Content-Type", " application/json\t")],
    [("X-List", "a "), ("x-list", " b")],
    [("X-List", "a"), ("X-List", "b, c")],
])
def test_header_component_is_the_trimmed_joined_field(fields: list[tuple[str, str]]) -> None:
    name = fields[0][0].lower()
    expected = ", ".join(v.strip(" \t") for _, v in fields)
    assert Headers(fields).component(name) == expected
    assert Headers(fields).component("absent") is None


def test_the_usual_content_digest_shape_agrees_with_the_general_parser() -> None:
    import hashlib

    from aauth_core.headers import check_content_digest, format_content_digest

    body = b'{"a": 1}'
    check_content_digest(format_content_digest(body), body)  # fast path
    check_content_digest(" " + format_content_digest(body), body)  # general parser
    check_content_digest(format_content_digest(body) + ", sha-512=:"
                         + base64.b64encode(hashlib.sha512(body).digest()).decode() + ":", body)
    for value in (format_content_digest(b"other"), " " + format_content_digest(b"other")):
        with pytest.raises(HeaderError) as err:
            check_content_digest(value, body)
        assert err.value.code == "digest_mismatch"
