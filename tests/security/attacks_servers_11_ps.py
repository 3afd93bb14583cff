"""Attack rows on our -11 person server's JSON endpoints (issue 15): ``POST /person`` and
``POST /token`` (the agent's signature and agent token, the body, the resource and presented
tokens, SSRF through a resource token's ``iss`` and the resource's metadata)."""

from __future__ import annotations

import json
from typing import Any

from aauth_core.keys import SigningKey
from aauth_core.wire.signature_key import SignatureKey

from ..personserver.stack import AGENT, AP, PS, RESOURCE
from ..profile11.mint import agent_token, mint
from .servers11_env import BASE_SET, PSEnv, Req, ServerAttack
from .table import forge

__all__ = ["PS_ROWS"]

SKEW = 3600


def _person(env: PSEnv, body: Any = None, **kw: Any) -> Req:
    return env.sign("POST", "/person", {"resource": RESOURCE} if body is None else body, **kw)


def _hand_agent_token(env: PSEnv, *, key: SigningKey | None = None, **over: Any) -> str:
    """An agent token minted by hand with the agent provider's key (unless told another)."""
    over.setdefault("sub", AGENT)
    over.setdefault("ps", PS)
    return agent_token(key or env.stack.provider.keys[0], env.stack.agent_key, now=env.clock(), **over)


def _replayed(env: PSEnv) -> list[Any]:
    req = _person(env)
    return [lambda: env.send(req), req]


def _swapped(env: PSEnv) -> Req:
    req = _person(env)
    return req.with_body(json.dumps({"resource": "https://evil.example"}).encode())


def _expired_agent(env: PSEnv) -> Req:
    token = env.agent_token()
    env.clock.advance(3601)
    return _person(env, token=token)


def _presented_token_as_signer(env: PSEnv) -> Req:
    return _person(env, token=env.person_token())


def _hwk(env: PSEnv) -> Req:
    jwk = env.stack.agent_key.public_jwk()
    params = {k: str(v) for k, v in jwk.items() if k in ("kty", "crv", "x")}
    sk = SignatureKey.build("hwk", {**params, "alg": "Ed25519"}, label="sig", fmt="sk").raw
    return _person(env, signature_key=sk)


def _jwks_uri(env: PSEnv) -> Req:
    sk = SignatureKey.build("jwks", {"id": AP, "well-known": "aauth-agent.json", "kid": "ap-1"}, label="sig",
                            fmt="sk").raw
    return _person(env, signature_key=sk)


def _rt_pair(env: PSEnv, **over: Any) -> Req:
    return env.token_request(**over)


def _rt_forged(env: PSEnv) -> Req:
    return env.token_request(key=SigningKey.generate(kid="api-1"))


def _rt_alg_none(env: PSEnv) -> Req:
    pt = env.person_token()
    token = forge({"alg": "none", "typ": "aa-resource+jwt", "kid": "api-1"}, env.resource_claims(pt), None)
    return env.sign("POST", "/token", {"resource_token": token, "presented_token": pt})


def _rt_from(host: str, **docs: Any) -> Any:
    """A resource token whose ``iss`` is ``https://{host}`` (published with ``docs`` when given)."""

    def build(env: PSEnv) -> Req:
        pt = env.person_token()
        iss = env.publish_resource(host, **docs) if docs else f"https://{host}" if "://" not in host else host
        token = env.resource_token(pt, iss=iss, key=SigningKey.generate(kid="x-1") if not docs else None)
        return env.sign("POST", "/token", {"resource_token": token, "presented_token": pt})

    return build


def _pt_for(env: PSEnv, presented: str) -> Req:
    return env.sign("POST", "/token", {"resource_token": env.resource_token(presented), "presented_token": presented})


def _pt_other_resource(env: PSEnv) -> Req:
    pt = env.person_token(resource="https://other.example")
    return env.sign("POST", "/token", {"resource_token": env.resource_token(pt, iss=RESOURCE),
                                       "presented_token": pt})


def _pt_not_ours(env: PSEnv) -> Req:
    pt = env.person_token()
    from aauth_core.tokens import peek
    from aauth_core.tokens.json import thaw_mapping

    forged = mint(SigningKey.generate(kid="ps-1"), thaw_mapping(peek(pt).claims), typ="aa-person+jwt")
    return _pt_for(env, forged)


def _pt_revoked(env: PSEnv) -> Req:
    from aauth_core.tokens import peek

    pt = env.person_token()
    env.ps.revoke(str(peek(pt).claims["jti"]))
    return _pt_for(env, pt)


