"""How the aauth-11 agent signs: SK-09 Signature-Key, covered components, standard base64 (and the
base64url compatibility switch), no alg/keyid, decision P8 (no two identical signatures); and
January signing left byte for byte as it was."""

from __future__ import annotations

import base64

import pytest

from aauth_core.client import RequestSigner, SignerOptions
from aauth_core.headers import SignatureKey, parse_signature, parse_signature_input
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey

from ..conftest import NOW
from .conftest import Net11
from .parties import RESOURCE


def components(seen: object) -> tuple[str, ...]:
    return parse_signature_input(seen.headers["signature-input"]).components  # type: ignore[attr-defined]


def test_p8_two_identical_requests_in_one_second_differ(net: Net11, mode: str) -> None:
    """Ed25519 is deterministic: the second request would repeat the first signature byte for byte,
    and the resource's replay cache would refuse it.  A nonce tells them apart."""
    auth = net.auth()
    first, second = net.send(auth, [("GET", RESOURCE + "/agent", {}), ("GET", RESOURCE + "/agent", {})], mode=mode)
    assert first.status_code == second.status_code == 200, second.text  # the real verifier's replay cache passed both
    a, b = net.router.seen
    assert parse_signature_input(a.headers["signature-input"]).nonce is None
    nonce = parse_signature_input(b.headers["signature-input"]).nonce
    assert nonce and len(nonce) >= 16 and a.headers["signature"] != b.headers["signature"]
    assert parse_signature_input(a.headers["signature-input"]).created == parse_signature_input(
        b.headers["signature-input"]).created


def test_p8_across_engines_too(net: Net11) -> None:
    token = net.agent_token()
    net.send(net.auth(agent_token=token), [("GET", RESOURCE + "/agent", {})])
    net.send(net.auth(agent_token=token), [("GET", RESOURCE + "/agent", {})])
    a, b = net.router.seen
    assert a.headers["signature"] != b.headers["signature"] and len(net.resource.served) == 2


def test_a_new_second_needs_no_nonce(net: Net11) -> None:
    auth = net.auth()
    net.send(auth, [("GET", RESOURCE + "/agent", {})])
    net.world.clock.advance(1)
    net.send(auth, [("GET", RESOURCE + "/agent", {})])
    assert all(parse_signature_input(s.headers["signature-input"]).nonce is None for s in net.router.seen)


def test_query_authorization_and_body_are_covered(net: Net11, mode: str) -> None:
    responses = net.send(net.auth(), [
        ("GET", RESOURCE + "/agent?q=1", {}),
        ("GET", RESOURCE + "/agent", {"headers": {"Authorization": "AAuth session-1"}}),
        ("POST", RESOURCE + "/agent", {"json": {"x": 1}}),
    ], mode=mode)
    assert [r.status_code for r in responses] == [200, 200, 200]  # the real verifier checked each
    query, authorization, body = net.router.seen
    base = ("@method", "@authority", "@path", "signature-key")
    assert components(query) == (*base, "@query")
    assert components(authorization) == (*base, "authorization")
    assert components(body) == (*base, "content-digest", "content-type")
    assert body.headers["content-digest"].startswith("sha-256=:")


def test_query_coverage_can_be_turned_off(net: Net11) -> None:
    auth = net.auth(signer_options=SignerOptions.aauth_11(cover_query=False))
    assert net.get(auth, "/agent?q=1").status_code == 200
    assert "@query" not in components(net.router.seen[0])


def test_standard_base64_by_default(net: Net11) -> None:
    net.get(net.auth(), "/agent")
    value = net.router.seen[0].headers["signature"]
    raw = value[len("sig=:"):-1]
    assert base64.b64decode(raw, validate=True) == parse_signature(value)[1]
    assert raw.endswith("==")  # 64 bytes: padded


def test_base64url_compatibility_switch(net: Net11, mode: str) -> None:
    auth = net.auth(signer_options=SignerOptions.aauth_11(signature_encoding="base64url"))
    assert net.get(auth, "/agent", mode=mode).status_code == 200  # our verifier reads both alphabets
    raw = net.router.seen[0].headers["signature"][len("sig=:"):-1]
    assert "=" not in raw and "+" not in raw and "/" not in raw


