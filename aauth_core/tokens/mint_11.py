"""Minting the four ``aauth-11`` tokens: ``aa-agent+jwt``, ``aa-person+jwt``,
``aa-resource+jwt`` and ``aa-auth+jwt`` (draft -11 §5.3, §7.1.2, §6.7.1, §9.4.1).

Every token carries the common claims of -11 §11.5.1 (``iss``, ``dwk``, ``jti``, ``iat``,
``exp``) and is signed with the JOSE name of the key's algorithm (``Ed25519`` or
``ES256``, never ``EdDSA``).  A ``cnf.jwk`` always names its ``alg`` (SK-09 §3.3).  The
lifetime caps of each type are enforced here, so no caller can mint what a -11 verifier
must refuse.  Absent optional claims are left out, never written as ``null``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ..keys import PublicKey, SigningKey
from ..profile.aauth_11 import AAUTH_11
from .json import thaw
from .jws import sign
from .mint import _public_jwk

__all__ = [
    "MAX_LIFETIME_11",
    "cnf_jwk_11",
    "jose_alg",
    "mint_agent_token_11",
    "mint_auth_token_11",
    "mint_person_token_11",
    "mint_resource_token_11",
]

#: The longest each -11 token may live (§5.3: 24 h; §7.1.2, §9.4.1: 1 h; §6.7.1: 5 min).
MAX_LIFETIME_11: Mapping[str, int] = {
    "aa-agent+jwt": 24 * 3600, "aa-person+jwt": 3600, "aa-auth+jwt": 3600, "aa-resource+jwt": 300,
}


def jose_alg(key: SigningKey | PublicKey) -> str:
    """The fully specified JOSE name of a key's algorithm (-11 §11.3.1)."""
    public = key.public if isinstance(key, SigningKey) else key
    return "Ed25519" if public.alg == "ed25519" else "ES256"


