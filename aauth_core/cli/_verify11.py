"""``aauth verify`` for aauth-11 envelopes: which profile a request speaks, the -11 verdicts,
the fixed-key check and the ``--explain`` header lines.

A default ``aauth verify`` is a dual-stack resource: each envelope is classified as a
resource classifies it (:func:`~aauth_core.resource.profile11.is_aauth_11`) and verified
under that profile alone.  A -11 refusal carries the ``Signature-Error`` a resource would
send, and the verdict prints its code (and ``required_input``, ``Accept-Signature-*``)
beside ours.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..context import VerifiedRequest
from ..errors import AAuthError
from ..headers import parse_signature_input
from ..keys import PublicKey
from ..profile import AAUTH_11
from ..request import RequestView
from ..resource.profile11 import is_aauth_11
from ..tokens import peek
from ..wire.signature_error import parse_accept_signature, parse_signature_error
from ..wire.signature_key import read_signature_key_member

__all__ = ["is_11_request", "key_for_explain_11", "print_signature_error", "refusal_11", "verdict_11"]

NAME = AAUTH_11.name
_ERROR_HEADER = AAUTH_11.signature_error_header or ""
_ACCEPT = (("accept_signature_scheme", AAUTH_11.accept_signature_scheme_header or ""),
           ("accept_signature_alg", AAUTH_11.accept_signature_alg_header or ""))


def is_11_request(view: RequestView, profiles: tuple[str, ...]) -> bool:
    """Does ``view`` get verified under -11 by a verifier accepting ``profiles``?  (The
    verifier decides this itself; ``--key`` checks need it decided here, the same way.)"""
    if NAME not in profiles:
        return False
    if len(profiles) == 1:
        return True
    h = view.headers
    key_text = h.get(AAUTH_11.signature_key_header)
    input_text = h.get(AAUTH_11.signature_input_header)
    return key_text is not None and input_text is not None and is_aauth_11(key_text, input_text)


def verdict_11(verified: VerifiedRequest) -> dict[str, Any]:
    """A -11 request's verdict: who signed (agent and agent provider, for a token) and with what."""
    scheme = "jwks_uri" if verified.scheme == "jwks" else verified.scheme
    return {"valid": True, "profile": NAME, "scheme": scheme, "agent": verified.agent,
            "agent_provider": verified.agent_provider, "token_type": verified.token_type,
            "scope": verified.scope_text, "key_thumbprint": verified.key_thumbprint}


def refusal_11(exc: AAuthError) -> dict[str, Any]:
    """A -11 refusal's verdict: our code and, from the headers a resource would send, the
    ``Signature-Error`` code (``None`` when the refusal is not a signature failure, such as a
    missing auth token), its ``required_input`` and the ``Accept-Signature-*`` lists."""
    out: dict[str, Any] = {"valid": False, "profile": NAME, "error": exc.code, "error_description": exc.description,
                           "signature_error": None}
    headers = exc.headers
    value = headers.get(_ERROR_HEADER)
    if value is not None:
        field = parse_signature_error(value)
        out["signature_error"] = field.error
        if field.required_input is not None:
            out["required_input"] = list(field.required_input)
    for member, header in _ACCEPT:
        accepted = headers.get(header)
        if accepted is not None:
            out[member] = list(parse_accept_signature(accepted))
    return out


def print_signature_error(exc: AAuthError | None) -> None:
    """``--explain``'s first line for a -11 request: the ``Signature-Error`` as a resource sends it."""
    value = exc.headers.get(_ERROR_HEADER) if exc is not None else None
    if exc is None:
        line = "none (the request verifies)"
    elif value is None:
        line = f"none ({exc.code} is not a signature failure)"
    else:
        line = value
    sys.stdout.write(f"\nprofile: {NAME}\nSignature-Error: {line}\n")


def key_for_explain_11(view: RequestView, public: PublicKey | None) -> PublicKey | None:
    """The key to explain a -11 refusal with: ``--key``, else the ``cnf.jwk`` of the token in
    Signature-Key, read without verifying it (diagnosis only: the verdict is already given),
    else ``None`` (the explanation then shows the base only)."""
    if public is not None:
        return public
    h = view.headers
    try:
        label = parse_signature_input(h.get(AAUTH_11.signature_input_header) or "").label
        member = read_signature_key_member(h.get(AAUTH_11.signature_key_header) or "", label)
        cnf = peek(member.params.get("jwt", "")).claims.get("cnf") if member.scheme == "jwt" else None
        jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
        return PublicKey.from_jwk(jwk) if isinstance(jwk, Mapping) else None
    except AAuthError:  # KeyError_ among them
        return None
