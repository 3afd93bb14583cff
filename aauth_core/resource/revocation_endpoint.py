"""The resource's aauth-11 revocation endpoint (-11 §11.12; RS-60, RS-61, RS-03).

A person server (for its person tokens and three-party auth tokens) or the resource's
access server (for its auth tokens) POSTs ``{"jti", "exp"}``, signed as itself:
``Signature-Key: sig=jwks_uri;id="<issuer>";dwk="aauth-person.json"|"aauth-access.json";kid=…``
with the body covered.  The signer's key comes from its own metadata (discovery checks the
``issuer``), so a server can only ever revoke tokens *it* issued: the entry is
``(signer, jti)``, exactly the ``(iss, jti)`` the token check looks up.  Answered at once
with an empty 200 (never 202 or 404, RS-60); refusals are -11's: 401 ``Signature-Error``
for the signature, problem+json ``invalid_request`` (400), ``unsupported_iss`` (403),
``rate_limited`` (429 with ``Retry-After``) otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from ..discovery import Discovery
from ..effects import Call, arun, run
from ..errors import AAuthError
from ..request import RequestView
from ..tokens.claims import is_numeric_date
from ..wire.coverage import required_components_11
from .profile11 import NAME
from .revocation import RevocationListFull, RevocationStore
from .server_request11 import server_signer_flow
from .tokens11 import DWK_ACCESS, DWK_PERSON, TokenTrust11

__all__ = ["REVOCATION_PATH_11", "RevocationEndpoint"]

#: Where the endpoint lives (advertised as ``revocation_endpoint`` in ``aauth-resource.json``).
REVOCATION_PATH_11 = "/aauth/revoke"
_REQUIRED = required_components_11(body=True)
_MAX_JTI = 512


def _problem(description: str, *, code: str, status: int) -> AAuthError:
    exc = AAuthError(description, code=code, status_code=status)
    exc.profile = NAME
    return exc


class RevocationEndpoint:
    """Verifies a revoker's request and records ``(revoker, jti)`` until ``exp``."""

    def __init__(self, discovery: Discovery, revocations: RevocationStore, trust: TokenTrust11, *,
                 max_age: int, max_future: int, clock: Any, remember: Any) -> None:
        self.discovery = discovery
        self.revocations = revocations
        self.trust = trust
        self.max_age = max_age
        self.max_future = max_future
        self.clock = clock
        self.remember = remember  # the verifier's replay step: (params, signature, key) -> effects

    def handle(self, view: RequestView) -> None:
        """Raise an :class:`AAuthError` (in -11's shape) unless the revocation was recorded."""
        signer, jti, exp = self._admit(view, run(self._signer_flow(view)))
        try:
            self.revocations.revoke(signer, jti, exp)
        except RevocationListFull:
            raise _full() from None

    async def ahandle(self, view: RequestView) -> None:
        signer, jti, exp = self._admit(view, await arun(self._signer_flow(view)))
        try:
            await self.revocations.arevoke(signer, jti, exp)
        except RevocationListFull:
            raise _full() from None

    def _signer_flow(self, view: RequestView) -> Generator[Call[Any], Any, str]:
        """-11 §11.3.4 for a server signing as itself (``jwks_uri``), body covered."""
        signer = yield from server_signer_flow(
            view, self.discovery, dwks=(DWK_PERSON, DWK_ACCESS), required=_REQUIRED, now=self.clock(),
            max_age=self.max_age, max_future=self.max_future, loopback=self.trust.loopback, remember=self.remember)
        return signer.issuer

    def _admit(self, view: RequestView, signer: str) -> tuple[str, str, float]:
        """The verified revoker may revoke here; the body names what."""
        trust = self.trust
        if trust.person_servers and signer not in trust.person_servers and signer != trust.access_server:
            raise _problem("this resource does not take revocations from that server", code="unsupported_iss",
                           status=403)
        jti, exp = _body(view.body)
        return signer, jti, exp


def _full() -> AAuthError:
    exc = _problem("too many live revocations; try again later", code="rate_limited", status=429)
    exc._extra_headers["Retry-After"] = "60"
    return exc


def _body(body: bytes | None) -> tuple[str, float]:
    """``{"jti": <non-empty string>, "exp": <NumericDate>}``; anything else is ``invalid_request``."""
    try:
        doc = json.loads(body or b"")
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        raise _problem("the body must be a JSON object with 'jti' and 'exp'", code="invalid_request", status=400)
    jti, exp = doc.get("jti"), doc.get("exp")
    if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
        raise _problem("'jti' must be a non-empty string", code="invalid_request", status=400)
    if not is_numeric_date(exp):
        raise _problem("'exp' must be a NumericDate", code="invalid_request", status=400)
    return jti, float(exp)
