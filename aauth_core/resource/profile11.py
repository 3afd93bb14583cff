"""aauth-11 at a resource: classification, the header pair and the error shape
(issue 14, decisions P2, P5, P6).

A dual-stack resource classifies each signed request once, by its Signature-Key
(:func:`is_aauth_11`), and verifies it entirely under that profile.  This module holds
the -11 half: the header pair checked once (:func:`prepare_11`), the request checks in
the order of -11 §11.3.4 (:meth:`Verifier11.parse`), and the error shape (:func:`as_11`):
401 with ``Signature-Error`` (and ``Accept-Signature-*``) and a problem+json body.  The
tokens are :mod:`aauth_core.resource.tokens11`; challenges and resource tokens
:mod:`aauth_core.resource.challenge11`.
"""

from __future__ import annotations

import dataclasses

from ..cache import BoundedCache
from ..errors import AAuthError, SignatureError
from ..headers import parse_signature, parse_signature_input
from ..profile.aauth_11 import AAUTH_11, SIGNATURE_ERROR_CODES
from ..request import RequestView
from ..tokens import peek
from ..wire.content_digest import check_request_digest
from ..wire.coverage import _has_body, check_created, required_components_11
from ..wire.requirement import AAuthRequirement, format_requirement
from ..wire.signature_error import SignatureErrorField, format_accept_signature, format_signature_error
from ..wire.signature_key import read_signature_key_member
from .prepared import Prepared
from .tokens11 import Tokens11

__all__ = ["AGENT_TOKEN_REQUIREMENT", "NAME", "PERSON_TOKEN_REQUIREMENT", "Verifier11", "as_11", "is_aauth_11",
           "prepare_11"]

NAME = AAUTH_11.name
#: ``AAuth-Requirement`` of a 401 to a request without an agent token (-11 §6.1, §11.6.2).
AGENT_TOKEN_REQUIREMENT = format_requirement(AAuthRequirement("agent-token"))
#: ... and to one that must present a person token first (RS-11: no parameters).
PERSON_TOKEN_REQUIREMENT = format_requirement(AAuthRequirement("person-token"))
_ACCEPT_SCHEME = format_accept_signature(AAUTH_11.agent_schemes)
_WARM_SIZE = 1024
#: The base set in -11's order: a signature listing it first covers a request needing no more.
_BASE_ORDER = required_components_11()


# ----------------------------------------------------------------------------- classification


def is_aauth_11(key_text: str, input_text: str) -> bool:
    """Decision P2: does this Signature-Key speak aauth-11?

    January's transcript form ``sig1=(scheme=...)`` and the RFC 8941 form with January's
    schemes are January.  The SK-09 Dictionary member of the signature's label is -11 when
    it is ``jwt`` carrying an ``aa-*`` token, ``jwks_uri`` naming a ``*.json`` document, or
    ``jkt-jwt`` (which January never reads).  Anything unreadable is left to January's
    parser, which refuses it as it always did.  Pure; the verifier memoises it per pair.
    """
    text = key_text.strip(" \t")
    if "=(" in text.partition(";")[0]:  # the transcript form
        return False
    try:
        member = read_signature_key_member(key_text, parse_signature_input(input_text).label)
    except AAuthError:
        return False
    if member.scheme == "jwt":
        try:
            typ = peek(member.params.get("jwt", "")).header.get("typ")
        except AAuthError:
            return False
        return isinstance(typ, str) and typ.startswith("aa-")
    if member.scheme == "jwks_uri":
        return member.params.get("dwk", "").endswith(".json")
    return member.scheme == "jkt-jwt"


# ----------------------------------------------------------------------------- errors


