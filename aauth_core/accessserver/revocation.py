"""Revoking an access server's own auth token at its resource (-11 §11.12; RS-61).

The access server records the revocation (so a later ``revoke`` of the same token is
idempotent) and POSTs ``{"jti", "exp"}`` to the resource's ``revocation_endpoint`` (from
``{resource}/.well-known/aauth-resource.json``), signed as itself:
``Signature-Key: sig=jwks_uri;id="<access server>";dwk="aauth-access.json";kid=…`` with the
body covered.  The endpoint must be on the resource's own origin and passes the SSRF guard
before a packet is sent; redirects are never followed.  The outcome per resource is reported
as -11's ``downstream`` entries do: ``revoked``, or ``revocation_unavailable``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ..discovery import check_url, same_origin
from ..effects import Call, call
from ..errors import AAuthError
from ..headers import SignatureKey
from ..httpsig import sign_request
from ..profile.aauth_11 import AAUTH_11
from ..wire.coverage import required_components_11

if TYPE_CHECKING:
    from .server import AccessServer

__all__ = ["RevocationResult", "Revoker"]

DWK_ACCESS = AAUTH_11.well_known_access or "aauth-access.json"
DWK_RESOURCE = AAUTH_11.well_known_resource
_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class RevocationResult:
    """``status``: ``revoked`` (the resource acknowledged), ``revocation_unavailable`` (it could
    not be told: no endpoint, refused, unreachable) or ``unknown_token`` (not issued here, or
    already past its ``exp``)."""

    jti: str
    resource: str | None
    status: str


class Revoker:
    """Marks an issued auth token revoked and tells its resource."""

    def __init__(self, server: AccessServer, *, transport: httpx.BaseTransport | None,
                 async_transport: httpx.AsyncBaseTransport | None) -> None:
        self.server = server
        self.transport = transport
        self.async_transport = async_transport

    def flow(self, jti: str) -> Generator[Call[Any], Any, RevocationResult]:
        s = self.server
        store = s.store
        record = yield from call(store.get, store.aget, "issued", jti)
        if record is None:
            return RevocationResult(jti, None, "unknown_token")
        resource, exp = str(record["resource"]), int(record["exp"])
        yield from call(store.put, store.aput, "issued", jti, {**record, "revoked": True}, exp + 60)
        try:
            meta = yield from call(s.discovery.metadata, s.discovery.ametadata, resource, DWK_RESOURCE)
            endpoint = meta.get("revocation_endpoint")
            if not isinstance(endpoint, str) or not same_origin(endpoint, resource):
                return RevocationResult(jti, resource, "revocation_unavailable")
            body = json.dumps({"jti": jti, "exp": exp}).encode()
            status = yield from call(self._post, self._apost, endpoint, body)
        except AAuthError:
            return RevocationResult(jti, resource, "revocation_unavailable")
        return RevocationResult(jti, resource, "revoked" if status == 200 else "revocation_unavailable")

    def _signed(self, url: str, body: bytes) -> dict[str, str]:
        s = self.server
        key = s.signing_key
        sigkey = SignatureKey.build("jwks", {"id": s.issuer, "well-known": DWK_ACCESS, "kid": key.kid or ""},
                                    label=AAUTH_11.signature_label, fmt="sk")
        headers = {"Content-Type": "application/json"}
        signed = sign_request("POST", url, headers, body, key=key, signature_key=sigkey, created=int(s.clock()),
                              encoding="base64", components=required_components_11(body=True))
        return {**headers, **signed.headers}

    def _post(self, url: str, body: bytes) -> int:
        check_url(url, allow_insecure_loopback=self.server.config.allow_loopback_http, resolver=self.server.resolver)
        try:
            with httpx.Client(transport=self.transport, timeout=_TIMEOUT, follow_redirects=False) as client:
                return client.post(url, content=body, headers=self._signed(url, body)).status_code
        except httpx.HTTPError:
            return 0

    async def _apost(self, url: str, body: bytes) -> int:
        await asyncio.to_thread(check_url, url, allow_insecure_loopback=self.server.config.allow_loopback_http,
                                resolver=self.server.resolver)
        try:
            async with httpx.AsyncClient(transport=self.async_transport, timeout=_TIMEOUT,
                                         follow_redirects=False) as client:
                return (await client.post(url, content=body, headers=self._signed(url, body))).status_code
        except httpx.HTTPError:
            return 0
