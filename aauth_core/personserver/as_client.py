"""The person server's HTTP calls to an access server (-11 §2.3 "Federation"): signed as the
person server, never following a redirect, each URL through the SSRF guard first.

Every call is signed ``Signature-Key: sig=jwks_uri;id="<ps>";dwk="aauth-person.json";kid="…"``
(the body covered on a ``POST``), with a fresh random ``nonce`` so two polls in one second
never carry the same signature (decision P8).  A transport failure is ``None``: the caller
turns it into ``502 as_unreachable``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..discovery import Resolver, check_url
from ..effects import Flow, call
from ..errors import AAuthError
from ..keys import SigningKey
from ..profile.aauth_11 import AAUTH_11
from ..wire.coverage import required_components_11
from ..wire.httpsig import sign_request
from ..wire.signature_key import SignatureKey

__all__ = ["ASAnswer", "AccessServerClient"]

_TIMEOUT = 10.0
#: The largest answer read from an access server (a token or a problem document).
_MAX_ANSWER = 64 * 1024
DWK_PERSON = AAUTH_11.well_known_person or "aauth-person.json"


@dataclass(frozen=True, slots=True)
class ASAnswer:
    """What the access server answered: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None


class AccessServerClient:
    """Signed ``POST``/``GET`` to an access server, blocking or awaited (transports injectable)."""

    def __init__(self, *, issuer: str, signing_key: Callable[[], SigningKey], clock: Callable[[], float],
                 loopback: bool, transport: httpx.BaseTransport | None,
                 async_transport: httpx.AsyncBaseTransport | None, resolver: Resolver | None) -> None:
        self.issuer = issuer
        self._key = signing_key
        self.clock = clock
        self.loopback = loopback
        self._transport = transport
        self._async_transport = async_transport
        self._resolver = resolver

    def send(self, method: str, url: str, doc: Mapping[str, Any] | None) -> Flow[ASAnswer | None]:
        """The answer, or ``None`` when the URL is refused by the guard or nothing came back."""
        body = None if doc is None else json.dumps(dict(doc), separators=(",", ":")).encode()
        try:
            check_url(url, allow_insecure_loopback=self.loopback, resolver=self._resolver)
        except AAuthError:
            return None
        headers = self._signed(method, url, body)
        try:
            return (yield from call(self._send, self._asend, method, url, headers, body))
        except httpx.HTTPError:
            return None

    def _signed(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        key = self._key()
        signature_key = SignatureKey.build("jwks", {"id": self.issuer, "well-known": DWK_PERSON, "kid": key.kid or ""},
                                           label="sig", fmt="sk")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        signed = sign_request(method, url, headers, body, key=key, signature_key=signature_key,
                              created=int(self.clock()), encoding="base64", nonce=secrets.token_urlsafe(12),
                              components=required_components_11(body=body is not None))
        return {**headers, **signed.headers}

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> ASAnswer:
        with httpx.Client(transport=self._transport, timeout=_TIMEOUT, follow_redirects=False) as client:
            response = client.request(method, url, headers=headers, content=body)
            return _answer(response)

    async def _asend(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> ASAnswer:
        async with httpx.AsyncClient(transport=self._async_transport, timeout=_TIMEOUT,
                                     follow_redirects=False) as client:
            response = await client.request(method, url, headers=headers, content=body)
            return _answer(response)


def _answer(response: httpx.Response) -> ASAnswer:
    body = response.content
    if len(body) > _MAX_ANSWER:
        body = b""  # an oversized answer is read as no answer at all
    return ASAnswer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)
