"""Header codecs: tolerant where A3/A4 say so, strict everywhere else."""

from __future__ import annotations

import pytest

from aauth_core.errors import HeaderError
from aauth_core.headers import (
    AgentAuthChallenge,
    SignatureKey,
    check_content_digest,
    format_agent_auth,
    format_content_digest,
    format_signature_key,
    parse_agent_auth,
    parse_content_digest,
    parse_signature,
    parse_signature_input,
    parse_signature_key,
)

X = "EBtHEC1k4YT2S9_wmP2GPJoNhMBmWmR0UNRTD5tdW5o"


# --------------------------------------------------------------------------- Signature-Key


@pytest.mark.parametrize(
    ("value", "scheme", "params"),
    [
        (f'sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="{X}")', "hwk", {"kty": "OKP", "crv": "Ed25519", "x": X}),
        ('sig1=(scheme=jwks id="http://127.0.0.1:8001" kid="key-1" well-known="aauth-agent")', "jwks",
         {"id": "http://127.0.0.1:8001", "kid": "key-1", "well-known": "aauth-agent"}),
        ('sig=(scheme=jwks jwks="https://a.example/jwks.json" kid="k")', "jwks",
         {"jwks": "https://a.example/jwks.json", "kid": "k"}),
        ('sig1=(scheme=jwt jwt="a.b.c")', "jwt", {"jwt": "a.b.c"}),
        ('sig1=(scheme=x509 x5u="https://a.example/c.pem" x5t="abc")', "x509",
         {"x5u": "https://a.example/c.pem", "x5t": "abc"}),
        # RFC 8941 form of later signature-key drafts (A4)
        (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}"', "hwk", {"kty": "OKP", "crv": "Ed25519", "x": X}),
        ('sig=jwks_uri;id="https://a.example";dwk="aauth-agent";kid="k"', "jwks",
         {"id": "https://a.example", "well-known": "aauth-agent", "kid": "k"}),
        ('sig=jwt;jwt="a.b.c"', "jwt", {"jwt": "a.b.c"}),
    ],
)
def test_signature_key_forms(value, scheme, params) -> None:
    sk = parse_signature_key(value)
    assert sk.scheme == scheme
    assert dict(sk.params) == params
    assert sk.raw == value


def test_signature_key_transcript_output_matches_the_transcript_byte_for_byte() -> None:
    sk = SignatureKey.build("jwks", {"id": "http://127.0.0.1:8001", "kid": "key-1", "well-known": "aauth-agent"})
    assert sk.raw == 'sig1=(scheme=jwks id="http://127.0.0.1:8001" kid="key-1" well-known="aauth-agent")'
    sk = SignatureKey.build("hwk", {"x": X, "kty": "OKP", "crv": "Ed25519"})
    assert sk.raw == f'sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="{X}")'


