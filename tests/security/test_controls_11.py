"""Controls of the aauth-11 person/auth-token and request rows: the same builders with
nothing changed are accepted (200, the handler ran) through every adapter, dual-stack and
-11-only, so each refusal in the table is caused by the one thing its row changes (with
every -11 token failure answered ``invalid_jwt``, a broken builder would otherwise pass
every row).  Plus the edges the rows sit next to: the ``created`` window's last second,
an ``exp`` one second ahead, a one-element ``aud`` array, a revocation by another server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.tokens.jws import verify_signature
from aauth_core.wire.requirement import parse_requirement

from ..conftest import NOW, RESOURCE
from ..profile11.mint import BASE, PERSON_SUB, PS, cnf_jwk
from .attacks_11_discovery import EVIL_PS, _person_from
from .attacks_11_requests import _b64, _body_request, _digest_header, _inner, _raw_sk, _with_query
from .attacks_11_tokens import FOUR_PARTY, _cnf, _forged, _mutated
from .build11 import (
    AUTH_PATH_11,
    DUAL,
    ONLY_11,
    PS2,
    TRUST,
    TokenSpec,
    agent11_request,
    server,
    sign_at,
    signed_person_request,
    token11,
)
from .conftest import AttackWorld
from .table import Attack, Ctx, Req
from .test_resource_attacks import ADAPTERS, adapted

Control = tuple[Callable[[Ctx], Req], Mapping[str, Any]]


def _revoked_elsewhere(ctx: Ctx) -> Req:
    """The same ``jti`` revoked by another person server, and another ``jti`` by this one:
    a revocation is ``(iss, jti)``, so neither touches this auth token."""
    made, agent = TokenSpec("auth"), SigningKey.generate()
    claims = made.claims_for(agent)
    assert ctx.service is not None
    ctx.service.revocations.revoke(PS2, claims["jti"], claims["exp"])
    ctx.service.revocations.revoke(PS, "another-jti", claims["exp"])
    return sign_at(ctx, made.path, agent, made.token(made.publish(ctx), agent))


def _honest_evil_ps(ctx: Ctx) -> None:
    """evil-ps.example with honest documents: the discovery path the SSRF rows abuse."""
    server(ctx, EVIL_PS)


CONTROLS_11: dict[str, Control] = {
    # tokens
    "person": (token11("person"), TRUST),
    "person_any_ps_when_none_listed": (token11("person", at=PS2, iss=PS2), {"person_servers": ()}),
    "auth_three_party": (token11("auth"), TRUST),
    "auth_second_listed_ps": (token11("auth", at=PS2, iss=PS2, ps=PS2), {"person_servers": (PS, PS2)}),
    "auth_four_party": (token11("access"), FOUR_PARTY),
    "claims_unchanged": (_mutated("person", lambda c, a: None), TRUST),
    "cnf_fits": (_cnf("auth", cnf_jwk), TRUST),
    "forged_header_ok": (_forged("person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt", "kid": k.kid},
                                 signer=lambda c, k: k), TRUST),
    "aud_one_element_array": (token11("person", aud=[RESOURCE]), TRUST),
    "lifetime_one_hour": (token11("auth", lifetime=3600), TRUST),
    "exp_one_second_ahead": (token11("auth", now=NOW - 3599, lifetime=3600), TRUST),
    "revoked_elsewhere": (_revoked_elsewhere, TRUST),
    "agent_token": (agent11_request, TRUST),
    # the request
    "person_signed": (lambda c: signed_person_request(c)[0], TRUST),
    "resigned_unchanged": (_inner(lambda t: t), TRUST),
    "created_60_s_old": (lambda c: signed_person_request(c, created=NOW - 60)[0], TRUST),
    "created_60_s_ahead": (lambda c: signed_person_request(c, created=NOW + 60)[0], TRUST),
    "body_covered": (_body_request, TRUST),
    "digest_resigned": (_digest_header(lambda b: f"sha-256=:{_b64(b)}:"), TRUST),
    "digest_two_algorithms": (_digest_header(lambda b: f"sha-256=:{_b64(b)}:, sha-512=:{_b64(b, 'sha-512')}:"),
                              TRUST),
    "query_covered": (lambda c: _with_query(c, (*BASE, "@query")),
                      {**TRUST, "additional_signature_components": ("@query",)}),
    "query_not_required": (lambda c: _with_query(c, BASE), TRUST),  # -11 open point 4: not covered by default
    "authorization_covered": (lambda c: signed_person_request(
        c, headers={"Authorization": "AAuth c2Vzc2lvbg"}, components=(*BASE, "authorization"))[0], TRUST),
    "signature_key_as_signed": (_raw_sk(lambda t: f'sig=jwt;jwt="{t}"'), TRUST),
    "signature_key_spaced_as_signed": (_raw_sk(lambda t: f'sig=jwt; jwt="{t}"'), TRUST),
    "alg_parameter_ignored": (lambda c: signed_person_request(c, extra_params=';alg="hmac-sha256"')[0], TRUST),
    "signature_base64url": (lambda c: signed_person_request(c, encoding="base64url")[0], TRUST),
    # discovery
    "honest_person_server_elsewhere": (_person_from(EVIL_PS, _honest_evil_ps),
                                       {"person_servers": ()}),
}


@pytest.mark.parametrize("profiles", [DUAL, ONLY_11], ids=["dual", "only-11"])
@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("name", sorted(CONTROLS_11))
def test_aauth_11_token_control_is_accepted_by_every_adapter(
        request: pytest.FixtureRequest, world: AttackWorld, name: str, adapter: str, profiles: tuple[str, ...]) -> None:
    build, settings = CONTROLS_11[name]
    attack = Attack(f"control_{name}", build, 200, "", "", settings={"profiles": profiles, **settings})
    app = adapted(request, world, attack, adapter)
    req = build(Ctx(world, "resource", service=app.service()))
    status, _, content, ran = app.send(req)
    assert (status, ran) == (200, True), content


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_person_token_at_an_authorization_route_gets_a_resource_token(
        request: pytest.FixtureRequest, world: AttackWorld, adapter: str) -> None:
    """The challenge beside the refusal rows: a genuine person token at ``/data-auth`` is asked
    for an auth token with a resource token for its (listed) person server (RS-30, RS-31)."""
    attack = Attack("control_challenge", token11("person", path=AUTH_PATH_11), 401, "", "",
                    settings={"profiles": DUAL, **TRUST})
    app = adapted(request, world, attack, adapter)
    ctx = Ctx(world, "resource", service=app.service())
    status, headers, _, ran = app.send(token11("person", path=AUTH_PATH_11)(ctx))
    lower = {k.lower(): v for k, v in headers.items()}
    challenge = parse_requirement(lower["aauth-requirement"])
    assert (status, ran, challenge.requirement) == (401, False, "auth-token")
    assert challenge.resource_token is not None
    verify_signature(challenge.resource_token, "Ed25519", world.resource.key.public)
    claims = peek(challenge.resource_token).claims
    assert (claims["aud"], claims["ps"], claims["sub"]) == (PS, PS, PERSON_SUB)
