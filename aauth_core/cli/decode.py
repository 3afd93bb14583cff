"""``aauth decode``: a JWT, Signature-Key, Signature-Input or Agent-Auth value, decoded.

The kind is recognised from the value's shape, and a parse error names the kind it
was read as; a challenge's resource token is decoded too (never verified: this is a
debugging aid, and it says so)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..errors import AAuthError
from ..headers import parse_agent_auth, parse_signature_input, parse_signature_key
from ._common import plain, print_json

__all__ = ["add_parser", "decode_value"]

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
# Signature-Key's members carry a scheme (`sig=hwk;...`, `sig=jwt;jwt=...`) or, in the
# structured-field syntax, a token after the label; Signature-Input's are inner lists.
_INNER_LIST = re.compile(r"^\s*[a-z*][a-z0-9_.*-]*\s*=\s*\(\s*[\")]")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("decode", help="decode a JWT, Signature-Key, Signature-Input or Agent-Auth value",
                       description="Decode a header value or token (nothing is verified).")
    p.add_argument("value", help="the value, quoted for the shell")
    p.add_argument("--as", dest="kind", choices=("jwt", "signature-key", "signature-input", "agent-auth"),
                   help="read the value as this kind instead of guessing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 1 (with the code and what it was read as) when the value does not decode."""
    print_json(decode_value(args.value, args.kind))
    return 0


def _kind(value: str) -> str:
    if _JWT.match(value):
        return "jwt"
    if value.startswith("httpsig"):
        return "agent-auth"
    if _INNER_LIST.match(value):
        return "signature-input"
    return "signature-key"


def decode_value(value: str, kind: str | None = None) -> dict[str, Any]:
    """The decoded value as JSON-ready data; raises :class:`AAuthError` naming what failed."""
    value = value.strip()
    kind = kind or _kind(value)
    try:
        if kind == "jwt":
            return _jwt(value)
        if kind == "agent-auth":
            return _challenge(value)
        if kind == "signature-input":
            params = parse_signature_input(value)
            return {"kind": kind, "label": params.label, "components": list(params.components),
                    "created": params.created, "expires": params.expires, "nonce": params.nonce,
                    "alg": params.alg, "keyid": params.keyid}
        sk = parse_signature_key(value)
    except AAuthError as exc:
        raise AAuthError(f"not a valid {kind} value: {exc.description}", code=exc.code) from None
    out: dict[str, Any] = {"kind": "signature-key", "label": sk.label, "scheme": sk.scheme,
                           "params": dict(sk.params)}
    token = sk.params.get("jwt")
    if isinstance(token, str):
        out["jwt"] = _jwt(token)
    return out


def _jwt(value: str) -> dict[str, Any]:
    from ..tokens import peek

    token = peek(value)
    return {"kind": "jwt", "verified": False, "header": plain(token.header), "claims": plain(token.claims)}


def _challenge(value: str) -> dict[str, Any]:
    c = parse_agent_auth(value)
    out: dict[str, Any] = {
        "kind": "agent-auth", "level": c.level, "identity": c.identity, "auth_token": c.auth_token,
        "resource_token": c.resource_token, "auth_server": c.auth_server,
        "user_interaction": c.user_interaction, "algs": list(c.algs) if c.algs else None,
        "extra": {k: str(v) for k, v in c.extra.items()},
    }
    if c.resource_token:
        try:
            out["resource_token_decoded"] = _jwt(c.resource_token)
        except AAuthError as exc:
            out["resource_token_decoded"] = {"error": exc.code, "error_description": exc.description}
    return out