def test_signature_key_sf_output_round_trips() -> None:
    sk = SignatureKey.build("jwks", {"id": "https://a.example", "kid": "k", "well-known": "aauth-agent"}, fmt="sf")
    assert sk.raw == 'sig1=jwks_uri;id="https://a.example";kid="k";dwk="aauth-agent"'
    again = parse_signature_key(sk.raw)
    assert dict(again.params) == {"id": "https://a.example", "kid": "k", "well-known": "aauth-agent"}
    assert format_signature_key(again, "transcript").startswith("sig1=(scheme=jwks ")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "invalid_signature_key"),
        ("sig1=(kid=\"x\")", "invalid_signature_key"),  # no scheme
        ("sig1=(scheme=foo a=\"b\")", "unsupported_scheme"),
        ("sig1=(scheme=hwk kty=\"OKP\" crv=\"Ed25519\")", "invalid_signature_key"),  # no x
        # P4: an alg that fits the key is accepted (test_hwk_alg.py); one that does not is refused
        (f'sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="{X}" alg="ES256")', "invalid_key"),
        (f'sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="{X}" alg="none")', "unsupported_algorithm"),
        ('sig1=(scheme=jwks kid="k")', "invalid_signature_key"),  # neither id nor jwks
        ('sig1=(scheme=jwks id="https://a" jwks="https://a/j" kid="k")', "invalid_signature_key"),  # both
        ('sig1=(scheme=jwks id="https://a")', "invalid_signature_key"),  # no kid
        ('sig1=(scheme=jwks id="https://a" kid="k" well-known="../x")', "invalid_signature_key"),
        ('sig1=(scheme=jwt)', "invalid_signature_key"),
        ('sig1=(scheme=x509 x5u="https://a")', "invalid_signature_key"),
        ('sig1=(scheme=jwt jwt="a") , sig2=(scheme=jwt jwt="b")', "invalid_signature_key"),  # two members
        ('sig1=(scheme=jwt jwt="a")junk', "invalid_signature_key"),
        ('sig1=(scheme=jwt jwt="a" jwt="b")', "invalid_signature_key"),  # repeated param
        ('sig1=(scheme=jwt  jwt="a"', "invalid_signature_key"),  # unterminated
        ('sig1=hwk;kty="OKP", sig2=jwt;jwt="x"', "invalid_signature_key"),
        ("sig1=hwk;kty=?1", "invalid_signature_key"),
        ('sig1=(scheme=jwt jwt="' + "a" * 20000 + '")', "invalid_signature_key"),  # oversized
        ("sig1=(scheme=jwt jwt=\"\u00e9\")", "invalid_signature_key"),
    ],
)
def test_signature_key_bad_inputs(value, code) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature_key(value)
    assert err.value.code == code


def test_hwk_key_with_bad_material_is_a_header_error() -> None:
    sk = parse_signature_key('sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="short")')
    with pytest.raises(HeaderError) as err:
        sk.hwk_key()
    assert err.value.code == "invalid_signature_key"


# --------------------------------------------------------------------------- Signature-Input


def test_signature_input_transcript_form() -> None:
    p = parse_signature_input('sig1=("@method" "@authority" "@path" "signature-key");created=1768786273')
    assert p.label == "sig1"
    assert p.components == ("@method", "@authority", "@path", "signature-key")
    assert p.created == 1768786273
    assert p.serialize() == '("@method" "@authority" "@path" "signature-key");created=1768786273'


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sig1=(\"@method\")x",
        'sig1=("@method");created=1, sig2=("@method");created=1',  # two signatures
        'sig1=("@method");created=1, sig1=("@path");created=2',  # duplicate label
        'sig1=("@method" "@method");created=1',  # duplicated component
        'sig1=("@Method");created=1',  # component name case
        'sig1=("Content-Type");created=1',
        'sig1=("content-digest";sf);created=1',  # component parameters
        'sig1=(@method);created=1',  # tokens, not strings
        'sig1=("@method");created=-5',
        'sig1=("@method");created=1.5',
        'sig1=("@method");created="1"',
        'sig1=("@method");created=?1',
        'sig1=("@method");foo=1',
        'sig1=("@method");nonce=1',
        'sig1="@method"',
        'sig1=("@method");created=9999999999999999',
        'sig1=("@method");created=1;created=2',
        'sig1=( "@method" "@method" );created=1',
        'sig1=("@method" "@path");created=1;keyid="a";keyid="b"',
    ],
)
def test_signature_input_bad_inputs(value) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature_input(value)
    assert err.value.code == "invalid_signature_input"


# --------------------------------------------------------------------------- Signature


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sig1=abc",
        "sig1=:not base64!:",
        "sig1=:abc",
        "sig1=:YWJj:, sig2=:YWJj:",
        "sig1=:YWJj:;p=1",
        "sig1=:A:",
    ],
)
def test_signature_bad_inputs(value) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature(value)
    assert err.value.code == "invalid_signature_header"


