"""Revocation by ``jti`` (-11 §11.12; RS-60, RS-61): the person server stops honouring a token it
issued and tells the token's resource.

:meth:`~aauth_core.personserver.PersonServer.revoke` (an admin call, no HTTP endpoint of its own)
marks the issued-token record revoked (a revoked person token presented back is
``revoked_presented_token``), then ``POST``s ``{"jti", "exp"}`` to the ``revocation_endpoint``
of the resource's ``aauth-resource.json`` (found through discovery, so its ``issuer`` is
checked), signed as the person server: ``Signature-Key: sig=jwks_uri;id="<ps>";
dwk="aauth-person.json";kid="…"``, the body covered.  The URL passes the SSRF guard before a
packet is sent; the call follows no redirect.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import httpx

from ..discovery import Resolver, check_url, same_origin
from ..effects import Flow, call
from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..wire.coverage import required_components_11
from ..wire.httpsig import sign_request
from ..wire.signature_key import SignatureKey
from .state import token_name
from .wire import PersonServerError

if TYPE_CHECKING:
    from .server import PersonServer

__all__ = ["Revoker"]

log = logging.getLogger("aauth.personserver")
_TIMEOUT = 10.0


class Revoker:
    """Marks a token revoked and reports it to its resource."""

    def __init__(self, server: PersonServer, *, transport: httpx.BaseTransport | None,
                 async_transport: httpx.AsyncBaseTransport | None, resolver: Resolver | None) -> None:
        self._server = server
        self._resolver = resolver
        self._transport = transport
        self._async_transport = async_transport

    def flow(self, jti: str) -> Flow[bool]:
        server = self._server
        records = server.records
        name = token_name(jti)
        issued = yield from records.record(name)
        if issued is None:
            raise PersonServerError("no token with that jti was issued here (or it has expired)",
                                    code="not_found", status_code=404)
        yield from records.put_record(name, {**issued, "revoked": True}, float(issued["exp"]) + 60)
        log.info("person server: token revoked; reporting it to its resource")
        resource = str(issued["aud"])
        discovery = server.service.discovery
        try:
            meta = yield from call(discovery.metadata, discovery.ametadata, resource,
                                   AAUTH_11.well_known_resource)
        except AAuthError as exc:
            log.warning("person server: the resource's metadata could not be had for a revocation (%s)", exc.code)
            return False
        endpoint = meta.get("revocation_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            log.info("person server: the resource offers no revocation_endpoint")
            return False
        if not same_origin(endpoint, resource):  # a signed POST goes to the resource itself, nowhere else
            log.warning("person server: the resource's revocation_endpoint is on another origin; not sent")
            return False
        body = json.dumps({"jti": jti, "exp": int(issued["exp"])}, separators=(",", ":")).encode()
        try:
            check_url(endpoint, allow_insecure_loopback=server.config.allow_insecure_loopback,
                      resolver=self._resolver)
            status = yield from call(self._post, self._apost, endpoint, self._signed(endpoint, body), body)
        except (AAuthError, httpx.HTTPError) as exc:
            log.warning("person server: the revocation could not be sent (%s)", type(exc).__name__)
            return False
        if status != 200:
            log.warning("person server: the resource answered the revocation with HTTP %s", status)
        return status == 200

    def _signed(self, url: str, body: bytes) -> dict[str, str]:
        server = self._server
        key = server._keys[0]
        signature_key = SignatureKey.build("jwks", {"id": server.issuer, "well-known": AAUTH_11.well_known_person
                                                    or "aauth-person.json", "kid": key.kid or ""},
                                           label="sig", fmt="sk")
        headers = {"Content-Type": "application/json"}
        signed = sign_request("POST", url, headers, body, key=key, signature_key=signature_key,
                              created=int(server.clock()), encoding="base64",
                              components=required_components_11(body=True))
        return {**headers, **signed.headers}

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        with httpx.Client(transport=self._transport, timeout=_TIMEOUT, follow_redirects=False) as client:
            return client.post(url, headers=headers, content=body).status_code

    async def _apost(self, url: str, headers: dict[str, str], body: bytes) -> int:
        async with httpx.AsyncClient(transport=self._async_transport, timeout=_TIMEOUT,
                                     follow_redirects=False) as client:
            return (await client.post(url, headers=headers, content=body)).status_code
