"""aauth-11 test material: an agent provider's documents, ``aa-agent+jwt`` tokens minted with
our own keys, and requests signed as an -11 agent signs them (SK-09 ``sig=jwt``, standard base64).

Tokens are assembled here by hand, so a test can mint what no honest minter would (``EdDSA``,
a wrong ``typ``, a 25-hour lifetime) and check that the resource refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aauth_core.headers import (
    SignatureKey,
    SignatureParams,
    format_content_digest,
    format_signature,
)
from aauth_core.httpsig import signature_base
from aauth_core.keys import SigningKey, b64url_encode, jwks_document
from aauth_core.request import RequestView

from ..conftest import NOW, Network

AP = "https://ap.example"
AGENT_ID = "aauth:Assistant.7f@ap.example"  # uppercase: -11 local parts are case-sensitive (RS-52)
BASE = ("@method", "@authority", "@path", "signature-key")


def publish_ap(network: Network, key: SigningKey, *, ap: str = AP, issuer: Any = ...) -> None:
    """``{ap}/.well-known/aauth-agent.json`` (``issuer`` = ``ap`` unless told) and its JWKS."""
    doc: dict[str, Any] = {"jwks_uri": f"{ap}/jwks.json"}
    if issuer is not None:
        doc["issuer"] = ap if issuer is ... else issuer
    network.publish(f"{ap}/.well-known/aauth-agent.json", doc)
    jwks = jwks_document([key])
    for jwk in jwks["keys"]:
        jwk["alg"] = "Ed25519" if jwk["kty"] == "OKP" else "ES256"
    network.publish(f"{ap}/jwks.json", jwks)


def jose_alg(key: SigningKey) -> str:
    return "Ed25519" if key.public.alg == "ed25519" else "ES256"


def cnf_jwk(key: SigningKey) -> dict[str, Any]:
    jwk = {k: v for k, v in key.public_jwk().items() if k != "kid"}
    jwk["alg"] = jose_alg(key)
    return jwk


def mint(issuer_key: SigningKey, claims: Mapping[str, Any], *, typ: str = "aa-agent+jwt",
         alg: str | None = None) -> str:
    header = {"alg": alg or jose_alg(issuer_key), "typ": typ, "kid": issuer_key.kid}
    signing_input = (b64url_encode(json.dumps(header).encode()) + "." +
                     b64url_encode(json.dumps(dict(claims)).encode()))
    return signing_input + "." + b64url_encode(issuer_key.sign(signing_input.encode()))


def agent_claims(agent_key: SigningKey, *, now: float = NOW, lifetime: int = 3600, **over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": AP, "dwk": "aauth-agent.json", "sub": AGENT_ID, "jti": "agt-1",
        "iat": int(now), "exp": int(now) + lifetime, "cnf": {"jwk": cnf_jwk(agent_key)},
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def agent_token(ap_key: SigningKey, agent_key: SigningKey, *, typ: str = "aa-agent+jwt", alg: str | None = None,
                **over: Any) -> str:
    return mint(ap_key, agent_claims(agent_key, **over), typ=typ, alg=alg)


def sign11(method: str, url: str, key: SigningKey, token: str | None = None, *,
           components: Sequence[str] = BASE, created: int = NOW, headers: Mapping[str, str] | None = None,
           body: bytes | None = None, signature_key: str | None = None, encoding: str = "base64",
           extra_params: str = "") -> dict[str, str]:
    """The headers of a request signed as an -11 agent signs it (label ``sig``)."""
    hdrs = dict(headers or {})
    hdrs["Signature-Key"] = signature_key or SignatureKey.build("jwt", {"jwt": token or ""}, label="sig",
                                                                fmt="sk").raw
    if body:
        hdrs.setdefault("Content-Type", "application/json")
        hdrs["Content-Digest"] = format_content_digest(body)
    params = SignatureParams(label="sig", components=tuple(components), created=created)
    if extra_params:  # e.g. ';alg="ed25519"': signed as sent
        params = SignatureParams(label="sig", components=tuple(components), created=created,
                                 serialized=params.serialize() + extra_params)
    view = RequestView.from_url(method, url, hdrs, body)
    signature = key.sign(signature_base(view, params))
    hdrs["Signature-Input"] = "sig=" + params.serialize()
    hdrs["Signature"] = format_signature("sig", signature, encoding=encoding)  # type: ignore[arg-type]
    return hdrs


PS = "https://ps.example"
ACCESS = "https://access.example"
PERSON_SUB = "8f14e45fceea167a5a36dedd4bea2543"
MISSION = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def publish_server(network: Network, key: SigningKey, server: str, dwk: str, *, issuer: Any = ...) -> None:
    """A person or access server's ``{server}/.well-known/{dwk}`` and its JWKS (keys with ``alg``)."""
    doc: dict[str, Any] = {"jwks_uri": f"{server}/jwks.json"}
    if issuer is not None:
        doc["issuer"] = server if issuer is ... else issuer
    network.publish(f"{server}/.well-known/{dwk}", doc)
    jwks = jwks_document([key])
    for jwk in jwks["keys"]:
        jwk["alg"] = jose_alg(key)
    network.publish(f"{server}/jwks.json", jwks)


def person_claims(agent_key: SigningKey, *, aud: Any, now: float = NOW, lifetime: int = 3600,
                  **over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": PS, "dwk": "aauth-person.json", "aud": aud, "sub": PERSON_SUB, "mission_s256": MISSION,
        "tenant": "acme", "jti": "pt-3ab910", "iat": int(now), "exp": int(now) + lifetime,
        "cnf": {"jwk": cnf_jwk(agent_key)},
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def auth_claims(agent_key: SigningKey, *, aud: Any, now: float = NOW, lifetime: int = 3600,
                **over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": PS, "dwk": "aauth-person.json", "aud": aud, "ps": PS, "sub": PERSON_SUB, "scope": "data.read",
        "tenant": "acme", "mission_s256": MISSION, "jti": "at-5e2", "iat": int(now), "exp": int(now) + lifetime,
        "cnf": {"jwk": cnf_jwk(agent_key)},
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


__all__ = ["ACCESS", "AGENT_ID", "AP", "BASE", "MISSION", "PERSON_SUB", "PS", "agent_claims", "agent_token",
           "auth_claims", "cnf_jwk", "mint", "person_claims", "publish_ap", "publish_server", "sign11"]