def test_signature_accepts_both_alphabets_with_and_without_padding() -> None:
    import base64

    raw = bytes.fromhex("fbeffbfcfdfeff")
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    assert std != url
    for text in (std, std.rstrip("="), url, url.rstrip("=")):
        assert parse_signature(f"sig1=:{text}:") == ("sig1", raw)


# --------------------------------------------------------------------------- Content-Digest


def test_content_digest_round_trip_and_mismatch() -> None:
    body = b"hello"
    value = format_content_digest(body)
    check_content_digest(value, body)
    with pytest.raises(HeaderError) as err:
        check_content_digest(value, b"hellO")
    assert err.value.code == "digest_mismatch"
    check_content_digest(format_content_digest(body, "sha-512"), body)


def test_content_digest_with_several_values_checks_every_known_one() -> None:
    good256 = format_content_digest(b"x")
    bad512 = format_content_digest(b"y", "sha-512")
    with pytest.raises(HeaderError) as err:
        check_content_digest(f"{good256}, {bad512}", b"x")
    assert err.value.code == "digest_mismatch"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("md5=:AAAA:", "unsupported_digest_algorithm"),
        ("sha-256=:AAAA:, sha-256=:AAAA:", "invalid_content_digest"),
        ("sha-256=abc", "invalid_content_digest"),
        ("sha-256", "invalid_content_digest"),
        ("", "invalid_content_digest"),
    ],
)
def test_content_digest_bad_inputs(value, code) -> None:
    with pytest.raises(HeaderError) as err:
        parse_content_digest(value)
    assert err.value.code == code


# --------------------------------------------------------------------------- Agent-Auth


@pytest.mark.parametrize(
    ("challenge", "text"),
    [
        (AgentAuthChallenge(), "httpsig"),
        (AgentAuthChallenge(identity=True), "httpsig; identity=?1"),
        (AgentAuthChallenge(auth_token=True, resource_token="eyJ.x.y", auth_server="http://127.0.0.1:8003"),
         'httpsig; auth-token; resource_token="eyJ.x.y"; auth_server="http://127.0.0.1:8003"'),
        (AgentAuthChallenge(user_interaction="https://r.example/login"),
         'httpsig; user_interaction="https://r.example/login"'),
        (AgentAuthChallenge(identity=True, algs=("ed25519", "rsa-pss-sha512")),
         'httpsig; identity=?1; algs=("ed25519" "rsa-pss-sha512")'),
    ],
)
def test_agent_auth_round_trip(challenge, text) -> None:
    assert format_agent_auth(challenge) == text
    assert parse_agent_auth(text) == challenge


def test_agent_auth_levels_and_unknown_params() -> None:
    c = parse_agent_auth('httpsig;auth-token;resource_token="a";auth_server="b";future=1')
    assert c.level == "authorization"
    assert c.extra["future"] == 1
    assert parse_agent_auth("httpsig; identity=?1").level == "identity"
    assert parse_agent_auth("httpsig").level == "signature"


@pytest.mark.parametrize(
    "value",
    [
        "", "bearer", '"httpsig"', "httpsig; identity=1", "httpsig; auth-token=?0",
        "httpsig; resource_token=abc", 'httpsig; algs=("a" b)', "httpsig; algs=5", "httpsig,", "httpsig; Auth=1",
    ],
)
def test_agent_auth_bad_inputs(value) -> None:
    with pytest.raises(HeaderError) as err:
        parse_agent_auth(value)
    assert err.value.code == "invalid_agent_auth"


@pytest.mark.parametrize(
    "value",
    [
        'sig1=("@method" "@path");keyid="k";created=5',
        'sig1=( "@method"  "@path" );keyid="k";created=5',
        'sig1=("@method" "@path");keyid="k";created=05',
    ],
)
def test_signature_input_keeps_the_signers_parameter_order(value) -> None:
    """The @signature-params line must be the signer's serialization, not ours (RFC 9421 §2.3)."""
    p = parse_signature_input(value)
    assert p.serialize() == '("@method" "@path");keyid="k";created=5'
    assert (p.keyid, p.created) == ("k", 5)
