"""The aauth-11 wire codecs: SK-09 Signature-Key, AAuth-Requirement, Signature-Error,
Accept-Signature-*, -11 coverage, signature bytes and identifiers.  The aauth-go vectors
(tests/interop/test_aauth_go_vectors.py) check the same code against a peer."""

from __future__ import annotations

import base64

import pytest

from aauth_core.errors import AAuthError, HeaderError
from aauth_core.headers import SignatureKey, parse_signature, parse_signature_key
from aauth_core.profile import AAUTH_11
from aauth_core.profile.identifiers import (
    AgentIdentifier,
    InvalidIdentifier,
    check_server_identifier,
    is_agent_identifier,
    is_server_identifier,
    parse_agent_identifier,
)
from aauth_core.wire.coverage import check_covers, required_components_11
from aauth_core.wire.requirement import (
    REQUIREMENTS_202,
    REQUIREMENTS_401,
    AAuthRequirement,
    format_requirement,
    parse_requirement,
)
from aauth_core.wire.signature import format_signature
from aauth_core.wire.signature_error import (
    AAUTH_SIGNATURE_ERRORS,
    SIGNATURE_ERRORS,
    SignatureErrorField,
    format_accept_signature,
    format_signature_error,
    parse_accept_signature,
    parse_signature_error,
)
from aauth_core.wire.signature_input import SignatureParams
from aauth_core.wire.signature_key import parse_signature_key_member, read_signature_key_member

X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8037 A.1
EC_X, EC_Y = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
JWT = "eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"
X5T = base64.b64encode(bytes(range(32))).decode()


# ----------------------------------------------------------------------------- Signature-Key (SK-09)