def test_base64url_only_for_the_origins_named(net: Net11, mode: str) -> None:
    """The switch narrowed to one origin (an aauth 0.5.0 resource): the person server and every
    other origin still get the standard form.  Origins are compared normalised."""
    from .parties import PS

    options = SignerOptions.aauth_11(base64url_origins=["HTTPS://API.example:443"])
    assert options.encoding_for(RESOURCE + "/data") == "base64url"
    assert options.encoding_for(PS + "/token") == "base64"
    assert options.encoding_for("https://api.example:8443/data") == "base64"
    assert net.get(net.auth(signer_options=options), "/data", mode=mode).status_code == 200
    sent = {s.url.split("/")[2]: s.headers["signature"][len("sig=:"):-1] for s in net.router.seen
            if "signature" in s.headers}
    assert "=" not in sent["api.example"] and "+" not in sent["api.example"]
    assert sent["ps.example"].endswith("==")  # 64 bytes, standard and padded


def test_the_engine_refuses_january_signer_options(net: Net11) -> None:
    with pytest.raises(ValueError, match="aauth_11"):
        net.auth(signer_options=SignerOptions())
    with pytest.raises(ValueError, match="RFC 9421"):
        SignerOptions(profile="aauth-11", base="demo-2026-01")


def test_signer_writes_the_sk09_form() -> None:
    key = SigningKey.generate()
    signer = RequestSigner.jwt(key, "eyJhbGciOiJFZDI1NTE5In0.e30.c2ln", options=SignerOptions.aauth_11())
    signed = signer.sign("GET", "https://api.example/x", {}, None, created=NOW)
    assert signed.headers["Signature-Key"] == 'sig=jwt;jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"'
    assert signed.headers["Signature-Input"] == (
        f'sig=("@method" "@authority" "@path" "signature-key");created={NOW}')
    assert key.public.verify(parse_signature(signed.headers["Signature"])[1], signed.base)


@pytest.mark.parametrize("fmt", ["transcript", "sf"])
def test_january_signing_is_byte_identical(fmt: str) -> None:
    key = SigningKey.generate(kid="k1")
    options = SignerOptions(key_format=fmt)  # type: ignore[arg-type]
    signer = RequestSigner.jwks(key, "https://agent.example", options=options)
    headers = {"Content-Type": "application/json"}
    ours = signer.sign("POST", "https://api.example/a?b=1", headers, b"{}", created=NOW)
    sk = SignatureKey.build("jwks", {"id": "https://agent.example", "kid": "k1", "well-known": "aauth-agent"},
                            label="sig1", fmt=fmt)  # type: ignore[arg-type]
    direct = sign_request("POST", "https://api.example/a?b=1", headers, b"{}", key=key, signature_key=sk,
                          created=NOW)
    assert dict(ours.headers) == dict(direct.headers) and ours.base == direct.base
    assert "=" not in ours.headers["Signature"][len("sig1=:"):-1]  # January: unpadded base64url


def test_redirects_strip_or_re_sign(net: Net11, mode: str) -> None:
    net.router.routes["https://other.example"] = lambda request: (200, {"Content-Type": "application/json"}, b"{}")
    net.resource.replies = [(307, {"Location": "https://other.example/x"}, b""), (307, {"Location": "/agent"}, b"")]
    auth = net.auth()
    cross, same = net.send(auth, [("GET", RESOURCE + "/a", {}), ("GET", RESOURCE + "/b", {})], mode=mode,
                           follow_redirects=True)
    assert cross.status_code == same.status_code == 200
    other = net.router.to("https://other.example")[0]
    assert not {"signature", "signature-input", "signature-key"} & set(other.headers)  # no token to another host
    resigned = net.router.to(RESOURCE + "/agent")[0]
    assert resigned.typ == "aa-agent+jwt" and net.resource.served  # re-signed for its own path, and verified
