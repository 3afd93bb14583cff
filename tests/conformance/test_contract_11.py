"""The adapter contract table with an aauth-11 resource (issue 14), through every variant.

The same 15 adapter variants, routes and rules as test_contract.py, under
``profiles=("aauth-11",)`` and dual-stack, with the person server listed in
``person_servers``; the routes add ``/person`` (decorator ``person``), a level January
cannot express.  The request kinds are signed as an -11 agent signs (SK-09 ``sig=jwt``,
RFC 9421 base, standard base64), each kind the -11 equivalent of January's:

| January kind | -11 kind | proves |
|---|---|---|
| ``unsigned``, ``bare-options``, ``preflight`` | the same | nothing |
| ``hwk`` (a key, no identity) | ``hwk``: SK-09 ``sig=hwk`` with ``alg`` | -11-only: nothing, refused as ``unsupported_scheme`` (-11 §11.3.2: agents sign with ``jwt``); dual-stack: January's key-only level |
| ``jwks`` (an identified agent) | ``agent-token`` (``aa-agent+jwt``) | the agent (``identity``) |
| — | ``person-token`` (``aa-person+jwt``) | a person (``person``) |
| ``auth-token`` (``data.read``) | ``auth-token`` (three-party ``aa-auth+jwt``, ``data.read``) | a grant (``authorization``) |
| ``tampered`` | ``tampered`` (signed for another path) | a bad signature |

The expected answer is worked out from what the route declares, never from what an adapter
does: 200 and the route ran when the request proves what every requirement on the route
(path rule first, then the decorator) demands; otherwise the first unmet requirement's
refusal, -11's shape (problem+json, ``AAuth-Requirement``, ``Signature-Error``, ``Link``) for
a request verified under -11 or an unsigned one at an -11-only resource, January's (JSON,
``Agent-Auth``) for what January verified or, dual-stack, an unsigned request January can
answer.  January's own kinds keep their table on a dual-stack resource (the last test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from aauth_core.headers import SignatureKey
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from ..conftest import RESOURCE, World
from ..profile11.mint import (
    AGENT_ID,
    PS,
    agent_token,
    auth_claims,
    mint,
    person_claims,
    publish_ap,
    publish_server,
    sign11,
)
from . import test_contract as january
from .apps import VARIANTS, Result, Send, Variant
from .routes import METHODS, ROUTES, SETTINGS, Route

DUAL = ("aauth-2026-01", "aauth-11")
ONLY_11 = ("aauth-11",)
ROUTES_11 = (*ROUTES, Route("/person", decorator="person"))
KINDS = ("unsigned", "bare-options", "preflight", "hwk", "agent-token", "person-token", "auth-token", "tampered")
#: What each kind proves (the hwk row: dual-stack only; an -11-only resource refuses it).
LEVEL = {"unsigned": 0, "bare-options": 0, "hwk": 1, "agent-token": 2, "person-token": 3, "auth-token": 4}
NEED = {"identity": 2, "person": 3, "authorization": 4}
TOKEN_TYPE = {"agent-token": "aa-agent+jwt", "person-token": "aa-person+jwt", "auth-token": "aa-auth+jwt"}
LINK = f'<{RESOURCE}/.well-known/aauth-resource.json>; rel="aauth-resource"'


def settings_11(profiles: tuple[str, ...]) -> dict[str, Any]:
    return {**SETTINGS, "profiles": profiles, "person_servers": (PS,)}


@dataclass(frozen=True)
class Want:
    """The answer the contract gives one row."""

    status: int
    code: str | None = None
    ran: bool = False
    requirement: str | None = None  # the AAuth-Requirement's requirement, or none at all
    signature_error: str | None = None  # the Signature-Error code, or none at all
    agent_auth: bool = False  # January's challenge header
    problem: bool = False  # an application/problem+json body (else January's JSON)
    token_type: str | None = None  # what a route that ran saw


def _needs(route: Route) -> list[str]:
    """The route's requirements in the order they are checked: the path rule, then the decorator."""
    needs = ["identity"] if route.ruled and not route.exempt else []
    if route.decorator:
        needs.append(route.decorator.partition(":")[0])
    return needs