@pytest.mark.parametrize(("value", "scheme", "wire", "params", "flags"), [
    (f'sig=jwt;jwt="{JWT}"', "jwt", "jwt", {"jwt": JWT}, set()),
    (f'sig=jwt; jwt="{JWT}"; cache', "jwt", "jwt", {"jwt": JWT}, {"cache"}),
    (f'sig=jkt-jwt;jwt="{JWT}";cache', "jkt-jwt", "jkt-jwt", {"jwt": JWT}, {"cache"}),
    ('sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="key-1"', "jwks", "jwks_uri",
     {"id": "https://ps.example", "well-known": "aauth-person.json", "kid": "key-1"}, set()),
    ('sig=jwks;url="https://a.example/keys.jwks";kid="k"', "jwks", "jwks",
     {"jwks": "https://a.example/keys.jwks", "kid": "k"}, set()),
    (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="Ed25519"', "hwk", "hwk",
     {"kty": "OKP", "crv": "Ed25519", "x": X, "alg": "Ed25519"}, set()),
    (f'sig=hwk;kty="EC";crv="P-256";x="{EC_X}";y="{EC_Y}";alg="ES256"', "hwk", "hwk",
     {"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "ES256"}, set()),
    (f'sig=x509;x5u="https://a.example/c.pem";x5t=:{X5T}:', "x509", "x509",
     {"x5u": "https://a.example/c.pem", "x5t": base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")},
     set()),
    # unknown parameters (and flags other than cache) are ignored
    (f'sig=jwt;jwt="{JWT}";future="x";n=1;other', "jwt", "jwt", {"jwt": JWT}, set()),
])
def test_sk09_forms(value: str, scheme: str, wire: str, params: dict[str, str], flags: set[str]) -> None:
    sk = parse_signature_key_member(value, "sig")
    assert (sk.label, sk.scheme, sk.wire_scheme, dict(sk.params), set(sk.flags)) == ("sig", scheme, wire, params,
                                                                                    flags)
    assert sk.raw == value


def test_the_member_for_the_label_is_selected_and_the_others_never_read() -> None:
    value = f'sig1=hwk;kty="OKP", sig=jwt;jwt="{JWT}", sig2=x-future;blob=:AAAA:, sig3="junk"'
    assert parse_signature_key_member(value, "sig").jwt == JWT
    with pytest.raises(HeaderError) as err:
        parse_signature_key_member(value, "sig1")  # selected: now its rules apply
    assert err.value.code == "invalid_signature_key"  # an inline key without x
    with pytest.raises(HeaderError) as err:
        parse_signature_key_member(value, "sig1", schemes=AAUTH_11.agent_schemes)
    assert err.value.code == "unsupported_scheme"  # and no agent signs with hwk under -11
    assert read_signature_key_member(value, "sig2").scheme == "x-future"


@pytest.mark.parametrize(("value", "label", "schemes", "code"), [
    (f'sig1=jwt;jwt="{JWT}"', "sig", None, "label_mismatch"),
    ('sig="jwt";jwt="x"', "sig", None, "invalid_signature_key"),
    ('sig=(jwt);jwt="x"', "sig", None, "invalid_signature_key"),
    ("sig=jwt", "sig", None, "invalid_signature_key"),
    ("sig=jwt;jwt=tok", "sig", None, "invalid_signature_key"),  # a Token is not a String
    ('sig=jwt;jwt=""', "sig", None, "invalid_signature_key"),
    ('sig=self-jwt;jwt="x"', "sig", None, "unsupported_scheme"),
    ('sig=cached;cid="2f9c"', "sig", None, "unsupported_scheme"),
    ("sig=x-unregistered", "sig", None, "unsupported_scheme"),
    # the scheme is refused before its parameters are looked at (-11 §11.3.4 step 4)
    ("sig=hwk", "sig", AAUTH_11.agent_schemes, "unsupported_scheme"),
    ('sig=jwks_uri;id="https://ps.example"', "sig", AAUTH_11.agent_schemes, "unsupported_scheme"),
    ('sig=jwks_uri;id="https://ps.example";kid="k"', "sig", None, "invalid_signature_key"),  # no dwk
    ('sig=jwks_uri;id="https://ps.example";dwk="../admin";kid="k"', "sig", None, "invalid_signature_key"),
    ('sig=jwks;kid="k"', "sig", None, "invalid_signature_key"),
    ('sig=x509;x5u="https://a.example/c.pem"', "sig", None, "invalid_signature_key"),
    ('sig=x509;x5u="https://a.example/c.pem";x5t="abc"', "sig", None, "invalid_signature_key"),  # a String
    ("sig=jwt;jwt=:AAAA:", "sig", None, "invalid_signature_key"),  # a Byte Sequence is not a JWT
    # SK-09 §3.3/§3.4 on an inline key: alg required, fully specified, fitting the key; no kid
    (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}"', "sig", None, "unsupported_algorithm"),
    (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="EdDSA"', "sig", None, "unsupported_algorithm"),
    (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="ES256"', "sig", None, "invalid_key"),
    (f'sig=hwk;kty="OKP";crv="X25519";x="{X}";alg="Ed25519"', "sig", None, "invalid_key"),
    (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="Ed25519";kid="k"', "sig", None, "invalid_signature_key"),
    ('sig=jwt;jwt="a", sig=jwt;jwt="b"', "sig", None, "invalid_signature_key"),  # a repeated label
    (f'sig=jwt;jwt="{"a" * 20000}"', "sig", None, "invalid_signature_key"),
])
def test_sk09_refusals(value: str, label: str, schemes: tuple[str, ...] | None, code: str) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature_key_member(value, label, schemes=schemes)
    assert err.value.code == code


def test_january_reading_is_unchanged_by_the_sk09_form() -> None:
    """The January parser keeps its one-member rule and its four schemes."""
    for value, code in ((f'sig=jwt;jwt="{JWT}";cache', "invalid_signature_key"),
                        (f'sig1=hwk;kty="OKP", sig=jwt;jwt="{JWT}"', "invalid_signature_key"),
                        (f'sig1=(scheme=jkt-jwt jwt="{JWT}")', "unsupported_scheme"),
                        (f'sig=jkt-jwt;jwt="{JWT}"', "unsupported_scheme")):
        with pytest.raises(HeaderError) as err:
            parse_signature_key(value)
        assert err.value.code == code, value
    assert parse_signature_key(f'sig=jwt;jwt="{JWT}"').jwt == JWT


@pytest.mark.parametrize(("scheme", "params", "flags", "expected"), [
    ("jwt", {"jwt": JWT}, frozenset(), f'sig=jwt;jwt="{JWT}"'),
    ("jwt", {"jwt": JWT}, frozenset({"cache"}), f'sig=jwt;jwt="{JWT}";cache'),
    ("jwks", {"id": "https://ps.example", "kid": "key-1", "well-known": "aauth-person.json"}, frozenset(),
     'sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="key-1"'),
    ("jwks", {"jwks": "https://a.example/k.jwks", "kid": "k"}, frozenset(), 'sig=jwks;url="https://a.example/k.jwks";kid="k"'),
    ("hwk", {"x": X, "alg": "Ed25519", "kty": "OKP", "crv": "Ed25519"}, frozenset(),
     f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="Ed25519"'),
    ("jkt-jwt", {"jwt": JWT}, frozenset(), f'sig=jkt-jwt;jwt="{JWT}"'),
])
def test_sk09_output(scheme, params, flags, expected: str) -> None:
    sk = SignatureKey.build(scheme, params, label=AAUTH_11.signature_label, fmt=AAUTH_11.signature_key_format,
                            flags=flags)
    assert sk.raw == expected
    again = parse_signature_key_member(expected, "sig")
    assert (again.scheme, dict(again.params), again.flags) == (sk.scheme, dict(sk.params), sk.flags)


def test_sk09_x509_thumbprint_is_a_byte_sequence() -> None:
    t = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
    sk = SignatureKey.build("x509", {"x5u": "https://a.example/c.pem", "x5t": t}, label="sig", fmt="sk")
    assert sk.raw == f'sig=x509;x5u="https://a.example/c.pem";x5t=:{X5T}:'


def test_sk09_output_refuses_what_sk09_refuses() -> None:
    with pytest.raises(HeaderError) as err:
        SignatureKey.build("hwk", {"kty": "OKP", "crv": "Ed25519", "x": X}, label="sig", fmt="sk")
    assert err.value.code == "unsupported_algorithm"  # an SK-09 inline key names its alg
    with pytest.raises(HeaderError):
        SignatureKey.build("jwt", {"jwt": JWT}, flags=frozenset({"cache"}))  # flags exist only in SK-09


# ----------------------------------------------------------------------------- Signature bytes


def test_aauth_11_writes_standard_padded_base64_and_both_alphabets_read() -> None:
    raw = bytes(range(64))
    text = format_signature("sig", raw, encoding=AAUTH_11.signature_encoding)
    assert text == f"sig=:{base64.b64encode(raw).decode()}:" and text.endswith("==:")
    assert parse_signature(text) == ("sig", raw)
    assert parse_signature(format_signature("sig", raw)) == ("sig", raw)  # January's unpadded base64url


# ----------------------------------------------------------------------------- AAuth-Requirement


def test_requirement_values_are_those_of_11_6_2() -> None:
    assert REQUIREMENTS_401 == ("agent-token", "person-token", "auth-token")
    assert REQUIREMENTS_202 == ("interaction", "approval", "clarification", "claims", "auth-token")


@pytest.mark.parametrize("requirement", [
    AAuthRequirement("agent-token"),
    AAuthRequirement("person-token"),
    AAuthRequirement("auth-token", resource_token=JWT),
    AAuthRequirement("interaction", url="https://rs.example/interaction", code="A1B2-C3D4"),
    AAuthRequirement("approval"),
    AAuthRequirement("clarification"),
    AAuthRequirement("claims"),
])
def test_requirement_round_trips(requirement: AAuthRequirement) -> None:
    text = format_requirement(requirement)
    assert text.startswith(f"requirement={requirement.requirement}")
    assert parse_requirement(text) == requirement


def test_requirement_layout_and_unknowns() -> None:
    assert format_requirement(AAuthRequirement("auth-token", resource_token=JWT)) == (
        f'requirement=auth-token; resource-token="{JWT}"')
    parsed = parse_requirement('requirement=x-pay;amount=5;resource-token="t", other=?1')
    assert (parsed.requirement, parsed.resource_token, parsed.known, dict(parsed.extra)) == (
        "x-pay", "t", False, {"amount": 5})
    assert format_requirement(parsed) == 'requirement=x-pay; resource-token="t"'  # extra is never written back


@pytest.mark.parametrize("value", [
    "", "requirement", 'requirement="auth-token"', "requirement=(auth-token)", "other=auth-token",
    "requirement=auth-token;resource-token=eyJ", "requirement=interaction;url=1", "requirement=auth-token,",
    "requirement=a, requirement=b",
])
def test_requirement_refusals(value: str) -> None:
    with pytest.raises(HeaderError) as err:
        parse_requirement(value)
    assert err.value.code == "invalid_aauth_requirement"


def test_requirement_output_checks() -> None:
    with pytest.raises(ValueError):
        format_requirement(AAuthRequirement("interaction", url="https://rs.example/i"))
    with pytest.raises(ValueError):
        format_requirement(AAuthRequirement("not a token"))


# ----------------------------------------------------------------------------- Signature-Error


def test_signature_error_codes() -> None:
    assert len(SIGNATURE_ERRORS) == 14
    not_sent = SIGNATURE_ERRORS - AAUTH_SIGNATURE_ERRORS
    assert not_sent == {"invalid_request", "cache_miss"}


def test_signature_error_round_trips() -> None:
    value = SignatureErrorField("invalid_input", ("@method", "@authority", "@path", "signature-key"))
    text = format_signature_error(value)
    assert text == 'error=invalid_input, required_input=("@method" "@authority" "@path" "signature-key")'
    assert parse_signature_error(text) == value
    assert format_signature_error(SignatureErrorField("clock_skew")) == "error=clock_skew"
    kept = parse_signature_error('error=revoked_jwt, a=("x" 1);p, b, c=?0;q="r"')
    assert format_signature_error(kept) == 'error=revoked_jwt, a=("x" 1);p, b, c=?0;q="r"'
    assert not parse_signature_error("error=x_future").known


@pytest.mark.parametrize("value", [
    "", "error", 'error="invalid_signature"', "required_input=()", 'error=invalid_input, required_input="@method"',
    "error=invalid_input, required_input=(a)", "error=a, error=b",
])
def test_signature_error_refusals(value: str) -> None:
    with pytest.raises(HeaderError) as err:
        parse_signature_error(value)
    assert err.value.code == "invalid_signature_error"


def test_signature_error_output_writes_only_sk09_codes() -> None:
    with pytest.raises(ValueError):
        format_signature_error(SignatureErrorField("invalid_sigature"))


def test_accept_signature() -> None:
    assert format_accept_signature(AAUTH_11.agent_schemes) == "jwt"
    assert format_accept_signature(AAUTH_11.jwk_algs) == "Ed25519, ES256"
    assert parse_accept_signature("Ed25519, ES256") == ("Ed25519", "ES256")
    assert parse_accept_signature('jwks_uri,jwt;q=1, "x", (a b), 7') == ("jwks_uri", "jwt")  # non-tokens ignored
    for bad in ((), ("not a token",)):
        with pytest.raises(ValueError):
            format_accept_signature(bad)
    with pytest.raises(HeaderError):
        parse_accept_signature("a,,b")


# ----------------------------------------------------------------------------- coverage


def test_aauth_11_coverage() -> None:
    assert required_components_11() == ("@method", "@authority", "@path", "signature-key")
    assert required_components_11(body=True, authorization=True, extra=("@query", "content-type")) == (
        "@method", "@authority", "@path", "signature-key", "content-digest", "content-type", "authorization", "@query")
    params = SignatureParams("sig", ("@method", "@authority", "@path", "signature-key"), created=1)
    check_covers(params, required_components_11())
    with pytest.raises(AAuthError) as err:
        check_covers(params, required_components_11(body=True))
    assert err.value.code == "missing_component"
    assert "content-digest, content-type" in err.value.description


# ----------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(("value", "default", "dev"), [
    ("https://ps.example", True, True),
    ("http://127.0.0.1:8001", False, True),
    ("http://127.0.0.1", False, True),
    ("http://127.0.0.1:0", False, False),
    ("http://127.0.0.1:65536", False, False),
    ("http://127.0.0.1:08001", False, False),
    ("http://localhost:8001", False, False),
    ("http://127.0.0.2:8001", False, False),
    ("https://127.0.0.1", False, False),  # an IP literal is not a domain name
    ("https://127.0.0.1:8001", False, False),
    ("http://127.0.0.1:8001/", False, False),
    ("https://a.example.", False, False),
    ("https://a..example", False, False),
    ("https://" + "a" * 64 + ".example", False, False),
    (7, False, False),
])
def test_server_identifiers_and_the_development_switch(value, default: bool, dev: bool) -> None:
    assert is_server_identifier(value) is default
    assert is_server_identifier(value, allow_loopback_http=True) is dev


def test_server_identifier_errors_say_why() -> None:
    with pytest.raises(InvalidIdentifier, match="https"):
        check_server_identifier("http://ps.example")
    with pytest.raises(InvalidIdentifier, match="development"):
        check_server_identifier("http://ps.example", allow_loopback_http=True)
    assert check_server_identifier("https://ps.example") == "https://ps.example"


def test_agent_identifiers() -> None:
    sub = parse_agent_identifier("aauth:planner.7f3c+search1@vendor.example")
    assert sub == AgentIdentifier("planner.7f3c", "vendor.example", "search1")
    assert sub.local == "planner.7f3c+search1"
    assert sub.parent == parse_agent_identifier("aauth:planner.7f3c@vendor.example")
    assert sub.parent is not None and sub.parent.parent is None
    assert not is_agent_identifier("aauth:a+b+c@vendor.example")  # one level of sub-agents
    assert not is_agent_identifier("aauth:a@b@vendor.example")
    assert not is_agent_identifier("aauth:agent@127.0.0.1:8001")
    assert is_agent_identifier("aauth:agent@127.0.0.1:8001", allow_loopback_http=True)
    assert not is_agent_identifier(None)
