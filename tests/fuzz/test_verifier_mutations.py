"""Mutating any covered value of a valid signed request gets it refused with an ``AAuthError``.

Start from real signed requests (hwk, jwks and jwt schemes; GET with a query, POST
with a body, a percent-encoded path), change one thing (method, path, query,
authority, a body byte, Signature-Key text, signature bytes, Signature-Input
``created`` or components, or any character of a signature header) and verify.
The oracle is exact: a mutation *must* be refused when it changes a covered
component value, the signed ``@signature-params``, the signature bytes, the body
behind a covered ``content-digest``, or makes the request need a component the
signature does not cover.  Mutations that change nothing covered (trailing
whitespace, an equivalent base64 alphabet) may pass.  Either way only
``AAuthError`` may come out: never another exception.

Long run: ``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz -q`` (see conftest).
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from aauth_core.context import Requirement
from aauth_core.errors import AAuthError, AuthorizationRequired
from aauth_core.headers import format_signature, format_signature_input, parse_signature, parse_signature_input
from aauth_core.httpsig import component_value, required_components
from aauth_core.request import Headers, RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.verifier import Verifier

from ..conftest import ISSUER, NOW, RESOURCE, FrozenClock, make_world, signed_request

# ----------------------------------------------------------------------------- one world for the module


WORLD = make_world(FrozenClock())


def _verifier(**settings: Any) -> Verifier:
    # Replay protection off: every mutation is judged by the signature checks alone.
    s = AAuthSettings(trusted_issuers=(ISSUER,), replay_protection=False, **settings)
    return Verifier(s, discovery=WORLD.discovery(s), clock=WORLD.clock)


RESOURCE_VERIFIER = _verifier(resource_id=RESOURCE)  # authority fixed by configuration (A8)
HOST_VERIFIER = _verifier()  # authority taken from the request: the authority mutation matters


@dataclass(frozen=True)
class Case:
    name: str
    view: RequestView
    verifier: Verifier


def _case(name: str, method: str, path: str, *, scheme: str, body: bytes | None = None,
          verifier: Verifier = RESOURCE_VERIFIER) -> Case:
    key = WORLD.agent.key
    params = None
    if scheme == "jwt":
        params = {"jwt": WORLD.auth_token(cnf=key)}
    headers, _ = signed_request(method, RESOURCE + path, key=key, scheme=scheme, params=params, body=body,
                                created=NOW - 5)
    return Case(name, RequestView.from_url(method, RESOURCE + path, headers, body), verifier)


CASES = [
    _case(f"{scheme}-{what}", method, path, scheme=scheme, body=body, verifier=verifier)
    for scheme in ("hwk", "jwks", "jwt")
    for what, method, path, body, verifier in (
        ("get", "GET", "/data?x=1&y=%20z", None, RESOURCE_VERIFIER),
        ("post", "POST", "/upload", b'{"amount": 100, "to": "alice"}', RESOURCE_VERIFIER),
        ("files", "GET", "/files/a%2Fb%20c.txt", None, RESOURCE_VERIFIER),
        ("host", "GET", "/data", None, HOST_VERIFIER),
    )
    if not (scheme == "jwt" and verifier is HOST_VERIFIER)  # auth tokens need a resource_id for 'aud'
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_unmutated_requests_verify(case: Case) -> None:
    assert case.verifier.verify(case.view) is not None


# ----------------------------------------------------------------------------- the oracle


def _signed_state(view: RequestView, components: tuple[str, ...]) -> tuple[Any, ...] | None:
    """Everything the signature binds, as the verifier would see it; None if unreadable."""
    h = view.headers
    try:
        label, signature = parse_signature(h["Signature"])
        params = parse_signature_input(h["Signature-Input"])
        values = tuple(component_value(name, view) for name in components)
    except (AAuthError, KeyError):
        return None
    return label, signature, params.label, params.serialize(), values


def must_refuse(original: RequestView, mutated: RequestView, verifier: Verifier) -> bool:
    if verifier.settings.canonical_authority is not None:  # the verifier pins @authority (A8)
        mutated = mutated._replace(authority=original.authority)
    params = parse_signature_input(original.headers["Signature-Input"])
    before = _signed_state(original, params.components)
    after = _signed_state(mutated, params.components)
    if after is None or after != before:
        return True
    if "content-digest" in params.components and mutated.body != original.body:
        return True
    return bool(set(required_components(mutated)) - set(params.components))


# ----------------------------------------------------------------------------- mutations

PATH_CHARS = "/abcxyzAZ09-._~%20%2F?#;=&+ \u00e9"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "Post", "GET ", "CONNECT"]


@st.composite
def edit(draw: st.DrawFn, text: str, alphabet: str = PATH_CHARS) -> str:
    """One character-level edit of ``text``."""
    i = draw(st.integers(0, max(len(text) - 1, 0)))
    c = draw(st.one_of(st.sampled_from(alphabet), st.characters(max_codepoint=0x2FF)))
    op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "append"]))
    if op == "insert":
        return text[:i] + c + text[i:]
    if op == "delete":
        return text[:i] + text[i + 1:]
    if op == "replace":
        return text[:i] + c + text[i + 1:]
    if op == "truncate":
        return text[:i]
    return text + c


def with_header(view: RequestView, name: str, value: str | None) -> RequestView:
    items = [(k, v) for k, v in view.headers.items() if k.lower() != name.lower()]
    if value is not None:
        items.append((name, value))
    return view._replace(headers=Headers(items))


@st.composite
def mutate_method(draw: st.DrawFn, view: RequestView) -> RequestView:
    return view._replace(method=draw(st.sampled_from([m for m in METHODS if m != view.method])))


@st.composite
def mutate_path(draw: st.DrawFn, view: RequestView) -> RequestView:
    return view._replace(path=draw(edit(view.path)))


@st.composite
def mutate_query(draw: st.DrawFn, view: RequestView) -> RequestView:
    query = draw(st.one_of(st.none(), st.just(""), edit(view.query or "")))
    return view._replace(query=query)


@st.composite
def mutate_authority(draw: st.DrawFn, view: RequestView) -> RequestView:
    authority = draw(st.one_of(
        edit(view.authority, "abcxyz.-:0123456789"),
        st.sampled_from(["api.example:443", "API.EXAMPLE", "api.example.", "evil.example", "api.example:8443",
                         "127.0.0.1", "[::1]"]),
    ))
    return view._replace(authority=authority)


@st.composite
def mutate_body(draw: st.DrawFn, view: RequestView) -> RequestView:
    body = bytearray(view.body or b"")
    op = draw(st.sampled_from(["flip", "append", "truncate", "none"]))
    if op == "flip" and body:
        i = draw(st.integers(0, len(body) - 1))
        body[i] ^= draw(st.integers(1, 255))
    elif op == "append":
        body += draw(st.binary(min_size=1, max_size=8))
    elif op == "truncate" and body:
        del body[draw(st.integers(0, len(body) - 1)):]
    else:
        return view._replace(body=None if view.body is not None else b"x")
    return view._replace(body=bytes(body))


@st.composite
def mutate_header_text(draw: st.DrawFn, view: RequestView) -> RequestView:
    names = [n for n in ("Signature-Key", "Signature", "Signature-Input", "Content-Digest", "Content-Type")
             if n in view.headers]
    if not names:
        return view
    name = draw(st.sampled_from(names))
    current = view.headers[name]
    value = draw(st.one_of(edit(current, '()=;,:"?*/ -_.+abcXYZ019'), st.none()))
    return with_header(view, name, value)


@st.composite
def mutate_signature_bytes(draw: st.DrawFn, view: RequestView) -> RequestView:
    try:
        label, signature = parse_signature(view.headers["Signature"])
    except (AAuthError, KeyError):  # an earlier stacked mutation broke it already
        return view
    sig = bytearray(signature)
    op = draw(st.sampled_from(["flip", "truncate", "extend", "zero"] if sig else ["extend"]))
    if op == "flip":
        i = draw(st.integers(0, len(sig) - 1))
        sig[i] ^= 1 << draw(st.integers(0, 7))
    elif op == "truncate":
        del sig[draw(st.integers(0, len(sig) - 1)):]
    elif op == "extend":
        sig += draw(st.binary(min_size=1, max_size=4))
    else:
        sig = bytearray(len(sig))
    encoding: Literal["base64url", "base64"] = draw(st.sampled_from(["base64url", "base64"]))
    return with_header(view, "Signature", format_signature(label, bytes(sig), encoding=encoding))


EXTRA_COMPONENTS = ["@target-uri", "@scheme", "@request-target", "date", "content-length", "@method", "host"]


@st.composite
def mutate_signature_input(draw: st.DrawFn, view: RequestView) -> RequestView:
    try:
        params = parse_signature_input(view.headers["Signature-Input"])
    except (AAuthError, KeyError):  # an earlier stacked mutation broke it already
        return view
    components = list(params.components)
    if not components:
        components = ["@method"]
    ops = ["created", "drop", "add", "swap", "duplicate", "params"] if len(components) > 1 else ["created", "add"]
    op = draw(st.sampled_from(ops))
    changes: dict[str, Any] = {"serialized": None}
    if op == "created":
        changes["created"] = (params.created or 0) + draw(st.integers(1, 50)) * draw(st.sampled_from([1, -1]))
    elif op == "drop":
        del components[draw(st.integers(0, len(components) - 1))]
    elif op == "add":
        components.insert(draw(st.integers(0, len(components))), draw(st.sampled_from(EXTRA_COMPONENTS)))
    elif op == "swap":
        i = draw(st.integers(0, len(components) - 1))
        j = (i + draw(st.integers(1, len(components) - 1))) % len(components)
        components[i], components[j] = components[j], components[i]
    elif op == "duplicate":
        components.append(components[draw(st.integers(0, len(components) - 1))])
    else:
        field = draw(st.sampled_from(["expires", "nonce", "keyid", "tag", "alg"]))
        value: Any = (params.created or 0) + draw(st.integers(0, 100)) if field == "expires" else draw(
            st.sampled_from(["ed25519", "x", "aauth"]))
        changes[field] = value
    changes["components"] = tuple(components)
    mutated = dataclasses.replace(params, **changes)
    return with_header(view, "Signature-Input", format_signature_input(mutated))


MUTATIONS = {
    "method": mutate_method,
    "path": mutate_path,
    "query": mutate_query,
    "authority": mutate_authority,
    "body": mutate_body,
    "header_text": mutate_header_text,
    "signature_bytes": mutate_signature_bytes,
    "signature_input": mutate_signature_input,
}


def check(case: Case, mutated: RequestView) -> None:
    refuse = must_refuse(case.view, mutated, case.verifier)
    note(f"case={case.name} must_refuse={refuse}")
    try:
        accepted = case.verifier.verify(mutated)
    except AAuthError as exc:
        event(f"must_refuse={refuse}: refused ({exc.code})")
        return
    if accepted is None:
        # Every signature header stripped: an unsigned request, which no route requiring
        # a signature lets through.  Not an acceptance.
        assert not mutated.is_signed
        with pytest.raises(AuthorizationRequired):
            case.verifier.require(None, Requirement("signature"))
        event("unsigned")
        return
    event(f"must_refuse={refuse}: accepted")
    if refuse:
        pytest.fail(f"{case.name}: a mutation of a covered value was accepted: {mutated!r}")


#: The authority only matters where the verifier takes it from the request.
CASES_FOR = {"authority": [c for c in CASES if c.verifier is HOST_VERIFIER]}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
@given(data=st.data())
def test_mutations_are_refused(kind: str, data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES_FOR.get(kind, CASES)), label="case")
    mutated = data.draw(MUTATIONS[kind](case.view), label="mutated")
    check(case, mutated)


@given(data=st.data())
def test_stacked_mutations_are_refused(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES), label="case")
    view = case.view
    for kind in data.draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=2, max_size=4), label="kinds"):
        view = data.draw(MUTATIONS[kind](view))
    check(case, view)


@given(data=st.data())
def test_async_verifier_agrees(data: st.DataObject) -> None:
    """``averify`` runs the same pipeline: same verdict, same error code, for any mutation."""
    case = data.draw(st.sampled_from(CASES), label="case")
    mutated = data.draw(MUTATIONS[data.draw(st.sampled_from(sorted(MUTATIONS)))](case.view), label="mutated")

    def outcome_sync() -> str:
        try:
            return "accepted" if case.verifier.verify(mutated) is not None else "unsigned"
        except AAuthError as exc:
            return exc.code

    async def outcome_async() -> str:
        try:
            return "accepted" if await case.verifier.averify(mutated) is not None else "unsigned"
        except AAuthError as exc:
            return exc.code

    assert asyncio.run(outcome_async()) == outcome_sync()


# ----------------------------------------------------------------------------- found by fuzzing


@pytest.mark.parametrize("case", [c for c in CASES if c.view.body], ids=lambda c: c.name)
async def test_covered_content_digest_without_the_header_is_a_401(case: Case) -> None:
    """Regression: Signature-Input covering ``content-digest`` with no Content-Digest header
    raised ``KeyError`` (a 500) from ``Verifier._parse``; now ``missing_component``."""
    mutated = with_header(case.view, "Content-Digest", None)
    with pytest.raises(AAuthError) as info:
        case.verifier.verify(mutated)
    assert info.value.code == "missing_component"
    assert info.value.status_code == 401
    with pytest.raises(AAuthError) as ainfo:
        await case.verifier.averify(mutated)
    assert ainfo.value.code == "missing_component"
