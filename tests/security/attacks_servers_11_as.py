"""Attack rows on our -11 access server (issue 15): ``POST /token`` (the calling person server's
signature, the body, the resource, agent and presented tokens, SSRF) and its pending URLs."""

from __future__ import annotations

import json
from typing import Any

from aauth_core.accessserver import AccessDecision, AccessRequest
from aauth_core.keys import SigningKey
from aauth_core.tokens.mint_11 import mint_agent_token_11

from ..accessserver.harness import AP, AS, MISSION, PERSON_SUB, PS, TOKEN
from ..profile11.mint import mint, sign11
from .servers11_env import ASEnv, Req, ServerAttack
from .table import forge

__all__ = ["AS_ROWS"]

BASE = ("@method", "@authority", "@path", "signature-key")


def _body(env: ASEnv, **over: Any) -> dict[str, Any]:
    return env.four.body(**over)


def _replayed(env: ASEnv) -> list[Any]:
    req = env.token()
    return [lambda: env.send(req), req]


def _swapped(env: ASEnv) -> Req:
    req = env.token()
    assert req.body is not None
    return req.with_body(req.body[:-1] + b', "scope": "data.write"}')


def _agent_signs(env: ASEnv) -> Req:
    raw = json.dumps(_body(env)).encode()
    headers = sign11("POST", TOKEN, env.four.agent_key, env.four.agent_token(), body=raw,
                     components=(*BASE, "content-digest", "content-type"), created=int(env.clock()))
    return Req("POST", TOKEN, headers, raw)


def _raw(env: ASEnv, text: str) -> Req:
    return env.token(text.encode())


def _dup(env: ASEnv) -> Req:
    body = _body(env)
    return _raw(env, '{{"resource_token": "x", "agent_token": {}, "presented_token": {}, "resource_token": {}}}'.format(json.dumps(body["agent_token"]), json.dumps(body["presented_token"]),
                   json.dumps(body["resource_token"])))


def _nan(env: ASEnv) -> Req:
    return _raw(env, json.dumps(_body(env))[:-1] + ', "n": NaN}')


def _rt_claims(env: ASEnv, **over: Any) -> dict[str, Any]:
    now = int(env.clock())
    claims = {"iss": "https://api.example", "dwk": "aauth-resource.json", "aud": AS, "ps": PS,
              "sub": PERSON_SUB, "presented_jti": "pt-1", "agent_jkt": env.four.agent_key.thumbprint,
              "scope": "data.read", "mission_s256": MISSION, "tenant": "acme", "jti": "rt-x", "iat": now,
              "exp": now + 300}
    return {**claims, **over}


def _rt_lifetime(env: ASEnv) -> Req:
    token = mint(env.four.resource_key, _rt_claims(env, exp=int(env.clock()) + 86400), typ="aa-resource+jwt")
    return env.token(_body(env, resource_token=token))


def _rt_exp_beyond(env: ASEnv) -> Req:
    four = env.four
    text = json.dumps(_rt_claims(env, exp=0)).replace('"exp": 0', '"exp": 1e400')
    token = forge({"alg": "Ed25519", "typ": "aa-resource+jwt", "kid": four.resource_key.kid}, text, four.resource_key)
    return env.token(_body(env, resource_token=token))


def _agent_from(iss: str, key: SigningKey | None = None) -> Any:
    def build(env: ASEnv) -> Req:
        four = env.four
        host = iss.split("://", 1)[1]
        token = mint_agent_token_11(key or SigningKey.generate(kid="ap-key-1"), iss=iss, sub=f"aauth:x@{host}",
                                    cnf_jwk=four.agent_key.public_jwk(), now=env.clock(), ps=PS)
        return env.token(_body(env, agent_token=token))

    return build


def _expired_agent(env: ASEnv) -> Req:
    agent = env.four.agent_token(lifetime=60)
    body = _body(env, agent_token=agent)
    env.clock.advance(61)
    return env.token(body)


class _Approval:
    def decide(self, request: AccessRequest) -> AccessDecision:
        return AccessDecision.need_approval()


