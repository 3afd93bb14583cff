"""A server signing an aauth-11 request as itself (-11 §11.3.2, §11.3.4).

Person servers, access servers and agent providers call each other (and a resource's
revocation endpoint) with ``Signature-Key: sig=jwks_uri;id="<issuer>";dwk="<document>";kid=…``:
the key comes from the signer's own metadata, ``{id}/.well-known/{dwk}``, whose ``issuer``
discovery checks against ``id``.  Every receiver takes the same steps, in -11's order, so
they live here once: the three headers, the label, the required components
(``invalid_input`` with ``required_input``), ``created``, the body digest when covered,
who may sign here (``dwk`` and a server identifier), the key, the RFC 9421 signature and the
receiver's replay step.  Failures come out in -11's shape (401 ``Signature-Error``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from ..discovery import Discovery
from ..effects import Call, call
from ..errors import AAuthError, SignatureError
from ..headers import parse_signature, parse_signature_input
from ..httpsig import verify_signature
from ..keys import PublicKey
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import is_server_identifier
from ..request import RequestView
from ..wire.content_digest import check_request_digest
from ..wire.coverage import check_covers, check_created
from ..wire.signature_key import parse_signature_key_member
from .profile11 import as_11

__all__ = ["ServerSigner", "server_signer_flow"]

_HEADERS = (AAUTH_11.signature_header, AAUTH_11.signature_input_header, AAUTH_11.signature_key_header)

#: The receiver's replay step: ``(params, signature, key) -> effects`` (the verifier's ``_remember``).
Remember = Callable[[Any, bytes, PublicKey], Generator[Call[Any], Any, None]]


@dataclass(frozen=True, slots=True)
class ServerSigner:
    """Who signed: its server identifier, the metadata document it named, its key."""

    issuer: str
    dwk: str
    key: PublicKey


def server_signer_flow(view: RequestView, discovery: Discovery, *, dwks: tuple[str, ...],
                       required: tuple[str, ...], now: float, max_age: int, max_future: int, loopback: bool,
                       remember: Remember, admit: Callable[[str], None] | None = None,
                       ) -> Generator[Call[Any], Any, ServerSigner]:
    """-11 §11.3.4 for a server signing as itself; only a ``dwk`` in ``dwks`` may sign here.

    ``admit`` sees the claimed signer before any key is fetched for it and raises to refuse it
    (an allow-list keeps unknown hosts from being asked for keys at all)."""
    try:
        h = view.headers
        signature_text, input_text, key_text = (h.get(name or "") for name in _HEADERS)
        if key_text is None or input_text is None or signature_text is None:
            raise SignatureError("missing signature header(s)", code="missing_signature")
        params = parse_signature_input(input_text)
        sigkey = parse_signature_key_member(key_text, params.label, schemes=AAUTH_11.server_schemes,
                                            jwk_algs=AAUTH_11.jwk_algs)
        if params.alg is not None:  # never relied on (-11 §11.3.3.2)
            params = dataclasses.replace(params, alg=None, serialized=params.serialize())
        label, signature = parse_signature(signature_text)
        if label != params.label:
            raise SignatureError("Signature and Signature-Input labels differ", code="label_mismatch")
        try:
            check_covers(params, required)
        except SignatureError as exc:
            raise as_11(exc, required) from None
        check_created(params, now, max_age, max_future)
        if "content-digest" in params.components:
            check_request_digest(view)
        signer, dwk = sigkey.id or "", sigkey.well_known or ""
        if dwk not in dwks or not is_server_identifier(signer, allow_loopback_http=loopback):
            raise SignatureError(f"only a server publishing {' or '.join(dwks)} signs here",
                                 code="unsupported_scheme")
        if admit is not None:
            admit(signer)
        key = yield from call(discovery.key_for, discovery.akey_for, signer, dwk, sigkey.kid or "")
        verify_signature(view, params, signature, key, base="rfc9421")
        yield from remember(params, signature, key)
    except AAuthError as exc:
        raise as_11(exc) from None
    return ServerSigner(signer, dwk, key)
