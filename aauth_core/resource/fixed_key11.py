"""An aauth-11 request checked against a key the caller already holds (``aauth verify --key``).

The resource's -11 pipeline (:mod:`.profile11`) finds the key through the agent token; a
developer checking a captured request wants the HTTP signature alone, against the key they
expect, with no discovery and no token.  This is the -11 half of
:meth:`~aauth_core.resource.verifier.Verifier.verify_with_key`: the same steps of -11
§11.3.4 as the resource takes, in the same order and with the same refusals (401 with
``Signature-Error``, :func:`.profile11.as_11`), minus the key resolution of step 5.

With the key given, the Signature-Key scheme only says where a resource would have found
the key, so a server signing as itself (``jwks_uri``) is checked like an agent (``jwt``);
any other scheme is ``unsupported_scheme``, as at a resource.
"""

from __future__ import annotations

import dataclasses

from ..context import VerifiedRequest
from ..errors import AAuthError, SignatureError
from ..headers import parse_signature, parse_signature_input
from ..httpsig import verify_signature
from ..keys import PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..request import RequestView
from ..wire.content_digest import check_request_digest
from ..wire.coverage import _has_body, check_covers, check_created, required_components_11
from ..wire.signature_key import parse_signature_key_member, read_signature_key_member
from .prepared import Prepared
from .profile11 import NAME, as_11, prepare_11

__all__ = ["prepare_fixed_11", "verify_with_key_11"]

_HEADERS = (AAUTH_11.signature_header, AAUTH_11.signature_input_header, AAUTH_11.signature_key_header)


def prepare_fixed_11(key_text: str, input_text: str) -> Prepared:
    """The header pair, for any scheme -11 signs with: an agent's (``jwt``, through
    :func:`.profile11.prepare_11`) or a server's as itself (``jwks_uri``).  The ``alg``
    signature parameter is dropped as :func:`.profile11.prepare_11` drops it (never relied on)."""
    params = parse_signature_input(input_text)
    if read_signature_key_member(key_text, params.label).scheme not in AAUTH_11.server_schemes:
        return prepare_11(key_text, input_text)  # jwt, or unsupported_scheme for anything else
    sigkey = parse_signature_key_member(key_text, params.label, schemes=AAUTH_11.server_schemes,
                                        jwk_algs=AAUTH_11.jwk_algs)
    if params.alg is not None:
        params = dataclasses.replace(params, alg=None, serialized=params.serialize())
    return Prepared(sigkey, params)


def verify_with_key_11(view: RequestView, key: PublicKey, *, now: float, max_age: int = 60, max_future: int = 60,
                       algorithms: frozenset[str] | None = None, authority: str | None = None) -> VerifiedRequest:
    """Raise (in -11's shape) unless ``key`` signed ``view`` as -11 requires: the three
    headers, the pair, the label, the required components (``invalid_input`` with
    ``required_input``), ``created`` in the window, the body's digest, the key's algorithm
    (``algorithms``, HTTP-signature names, when given) and the RFC 9421 signature.

    ``authority`` is the verifier's configured ``@authority``, used instead of the
    request's own as a resource does.  No replay check: nothing is being served."""
    if authority is not None and view.authority != authority:
        view = view._replace(authority=authority)
    try:
        h = view.headers
        signature_text, input_text, key_text = (h.get(name or "") for name in _HEADERS)
        if key_text is None or input_text is None or signature_text is None:
            missing = [n for n in _HEADERS if n is not None and n not in h]
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}", code="missing_signature")
        prepared = prepare_fixed_11(key_text, input_text)
        params = prepared.params
        label, signature = parse_signature(signature_text)
        if label != params.label:
            raise SignatureError("Signature and Signature-Input labels differ", code="label_mismatch")
        required = required_components_11(body=_has_body(view), authorization="authorization" in h)
        try:
            check_covers(params, required)
        except SignatureError as exc:
            raise as_11(exc, required) from None
        check_created(params, now, max_age, max_future)
        if prepared.digest:
            check_request_digest(view)
        if algorithms is not None and key.httpsig_alg not in algorithms:
            raise SignatureError(f"key algorithm {key.httpsig_alg} is not accepted", code="unsupported_algorithm")
        verify_signature(view, params, signature, key, base="rfc9421")
    except AAuthError as exc:
        raise as_11(exc) from None
    sk = prepared.sigkey
    return VerifiedRequest(scheme=sk.scheme, label=sk.label, key=key, created=params.created or 0,
                           components=params.components, profile=NAME)
