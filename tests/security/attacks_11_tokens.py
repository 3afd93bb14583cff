"""The aauth-11 rows of the attack table for person and auth tokens (issue 14; RS-10..12,
RS-30..31, RS-40..43): typ confusion among the four -11 types and January's, ``dwk``
tricks, the issuer's metadata, who may issue what (listed person servers, the resource's
own access server), claims, lifetimes, ``cnf``, the JWS, and revocation.

Every token is minted by hand (tests/profile11/mint.py) from a person or access server
published with a real key on the World's network and presented by an agent that really
signs the request; :class:`~.build11.TokenSpec` with nothing changed is accepted (the
controls).  Person-token rows go to an identity route a person token meets, auth-token
rows to ``/data-auth`` (``authorization:data.read``).  A row refused before the issuer's
documents are needed also proves they were never fetched (``forbidden``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from aauth_core.keys import SigningKey
from aauth_core.tokens.mint_11 import mint_resource_token_11

from ..conftest import NOW, RESOURCE
from ..profile11.mint import ACCESS, MISSION, PERSON_SUB, PS, cnf_jwk, mint
from .build11 import (
    ACCESS2,
    ACCESS_DOC,
    AUTH_PATH_11,
    JANUARY_ONLY,
    ONLY_11,
    PERSON_DOC,
    PS2,
    TRUST,
    TokenSpec,
    agent11_request,
    problem11,
    res11,
    res11_january,
    sign_at,
    token11,
)
from .table import Attack, Ctx, Outcome, Req, b64, forge

__all__ = ["TOKEN_ROWS"]

ATTACKER = "https://attacker.example"
EVIL = "https://evil.example"
FOUR_PARTY: Mapping[str, Any] = {**TRUST, "access_server": ACCESS}


def row(name: str, build: Callable[[Ctx], Req | list[Req]], code: str, description: str, *,
        settings: Mapping[str, Any] | None = None, **kw: Any) -> Attack:
    """An -11 token row under the usual trust (the person server listed) unless ``settings`` say otherwise."""
    return res11(name, build, code, description, settings={**TRUST, **(settings or {})}, **kw)


def _host(url: str) -> str:
    return url.split("//", 1)[1]


# ----------------------------------------------------------------------------- builders


def _mutated(kind: str, change: Callable[[dict[str, Any], SigningKey], None], **spec: Any) -> Callable[[Ctx], Req]:
    """A :class:`TokenSpec` whose claims ``change`` edits in place (with the agent's key at hand)."""
    made = TokenSpec(kind, **spec)

    def build(ctx: Ctx) -> Req:
        agent = SigningKey.generate()
        claims = made.claims_for(agent)
        change(claims, agent)
        return sign_at(ctx, made.path, agent, mint(made.publish(ctx), claims, typ=made.typ, alg=made.alg))

    return build


def _cnf(kind: str, jwk: Callable[[SigningKey], Mapping[str, Any]]) -> Callable[[Ctx], Req]:
    def change(claims: dict[str, Any], agent: SigningKey) -> None:
        claims["cnf"] = {"jwk": dict(jwk(agent))}

    return _mutated(kind, change)


def _without_alg(agent: SigningKey) -> dict[str, Any]:
    return {k: v for k, v in cnf_jwk(agent).items() if k != "alg"}


def _own_resource_token(ctx: Ctx) -> Req:
    """A genuine ``aa-resource+jwt`` this very resource minted, presented back as a credential."""
    agent = SigningKey.generate()
    token = mint_resource_token_11(ctx.world.resource.key, iss=RESOURCE, aud=PS, ps=PS, sub=PERSON_SUB,
                                   presented_jti="pt-3ab910", agent_jkt=agent.thumbprint, now=ctx.world.clock(),
                                   scope="data.read", mission_s256=MISSION)
    return sign_at(ctx, AUTH_PATH_11, agent, token)


def _forged(kind: str, header: Callable[[SigningKey], Mapping[str, Any]], *,
            signer: Callable[[Ctx, SigningKey], SigningKey | None]) -> Callable[[Ctx], Req]:
    """A hand-made JWS: any header, the honest claims, signed by ``signer`` (``None``: unsigned)."""
    made = TokenSpec(kind)

    def build(ctx: Ctx) -> Req:
        agent, issuer = SigningKey.generate(), made.publish(ctx)
        return sign_at(ctx, made.path, agent, forge(header(issuer), made.claims_for(agent), signer(ctx, issuer)))

    return build


def _attacker(ctx: Ctx, issuer: SigningKey) -> SigningKey:
    """The attacker's key under the person server's kid, its JWKS on the attacker's host."""
    key = SigningKey.generate(kid=issuer.kid)
    ctx.world.network.publish(f"{ATTACKER}/jwks.json", {"keys": [key.public_jwk()]})
    return key


def _hs256_with_public_key(ctx: Ctx) -> Req:
    made, agent = TokenSpec("person"), SigningKey.generate()
    issuer = made.publish(ctx)
    secret = base64.urlsafe_b64decode(issuer.public_jwk()["x"] + "==")
    h = b64(json.dumps({"alg": "HS256", "typ": made.typ, "kid": issuer.kid}))
    p = b64(json.dumps(made.claims_for(agent)))
    mac = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return sign_at(ctx, made.path, agent, f"{h}.{p}.{b64(mac)}")


def _tampered(kind: str, how: str) -> Callable[[Ctx], Req]:
    """A genuine token with its signature removed, or its payload replaced (another person)."""
    made = TokenSpec(kind)

    def build(ctx: Ctx) -> Req:
        agent = SigningKey.generate()
        h, p, s = made.token(made.publish(ctx), agent).split(".")
        if how == "stripped":
            return sign_at(ctx, made.path, agent, f"{h}.{p}.")
        other = b64(json.dumps({**made.claims_for(agent), "sub": "someone-else"}))
        return sign_at(ctx, made.path, agent, f"{h}.{other}.{s}")

    return build


def _revoked(kind: str, *, warm: bool, path: str | None = None) -> Callable[[Ctx], Req | list[Req]]:
    """The token's issuer revoked it at this resource (RS-43): before its first use, or after
    a first request it was accepted on (the warm path must notice too)."""
    made = TokenSpec(kind, path=path)

    def build(ctx: Ctx) -> Req | list[Req]:
        agent = SigningKey.generate()
        claims = made.claims_for(agent)
        token = mint(made.publish(ctx), claims, typ=made.typ)
        service = ctx.service
        assert service is not None

        def revoke() -> None:
            service.revocations.revoke(claims["iss"], claims["jti"], claims["exp"])

        if not warm:
            revoke()
            return sign_at(ctx, made.path, agent, token)
        first = sign_at(ctx, made.path, agent, token)
        return [first, replace(sign_at(ctx, made.path, agent, token), before=revoke)]

    return build


# ----------------------------------------------------------------------------- the rows

_NEVER_PS = (_host(PS),)
_NEVER_ACCESS = (_host(ACCESS),)
_JANUARY_UNTRUSTED: Outcome = (401, "untrusted_issuer")

TOKEN_ROWS: list[Attack] = [
    # ------------------------------------------------------------------ typ: four -11 types and January's (RS-12)
    row("aa11_rt_own_resource_token", _own_resource_token, "invalid_jwt",
        "-11: this resource's own genuine `aa-resource+jwt` presented as a credential", forbidden=(_host(RESOURCE),)),
    row("aa11_pt_typ_resource", token11("person", typ="aa-resource+jwt"), "invalid_jwt",
        "-11: person-token claims signed by the PS as `aa-resource+jwt`", forbidden=_NEVER_PS),
    row("aa11_pt_typ_agent", token11("person", typ="aa-agent+jwt"), "invalid_jwt",
        "-11: person-token claims as `aa-agent+jwt` (its `dwk` names no agent provider)", forbidden=_NEVER_PS),
    row("aa11_at_claims_person_typ", token11("auth", typ="aa-person+jwt"), "invalid_jwt",
        "-11: auth-token claims (`scope`, `ps`) under `typ: aa-person+jwt`"),
    row("aa11_pt_claims_auth_typ", token11("person", typ="aa-auth+jwt", path=AUTH_PATH_11), "invalid_jwt",
        "-11: person-token claims (no `ps`) under `typ: aa-auth+jwt` at an authorization route"),
    row("aa11_pt_scope_at_auth_route", token11("person", path=AUTH_PATH_11, scope="data.read"), "invalid_jwt",
        "-11: a person token carrying `scope` at an authorization route: never an authorization"),
    res11_january("aa11_at_january_typ_dual", token11("auth", typ="auth+jwt"), _JANUARY_UNTRUSTED,
                  "dual-stack: -11 auth-token claims under January's `auth+jwt` (classified January; PS untrusted)",
                  settings=TRUST, forbidden=_NEVER_PS),
    row("aa11_at_january_typ_only11", token11("auth", typ="auth+jwt"), "invalid_jwt",
        "-11-only resource: -11 auth-token claims under January's `auth+jwt`", profiles=ONLY_11),
    res11_january("aa11_pt_at_january_only_resource", token11("person"), (401, "wrong_token_type"),
                  "January-only resource: a genuine -11 person token (never read as -11)", profiles=JANUARY_ONLY,
                  forbidden=_NEVER_PS),
    problem11("aa11_agent_token_at_auth_route", lambda c: agent11_request(c, path=AUTH_PATH_11),
              (401, "person_token_required"), "-11: a genuine agent token at an authorization route "
              "(a person token first, RS-11; no resource token, RS-30)", requirement="person-token", settings=TRUST),
    problem11("aa11_pt_auth_route_unlisted_ps", token11("person", path=AUTH_PATH_11), (403, "untrusted_person_server"),
              "-11: a person token at an authorization route when no PS is listed: no resource token for it",
              settings={"person_servers": ()}),
    # ------------------------------------------------------------------ dwk
    row("aa11_pt_dwk_agent", token11("person", dwk="aauth-agent.json"), "invalid_jwt",
        "-11: a person token whose `dwk` names `aauth-agent.json`", forbidden=_NEVER_PS),
    row("aa11_pt_dwk_access", token11("person", dwk=ACCESS_DOC, dwk_doc=ACCESS_DOC), "invalid_jwt",
        "-11: a person token naming the PS's own `aauth-access.json` (published) as `dwk`", forbidden=_NEVER_PS),
    row("aa11_pt_dwk_traversal", token11("person", dwk="../aauth-person.json"), "invalid_jwt",
        "-11: `dwk` with a path traversal (`../aauth-person.json`)", forbidden=_NEVER_PS),
    row("aa11_pt_dwk_url", token11("person", dwk=f"{ATTACKER}/aauth-person.json"), "invalid_jwt",
        "-11: `dwk` holding the attacker's URL", forbidden=(*_NEVER_PS, _host(ATTACKER))),
    row("aa11_pt_dwk_missing", token11("person", dwk=None), "invalid_jwt", "-11: a person token without `dwk`",
        forbidden=_NEVER_PS),
    row("aa11_at_dwk_access_from_ps", token11("auth", dwk=ACCESS_DOC, dwk_doc=ACCESS_DOC), "invalid_jwt",
        "-11: the listed PS's auth token naming its (published) `aauth-access.json`: it is not our access server",
        settings=FOUR_PARTY, forbidden=_NEVER_PS),
    row("aa11_at_dwk_person_from_access", token11("access", dwk=PERSON_DOC, dwk_doc=PERSON_DOC), "invalid_jwt",
        "-11: our access server's auth token naming `aauth-person.json`: it is no listed PS",
        settings=FOUR_PARTY, forbidden=_NEVER_ACCESS),
    row("aa11_at_dwk_agent", token11("auth", dwk="aauth-agent.json"), "invalid_jwt",
        "-11: an auth token whose `dwk` names `aauth-agent.json`", forbidden=_NEVER_PS),
    # ------------------------------------------------------------------ the issuer's metadata
    row("aa11_ps_issuer_missing", token11("person", issuer_doc=None), "issuer_missing",
        "-11: the PS's `aauth-person.json` has no `issuer`"),
    row("aa11_ps_issuer_mismatch", token11("person", issuer_doc=EVIL), "issuer_mismatch",
        "-11: the PS's metadata names another `issuer`"),
    row("aa11_ps_issuer_trailing_slash", token11("auth", issuer_doc=PS + "/"), "issuer_mismatch",
        "-11: the PS's metadata `issuer` differs by a trailing `/` (auth token)"),
    row("aa11_ps_issuer_case", token11("person", issuer_doc="https://PS.example"), "issuer_mismatch",
        "-11: the PS's metadata `issuer` differs in case (compared byte for byte)"),
    row("aa11_as_issuer_mismatch", token11("access", issuer_doc=PS), "issuer_mismatch",
        "-11: our access server's `aauth-access.json` names the PS as `issuer`", settings=FOUR_PARTY),
    # ------------------------------------------------------------------ who may issue what (open point 10)
    row("aa11_pt_unlisted_ps", token11("person", at=PS2, iss=PS2), "invalid_jwt",
        "-11: a person token from a genuine PS that `person_servers` does not list", forbidden=(_host(PS2),)),
    row("aa11_at_unlisted_ps", token11("auth", at=PS2, iss=PS2, ps=PS2), "invalid_jwt",
        "-11: a three-party auth token from a genuine PS that is not listed", forbidden=(_host(PS2),)),
    row("aa11_at_no_ps_listed", token11("auth"), "invalid_jwt",
        "-11: a three-party auth token when no PS is listed (any PS may name a person, none may authorise)",
        settings={"person_servers": ()}, forbidden=_NEVER_PS),
    row("aa11_at_access_server_not_configured", token11("access"), "invalid_jwt",
        "-11: a four-party auth token from a genuine access server without `access_server` set",
        forbidden=_NEVER_ACCESS),
    row("aa11_at_other_access_server", token11("access", at=ACCESS2, iss=ACCESS2), "invalid_jwt",
        "-11: a four-party auth token from another (genuine) access server", settings=FOUR_PARTY,
        forbidden=(_host(ACCESS2),)),
    row("aa11_at_ps_not_iss", token11("auth", ps=PS2), "invalid_jwt",
        "-11: a three-party auth token whose `ps` is not its `iss`"),
    row("aa11_at_ps_missing", token11("auth", ps=None), "invalid_jwt", "-11: an auth token without `ps`"),
    row("aa11_at_ps_not_a_server", token11("access", ps="ps.example"), "invalid_jwt",
        "-11: a four-party auth token whose `ps` is no server identifier", settings=FOUR_PARTY),
    # ------------------------------------------------------------------ aud, sub and the other claims
    row("aa11_pt_aud_other", token11("person", aud="https://other-api.example"), "invalid_jwt",
        "-11: a person token for another resource"),
    row("aa11_at_aud_other", token11("auth", aud="https://other-api.example"), "invalid_jwt",
        "-11: an auth token for another resource"),
    row("aa11_pt_aud_two", token11("person", aud=[RESOURCE, "https://other-api.example"]), "invalid_jwt",
        "-11: `aud` a two-element array naming this resource and another"),
    row("aa11_at_aud_trailing_slash", token11("auth", aud=RESOURCE + "/"), "invalid_jwt",
        "-11: `aud` this resource with a trailing `/`"),
    row("aa11_at_aud_missing", token11("auth", aud=None), "invalid_jwt", "-11: an auth token without `aud`"),
    row("aa11_at_act", token11("auth", act={"sub": "aauth:x@ap.example"}), "invalid_jwt",
        "-11: an auth token carrying `act` (RS-40, RS-42)"),
    row("aa11_at_agent", token11("auth", agent="aauth:x@ap.example"), "invalid_jwt",
        "-11: an auth token carrying `agent` (RS-40)"),
    row("aa11_at_sub_missing", token11("auth", sub=None), "invalid_jwt", "-11: an auth token without `sub`"),
    row("aa11_pt_sub_empty", token11("person", sub=""), "invalid_jwt", "-11: a person token whose `sub` is empty"),
    row("aa11_at_scope_list", token11("auth", scope=["data.read"]), "invalid_jwt",
        "-11: `scope` given as a JSON array"),
    row("aa11_pt_jti_missing", token11("person", jti=None), "invalid_jwt", "-11: a person token without `jti`"),
    # ------------------------------------------------------------------ lifetimes and time
    row("aa11_pt_lifetime_over_hour", token11("person", lifetime=3601), "invalid_jwt",
        "-11: a person token living 3601 s (1 h at most)"),
    row("aa11_at_lifetime_over_hour", token11("auth", lifetime=3601), "invalid_jwt",
        "-11: an auth token living 3601 s (1 h at most)"),
    row("aa11_pt_expired", token11("person", now=NOW - 3600, lifetime=3599), "expired_jwt",
        "-11: a person token whose `exp` passed a second ago"),
    row("aa11_at_exp_now", token11("auth", now=NOW - 3600, lifetime=3600), "expired_jwt",
        "-11: an auth token whose `exp` is now (no skew)"),
    row("aa11_pt_exp_string", _mutated("person", lambda c, _: c.update(exp=str(c["exp"]))), "invalid_jwt",
        "-11: `exp` as a string"),
    # ------------------------------------------------------------------ cnf
    row("aa11_pt_cnf_other_key", _cnf("person", lambda _: cnf_jwk(SigningKey.generate())), "invalid_signature",
        "-11: a person token bound to another key than the one that signs"),
    row("aa11_at_cnf_other_key", _cnf("auth", lambda _: cnf_jwk(SigningKey.generate())), "invalid_signature",
        "-11: an auth token bound to another key than the one that signs"),
    row("aa11_pt_cnf_no_alg", _cnf("person", _without_alg), "unsupported_algorithm",
        "-11: a person token's `cnf.jwk` without `alg`"),
    row("aa11_at_cnf_alg_other_key_type", _cnf("auth", lambda a: {**_without_alg(a), "alg": "ES256"}), "invalid_key",
        "-11: an auth token's `cnf.jwk`, an Ed25519 key, naming `alg: ES256`"),
    row("aa11_pt_cnf_alg_eddsa", _cnf("person", lambda a: {**_without_alg(a), "alg": "EdDSA"}),
        "unsupported_algorithm", "-11: `cnf.jwk` naming `alg: EdDSA`"),
    row("aa11_pt_cnf_private_key", _cnf("person", lambda a: {**cnf_jwk(a), "d": b64(bytes(32))}), "invalid_jwt",
        "-11: `cnf.jwk` carrying private key material"),
    row("aa11_at_cnf_missing", _mutated("auth", lambda c, _: c.pop("cnf")), "invalid_jwt",
        "-11: an auth token without `cnf`"),
    # ------------------------------------------------------------------ the JWS
    row("aa11_pt_jws_eddsa", token11("person", alg="EdDSA"), "invalid_jwt", "-11: JWS `alg: EdDSA` on a person token"),
    row("aa11_at_jws_es256_on_ed25519", token11("auth", alg="ES256"), "invalid_jwt",
        "-11: JWS `alg: ES256` on an auth token signed with Ed25519"),
    row("aa11_pt_jws_none", _forged("person", lambda k: {"alg": "none", "typ": "aa-person+jwt", "kid": k.kid},
                                    signer=lambda c, k: None), "invalid_jwt", "-11: an unsigned person token"),
    row("aa11_pt_jws_hs256_public_key", _hs256_with_public_key, "invalid_jwt",
        "-11: HS256 person token keyed with the PS's public key bytes"),
    row("aa11_pt_signed_by_other_key_same_kid", _forged(
        "person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt", "kid": k.kid},
        signer=lambda c, k: SigningKey.generate(kid=k.kid)), "invalid_jwt",
        "-11: a person token signed by a stranger's key under the PS's kid"),
    row("aa11_pt_unknown_kid", _forged("person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt", "kid": "nope"},
                                       signer=lambda c, k: SigningKey.generate(kid="nope")), "unknown_key",
        "-11: a person token naming a kid the PS does not publish"),
    row("aa11_pt_kid_url", _forged("person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt",
                                                        "kid": f"{ATTACKER}/jwks.json"},
                                   signer=lambda c, k: SigningKey.generate()), "unknown_key",
        "-11: `kid` holding the attacker's JWKS URL (only compared, never fetched)", forbidden=(_host(ATTACKER),)),
    row("aa11_pt_jku_injection", _forged("person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt", "kid": k.kid,
                                                              "jku": f"{ATTACKER}/jwks.json"},
                                         signer=_attacker), "invalid_jwt",
        "-11: `jku` pointing at the attacker's JWKS, signed with the attacker's key (ignored, never fetched)",
        forbidden=(_host(ATTACKER),)),
    row("aa11_pt_jwk_injection", _forged("person", lambda k: {"alg": "Ed25519", "typ": "aa-person+jwt", "kid": k.kid,
                                                              "jwk": SigningKey.generate().public_jwk()},
                                         signer=_attacker), "invalid_jwt",
        "-11: an embedded `jwk` header beside the attacker's signature (ignored)", forbidden=(_host(ATTACKER),)),
    row("aa11_pt_signature_stripped", _tampered("person", "stripped"), "invalid_jwt",
        "-11: a genuine person token with its JWS signature removed"),
    row("aa11_at_payload_swapped", _tampered("auth", "swapped"), "invalid_jwt",
        "-11: a genuine auth token's header and signature around a payload naming another person"),
    # ------------------------------------------------------------------ revocation (RS-43)
    row("aa11_at_revoked", _revoked("auth", warm=False), "revoked_jwt",
        "-11: an auth token its PS revoked: back to a person token, never an auth-token challenge",
        requirement="person-token"),
    row("aa11_at_revoked_after_use", _revoked("auth", warm=True), "revoked_jwt",
        "-11: an auth token accepted once, then revoked, presented again (the warm path)",
        requirement="person-token"),
    row("aa11_pt_revoked", _revoked("person", warm=False), "revoked_jwt", "-11: a person token its PS revoked",
        requirement="person-token"),
    row("aa11_pt_revoked_at_auth_route", _revoked("person", warm=False, path=AUTH_PATH_11), "revoked_jwt",
        "-11: a revoked person token at an authorization route (no resource token names it, RS-30)",
        requirement="person-token"),
    row("aa11_access_revoked", _revoked("access", warm=False), "revoked_jwt",
        "-11: a four-party auth token our access server revoked", requirement="person-token", settings=FOUR_PARTY),
]
