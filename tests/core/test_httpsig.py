"""Signature bases, signing and verification (RFC 9421 and the demo base)."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from aauth_core.errors import SignatureError
from aauth_core.headers import SignatureKey, parse_signature, parse_signature_input
from aauth_core.httpsig import (
    check_components,
    check_created,
    required_components,
    sign_request,
    signature_base,
    verify_signature,
)
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView

RFC_ED25519_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----"""

B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="


def _b26_view() -> RequestView:
    return RequestView.from_url(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            "Content-Length": "18",
        },
        b'{"hello": "world"}',
    )


def test_rfc9421_b26_ed25519_vector_reproduces_byte_for_byte() -> None:
    key = SigningKey.from_pem(RFC_ED25519_PEM)
    params = parse_signature_input(
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    base = signature_base(_b26_view(), params)
    assert base == B26_BASE.encode()
    assert base64.b64encode(key.sign(base)).decode() == B26_SIGNATURE
    _, sig = parse_signature(f"sig-b26=:{B26_SIGNATURE}:")
    verify_signature(_b26_view(), params, sig, key.public)


def _sk(key: SigningKey) -> SignatureKey:
    return SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"})


def _signed_view(method: str, url: str, body: bytes | None = None, *, base="rfc9421", created=1_700_000_000):
    key = SigningKey.generate(kid="k1")
    headers = {"Content-Type": "application/json"} if body else {}
    signed = sign_request(method, url, headers, body, key=key, signature_key=_sk(key), created=created, base=base)
    view = RequestView.from_url(method, url, {**headers, **signed.headers}, body)
    return key, signed, view


@pytest.mark.parametrize("base", ["rfc9421", "demo-2026-01"])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://api.example/data", None),
        ("GET", "https://api.example/data?x=1&y=%20z", None),
        ("POST", "https://api.example:8443/items", b'{"a": 1}'),
        ("DELETE", "https://api.example/p%C3%A4th/%2Fx", None),
    ],
)
def test_sign_then_verify_round_trip(base, method, url, body) -> None:
    key, _, view = _signed_view(method, url, body, base=base)
    params = parse_signature_input(view.headers["signature-input"])
    _, sig = parse_signature(view.headers["signature"])
    check_components(params, view)
    verify_signature(view, params, sig, key.public, base=base)
    other = "demo-2026-01" if base == "rfc9421" else "rfc9421"
    with pytest.raises(SignatureError):
        verify_signature(view, params, sig, key.public, base=other)


def test_components_follow_the_demo_order() -> None:
    _, signed, _ = _signed_view("POST", "https://a.example/t?q=1", b"x")
    assert signed.params.components == (
        "@method", "@authority", "@path", "@query", "content-type", "content-digest", "signature-key",
    )
    _, signed, _ = _signed_view("GET", "https://a.example/t")
    assert signed.params.components == ("@method", "@authority", "@path", "signature-key")


def test_query_value_differs_between_bases() -> None:
    _, signed, view = _signed_view("GET", "https://a.example/t?q=1")
    assert b'"@query": ?q=1\n' in signature_base(view, signed.params, base="rfc9421")
    assert b'"@query": q=1\n' in signature_base(view, signed.params, base="demo-2026-01")


def test_demo_base_has_trailing_lf_and_no_params_line() -> None:
    _, signed, view = _signed_view("GET", "https://a.example/t")
    demo = signature_base(view, signed.params, base="demo-2026-01")
    assert demo.endswith(b"\n") and b"@signature-params" not in demo
    rfc = signature_base(view, signed.params)
    assert not rfc.endswith(b"\n") and b'"@signature-params": (' in rfc


def test_signature_output_is_base64url_unpadded_and_both_alphabets_are_accepted() -> None:
    key, signed, view = _signed_view("GET", "https://a.example/t")
    value = signed.headers["Signature"]
    assert view.headers["signature"] == value
    assert "=" not in value.split("=:", 1)[1]
    params = parse_signature_input(view.headers["signature-input"])
    _, raw = parse_signature(value)
    std = "sig1=:" + base64.b64encode(raw).decode() + ":"
    _, again = parse_signature(std)
    assert again == raw
    verify_signature(view, params, again, key.public)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda v: RequestView(**{**_fields(v), "method": "PUT"}), "invalid_signature"),
        (lambda v: RequestView(**{**_fields(v), "path": "/other"}), "invalid_signature"),
        (lambda v: RequestView(**{**_fields(v), "authority": "evil.example"}), "invalid_signature"),
        (lambda v: RequestView(**{**_fields(v), "query": "x=2"}), "invalid_signature"),
    ],
)
def test_tampering_is_detected(mutate, code) -> None:
    key, _, view = _signed_view("GET", "https://a.example/t?x=1")
    params = parse_signature_input(view.headers["signature-input"])
    _, sig = parse_signature(view.headers["signature"])
    with pytest.raises(SignatureError) as err:
        verify_signature(mutate(view), params, sig, key.public)
    assert err.value.code == code


def _fields(v: RequestView) -> dict:
    return {"method": v.method, "authority": v.authority, "path": v.path, "query": v.query,
            "headers": v.headers, "body": v.body, "scheme": v.scheme}


