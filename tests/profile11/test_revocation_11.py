"""The resource's aauth-11 revocation endpoint (RS-60, RS-61, RS-43): a person or access
server, signing as itself with its body covered, revokes a token it issued; the next request
presenting it is 401 ``revoked_jwt``.  Through :class:`AAuthService` and every adapter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from aauth_core.headers import SignatureKey
from aauth_core.keys import SigningKey
from aauth_core.resource.revocation import RevocationList
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import NOW, RESOURCE, World, view_of
from .mint import ACCESS, PS, agent_token, sign11
from .test_person_auth_11 import auth_token, service
from .test_resource_11 import DUAL, URL, send

REVOKE = RESOURCE + "/aauth/revoke"
BODY_SET = ("@method", "@authority", "@path", "signature-key", "content-digest", "content-type")


def server_key_header(server: str, key: SigningKey, dwk: str = "aauth-person.json") -> str:
    return SignatureKey.build("jwks", {"id": server, "well-known": dwk, "kid": key.kid or ""}, label="sig",
                              fmt="sk").raw


def revocation(key: SigningKey, body: Any, *, server: str = PS, dwk: str = "aauth-person.json",
               created: int = NOW, components: tuple[str, ...] = BODY_SET) -> tuple[dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = sign11("POST", REVOKE, key, body=raw, created=created, components=components,
                     signature_key=server_key_header(server, key, dwk))
    return headers, raw


def post(svc: AAuthService, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
    reply = svc.revoke(view_of("POST", REVOKE, headers, body))
    return reply.status, dict(reply.headers), json.loads(reply.body) if reply.body else None


def test_a_person_server_revokes_its_auth_token(world: World, ps_key: SigningKey, agent_key: SigningKey) -> None:
    svc = service(world)
    token = auth_token(ps_key, agent_key)
    assert send(svc, sign11("GET", URL, agent_key, token), level="authorization")[0] == 200
    status, headers, body = post(svc, *revocation(ps_key, {"jti": "at-5e2", "exp": NOW + 3600}))
    assert (status, body) == (200, None) and headers["Cache-Control"] == "no-store"
    world.clock.advance(1)
    status, hdrs, body, _ = send(svc, sign11("GET", URL, agent_key, token, created=NOW + 1), level="authorization")
    assert status == 401 and parse_signature_error(hdrs["Signature-Error"]).error == "revoked_jwt"
    assert hdrs["AAuth-Requirement"] == "requirement=person-token"


def test_an_access_server_revokes_its_own_tokens_and_nobody_elses(world: World, ps_key: SigningKey,
                                                                  as_key: SigningKey,
                                                                  agent_key: SigningKey) -> None:
    """RS-61: a revocation is recorded under its signer: the PS cannot revoke the AS's token."""
    svc = service(world, access_server=ACCESS)
    token = auth_token(as_key, agent_key, iss=ACCESS, dwk="aauth-access.json", jti="as-1")
    assert post(svc, *revocation(ps_key, {"jti": "as-1", "exp": NOW + 3600}))[0] == 200
    assert send(svc, sign11("GET", URL, agent_key, token), level="authorization")[0] == 200
    assert post(svc, *revocation(as_key, {"jti": "as-1", "exp": NOW + 3600}, server=ACCESS,
                                 dwk="aauth-access.json", created=NOW + 1))[0] == 200
    world.clock.advance(2)
    assert send(svc, sign11("GET", URL, agent_key, token, created=NOW + 2), level="authorization")[0] == 401


def test_the_metadata_advertises_the_endpoint(world: World) -> None:
    doc = json.loads(service(world).document("/.well-known/aauth-resource.json") or b"")
    assert doc["revocation_endpoint"] == REVOKE


def test_an_expired_token_is_acknowledged_and_not_stored(world: World, ps_key: SigningKey) -> None:
    svc = service(world)
    assert post(svc, *revocation(ps_key, {"jti": "old", "exp": NOW - 3600}))[0] == 200
    assert len(svc.revocations) == 0