def _pt_expired(env: PSEnv) -> Req:
    pt = env.person_token()
    env.clock.advance(3601)
    return env.sign("POST", "/token", {"resource_token": env.resource_token(pt), "presented_token": pt},
                    token=env.agent_token())


def _pt_agent_token(env: PSEnv) -> Req:
    pt = env.person_token()
    token = env.resource_token(pt)
    return env.sign("POST", "/token", {"resource_token": token, "presented_token": env.agent_token()})


def _token_replayed(env: PSEnv) -> list[Any]:
    req = env.token_request()
    return [lambda: env.send(req), req]


def _dup_resource_token(env: PSEnv) -> Req:
    pt = env.person_token()
    good = env.resource_token(pt)
    raw = (f'{{"resource_token": "x", "presented_token": {json.dumps(pt)}, "resource_token": {json.dumps(good)}}}').encode()
    return env.sign("POST", "/token", raw)


def _nan_token(env: PSEnv) -> Req:
    pt = env.person_token()
    raw = (f'{{"resource_token": {json.dumps(env.resource_token(pt))}, "presented_token": {json.dumps(pt)}, "n": NaN}}').encode()
    return env.sign("POST", "/token", raw)


def _exp_beyond(env: PSEnv) -> Req:
    pt = env.person_token()
    claims = env.resource_claims(pt)
    text = json.dumps(claims).replace(f'"exp": {claims["exp"]}', '"exp": 1e400')
    key = env.stack.resource_key
    token = forge({"alg": "Ed25519", "typ": "aa-resource+jwt", "kid": key.kid}, text, key)
    return env.sign("POST", "/token", {"resource_token": token, "presented_token": pt})


def row(name: str, endpoint: str, build: Any, outcome: tuple[int, str], description: str, **kw: Any) -> ServerAttack:
    return ServerAttack(name, "PS", endpoint, build, outcome[0], outcome[1], description, **kw)


P, T = "/person", "/token"
PRIVATE = ("internal.example", "10.0.0.1")