def as_11(exc: AAuthError, required_input: tuple[str, ...] | None = None) -> AAuthError:
    """Give a refusal aauth-11's shape (P6): a signature or token failure is 401 with
    ``Signature-Error`` (``required_input`` on ``invalid_input``, ``Accept-Signature-*`` where
    due); anything else keeps its status and carries no ``Signature-*`` header.  The body is
    the profile's problem+json (``AAuthService.error_response`` reads ``exc.profile``)."""
    if exc.profile == NAME:  # already shaped (with its required_input)
        return exc
    exc.profile = NAME
    exc.challenge = None
    sig_code = SIGNATURE_ERROR_CODES.get(exc.code)
    if sig_code is None or exc.status_code not in (400, 401):
        return exc
    exc.status_code = 401
    field = SignatureErrorField(sig_code, required_input if sig_code == "invalid_input" else None)
    headers = {AAUTH_11.signature_error_header or "": format_signature_error(field)}
    if sig_code == "unsupported_scheme":
        headers[AAUTH_11.accept_signature_scheme_header or ""] = _ACCEPT_SCHEME
    elif sig_code == "unsupported_algorithm":
        headers[AAUTH_11.accept_signature_alg_header or ""] = format_accept_signature(AAUTH_11.jwk_algs)
    elif sig_code == "revoked_jwt":  # RS-43: start again from a person token, never an auth-token challenge
        headers[AAUTH_11.requirement_header or ""] = PERSON_TOKEN_REQUIREMENT
    exc._extra_headers.update(headers)
    return exc


# ----------------------------------------------------------------------------- the header pair


def prepare_11(key_text: str, input_text: str) -> Prepared:
    """Signature-Input and the SK-09 Signature-Key member of its label: only ``jwt`` is an
    agent's scheme (-11 §11.3.2: anything else is ``unsupported_scheme``).  The ``alg``
    signature parameter is never relied on (-11 §11.3.3.2): it is dropped here, while the
    signed ``@signature-params`` line keeps the text as received."""
    params = parse_signature_input(input_text)
    from ..wire.signature_key import parse_signature_key_member

    sigkey = parse_signature_key_member(key_text, params.label, schemes=AAUTH_11.agent_schemes,
                                        jwk_algs=AAUTH_11.jwk_algs)
    if params.alg is not None:
        params = dataclasses.replace(params, alg=None, serialized=params.serialize())
    return Prepared(sigkey, params)


# ----------------------------------------------------------------------------- the request


class Verifier11:
    """The -11 request checks up to the key: what :class:`~aauth_core.resource.verifier.Verifier`
    runs for a request :func:`is_aauth_11` classified as -11."""

    def __init__(self, tokens: Tokens11, *, max_age: int, max_future: int, extra: tuple[str, ...] = ()) -> None:
        self.tokens = tokens
        self.max_age = max_age
        self.max_future = max_future
        self.extra = extra  # the resource's additional_signature_components
        #: (has a body, sends Authorization) -> what must be covered: four lists, built once.
        self._required = {(b, a): required_components_11(body=b, authorization=a, extra=extra)
                          for b in (False, True) for a in (False, True)}
        self._prepared: BoundedCache[tuple[str, str], Prepared] = BoundedCache(_WARM_SIZE)

    def parse(self, view: RequestView, key_text: str, input_text: str, signature_text: str,
              now: float) -> tuple[Prepared, bytes]:
        """-11 §11.3.4 steps 1-4 (the headers are present): the pair, the label, the required
        components (``invalid_input`` + ``required_input``), ``created``, the digest."""
        prepared = self._prepared.get((key_text, input_text))
        if prepared is None:
            prepared = self._prepared.put((key_text, input_text), prepare_11(key_text, input_text))
        params = prepared.params
        label, signature = parse_signature(signature_text)  # standard base64; base64url tolerated
        if label != params.label:
            raise SignatureError("Signature and Signature-Input labels differ", code="label_mismatch")
        h = view.headers
        required = self._required[_has_body(view), "authorization" in h]
        covered = params.components
        if not (covered[:4] == _BASE_ORDER and len(required) == 4) and not all(c in covered for c in required):
            raise as_11(SignatureError("signature does not cover every required component",
                                       code="missing_component"), required)
        check_created(params, now, self.max_age, self.max_future)
        if prepared.digest:
            check_request_digest(view)
        return prepared, signature