@pytest.mark.parametrize(("case", "code"), [
    ("unsigned", "invalid_signature"),
    ("an agent token instead of jwks_uri", "unsupported_scheme"),
    ("the agent provider's document", "unsupported_scheme"),
    ("body not covered", "invalid_input"),
    ("body tampered", "invalid_signature"),
    ("signed by another key", "invalid_signature"),
    ("stale created", "invalid_signature"),
    ("created ahead", "clock_skew"),
])
def test_bad_revocation_signatures_are_refused(world: World, ps_key: SigningKey, ap_key: SigningKey,
                                               agent_key: SigningKey, case: str, code: str) -> None:
    svc = service(world)
    body = {"jti": "at-5e2", "exp": NOW + 3600}
    headers, raw = revocation(ps_key, body)
    if case == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif case == "an agent token instead of jwks_uri":
        headers = sign11("POST", REVOKE, agent_key, agent_token(ap_key, agent_key), body=raw, components=BODY_SET)
    elif case == "the agent provider's document":
        headers, raw = revocation(ap_key, body, server="https://ap.example", dwk="aauth-agent.json")
    elif case == "body not covered":
        headers, raw = revocation(ps_key, body, components=BODY_SET[:4])
    elif case == "body tampered":
        raw = json.dumps({"jti": "someone-else", "exp": NOW + 3600}).encode()
    elif case == "signed by another key":
        headers, raw = revocation(SigningKey.generate(kid="ps-key-1"), body)
    elif case == "stale created":
        headers, raw = revocation(ps_key, body, created=NOW - 600)
    else:
        headers, raw = revocation(ps_key, body, created=NOW + 600)
    status, hdrs, answer = post(svc, headers, raw)
    assert status == 401 and parse_signature_error(hdrs["Signature-Error"]).error == code, (status, answer)
    assert hdrs["Content-Type"] == "application/problem+json" and len(svc.revocations) == 0


@pytest.mark.parametrize("body", [
    b"not json", b"[]", {"exp": NOW + 60}, {"jti": "", "exp": NOW + 60}, {"jti": 7, "exp": NOW + 60},
    {"jti": "x" * 513, "exp": NOW + 60}, {"jti": "a"}, {"jti": "a", "exp": "tomorrow"}, {"jti": "a", "exp": True},
    {"jti": "a", "exp": 10 ** 400}, b"[" * 100_000,
])
def test_bad_revocation_bodies_are_invalid_request(world: World, ps_key: SigningKey, body: Any) -> None:
    svc = service(world)
    status, hdrs, answer = post(svc, *revocation(ps_key, body))
    assert status == 400 and answer["error"] == "invalid_request" and answer["detail"]
    assert "Signature-Error" not in hdrs and len(svc.revocations) == 0


def test_a_replayed_revocation_is_refused(world: World, ps_key: SigningKey) -> None:
    svc = service(world)
    headers, raw = revocation(ps_key, {"jti": "at-5e2", "exp": NOW + 3600})
    assert post(svc, headers, raw)[0] == 200
    status, hdrs, _ = post(svc, headers, raw)
    assert status == 401 and parse_signature_error(hdrs["Signature-Error"]).error == "invalid_signature"


def test_a_server_outside_the_listed_ones_is_unsupported_iss(world: World, agent_key: SigningKey) -> None:
    from .mint import publish_server

    other = SigningKey.generate(kid="other-1")
    publish_server(world.network, other, "https://other-ps.example", "aauth-person.json")
    svc = service(world)
    status, hdrs, answer = post(svc, *revocation(other, {"jti": "a", "exp": NOW + 60},
                                                 server="https://other-ps.example"))
    assert (status, answer["error"]) == (403, "unsupported_iss") and "Signature-Error" not in hdrs