@pytest.mark.parametrize(
    ("components", "view_url", "body", "missing"),
    [
        ('("@method" "@authority" "signature-key")', "https://a.example/t", None, "@path"),
        ('("@method" "@authority" "@path")', "https://a.example/t", None, "signature-key"),
        ('("@method" "@authority" "@path" "signature-key")', "https://a.example/t?q", None, "@query"),
        ('("@method" "@authority" "@path" "signature-key")', "https://a.example/t", b"x", "content-digest"),
    ],
)
def test_required_components_are_enforced(components, view_url, body, missing) -> None:
    params = parse_signature_input(f"sig1={components};created=1")
    view = RequestView.from_url("POST", view_url, {"Content-Type": "text/plain"} if body else {}, body)
    with pytest.raises(SignatureError) as err:
        check_components(params, view)
    assert err.value.code == "missing_component"
    assert missing in err.value.description


def test_body_is_detected_from_content_length_without_reading_it() -> None:
    view = RequestView.from_url("POST", "https://a.example/t", {"Content-Length": "5"}, None)
    assert "content-digest" in required_components(view)
    view = RequestView.from_url("POST", "https://a.example/t", {"Content-Length": "0"}, None)
    assert "content-digest" not in required_components(view)


@pytest.mark.parametrize(
    ("created", "expires", "now", "code"),
    [
        (None, None, 1000, "missing_created"),
        (900, None, 1000, "signature_expired"),
        (1100, None, 1000, "signature_not_yet_valid"),
        (990, 995, 1000, "signature_expired"),
        (990, 980, 985, "invalid_signature_input"),
    ],
)
def test_created_window(created, expires, now, code) -> None:
    params = parse_signature_input(
        'sig1=("@method")' + (f";created={created}" if created is not None else "")
        + (f";expires={expires}" if expires is not None else "")
    )
    with pytest.raises(SignatureError) as err:
        check_created(params, now=now, max_age=60, max_future=30)
    assert err.value.code == code


def test_created_window_edges_are_inclusive() -> None:
    check_created(parse_signature_input('sig1=("@method");created=940'), now=1000, max_age=60, max_future=5)
    check_created(parse_signature_input('sig1=("@method");created=1005'), now=1000, max_age=60, max_future=5)


def test_alg_parameter_must_match_the_key() -> None:
    key, _, view = _signed_view("GET", "https://a.example/t")
    params = parse_signature_input(view.headers["signature-input"].replace(";created", ';alg="ecdsa-p256-sha256";created'))
    _, sig = parse_signature(view.headers["signature"])
    with pytest.raises(SignatureError) as err:
        verify_signature(view, params, sig, key.public)
    assert err.value.code == "unsupported_algorithm"


def test_p256_signatures_round_trip() -> None:
    key = SigningKey.generate("p256", kid="p")
    sk = SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"})
    signed = sign_request("GET", "https://a.example/t", {}, None, key=key, signature_key=sk, created=5,
                          include_alg=True)
    view = RequestView.from_url("GET", "https://a.example/t", signed.headers)
    params = parse_signature_input(view.headers["signature-input"])
    assert params.alg == "ecdsa-p256-sha256"
    _, sig = parse_signature(view.headers["signature"])
    assert len(sig) == 64
    verify_signature(view, params, sig, key.public)


def test_sign_requires_content_type_with_body() -> None:
    key = SigningKey.generate(kid="k")
    with pytest.raises(ValueError):
        sign_request("POST", "https://a.example/", {}, b"x", key=key, signature_key=_sk(key), created=1)


# --------------------------------------------------------------------------- independent cross-check

hms = pytest.importorskip("http_message_signatures")


def _hms_verifier(key: SigningKey):
    resolver = hms.MappingKeyResolver(public_keys={"k1": key.public.key}, private_keys={"k1": key.private})
    return (
        hms.HTTPMessageVerifier(signature_algorithm=hms.algorithms.ED25519, key_resolver=resolver),
        hms.HTTPMessageSigner(signature_algorithm=hms.algorithms.ED25519, key_resolver=resolver),
    )


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("GET", "https://api.example/x", None), ("GET", "https://api.example/x?a=b", None),
     ("POST", "https://api.example:8443/x", b'{"k": "v"}')],
)
def test_our_rfc9421_signatures_verify_with_http_message_signatures(method, url, body) -> None:
    key = SigningKey.generate(kid="k1")
    headers = {"Content-Type": "application/json"} if body else {}
    created = __import__("time").time().__int__()
    signed = sign_request(method, url, headers, body, key=key, signature_key=_sk(key), created=created,
                          keyid="k1", encoding="base64")
    message = SimpleNamespace(method=method, url=url, headers={**headers, **signed.headers})
    verifier, _ = _hms_verifier(key)
    (result,) = verifier.verify(message, body=body)
    assert result.label == "sig1"
    covered = {k.strip('"') for k in result.covered_components}
    assert covered == {*signed.params.components, "@signature-params"}


def test_http_message_signatures_output_verifies_with_ours() -> None:
    import datetime

    key = SigningKey.generate(kid="k1")
    sk = _sk(key)
    url = "https://api.example/data?q=1"
    message = SimpleNamespace(method="GET", url=url, headers={"Signature-Key": sk.raw})
    _, signer = _hms_verifier(key)
    signer.sign(
        message, key_id="k1", label="sig1", include_alg=False,
        created=datetime.datetime.fromtimestamp(1_700_000_000, tz=datetime.UTC),
        covered_component_ids=("@method", "@authority", "@path", "@query", "signature-key"),
    )
    view = RequestView.from_url("GET", url, message.headers)
    params = parse_signature_input(view.headers["signature-input"])
    _, sig = parse_signature(view.headers["signature"])
    verify_signature(view, params, sig, key.public)