def _pending(env: ASEnv) -> str:
    env.four.server.policy = _Approval()
    got = env.send(env.token())
    assert got.status == 202, got.text
    return got.headers["location"]


def _poll_by_other_ps(env: ASEnv) -> Req:
    from ..profile11.mint import publish_server

    location = _pending(env)
    other = SigningKey.generate(kid="ps2-key")
    publish_server(env.four.network, other, "https://ps2.example", "aauth-person.json")
    return env.signed("GET", location, server="https://ps2.example", key=other)


def _poll_replayed(env: ASEnv) -> list[Any]:
    location = _pending(env)
    req = env.signed("GET", location)
    return [lambda: env.send(req), req]


def _claims_bad(text: str) -> Any:
    def build(env: ASEnv) -> Req:
        location = _pending(env)
        return env.signed("POST", location, text.encode())

    return build


def row(name: str, endpoint: str, build: Any, outcome: tuple[int, str], description: str, **kw: Any) -> ServerAttack:
    return ServerAttack(name, "AS", endpoint, build, outcome[0], outcome[1], description, **kw)


T, PEND = "/token", "/token/pending/{id}"
PRIVATE = ("internal.example",)

AS_ROWS: list[ServerAttack] = [
    # ---------------------------------------------------------------- the person server's signature
    row("as_token_unsigned", T, lambda e: Req("POST", TOKEN, {"Content-Type": "application/json"},
                                              json.dumps(_body(e)).encode()),
        (401, "invalid_signature"), "a federation body without any signature"),
    row("as_token_body_not_covered", T, lambda e: e.token(components=BASE), (401, "invalid_input"),
        "the body not covered"),
    row("as_token_body_swapped", T, _swapped, (401, "invalid_signature"), "the body replaced after signing"),
    row("as_token_replayed", T, _replayed, (401, "invalid_signature"), "a granted federation request sent again"),
    row("as_token_created_stale", T, lambda e: e.token(created=int(e.clock()) - 3600), (401, "invalid_signature"),
        "`created` an hour old"),
    row("as_token_agent_signs", T, _agent_signs, (401, "unsupported_scheme"),
        "the agent calls the access server itself (`sig=jwt`), not its person server"),
    row("as_token_signer_private_name", T, lambda e: e.token(server="https://internal.example"),
        (401, "invalid_key"), "a signer whose identifier resolves to 10.0.0.7", forbidden=PRIVATE),
    row("as_token_signer_metadata_ip", T, lambda e: e.token(server="https://169.254.169.254"),
        (401, "unsupported_scheme"), "a signer whose identifier is the metadata address (no server identifier)",
        forbidden=("169.254.169.254",)),
    row("as_token_signer_loopback", T, lambda e: e.token(server="http://127.0.0.1:8080"),
        (401, "unsupported_scheme"), "a signer on plain-http loopback (loopback off: no server identifier)",
        forbidden=("127.0.0.1",)),
    # ---------------------------------------------------------------- the body
    row("as_token_oversized", T, lambda e: _raw(e, '{"pad": "' + "x" * 70_000 + '"}'), (413, "invalid_request"),
        "a 70 KB body", app_only=True),
    row("as_token_deep_nesting", T, lambda e: _raw(e, '{"a": ' + "[" * 5000 + "]" * 5000 + "}"),
        (400, "invalid_request"), "an array nested 5000 deep"),
    row("as_token_duplicate_member", T, _dup, (400, "invalid_request"),
        "`resource_token` twice, garbage first and a valid one last (parsers disagree on which wins)"),
    row("as_token_nan", T, _nan, (400, "invalid_request"), "a valid federation body with `NaN` added"),
    # ---------------------------------------------------------------- the resource token
    row("as_token_rt_forged", T,
        lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(key=SigningKey.generate(
            kid="rs-key-1")))), (400, "invalid_resource_token"), "a resource token signed by another key"),
    row("as_token_rt_wrong_aud", T, lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(aud=PS))),
        (400, "invalid_resource_token"), "a resource token for the person server, not this access server"),
    row("as_token_rt_wrong_agent_jkt", T, lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(
        agent_jkt=SigningKey.generate().thumbprint))), (400, "invalid_agent_token"),
        "a resource token for another agent key than the agent token's"),
    row("as_token_rt_expired", T, lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(
        now=e.clock() - 301))), (400, "expired_resource_token"), "a resource token one second past its `exp`"),
    row("as_token_rt_lifetime", T, _rt_lifetime, (400, "invalid_resource_token"), "a resource token living a day"),
    row("as_token_rt_exp_beyond_range", T, _rt_exp_beyond, (400, "invalid_resource_token"),
        "a resource token whose `exp` is `1e400`"),
    row("as_token_rt_iss_private_name", T, lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(
        iss="https://internal.example"))), (400, "invalid_resource_token"),
        "a resource token from a host resolving to 10.0.0.7 (not a governed resource)", forbidden=PRIVATE),
    # ---------------------------------------------------------------- the agent token
    row("as_token_agent_untrusted_key", T, _agent_from(AP), (400, "invalid_agent_token"),
        "an agent token under the provider's `kid`, signed by another key"),
    row("as_token_agent_ap_private", T, _agent_from("https://internal.example"), (400, "invalid_agent_token"),
        "an agent token whose provider resolves to 10.0.0.7", forbidden=PRIVATE),
    row("as_token_agent_ap_metadata_ip", T, _agent_from("https://169.254.169.254"), (400, "invalid_agent_token"),
        "an agent token whose `iss` is the metadata address", forbidden=("169.254.169.254",)),
    row("as_token_agent_expired", T, _expired_agent, (400, "expired_agent_token"),
        "an agent token one second past its `exp`"),
    row("as_token_agent_typ", T, lambda e: e.token(_body(e, agent_token=e.four.person_token(jti="pt-9"))),
        (400, "invalid_agent_token"), "a person token as the agent token"),
    row("as_token_agent_other_ps", T, lambda e: e.token(_body(e, agent_token=e.four.agent_token(
        ps="https://ps2.example"))), (400, "invalid_agent_token"), "an agent token naming another person server"),
    # ---------------------------------------------------------------- the presented token
    row("as_token_pt_jti_mismatch", T, lambda e: e.token(_body(e, resource_token=e.four.minted_resource_token(
        presented_jti="pt-2"))), (400, "invalid_presented_token"), "a resource token naming another `presented_jti`"),
    row("as_token_pt_other_key", T, lambda e: e.token(_body(e, presented_token=e.four.person_token(
        key=SigningKey.generate()), resource_token=e.four.minted_resource_token())), (400, "invalid_presented_token"),
        "a person token bound to another agent key"),
    row("as_token_pt_other_resource", T, lambda e: e.token(_body(e, presented_token=e.four.person_token(
        aud="https://other.example"), resource_token=e.four.minted_resource_token())),
        (400, "invalid_presented_token"), "a person token for another resource"),
    # ---------------------------------------------------------------- pending URLs
    row("as_pending_other_ps", PEND, _poll_by_other_ps, (404, "not_found"),
        "the pending URL polled by another (validly signing) person server"),
    row("as_pending_unsigned", PEND, lambda e: Req("GET", _pending(e), {}), (401, "invalid_signature"),
        "the pending URL polled without a signature"),
    row("as_pending_unknown_id", PEND, lambda e: e.signed("GET", f"{AS}/token/pending/{'A' * 32}"),
        (404, "not_found"), "a pending id never issued"),
    row("as_pending_replayed", PEND, _poll_replayed, (401, "invalid_signature"), "a signed poll sent twice"),
    row("as_pending_claims_not_object", PEND, _claims_bad('{"claims": ["email"]}'), (400, "invalid_request"),
        "a claims answer whose `claims` is a list"),
    row("as_pending_claims_duplicate", PEND, _claims_bad('{"claims": {"email": "a@x"}, "claims": {"email": "b@x"}}'),
        (400, "invalid_request"), "`claims` twice in a claims answer"),
]