def test_a_full_revocation_list_is_429_never_a_silent_drop(world: World, ps_key: SigningKey) -> None:
    svc = service(world)
    svc.revocations.maxsize = 1
    assert post(svc, *revocation(ps_key, {"jti": "a", "exp": NOW + 3600}))[0] == 200
    status, hdrs, answer = post(svc, *revocation(ps_key, {"jti": "b", "exp": NOW + 3600}, created=NOW + 1))
    assert (status, answer["error"], hdrs["Retry-After"]) == (429, "rate_limited", "60")
    assert svc.revocations.is_revoked(PS, "a") and not svc.revocations.is_revoked(PS, "b")


def test_the_list_forgets_only_what_expired() -> None:
    now = [1000.0]
    rl = RevocationList(maxsize=2, skew=0, clock=lambda: now[0])
    rl.revoke("i", "a", 1010)
    rl.revoke("i", "b", 2000)
    now[0] = 1011
    rl.revoke("i", "c", 2000)  # a expired: its slot is reused
    assert not rl.is_revoked("i", "a") and rl.is_revoked("i", "b") and rl.is_revoked("i", "c")


def test_no_endpoint_on_a_january_only_resource(world: World, ps_key: SigningKey) -> None:
    svc = service(world, profiles=("aauth-2026-01",), person_servers=())
    assert svc.revocation is None
    assert post(svc, *revocation(ps_key, {"jti": "a", "exp": NOW + 60}))[0] == 404


# ----------------------------------------------------------------------------- every adapter

SETTINGS_11: dict[str, Any] = {"resource_id": RESOURCE, "profiles": DUAL, "person_servers": (PS,)}
Poster = Callable[[dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


def _starlette(world: World) -> Poster:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from aauth_starlette import AAuthMiddleware

    settings = AAuthSettings(**SETTINGS_11)
    app = AAuthMiddleware(Starlette(), settings=settings, keys=[world.resource.key],
                          discovery=world.discovery(settings), clock=world.clock)
    client = TestClient(app, base_url=RESOURCE)

    def post_(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        r = client.post("/aauth/revoke", content=body, headers=headers)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return post_


def _flask(world: World) -> Poster:
    from flask import Flask

    from aauth_flask import AAuth

    app = Flask("revocation")
    app.config.update({f"AAUTH_{k.upper()}": v for k, v in SETTINGS_11.items()})
    AAuth(app, keys=[world.resource.key], discovery=world.discovery, clock=world.clock)
    client = app.test_client()

    def post_(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        r = client.post("/aauth/revoke", data=body, headers=headers, base_url=RESOURCE)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data()

    return post_


def _django(world: World) -> Poster:
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, include, path

    from aauth_django import set_service_factory

    from ..django.conftest import factory_for

    class URLConf:
        urlpatterns: ClassVar[list[Any]] = [path("", include("aauth_django.urls"))]

    def post_(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        set_service_factory(factory_for(world))
        try:
            with override_settings(ROOT_URLCONF=URLConf, AAUTH={k.upper(): v for k, v in SETTINGS_11.items()}):
                clear_url_caches()
                r = Client().post("/aauth/revoke", data=body, content_type=headers.get("Content-Type", ""),
                                  headers={k: v for k, v in headers.items() if k != "Content-Type"},
                                  HTTP_HOST="api.example", secure=True)
        finally:
            clear_url_caches()
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return post_


@pytest.mark.parametrize("name", ["starlette", "flask", "django"])
def test_every_adapter_routes_the_revocation_endpoint(world: World, ps_key: SigningKey, name: str) -> None:
    post_ = {"starlette": _starlette, "flask": _flask, "django": _django}[name](world)
    headers, raw = revocation(ps_key, {"jti": "at-9", "exp": NOW + 3600})
    status, hdrs, body = post_(headers, raw)
    assert (status, body) == (200, b""), body
    status, hdrs, body = post_({"Content-Type": "application/json"}, raw)  # unsigned: never recorded
    assert status == 401 and parse_signature_error(hdrs["signature-error"]).error == "invalid_signature"
    assert hdrs["content-type"].startswith("application/problem+json")
    status, hdrs, body = post_(*revocation(ps_key, {"jti": "at-9"}, created=NOW + 1))
    assert status == 400 and json.loads(body)["error"] == "invalid_request"
