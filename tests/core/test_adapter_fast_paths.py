"""The adapters' per-request shortcuts answer exactly what the general code answers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.request import HEADER_TYPES, SIGNATURE_HEADERS, Headers, RequestView
from aauth_core.resource.contract import PREFLIGHT, SKIP, Gate, Step
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings, parse_requirement

from ..conftest import ISSUER, RESOURCE, World


def _service(world: World, **overrides: Any) -> AAuthService:
    values: dict[str, Any] = dict(resource_id=RESOURCE, auth_server=ISSUER, trusted_issuers=(ISSUER,))
    values.update(overrides)
    settings = AAuthSettings(**values)
    return AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings), clock=world.clock)


def test_a_request_view_is_immutable_and_replaced_field_by_field() -> None:
    headers = Headers({"Signature": "x"})
    view = RequestView("GET", "api.example", "/p", "a=1", headers, b"body", "https")
    assert view == RequestView(method="GET", authority="api.example", path="/p", query="a=1", headers=headers,
                               body=b"body", scheme="https")
    assert view._replace(body=None).body is None and view.body == b"body"
    with pytest.raises(AttributeError):
        view.path = "/other"  # type: ignore[misc]


PATHS = ["/", "/data", "/data/", "/data/x", "/database", "/admin", "/admin/deep/er", "/.well-known/aauth-resource",
         "/.well-known", "/jwks.json", "/jwks.json/x", "/open", "/open/x", "/opened", ""]


def _reference_gate(settings: AAuthSettings, method: str, path: str, headers: dict[str, str]) -> Gate:
    """The contract's rules written out plainly (aauth_core.resource.contract), to check the compiled gate."""
    if any(path == p or (p.endswith("/") and path.startswith(p)) for p in settings.exempt_paths):
        return SKIP
    matches = [p for p in settings.protected_paths if path == p or path.startswith(p.rstrip("/") + "/")]
    if matches:
        requirement: Requirement | None = parse_requirement(settings.protected_paths[max(matches, key=len)])
    else:
        requirement = parse_requirement(settings.default_requirement) if settings.protect_all else None
    preflight = method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers
    if requirement is not None and settings.allow_options and preflight:
        return PREFLIGHT
    return Gate(Step.VERIFY, requirement)


@pytest.mark.parametrize("overrides", [
    {},
    {"protected_paths": {"/data": "authorization:data.read", "/admin/": "identity", "/": "signature"}},
    {"protected_paths": {"/data": "identity"}, "protect_all": True, "exempt_paths": ("/open/", "/jwks.json")},
    {"protect_all": True, "allow_options": False, "default_requirement": "identity"},
    {"protected_paths": {"/admin": "authorization"}, "exempt_paths": ()},
])
def test_the_gate_follows_the_contract_rules(world: World, overrides: dict[str, Any]) -> None:
    service = _service(world, **overrides)
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}
    for method in ("GET", "POST", "OPTIONS"):
        for headers in ({}, {"Origin": "https://app.example"}, preflight):
            for path in PATHS:
                gate = service.gate(method, path, Headers(headers))
                assert gate == _reference_gate(service.settings, method, path, headers), (method, path, headers)
                assert service.is_exempt(path) == (gate.step is Step.SKIP)
                if gate.step is Step.VERIFY:
                    assert service.requirement_for_path(path) == gate.requirement


def test_exempt_paths_match_exactly_or_as_a_prefix_ending_in_slash(world: World) -> None:
    service = _service(world, exempt_paths=("/open/", "/exact"))
    assert service.is_exempt("/open/") and service.is_exempt("/open/x/y")
    assert not service.is_exempt("/open") and not service.is_exempt("/opened")
    assert service.is_exempt("/exact") and not service.is_exempt("/exact/x")


def test_only_a_cors_preflight_is_a_preflight_and_only_while_allowed(world: World) -> None:
    service = _service(world)
    full = Headers({"Origin": "https://a.example", "Access-Control-Request-Method": "POST"})
    assert service.is_preflight("OPTIONS", full) and service.is_preflight("options", full)
    assert not service.is_preflight("GET", full)
    assert not service.is_preflight("OPTIONS", Headers({"Origin": "https://a.example"}))
    assert not service.is_preflight("OPTIONS", Headers({"Access-Control-Request-Method": "POST"}))
    assert not _service(world, allow_options=False).is_preflight("OPTIONS", full)


def test_view_takes_any_header_mapping_and_the_host_only_without_a_canonical_authority(world: World) -> None:
    service = _service(world)
    for headers in ({"Signature-Input": "sig1=()", "Host": "evil.example"}, [("Signature-Input", "sig1=()")],
                    Headers({"signature-input": "sig1=()"}),
                    Headers.from_environ({"HTTP_SIGNATURE_INPUT": "sig1=()", "HTTP_HOST": "evil.example"})):
        view = service.view(method="get", path="", query=None, headers=headers, host="server.example")
        assert (view.method, view.authority, view.path, view.scheme) == ("GET", "api.example", "/", "https")
        assert view.headers["signature-input"] == "sig1=()" and isinstance(view.headers, Headers)
    hostless = _service(world, resource_id=None)
    assert hostless.canonical_authority is None
    assert hostless.view(method="GET", path="/", query=None, headers={"Host": "A.example"}).authority == "a.example"
    assert hostless.view(method="GET", path="/", query=None, headers={}, host="S.example:8443").authority \
        == "s.example:8443"


