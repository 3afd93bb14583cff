"""Every header parser, fed arbitrary and near-valid input, fails only with ``AAuthError``.

A parser that leaks ``ValueError``, ``KeyError``, ``RecursionError``, ``UnicodeError``
and the like turns a malformed header into a 500 instead of a 401.  The raw
structured-field functions may raise their own ``_sf.ParseError`` and nothing else.

Long run: ``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz -q`` (see conftest).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth_core.errors import AAuthError
from aauth_core.headers import (
    parse_agent_auth,
    parse_content_digest,
    parse_signature,
    parse_signature_input,
    parse_signature_key,
)
from aauth_core.profile.identifiers import InvalidIdentifier, parse_agent_identifier
from aauth_core.tokens import peek
from aauth_core.wire import sf as _sf
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_accept_signature, parse_signature_error
from aauth_core.wire.signature_key import parse_signature_key_member

# ----------------------------------------------------------------------------- inputs

#: Characters that matter to structured fields and our transcript syntax.
SF_CHARS = '()=;,:"?*/\\ \t-_.+%@0123456789azAZ\x00\x7f\r\n\u00e9\u2028'

VALID: dict[str, list[str]] = {
    "signature_input": [
        'sig1=("@method" "@authority" "@path" "@query" "content-type" "content-digest" "signature-key")'
        ';created=1768786273',
        'sig1=("@method" "@authority" "@path" "signature-key");created=1768786273;expires=1768786333'
        ';nonce="n-1";alg="ed25519";keyid="k";tag="aauth"',
        'sig1=();created=1',
    ],
    "signature": [
        "sig1=:Cd5S2pSl6oXscQAj0JxWrzLW3DjTLRbg0ZZB0Kom_BC9HqkF12LPaJXOheCFfXJ24qtJvb1DOtuZf1C45z_ZAA:",
        "sig1=:Cd5S2pSl6oXscQAj0JxWrzLW3DjTLRbg0ZZB0Kom/BC9HqkF12LPaJXOheCFfXJ24qtJvb1DOtuZf1C45z+ZAA==:",
    ],
    "signature_key": [
        'sig1=(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")',
        'sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="oZ1k4a__VMSCH41JFUn0MVXtgnTRwCQxO5jaEIO4SfQ")',
        'sig1=(scheme=jwt jwt="eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln")',
        'sig1=(scheme=x509 x5u="https://agent.example/chain.pem" x5t="abc")',
        'sig1=hwk;kty="OKP";crv="Ed25519";x="oZ1k4a__VMSCH41JFUn0MVXtgnTRwCQxO5jaEIO4SfQ"',
        'sig1=jwks_uri;jwks="https://agent.example/jwks.json";kid="key-1"',
        'sig1=jwt;jwt="eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln"',
        'sig1=(scheme=hwk kty="EC" crv="P-256" x="f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU" '
        'y="x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")',
        'sig1=(scheme=hwk kty="RSA" n="AQAB" e="AQAB")',
    ],
    "content_digest": [
        "sha-256=:AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=:",
        "sha-512=:" + base64.b64encode(bytes(64)).decode() + ":, sha-256=:" + base64.b64encode(bytes(32)).decode()
        + ":",
    ],
    "agent_auth": [
        'httpsig; auth-token; resource_token="eyJ.eyJ.sig"; auth_server="https://as.example"',
        'httpsig; identity=?1; algs=("ed25519" "ecdsa-p256-sha256")',
        'httpsig;user_interaction="https://as.example/i?code=x";future=1;other=("a" b);n=1.5',
        "httpsig",
    ],
    # aauth-11 (SK-09 Signature-Key, AAuth-Requirement, Signature-Error, Accept-Signature-*)
    "signature_key_sk": [
        'sig=jwt;jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"',
        'sig1=hwk;kty="OKP", sig=jwt; jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln";cache',
        'sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="key-1"',
        'sig=hwk;kty="OKP";crv="Ed25519";x="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";alg="Ed25519"',
        'sig=x509;x5u="https://a.example/c.pem";x5t=:bWcoon4QTVn8Q6xiY0ekMD6L8bNLMkuDV2KtvsFc1nM=:',
        'sig=jwks;url="https://a.example/keys.jwks";kid="k"',
    ],
    "requirement": [
        'requirement=auth-token; resource-token="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"',
        'requirement=interaction;url="https://ps.example/interaction";code="A1B2-C3D4", future=?1',
        "requirement=agent-token",
    ],
    "signature_error": [
        'error=invalid_input, required_input=("@method" "@authority" "@path" "signature-key")',
        'error=revoked_jwt, future_member="x";p=1',
        "error=unsupported_scheme",
    ],
    "accept_signature": ["Ed25519, ES256", "jwt", 'jwks_uri, jwt;q=1, "x", (a b)'],
    "agent_identifier": ["aauth:planner.7f3c+search1@vendor.example", "aauth:Agent@agent.example"],
    "sf": [
        'a=1, b=?0, c="s", d=:AAAA:, e=(1 2 "x");p=t, h=-1.25',
        'sig1=("@method" "@path");created=1;keyid="k"',
        "x;y;z=*tok/en",
    ],
}


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


VALID["token"] = [
    f"{_b64({'alg': 'EdDSA', 'typ': 'auth+jwt', 'kid': 'k'})}.{_b64({'iss': 'https://as.example'})}.c2ln",
    f"{_b64({'alg': 'EdDSA', 'kid': 'k', 'crit': ['b64']})}.{_b64({})}.c2ln",
    f"{_b64({'alg': 'EdDSA', 'kid': 'k', 'typ': 7})}.{_b64([1, 2])}.",
    f"{_b64([])}.{_b64('x')}.c2ln",
]

arbitrary_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=SF_CHARS, max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A valid value with a few character-level edits: the interesting near-misses."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "truncate"]))
        i = draw(st.integers(0, len(text)))
        c = draw(st.one_of(st.sampled_from(SF_CHARS), st.characters()))
        if op == "insert":
            text = text[:i] + c + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "replace":
            text = text[:i] + c + text[i + 1:]
        elif op == "duplicate":
            j = draw(st.integers(i, len(text)))
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i]
    return text


def inputs(kind: str) -> st.SearchStrategy[str]:
    return st.one_of(arbitrary_text, mutated(VALID[kind]), st.sampled_from(VALID[kind]))


# ----------------------------------------------------------------------------- properties


def only_aauth_errors(parse: Callable[[str], Any], value: str) -> None:
    with contextlib.suppress(AAuthError):
        parse(value)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_seed_values_parse(kind: str) -> None:
    """The seeds are valid (or, for tokens, only structurally checked), so mutations start near-valid."""
    parsers: dict[str, Callable[[str], Any]] = {
        "signature_input": parse_signature_input, "signature": parse_signature,
        "signature_key": parse_signature_key, "content_digest": parse_content_digest,
        "agent_auth": parse_agent_auth, "sf": _sf.parse_dictionary,
        "signature_key_sk": lambda v: parse_signature_key_member(v, "sig"), "requirement": parse_requirement,
        "signature_error": parse_signature_error, "accept_signature": parse_accept_signature,
        "agent_identifier": parse_agent_identifier,
    }
    if kind == "token":
        peek(VALID["token"][0])
        return
    for value in VALID[kind]:
        parsers[kind](value)


@given(inputs("signature_input"))
def test_parse_signature_input(value: str) -> None:
    only_aauth_errors(parse_signature_input, value)


@given(inputs("signature"))
def test_parse_signature(value: str) -> None:
    only_aauth_errors(parse_signature, value)


@given(inputs("signature_key"))
def test_parse_signature_key(value: str) -> None:
    try:
        sk = parse_signature_key(value)
    except AAuthError:
        return
    if sk.scheme == "hwk":  # what the verifier does next with an inline key
        only_aauth_errors(lambda _: sk.hwk_key(), value)


@given(inputs("signature_key_sk"))
def test_parse_signature_key_member(value: str) -> None:
    for label in ("sig", "sig1"):
        try:
            sk = parse_signature_key_member(value, label)
        except AAuthError:
            continue
        assert sk.raw == value  # the covered component is the text as received
        if sk.scheme == "hwk":
            only_aauth_errors(lambda _, sk=sk: sk.hwk_key(), value)


@given(inputs("requirement"))
def test_parse_requirement(value: str) -> None:
    only_aauth_errors(parse_requirement, value)


@given(inputs("signature_error"))
def test_parse_signature_error(value: str) -> None:
    only_aauth_errors(parse_signature_error, value)


@given(inputs("accept_signature"))
def test_parse_accept_signature(value: str) -> None:
    only_aauth_errors(parse_accept_signature, value)


@given(inputs("agent_identifier"))
def test_parse_agent_identifier(value: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_agent_identifier(value)


@given(st.one_of(inputs("accept_signature"), inputs("sf")))
def test_sf_parse_list(value: str) -> None:
    with contextlib.suppress(_sf.ParseError):
        _sf.parse_list(value)


@given(inputs("content_digest"))
def test_parse_content_digest(value: str) -> None:
    only_aauth_errors(parse_content_digest, value)


@given(inputs("agent_auth"))
def test_parse_agent_auth(value: str) -> None:
    only_aauth_errors(parse_agent_auth, value)


@given(inputs("token"))
def test_peek(value: str) -> None:
    only_aauth_errors(peek, value)


@st.composite
def token_like(draw: st.DrawFn) -> str:
    """Three segments of base64url JSON with arbitrary (often wrong) shapes."""
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
    header = draw(st.one_of(json_values, st.fixed_dictionaries(
        {"alg": st.sampled_from(["EdDSA", "none", "ES256", "HS256"]), "kid": st.text(max_size=5)},
        optional={"typ": json_values, "crit": json_values, "jku": json_values})))
    claims = draw(json_values)
    segments = [_b64(header), _b64(claims), draw(st.text(alphabet="abcXYZ-_=.", max_size=20))]
    if draw(st.booleans()):
        segments[draw(st.integers(0, 2))] = draw(st.text(max_size=20))
    return ".".join(segments)


@given(token_like())
def test_peek_structured(value: str) -> None:
    only_aauth_errors(peek, value)


@given(inputs("sf"))
def test_sf_parse_dictionary(value: str) -> None:
    for lenient in (False, True):
        with contextlib.suppress(_sf.ParseError):
            _sf.parse_dictionary(value, lenient_bytes=lenient)


@given(st.one_of(inputs("sf"), inputs("agent_auth")))
def test_sf_parse_item(value: str) -> None:
    for inner_list_params in (False, True):
        with contextlib.suppress(_sf.ParseError):
            _sf.parse_item(value, inner_list_params=inner_list_params)


def test_deep_nesting_is_refused_cleanly() -> None:
    """Nesting and huge inputs are the classic escapes (RecursionError, MemoryError)."""
    for value in ("(" * 10_000, "a=" + "(" * 10_000, 'sig1=(' + '"x" ' * 50_000 + ')', "x" * 1_000_000):
        for parse in (parse_signature_input, parse_signature, parse_signature_key, parse_content_digest,
                      parse_agent_auth, peek, parse_requirement, parse_signature_error, parse_accept_signature,
                      lambda v: parse_signature_key_member(v, "sig")):
            only_aauth_errors(parse, value)
        for raw in (lambda v: _sf.parse_dictionary(v), lambda v: _sf.parse_item(v)):
            with contextlib.suppress(_sf.ParseError):
                raw(value)
