"""The request signer, per scheme, verified by the core Verifier (real keys, JWTs, discovery)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from aauth_core.client import AgentServer, RequestSigner, SignerOptions, encode_form
from aauth_core.errors import SignatureError
from aauth_core.headers import format_content_digest, parse_signature_key
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.verifier import Verifier

from ..conftest import AGENT, ISSUER, NOW, RESOURCE, World
from ..interop import transcript


def verifier(world: World, **kw: object) -> Verifier:
    settings = AAuthSettings(resource_id=RESOURCE, trusted_issuers=(ISSUER,), **kw)  # type: ignore[arg-type]
    return Verifier(settings, discovery=world.discovery(settings), clock=world.clock)


def signed_view(signer: RequestSigner, method: str = "GET", url: str = f"{RESOURCE}/data",
                body: bytes | None = None, headers: dict[str, str] | None = None,
                created: int = NOW) -> RequestView:
    hdrs = dict(headers or {})
    signed = signer.sign(method, url, hdrs, body, created=created)
    return RequestView.from_url(method, url, {**hdrs, **signed.headers}, body)


def test_hwk(world: World) -> None:
    v = verifier(world).verify(signed_view(RequestSigner.hwk(world.agent.key)))
    assert v is not None and v.scheme == "hwk" and v.agent is None
    assert v.components == ("@method", "@authority", "@path", "signature-key")


def test_jwks_agent(world: World) -> None:
    signer = RequestSigner.jwks(world.agent.key, AGENT)
    view = signed_view(signer)
    assert view.headers["signature-key"] == (
        'sig1=(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")')
    v = verifier(world).verify(view)
    assert v is not None and v.agent == AGENT and v.scheme == "jwks"
    assert signer.agent_id == AGENT


def test_jwks_resource_well_known(world: World) -> None:
    signer = RequestSigner.jwks(world.resource.key, RESOURCE, well_known="aauth-resource")
    view = signed_view(signer, url="https://api.example/data")
    assert 'well-known="aauth-resource"' in view.headers["signature-key"]
    v = verifier(world).verify(view)
    assert v is not None and v.agent == RESOURCE


def test_jwt_auth_token(world: World) -> None:
    token = world.auth_token()
    v = verifier(world).verify(signed_view(RequestSigner.jwks(world.agent.key, AGENT).with_token(token)))
    assert v is not None and v.level == "authorization" and v.token == token


def test_jwt_agent_token_delegate(world: World) -> None:
    delegate = SigningKey.generate(kid="delegate-key-1")
    server = AgentServer(AGENT, [world.agent.key], clock=world.clock)
    signer = server.delegate_signer("delegate-1", delegate)
    assert signer.agent_id == AGENT
    v = verifier(world).verify(signed_view(signer))
    assert v is not None and v.agent == AGENT and v.agent_delegate == "delegate-1"
    assert v.key.thumbprint == delegate.thumbprint


def test_body_gets_content_digest_and_components(world: World) -> None:
    body = b'{"a":1}'
    view = signed_view(RequestSigner.jwks(world.agent.key, AGENT), "POST", f"{RESOURCE}/upload?x=1", body,
                       {"Content-Type": "application/json"})
    assert view.headers["content-digest"] == format_content_digest(body)
    v = verifier(world).verify(view)
    assert v is not None
    assert v.components == ("@method", "@authority", "@path", "@query", "content-type", "content-digest",
                            "signature-key")


def test_tampered_body_refused(world: World) -> None:
    view = signed_view(RequestSigner.jwks(world.agent.key, AGENT), "POST", f"{RESOURCE}/upload", b"abc",
                       {"Content-Type": "text/plain"})
    tampered = RequestView.from_url("POST", f"{RESOURCE}/upload", dict(view.headers), b"abd")
    with pytest.raises(Exception) as info:
        verifier(world).verify(tampered)
    assert getattr(info.value, "code", None) == "digest_mismatch"


def test_body_without_content_type_is_a_clear_error(world: World) -> None:
    with pytest.raises(ValueError, match="Content-Type"):
        RequestSigner.hwk(world.agent.key).sign("POST", f"{RESOURCE}/x", {}, b"abc", created=NOW)


def test_options_demo_base_sf_format_and_label(world: World) -> None:
    opts = SignerOptions(base="demo-2026-01", key_format="sf", label="sig")
    view = signed_view(RequestSigner.jwks(world.agent.key, AGENT, options=opts))
    assert view.headers["signature-key"].startswith('sig=jwks_uri;id="https://agent.example"')
    assert parse_signature_key(view.headers["signature-key"]).well_known == "aauth-agent"
    with pytest.raises(SignatureError):  # the default verifier accepts only rfc9421
        verifier(world).verify(view)
    v = verifier(world, signature_bases=("demo-2026-01",), replay_protection=False).verify(view)
    assert v is not None and v.label == "sig" and v.agent == AGENT


def test_signer_repr_hides_token(world: World) -> None:
    token = world.auth_token()
    assert token not in repr(RequestSigner.hwk(world.agent.key).with_token(token))


@pytest.mark.parametrize("body", [transcript.AUTH_BODY, transcript.EXCHANGE_BODY], ids=["auth", "exchange"])
def test_form_encoding_reproduces_transcript_bodies(body: bytes) -> None:
    """Vectors 2 and 5: our form encoding of the transcript's parameters is byte-identical."""
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    assert encode_form(pairs) == body


def test_caller_supplied_digest_for_a_streamed_body(world: World) -> None:
    """``sign_request(content_digest=...)``: the body is not in memory when signing."""
    body = b"streamed bytes"
    digest = format_content_digest(body)
    headers = {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"}
    signed = RequestSigner.jwks(world.agent.key, AGENT).sign("POST", f"{RESOURCE}/upload", headers, None,
                                                            created=NOW, content_digest=digest)
    assert signed.headers["Content-Digest"] == digest
    view = RequestView.from_url("POST", f"{RESOURCE}/upload", {**headers, **signed.headers}, body)
    v = verifier(world).verify(view)
    assert v is not None and "content-digest" in v.components
    wrong = RequestView.from_url("POST", f"{RESOURCE}/upload", {**headers, **signed.headers}, b"other bytes")
    with pytest.raises(Exception) as info:
        verifier(world).verify(wrong)
    assert getattr(info.value, "code", None) == "digest_mismatch"