def _refusal(need: str, kind: str, dual: bool) -> Want:
    """The first unmet requirement's refusal of a request that verified (or carried nothing)."""
    if kind in ("unsigned", "bare-options"):  # -11 §6.1, §11.6.2; open point 1
        if need == "identity":
            return Want(401, "identity_required", requirement="agent-token", agent_auth=dual, problem=not dual)
        if need == "person":  # January cannot name a person: no Agent-Auth, -11's body even dual-stack
            return Want(401, "person_token_required", requirement="person-token", problem=True)
        return Want(401, "identity_required" if dual else "person_token_required", requirement="person-token",
                    agent_auth=dual, problem=not dual)
    if kind == "hwk":  # dual-stack only: January verified a bare key
        if need == "identity":
            return Want(401, "identity_required", agent_auth=True)
        # January cannot name a person: the body is January's, and -11's RS-11 requirement
        # (person-token, with the metadata Link) says what would be accepted.
        return Want(401, "person_token_required", requirement="person-token")
    if kind == "agent-token":  # RS-11: a person token first
        return Want(401, "person_token_required", requirement="person-token", problem=True)
    assert kind == "person-token" and need == "authorization"  # RS-30: a resource token for the PS
    return Want(401, "authorization_required", requirement="auth-token", problem=True)


def expected(route: Route, kind: str, profiles: tuple[str, ...]) -> Want:
    dual = "aauth-2026-01" in profiles
    if kind == "preflight":
        return Want(204) if route.protected else Want(200, ran=True)
    verifies = not route.exempt or route.decorator is not None  # the middleware, or the decorator itself
    refused_as = {"tampered": "invalid_signature", "hwk": None if dual else "unsupported_scheme"}.get(kind)
    if refused_as is not None:
        return Want(401, refused_as, signature_error=refused_as, problem=True) if verifies else Want(200, ran=True)
    level = LEVEL[kind]
    for need in _needs(route):
        if level < NEED[need]:
            return _refusal(need, kind, dual)
    seen = None if (route.exempt and route.decorator is None) else TOKEN_TYPE.get(kind)
    return Want(200, ran=True, token_type=seen)


def rows() -> list[tuple[Route, str, str]]:
    out: list[tuple[Route, str, str]] = []
    for route in ROUTES_11:
        out += [(route, "unsigned", m) for m in METHODS if m != "OPTIONS"]
        out += [(route, "bare-options", "OPTIONS"), (route, "preflight", "OPTIONS")]
        out += [(route, kind, m) for kind in ("hwk", "agent-token") for m in METHODS]
        out += [(route, kind, m) for kind in ("person-token", "auth-token") for m in ("GET", "DELETE")]
        out += [(route, "tampered", "GET"), (route, "tampered", "POST")]
    return out


