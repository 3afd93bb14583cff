"""The aauth-11 rows of the attack table for an agent token (issue 14, agent-token mode):
typ confusion, ``dwk``, the agent provider's ``issuer``, JWS and ``cnf`` algorithms,
classification (P2).  Each row is refused with 401 ``Signature-Error`` and problem+json,
or, where classification hands the request to January, with January's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aauth_core.keys import SigningKey
from aauth_core.tokens import mint_agent_token

from ..conftest import AGENT, ISSUER, RESOURCE
from ..profile11.mint import AP, agent_claims, agent_token, cnf_jwk, mint
from .build11 import AP2, ONLY_11, PATH_11, ap, res11, res11_january, sign_at
from .table import Attack, Ctx, Req, forge

__all__ = ["AGENT_ROWS"]


def _sign11(ctx: Ctx, agent: SigningKey, token: str) -> Req:
    return sign_at(ctx, PATH_11, agent, token)


def _agent11(typ: str = "aa-agent+jwt", alg: str | None = None, **claims: Any) -> Callable[[Ctx], Req]:
    """An -11 agent token from the published AP, with ``typ``/``alg``/claims changed, signed for correctly."""

    def build(ctx: Ctx) -> Req:
        provider, agent = ap(ctx), SigningKey.generate()
        return _sign11(ctx, agent, agent_token(provider, agent, typ=typ, alg=alg, **claims))

    return build


def _issuer11(issuer: Any) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        provider, agent = ap(ctx, issuer=issuer), SigningKey.generate()
        return _sign11(ctx, agent, agent_token(provider, agent))

    return build


def _cnf_alg11(alg: str | None) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        provider, agent = ap(ctx), SigningKey.generate()
        jwk = {k: v for k, v in cnf_jwk(agent).items() if k != "alg"}
        if alg is not None:
            jwk["alg"] = alg
        return _sign11(ctx, agent, agent_token(provider, agent, cnf={"jwk": jwk}))

    return build


def _other_ap_kid11(ctx: Ctx) -> Req:
    # A second, genuine AP's key (its own kid): the token claims iss=AP but names ap2's kid.
    ap(ctx)
    other, agent = ap(ctx, at=AP2, kid="ap2-key-1"), SigningKey.generate()
    return _sign11(ctx, agent, agent_token(other, agent))


def _other_ap_same_kid11(ctx: Ctx) -> Req:
    # Another AP publishes the same kid; its key must not verify a token claiming iss=AP.
    ap(ctx)
    other, agent = ap(ctx, at=AP2), SigningKey.generate()
    return _sign11(ctx, agent, agent_token(other, agent))


def _other_ap_iss11(ctx: Ctx) -> Req:
    # iss names AP2 (genuine, published), the token is signed by AP's key with the same kid.
    provider = ap(ctx)
    ap(ctx, at=AP2)
    agent = SigningKey.generate()
    return _sign11(ctx, agent, agent_token(provider, agent, iss=AP2))


def _january_issuer_key11(ctx: Ctx) -> Req:
    # The trusted January auth server's key signs an aa-agent+jwt naming it as iss.
    agent = SigningKey.generate()
    return _sign11(ctx, agent, mint(ctx.world.issuer.key, agent_claims(agent, iss=ISSUER)))


def _alg_none11(ctx: Ctx) -> Req:
    agent = SigningKey.generate()
    ap(ctx)
    return _sign11(ctx, agent, forge({"alg": "none", "typ": "aa-agent+jwt", "kid": "ap-key-1"},
                                     agent_claims(agent), None))


def _january_agent_token11(ctx: Ctx) -> Req:
    # A genuine January agent token (agent.example's key, a delegate in cnf) in an SK-09 header.
    delegate = SigningKey.generate(kid="delegate-key-1")
    token = mint_agent_token(ctx.world.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(),
                             now=ctx.world.clock())
    return _sign11(ctx, delegate, token)


def _january_header_aa_token(ctx: Ctx) -> Req:
    # January's transcript Signature-Key (sig1=(scheme=jwt jwt="...")) carrying an aa-agent+jwt.
    provider, agent = ap(ctx), SigningKey.generate()
    return ctx.sign(key=agent, scheme="jwt", params={"jwt": agent_token(provider, agent)}, path=PATH_11)


AGENT_ROWS: list[Attack] = [
    res11("aa11_typ_person_token", _agent11("aa-person+jwt"), "invalid_jwt",
          "-11: an `aa-person+jwt` presented as the agent token"),
    res11("aa11_typ_resource_token", _agent11("aa-resource+jwt"), "invalid_jwt",
          "-11: an `aa-resource+jwt` presented as the agent token"),
    res11("aa11_typ_auth_token", _agent11("aa-auth+jwt"), "invalid_jwt",
          "-11: an `aa-auth+jwt` presented as the agent token"),
    res11("aa11_typ_unknown_aa", _agent11("aa-admin+jwt"), "invalid_jwt",
          "-11: an `aa-` typ no profile defines"),
    res11("aa11_typ_january_agent_token", _january_agent_token11, "invalid_jwt",
          "-11-only resource: a genuine January `agent+jwt` in an SK-09 header", profiles=ONLY_11),
    res11("aa11_typ_january_auth_token", lambda c: _sign11(c, c.world.agent.key, c.token(aud=RESOURCE)),
          "invalid_jwt", "-11-only resource: a genuine January `auth+jwt` in an SK-09 header", profiles=ONLY_11),
    res11_january("aa11_classified_sk09_january_typ", _agent11("agent+jwt"), (401, "discovery_failed"),
                  "dual-stack: an SK-09 header whose -11-shaped token says `typ: agent+jwt` (classified January)"),
    res11("aa11_only_sk09_january_typ", _agent11("agent+jwt"), "invalid_jwt",
          "-11-only resource: an SK-09 header whose -11-shaped token says `typ: agent+jwt`", profiles=ONLY_11),
    res11_january("aa11_classified_january_header_aa_token", _january_header_aa_token, (401, "wrong_token_type"),
                  "dual-stack: January's transcript Signature-Key carrying an `aa-agent+jwt` (classified January)"),
    res11("aa11_only_january_header_aa_token", _january_header_aa_token, "invalid_signature",
          "-11-only resource: January's transcript Signature-Key carrying an `aa-agent+jwt`", profiles=ONLY_11),
    res11("aa11_dwk_person", _agent11(dwk="aauth-person.json"), "invalid_jwt",
          "-11: `dwk` naming `aauth-person.json`"),
    res11("aa11_dwk_resource_no_suffix", _agent11(dwk="aauth-resource"), "invalid_jwt",
          "-11: `dwk` naming `aauth-resource`"),
    res11("aa11_dwk_with_slash", _agent11(dwk="x/aauth-agent.json"), "invalid_jwt",
          "-11: `dwk` with a `/` (`x/aauth-agent.json`)"),
    res11("aa11_dwk_traversal", _agent11(dwk="../aauth-agent.json"), "invalid_jwt",
          "-11: `dwk` with a path traversal (`../aauth-agent.json`)"),
    res11("aa11_dwk_missing", _agent11(dwk=None), "invalid_jwt", "-11: no `dwk`"),
    res11("aa11_issuer_mismatch", _issuer11("https://other.example"), "issuer_mismatch",
          "-11: the AP's metadata names another `issuer`"),
    res11("aa11_issuer_trailing_slash", _issuer11(AP + "/"), "issuer_mismatch",
          "-11: the AP's metadata `issuer` differs by a trailing `/`"),
    res11("aa11_issuer_missing", _issuer11(None), "issuer_missing", "-11: the AP's metadata has no `issuer`"),
    res11("aa11_iss_port", _agent11(iss=AP + ":8443"), "invalid_jwt", "-11: `iss` with a port"),
    res11("aa11_iss_january_issuer", _january_issuer_key11, "invalid_key",
          "-11: an `aa-agent+jwt` signed by the trusted January auth server, naming it as `iss`"),
    res11("aa11_jws_alg_eddsa", _agent11(alg="EdDSA"), "invalid_jwt", "-11: JWS `alg: EdDSA` (only `Ed25519`)"),
    res11("aa11_jws_alg_mismatch", _agent11(alg="ES256"), "invalid_jwt",
          "-11: JWS `alg: ES256` on a token signed with Ed25519"),
    res11("aa11_jws_alg_none", _alg_none11, "invalid_jwt", "-11: JWS `alg: none`, no signature"),
    res11("aa11_cnf_alg_other_key_type", _cnf_alg11("ES256"), "invalid_key",
          "-11: `cnf.jwk` an Ed25519 key with `alg: ES256`"),
    res11("aa11_cnf_alg_eddsa", _cnf_alg11("EdDSA"), "unsupported_algorithm",
          "-11: `cnf.jwk` with `alg: EdDSA`"),
    res11("aa11_cnf_alg_missing", _cnf_alg11(None), "unsupported_algorithm", "-11: `cnf.jwk` without `alg`"),
    res11("aa11_signed_by_other_ap_kid", _other_ap_kid11, "unknown_key",
          "-11: `iss` the AP, signed by another AP's key (its own kid)"),
    res11("aa11_signed_by_other_ap_same_kid", _other_ap_same_kid11, "invalid_jwt",
          "-11: `iss` the AP, signed by another AP's key published under the same kid"),
    res11("aa11_iss_other_ap", _other_ap_iss11, "invalid_jwt",
          "-11: `iss` another (genuine) AP, signed by the AP's key under the same kid"),
]