PS_ROWS: list[ServerAttack] = [
    # ---------------------------------------------------------------- the agent's signature
    row("ps_person_unsigned", P, lambda e: Req("POST", f"{PS}/person", {"Content-Type": "application/json"},
                                                 b'{"resource": "https://api.example"}'),
        (401, "identity_required"), "no Signature, Signature-Input or Signature-Key at all"),
    row("ps_person_scheme_hwk", P, _hwk, (401, "unsupported_scheme"), "`sig=hwk`: a bare key, no agent token"),
    row("ps_person_scheme_jwks_uri", P, _jwks_uri, (401, "unsupported_scheme"),
        "the agent signs as a server (`sig=jwks_uri`, the agent provider's key)"),
    row("ps_person_body_not_covered", P, lambda e: _person(e, components=BASE_SET), (401, "invalid_input"),
        "a body, neither `content-digest` nor `content-type` covered"),
    row("ps_person_body_swapped", P, _swapped, (401, "invalid_signature"),
        "the body replaced after signing (another `resource`)"),
    row("ps_person_replayed", P, _replayed, (401, "invalid_signature"), "a granted person-token request sent again"),
    row("ps_person_created_stale", P, lambda e: _person(e, created=int(e.clock()) - SKEW), (401, "invalid_signature"),
        "`created` an hour old"),
    row("ps_person_created_future", P, lambda e: _person(e, created=int(e.clock()) + SKEW), (401, "clock_skew"),
        "`created` an hour ahead"),
    # ---------------------------------------------------------------- the agent token
    row("ps_person_agent_token_forged", P,
        lambda e: _person(e, token=_hand_agent_token(e, key=SigningKey.generate(kid="ap-1"))),
        (401, "invalid_jwt"), "an agent token signed by a key the agent provider never published (its `kid`)"),
    row("ps_person_agent_token_ap_private", P,
        lambda e: _person(e, token=_hand_agent_token(e, iss="https://internal.example",
                                                     sub="aauth:assistant@internal.example")),
        (401, "invalid_key"), "an agent token from a provider whose name resolves to 10.0.0.1",
        forbidden=PRIVATE),
    row("ps_person_agent_token_ap_ip_literal", P,
        lambda e: _person(e, token=_hand_agent_token(e, iss="https://169.254.169.254",
                                                     sub="aauth:assistant@169.254.169.254")),
        (401, "invalid_jwt"), "an agent token whose `iss` is the cloud metadata address",
        forbidden=("169.254.169.254",)),
    row("ps_person_agent_token_expired", P, _expired_agent, (401, "expired_jwt"),
        "an agent token one second past its `exp`"),
    row("ps_person_agent_token_typ", P, lambda e: _person(e, token=_hand_agent_token(e, typ="JWT")),
        (401, "invalid_jwt"), "an agent token with `typ: JWT`"),
    row("ps_person_presented_token_as_agent_token", P, _presented_token_as_signer, (401, "invalid_jwt"),
        "the person server's own person token (for the resource) in `sig=jwt` instead of the agent token"),
    row("ps_person_agent_token_other_ps", P, lambda e: _person(e, token=e.agent_token(ps="https://other-ps.example")),
        (403, "invalid_request"), "an agent token naming another person server in `ps`"),
    row("ps_person_agent_token_exp_huge", P,
        lambda e: _person(e, token=_hand_agent_token(e, lifetime=10**12)), (401, "invalid_jwt"),
        "an agent token living 30 000 years (`exp` far beyond any cap)"),
    # ---------------------------------------------------------------- the body
    row("ps_person_resource_metadata_ip", P, lambda e: _person(e, {"resource": "https://169.254.169.254"}),
        (400, "invalid_request"), "`resource` the metadata address (an IP literal is no server identifier)",
        forbidden=("169.254.169.254",)),
    row("ps_person_resource_loopback", P, lambda e: _person(e, {"resource": "http://127.0.0.1:8080"}),
        (400, "invalid_request"), "`resource` on plain-http loopback, `allow_insecure_loopback` off",
        forbidden=("127.0.0.1",)),
    row("ps_person_oversized", P, lambda e: _person(e, {"resource": RESOURCE, "pad": "x" * 70_000}),
        (413, "invalid_request"), "a 70 KB JSON body", app_only=True),
    row("ps_person_deep_nesting", P, lambda e: _person(e, b'{"resource": "https://api.example", "a": '
                                                     + b"[" * 5000 + b"]" * 5000 + b"}"),
        (400, "invalid_request"), "an array nested 5000 deep"),
    row("ps_person_duplicate_member", P,
        lambda e: _person(e, b'{"resource": "https://api.example", "resource": "https://evil.example"}'),
        (400, "invalid_request"), "`resource` twice (parsers disagree on which wins)"),
    row("ps_person_nan", P, lambda e: _person(e, b'{"resource": "https://api.example", "n": NaN}'),
        (400, "invalid_request"), "`NaN` in the body"),
    row("ps_person_content_type", P,
        lambda e: _person(e, headers={"Content-Type": "text/plain"}), (400, "invalid_request"),
        "a JSON body sent (and signed) as `text/plain`"),
    row("ps_person_foreign_mission", P, lambda e: _person(e, {"resource": RESOURCE, "mission_s256": "A" * 43}),
        (404, "mission_not_found"), "a `mission_s256` never approved for this agent"),
    row("ps_person_unknown_user", P, lambda e: _person(e, token=e.agent_token(local="stranger")),
        (403, "user_unreachable"), "an unregistered agent without the `interaction` capability, consent required",
        consent=True),
    # ---------------------------------------------------------------- POST /token: the resource token
    row("ps_token_rt_forged", T, _rt_forged, (400, "invalid_resource_token"),
        "a resource token signed by another key under the resource's `kid`"),
    row("ps_token_rt_alg_none", T, _rt_alg_none, (400, "invalid_resource_token"),
        "a resource token with `alg: none`"),
    row("ps_token_rt_typ", T, lambda e: _rt_pair(e, typ="aa-auth+jwt"), (400, "invalid_resource_token"),
        "a resource token with `typ: aa-auth+jwt`"),
    row("ps_token_rt_aud_ip_literal", T, lambda e: _rt_pair(e, aud="https://10.0.0.1"),
        (400, "invalid_resource_token"), "a resource token whose `aud` (the access server to federate with) is "
        "10.0.0.1", forbidden=("10.0.0.1",)),
    row("ps_token_rt_wrong_agent_jkt", T, lambda e: _rt_pair(e, agent_jkt=SigningKey.generate().thumbprint),
        (400, "invalid_resource_token"), "a resource token issued to another agent key (`agent_jkt`)"),
    row("ps_token_rt_expired", T, lambda e: _rt_pair(e, iat=int(e.clock()) - 301, exp=int(e.clock()) - 1),
        (400, "expired_resource_token"), "a resource token one second past its `exp`"),
    row("ps_token_rt_lifetime", T, lambda e: _rt_pair(e, exp=int(e.clock()) + 86400),
        (400, "invalid_resource_token"), "a resource token living a day (the cap is 300 s)"),
    row("ps_token_rt_exp_beyond_range", T, _exp_beyond, (400, "invalid_resource_token"),
        "a resource token whose `exp` is `1e400` (beyond any float)"),
    row("ps_token_rt_exp_huge_int", T, lambda e: _rt_pair(e, exp=2**80), (400, "invalid_resource_token"),
        "a resource token whose `exp` is 2^80"),
    # ---------------------------------------------------------------- SSRF through the resource token's iss
    row("ps_token_rt_iss_metadata_ip", T, _rt_from("169.254.169.254"), (400, "invalid_resource_token"),
        "a resource token whose `iss` is the metadata address", forbidden=("169.254.169.254",)),
    row("ps_token_rt_iss_private_name", T, _rt_from("internal.example"), (400, "invalid_resource_token"),
        "a resource token whose `iss` resolves to 10.0.0.1", forbidden=PRIVATE),
    row("ps_token_rt_iss_metadata_name", T, _rt_from("meta.example"), (400, "invalid_resource_token"),
        "a resource token whose `iss` resolves to 169.254.169.254", forbidden=("meta.example", "169.254.169.254")),
    row("ps_token_rt_iss_loopback", T, _rt_from("http://127.0.0.1:8080"), (400, "invalid_resource_token"),
        "a resource token whose `iss` is plain-http loopback (loopback off)", forbidden=("127.0.0.1",)),
    row("ps_token_rt_jwks_uri_private", T, _rt_from("evil-rs.example", jwks_uri="https://internal.example/jwks"),
        (400, "invalid_resource_token"), "a resource whose `aauth-resource.json` points `jwks_uri` at 10.0.0.1",
        forbidden=PRIVATE),
    row("ps_token_rt_jwks_uri_metadata", T, _rt_from("evil-rs2.example", jwks_uri="https://169.254.169.254/x"),
        (400, "invalid_resource_token"), "a resource whose `jwks_uri` is the metadata address",
        forbidden=("169.254.169.254",)),
    # ---------------------------------------------------------------- POST /token: the presented token
    row("ps_token_pt_other_resource", T, _pt_other_resource, (400, "invalid_presented_token"),
        "a person token for another resource"),
    row("ps_token_pt_other_key", T, lambda e: _pt_for(e, e.person_token(key=SigningKey.generate())),
        (400, "invalid_presented_token"), "a person token bound to another agent key"),
    row("ps_token_pt_not_ours", T, _pt_not_ours, (400, "invalid_presented_token"),
        "a person token re-signed by another key under the person server's `kid`"),
    row("ps_token_pt_jti_mismatch", T, lambda e: _rt_pair(e, presented_jti="another"),
        (400, "invalid_presented_token"), "a resource token naming another `presented_jti`"),
    row("ps_token_pt_sub_mismatch", T, lambda e: _rt_pair(e, sub="another-person"),
        (400, "invalid_presented_token"), "a resource token naming another person (`sub`)"),
    row("ps_token_pt_revoked", T, _pt_revoked, (400, "revoked_presented_token"), "a person token revoked by `jti`"),
    row("ps_token_pt_expired", T, _pt_expired, (400, "expired_presented_token"),
        "a person token one second past its `exp`"),
    row("ps_token_pt_agent_token", T, _pt_agent_token, (400, "invalid_presented_token"),
        "the agent token as the presented token"),
    # ---------------------------------------------------------------- POST /token: the request
    row("ps_token_replayed", T, _token_replayed, (401, "invalid_signature"), "a granted auth-token request sent again"),
    row("ps_token_body_not_covered", T, lambda e: e.sign("POST", "/token", {"resource_token": "x",
                                                                            "presented_token": "y"},
                                                         components=BASE_SET),
        (401, "invalid_input"), "the body not covered"),
    row("ps_token_duplicate_member", T, _dup_resource_token, (400, "invalid_request"),
        "`resource_token` twice, a valid one last"),
    row("ps_token_nan", T, _nan_token, (400, "invalid_request"), "a valid request with `NaN` added"),
    row("ps_token_justification_too_long", T,
        lambda e: e.sign("POST", "/token", {"resource_token": "x", "presented_token": "y",
                                            "justification": "j" * 2000}),
        (400, "invalid_request"), "a 2000-character `justification`"),
]