def test_needs_body_reads_a_case_sensitive_plain_mapping_too(world: World) -> None:
    service = _service(world)
    covered = 'sig1=("@method" "content-digest");created=1'
    assert service.needs_body({"Signature-Input": covered})
    assert service.needs_body({"signature-input": covered})
    assert service.needs_body(Headers({"SIGNATURE-INPUT": covered}))
    assert service.needs_body(Headers.from_environ({"HTTP_SIGNATURE_INPUT": covered}))
    assert not service.needs_body({"Signature-Input": 'sig1=("@method");created=1'})
    assert not service.needs_body({})


def test_asgi_header_names_are_folded_and_the_name_memo_stays_bounded() -> None:
    from aauth_core import request as module

    raw = [(b"Signature-Input", b"a"), (b"X-Dup", b"1"), (b"x-dup", b"2")]
    for _ in range(2):  # the second time from the memo
        headers = Headers.from_asgi(raw)
        assert headers.get_all("signature-input") == ["a"] and headers["x-dup"] == "1, 2"
        assert sorted(headers) == ["signature-input", "x-dup"]
    many = [(f"x-name-{i}".encode(), b"v") for i in range(3 * module._NAME_CACHE_SIZE)]
    headers = Headers.from_asgi(many)
    assert len(headers) == len(many) and headers[f"x-name-{len(many) - 1}"] == "v"
    assert len(module._ASGI_NAMES) <= module._NAME_CACHE_SIZE


def test_environ_header_keys_memo_stays_bounded_and_agrees() -> None:
    from aauth_core import request as module

    environ = {f"HTTP_X_NAME_{i}": str(i) for i in range(3 * module._NAME_CACHE_SIZE)}
    environ.update({"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "", "HTTP_SIGNATURE": "s"})
    headers = Headers.from_environ(environ)
    for i in range(0, 3 * module._NAME_CACHE_SIZE, 7):
        assert headers.get(f"X-Name-{i}") == str(i) and headers[f"x-name-{i}"] == str(i)
    assert len(module._ENVIRON_KEYS) <= module._NAME_CACHE_SIZE
    for _ in range(2):
        assert headers.get("Content-Type") == "text/plain" and headers.get("content-length", "d") == "d"
        assert headers.get("signature") == "s" and headers.get("nope") is None


def test_starlette_credentials_are_a_fresh_list_per_request() -> None:
    from aauth_starlette.user import AUTHENTICATED_SCOPE, credentials_for

    verified = cast(VerifiedRequest, SimpleNamespace(scope=frozenset({"b", "a"})))  # only .scope is read
    first = credentials_for(verified)
    first.scopes.append("mutated")
    assert credentials_for(verified).scopes == [AUTHENTICATED_SCOPE, "a", "b"]
    assert credentials_for(cast(VerifiedRequest, SimpleNamespace(scope=frozenset()))).scopes == [AUTHENTICATED_SCOPE]


_NAMES = st.sampled_from([b"host", b"signature", b"signature-input", b"Signature-Key", b"x-dup", b"X-DUP", b"123",
                          b"caf\xe9", b"CAF\xc9", b"content-type", b""])
_LOOKUPS = ["host", "HOST", "Signature", "signature-key", "x-dup", "123", "caf\u00e9", "CAF\u00c9", "Content-Type",
            "\u20ac", "missing", ""]


@given(st.lists(st.tuples(_NAMES, st.binary(max_size=8)), max_size=8))
def test_from_asgi_answers_like_decoding_every_pair(raw: list[tuple[bytes, bytes]]) -> None:
    """Lazy (lower-case ASCII names, each once) or copied, the headers answer alike."""
    fast = Headers.from_asgi(raw)
    slow = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
    assert len(fast) == len(slow) and sorted(fast) == sorted(slow) and dict(fast) == dict(slow)
    assert repr(fast) == repr(slow)
    for name in _LOOKUPS:
        assert fast.get(name) == slow.get(name) and fast.get(name, "d") == slow.get(name, "d")
        assert fast.get_all(name) == slow.get_all(name) and (name in fast) == (name in slow)
        if name in slow:
            assert fast[name] == slow[name]
        else:
            with pytest.raises(KeyError):
                fast[name]
    for names in (SIGNATURE_HEADERS, frozenset({"host", "\u20ac"}), frozenset()):
        assert fast.has_any(names) == slow.has_any(names)


def test_from_asgi_is_lazy_only_for_its_usual_input() -> None:
    lazy = Headers.from_asgi([(b"host", b"a"), (b"signature", b"s")])
    assert type(lazy) is not Headers and type(lazy) in HEADER_TYPES
    for raw in ([(b"Host", b"a")], [(b"x", b"1"), (b"x", b"2")], [(b"caf\xe9", b"v")]):
        assert type(Headers.from_asgi(raw)) is Headers
    assert type(Headers.from_asgi(iter([(b"host", b"a")]))) is Headers  # not a list: copied
    assert Headers.from_asgi([[b"host", b"a"]])["host"] == "a"  # ASGI allows two-item lists
    assert Headers.from_asgi([]).get("host") is None