class Agent11:
    """An -11 agent with its agent provider and person server published on the World's network."""

    def __init__(self, world: World) -> None:
        self.key = SigningKey.generate()
        ap_key, ps_key = SigningKey.generate(kid="ap-key-1"), SigningKey.generate(kid="ps-key-1")
        publish_ap(world.network, ap_key)
        publish_server(world.network, ps_key, PS, "aauth-person.json")
        self.tokens = {
            "agent-token": agent_token(ap_key, self.key),
            "person-token": mint(ps_key, person_claims(self.key, aud=RESOURCE), typ="aa-person+jwt"),
            "auth-token": mint(ps_key, auth_claims(self.key, aud=RESOURCE, scope="data.read"), typ="aa-auth+jwt"),
        }

    def headers(self, route: Route, kind: str, method: str) -> dict[str, str]:
        url = RESOURCE + route.path
        if kind in ("unsigned", "bare-options", "preflight"):
            return {"unsigned": {}, "bare-options": {"Origin": "https://app.example"},
                    "preflight": dict(january.PREFLIGHT)}[kind]
        if kind == "hwk":
            jwk = self.key.public_jwk()
            sk = SignatureKey.build("hwk", {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"], "alg": "Ed25519"},
                                    label="sig", fmt="sk").raw
            return sign11(method, url, self.key, signature_key=sk)
        if kind == "tampered":  # signed for another path: the signature cannot verify here
            return sign11(method, RESOURCE + "/elsewhere", self.key, self.tokens["agent-token"])
        return sign11(method, url, self.key, self.tokens[kind])


def mismatch(variant: Variant, route: Route, kind: str, method: str, result: Result,
             profiles: tuple[str, ...], world: World) -> str | None:
    status, headers, body, ran = result
    want = expected(route, kind, profiles)
    where = f"{method} {route.path} ({kind})"
    if (status, ran) != (want.status, want.ran):
        return f"{where}: got {status}, ran={ran}; want {want.status}, ran={want.ran}"
    if status == 401:
        problem = _headers_mismatch(want, headers, world)
        if problem:
            return f"{where}: {problem}"
    if want.code is not None and method != "HEAD":
        try:
            document: Any = json.loads(body)
        except ValueError:
            return f"{where}: body is not JSON: {body[:80]!r}"
        code = document.get("handled") if variant.handler else document.get("error")
        if code != want.code:
            return f"{where}: error {code!r}; want {want.code!r}"
        content_type = headers.get("content-type", "")
        if not variant.handler and content_type.startswith("application/problem+json") is not want.problem:
            return f"{where}: content type {content_type!r}; want problem+json={want.problem}"
    if status == 204 and body:
        return f"{where}: a 204 with a body"
    if status == 200 and method != "HEAD" and kind in TOKEN_TYPE:
        seen = json.loads(body).get("token_type", want.token_type)
        if seen != want.token_type:
            return f"{where}: the route saw {seen!r}; want {want.token_type!r}"
        if seen == "aa-agent+jwt" and json.loads(body).get("agent", AGENT_ID) != AGENT_ID:
            return f"{where}: the route saw agent {json.loads(body).get('agent')!r}"
    return None


def _headers_mismatch(want: Want, headers: dict[str, str], world: World) -> str | None:
    """The 401's challenge and failure headers, exactly those the row calls for."""
    if ("agent-auth" in headers) is not want.agent_auth:
        return f"Agent-Auth present={'agent-auth' in headers}; want {want.agent_auth}"
    raw = headers.get("signature-error")
    sig = parse_signature_error(raw).error if raw is not None else None
    if sig != want.signature_error:
        return f"Signature-Error {raw!r}; want {want.signature_error!r}"
    raw = headers.get("aauth-requirement")
    requirement = parse_requirement(raw) if raw is not None else None
    if (requirement.requirement if requirement else None) != want.requirement:
        return f"AAuth-Requirement {raw!r}; want {want.requirement!r}"
    if requirement is not None and want.requirement == "auth-token":
        token = requirement.resource_token or ""
        verify_signature(token, "Ed25519", world.resource.key.public)
        if peek(token).claims.get("aud") != PS:
            return "the resource token is not for the agent's person server"
    elif requirement is not None and raw != f"requirement={want.requirement}":
        return f"AAuth-Requirement {raw!r} carries parameters"
    if (want.requirement or want.signature_error) and headers.get("link") != LINK:
        return f"Link {headers.get('link')!r}; want the resource's metadata"
    return None


def _run(world: World, variant: Variant, profiles: tuple[str, ...]) -> list[str]:
    send: Send = variant.build(world, variant.handler, routes=ROUTES_11, settings=settings_11(profiles))
    agent = Agent11(world)
    problems = []
    for route, kind, method in rows():
        result = send(method, route.path, agent.headers(route, kind, method))
        problem = mismatch(variant, route, kind, method, result, profiles, world)
        if problem:
            problems.append(problem)
    return problems


@pytest.mark.parametrize("profiles", [ONLY_11, DUAL], ids=["only-11", "dual"])
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_every_variant_follows_the_contract_table_under_aauth_11(world: World, variant: Variant,
                                                                 profiles: tuple[str, ...]) -> None:
    problems = _run(world, variant, profiles)
    assert problems == [], f"{variant.name} ({profiles}) departs from the contract:\n" + "\n".join(problems)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_the_january_table_holds_on_a_dual_stack_resource_in_every_variant(world: World, variant: Variant) -> None:
    """January's kinds, expectations and routes, unchanged, with aauth-11 accepted beside them."""
    send: Send = variant.build(world, variant.handler, settings=settings_11(DUAL))
    problems = []
    for route, kind, method in january._rows():
        problem = january._mismatch(variant, route, kind, method,
                                    send(method, route.path, january._headers(world, route, kind, method)))
        if problem:
            problems.append(problem)
    assert problems == [], f"{variant.name} departs from the January table dual-stack:\n" + "\n".join(problems)


def test_the_11_table_covers_every_route_kind_and_method() -> None:
    table = rows()
    assert {r.path for r, _, _ in table} == {r.path for r in ROUTES_11}
    assert {m for _, _, m in table} == set(METHODS)
    assert {k for _, k, _ in table} == set(KINDS)
    assert {expected(r, k, p).status for r, k, _ in table for p in (ONLY_11, DUAL)} == {200, 204, 401}
