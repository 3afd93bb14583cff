"""Controls: the attack builders produce *valid* requests when nothing is wrong.

Each attack changes one thing in a request our own signer, token minter or
hand-made JWS (:func:`forge`) would otherwise get accepted.  These controls run
the unmodified variants through the same targets and expect 200, so every
refusal in the attack table is caused by the attack itself, not by a broken
builder (a typo'd signature base would make every attack "pass").
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from aauth_core.keys import jwks_document

from ..conftest import AGENT, ISSUER, RESOURCE
from ..profile11.mint import AP
from .attacks import (
    EVIL_AGENT,
    Attack,
    Ctx,
    Req,
    _components,
    _digest,
    _header,
    _jwks_params,
    _raw_signature_key,
    _signed_with_digest,
    forge,
    resign,
)
from .attacks import _body as attack_body
from .attacks_11_agent import _agent11, _cnf_alg11, _issuer11, _sign11
from .build11 import DUAL, ONLY_11, PATH_11, ap
from .conftest import AttackWorld
from .test_authserver_attacks import build_env
from .test_resource_attacks import ADAPTERS, RESOURCE_ATTACKS, sender

CONTROLS: dict[str, Callable[[Ctx], Req]] = {
    "signed": lambda c: c.sign(),
    "resigned_unchanged": lambda c: resign(c, c.sign(), _components(c.sign()) + f";created={c.created()}"),
    "digest_resigned": lambda c: _signed_with_digest(c, f"sha-256=:{_digest(attack_body(c))}:"),
    "digest_two_algorithms": lambda c: _signed_with_digest(
        c, f"sha-256=:{_digest(attack_body(c))}:, sha-512=:{_digest(attack_body(c), 'sha-512')}:"),
    "minted_token": lambda c: c.present(c.token()),
    "forged_token_header_ok": lambda c: c.present(forge(_header(c), c.claims(), c.issuer_key)),
    "raw_signature_key": _raw_signature_key(f'sig1=(scheme=jwks id="{AGENT}" kid="key-1" well-known="aauth-agent")'),
    "evil_agent_when_honest": lambda c: _evil_agent(c),
}


def _evil_agent(ctx: Ctx) -> Req:
    """evil-agent.example with honest documents: the same discovery path the SSRF cases abuse."""
    from aauth_core.keys import SigningKey

    key = SigningKey.generate(kid="key-1")
    ctx.world.network.publish(f"{EVIL_AGENT}/.well-known/aauth-agent",
                              {"agent": EVIL_AGENT, "jwks_uri": f"{EVIL_AGENT}/jwks.json"})
    ctx.world.network.publish(f"{EVIL_AGENT}/jwks.json", jwks_document([key]))
    return ctx.sign(key=key, params=_jwks_params(EVIL_AGENT))


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_control_is_accepted_by_the_resource(world: AttackWorld, name: str) -> None:
    from ..starlette.apps import starlette_app

    app = starlette_app(world)
    req = CONTROLS[name](Ctx(world, "resource"))
    with TestClient(app, base_url=RESOURCE) as client:
        r = client.request(req.method, req.path, headers=req.headers, content=req.body)
    assert r.status_code == 200, (name, r.text)
    assert app.state.calls


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_control_is_accepted_by_the_auth_server(world: AttackWorld, name: str) -> None:
    from .attacks import ATTACKS

    env = build_env(world, next(a for a in ATTACKS if a.name == "replayed_request"))
    req = CONTROLS[name](Ctx(world, "authserver", env))
    with TestClient(env.app, base_url=ISSUER) as client:
        r = client.request(req.method, req.path, headers=req.headers, content=req.body)
    assert r.status_code == 200, (name, r.text)
    assert "auth_token" in r.json()


def test_the_table_is_large_enough() -> None:
    from .attacks import ATTACKS

    assert len(ATTACKS) >= 60
    assert len(RESOURCE_ATTACKS) >= 60


# ----------------------------------------------------------------------------- body limits without Content-Length


@pytest.mark.parametrize("size, status", [(100, 200), (4096, 413)])
def test_flask_chunked_body_is_bounded(world: AttackWorld, size: int, status: int) -> None:
    """A chunked body (no Content-Length) is read at most one byte past ``max_body_bytes``."""
    from ..flask.apps import scenario_app

    app = scenario_app(world, "decorators", {"AAUTH_MAX_BODY_BYTES": 1024})
    req = Ctx(world, "resource").sign(body=b"x" * size)
    headers = {k: v for k, v in req.combined().items() if k.lower() != "content-length"}
    client = app.test_client()
    r = client.open(req.path, method="POST", headers=headers, base_url=RESOURCE,
                    input_stream=io.BytesIO(req.body or b""),
                    environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    assert r.status_code == status, r.get_data()
    if status == 200:
        assert r.get_json()["body_length"] == size  # the view still reads the whole body
    else:
        assert r.get_json()["error"] == "body_too_large"
        assert app.extensions["test_calls"] == []


# ----------------------------------------------------------------------------- redirects are seen, never followed


@pytest.mark.parametrize("target", ["resource", "authserver"])
def test_redirect_to_metadata_address_is_received_but_not_followed(world: AttackWorld, target: str) -> None:
    from .attacks import ATTACKS, METADATA_IP

    attack = next(a for a in ATTACKS if a.name == "ssrf_redirect_to_metadata")
    if target == "resource":
        from ..starlette.apps import starlette_app

        app: object = starlette_app(world)
        base, env = RESOURCE, None
    else:
        env = build_env(world, attack)
        app, base = env.app, ISSUER
    built = attack.build(Ctx(world, target, env))  # type: ignore[arg-type]
    assert not isinstance(built, list)
    with TestClient(app, base_url=base) as client:  # type: ignore[arg-type]
        r = client.request(built.method, built.path, headers=built.headers, content=built.body)
    assert r.status_code == 401
    assert world.net.calls[f"{AGENT}/.well-known/aauth-agent"] == 1  # the 302 was fetched ...
    assert METADATA_IP not in world.net.hosts_seen()  # ... and not followed
    assert all(METADATA_IP not in url for url in world.net.calls)


# ----------------------------------------------------------------------------- aauth-11 builders


CONTROLS_11: dict[str, Callable[[Ctx], Req]] = {
    "agent_token": _agent11(),
    "agent_token_issuer_named": _issuer11(AP),
    "cnf_alg_fits": _cnf_alg11("Ed25519"),
    "forged_header_ok": lambda c: _sign11_forged(c),
}


def _sign11_forged(ctx: Ctx) -> Req:
    """A hand-made JWS (the alg-none row's builder with a real signature)."""
    from aauth_core.keys import SigningKey

    from ..profile11.mint import agent_claims

    provider, agent = ap(ctx), SigningKey.generate()
    return _sign11(ctx, agent, forge({"alg": "Ed25519", "typ": "aa-agent+jwt", "kid": "ap-key-1"},
                                     agent_claims(agent), provider))


@pytest.mark.parametrize("profiles", [DUAL, ONLY_11], ids=["dual", "only-11"])
@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("name", sorted(CONTROLS_11))
def test_aauth_11_control_is_accepted_by_every_adapter(request: pytest.FixtureRequest, world: AttackWorld,
                                                       name: str, adapter: str, profiles: tuple[str, ...]) -> None:
    """The -11 rows change one thing in a request these builders otherwise get accepted (200, handler ran)."""
    attack = Attack(f"control_{name}", CONTROLS_11[name], 200, "", "", settings={"profiles": profiles})
    send = sender(request, world, attack, adapter)
    req = CONTROLS_11[name](Ctx(world, "resource"))
    status, _, content, ran = send(req)
    assert (status, ran) == (200, True), content


def test_a_january_transcript_jwt_header_is_accepted_dual_stack(request: pytest.FixtureRequest,
                                                               world: AttackWorld) -> None:
    """Control of ``aa11_classified_january_header_aa_token``: the same header and route with a
    January agent token instead of the ``aa-agent+jwt``."""
    from aauth_core.keys import SigningKey
    from aauth_core.tokens import mint_agent_token

    def build(ctx: Ctx) -> Req:
        delegate = SigningKey.generate(kid="delegate-key-1")
        token = mint_agent_token(world.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(),
                                 now=world.clock())
        return ctx.sign(key=delegate, scheme="jwt", params={"jwt": token}, path=PATH_11)

    attack = Attack("control_january_header", build, 200, "", "", settings={"profiles": DUAL})
    for adapter in ADAPTERS:
        status, _, content, ran = sender(request, world, attack, adapter)(build(Ctx(world, "resource")))
        assert (status, ran) == (200, True), (adapter, content)