def cnf_jwk_11(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """A public JWK for ``cnf``: validated, private members refused, ``kid`` dropped and
    ``alg`` set to the key's JOSE name (an ``alg`` already there must agree)."""
    public = _public_jwk({k: v for k, v in jwk.items() if k not in ("kid", "alg")})
    alg = jose_alg(PublicKey.from_jwk(public))
    if jwk.get("alg", alg) != alg:
        raise ValueError(f"cnf_jwk 'alg' {jwk.get('alg')!r} does not fit the key ({alg})")
    public["alg"] = alg
    return public


def _times(typ: str, now: float, lifetime: int, not_after: float | None) -> tuple[int, int]:
    cap = MAX_LIFETIME_11[typ]
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 0 < lifetime <= cap:
        raise ValueError(f"an {typ} lives between 1 and {cap} seconds")
    iat = int(now)
    exp = iat + lifetime
    if not_after is not None:  # never outlive the token this one rests on (§7.1.2, §9.4.1)
        exp = min(exp, int(not_after))
        if exp <= iat:
            raise ValueError(f"the {typ} would already be expired (the token it rests on expires first)")
    return iat, exp


def _mint(key: SigningKey, typ: str, claims: dict[str, Any], optional: Mapping[str, Any],
          extra: Mapping[str, Any] | None) -> str:
    for name, value in optional.items():
        if value is not None:
            claims[name] = value
    for name, value in (extra or {}).items():
        if name in claims:
            raise ValueError(f"extra claims may not override {name!r}")
        claims[name] = thaw(value)
    return sign(key, typ, claims, alg=jose_alg(key))


def _jti(jti: str | None) -> str:
    return jti if jti is not None else secrets.token_urlsafe(16)


def mint_agent_token_11(
    key: SigningKey, *, iss: str, sub: str, cnf_jwk: Mapping[str, Any], now: float, lifetime: int = 3600,
    ps: str | None = None, parent_agent: str | None = None, jti: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An agent provider's ``aa-agent+jwt`` (§5.3): agent ``sub`` holds ``cnf_jwk``."""
    typ = AAUTH_11.typ_agent
    iat, exp = _times(typ, now, lifetime, None)
    claims: dict[str, Any] = {"iss": iss, "dwk": AAUTH_11.well_known_agent, "sub": sub, "jti": _jti(jti),
                              "iat": iat, "exp": exp, "cnf": {"jwk": cnf_jwk_11(cnf_jwk)}}
    return _mint(key, typ, claims, {"ps": ps, "parent_agent": parent_agent}, extra)


def mint_person_token_11(
    key: SigningKey, *, iss: str, aud: str, sub: str, cnf_jwk: Mapping[str, Any], now: float,
    lifetime: int = 3600, not_after: float | None = None, mission_s256: str | None = None,
    tenant: str | None = None, jti: str | None = None, extra: Mapping[str, Any] | None = None,
) -> str:
    """A person server's ``aa-person+jwt`` (§7.1.2) for one resource (``aud``)."""
    typ = AAUTH_11.typ_person or ""
    iat, exp = _times(typ, now, lifetime, not_after)
    claims: dict[str, Any] = {"iss": iss, "dwk": AAUTH_11.well_known_person, "aud": aud, "sub": sub,
                              "jti": _jti(jti), "iat": iat, "exp": exp, "cnf": {"jwk": cnf_jwk_11(cnf_jwk)}}
    return _mint(key, typ, claims, {"mission_s256": mission_s256, "tenant": tenant}, extra)


def mint_resource_token_11(
    key: SigningKey, *, iss: str, aud: str, ps: str, sub: str, presented_jti: str, agent_jkt: str, now: float,
    lifetime: int = 300, scope: str | None = None, account: str | None = None, login_hint: str | None = None,
    mission_s256: str | None = None, tenant: str | None = None, interaction: Mapping[str, str] | None = None,
    jti: str | None = None,
) -> str:
    """A resource's ``aa-resource+jwt`` (§6.7.1): what it asks ``aud`` (the person server or
    its own access server) to authorize, for the person and agent key it verified."""
    typ = AAUTH_11.typ_resource
    iat, exp = _times(typ, now, lifetime, None)
    claims: dict[str, Any] = {"iss": iss, "dwk": AAUTH_11.well_known_resource, "aud": aud, "ps": ps, "sub": sub,
                              "presented_jti": presented_jti, "agent_jkt": agent_jkt, "jti": _jti(jti),
                              "iat": iat, "exp": exp}
    optional = {"scope": scope, "account": account, "login_hint": login_hint, "mission_s256": mission_s256,
                "tenant": tenant, "interaction": dict(interaction) if interaction is not None else None}
    return _mint(key, typ, claims, optional, None)


def mint_auth_token_11(
    key: SigningKey, *, iss: str, aud: str, ps: str, sub: str, cnf_jwk: Mapping[str, Any], now: float,
    dwk: str | None = None, lifetime: int = 3600, not_after: float | None = None, scope: str | None = None,
    account: str | None = None, mission_s256: str | None = None, tenant: str | None = None,
    jti: str | None = None, extra: Mapping[str, Any] | None = None,
) -> str:
    """An ``aa-auth+jwt`` (§9.4.1) from a person server (``dwk`` ``aauth-person.json``, the
    default) or an access server (``aauth-access.json``)."""
    typ = AAUTH_11.typ_auth
    dwk = dwk or AAUTH_11.well_known_person
    if dwk not in (AAUTH_11.well_known_person, AAUTH_11.well_known_access):
        raise ValueError("an auth token comes from a person server or an access server")
    iat, exp = _times(typ, now, lifetime, not_after)
    claims: dict[str, Any] = {"iss": iss, "dwk": dwk, "aud": aud, "ps": ps, "sub": sub, "jti": _jti(jti),
                              "iat": iat, "exp": exp, "cnf": {"jwk": cnf_jwk_11(cnf_jwk)}}
    optional = {"scope": scope, "account": account, "mission_s256": mission_s256, "tenant": tenant}
    return _mint(key, typ, claims, optional, extra)
