"""Driver: regent-httpsig 0.7.3's resource verifier checks one request that carries a token
issued by OUR live person server (issue 15).  Runs under .interop/py, never under .venv.

Unlike verify_regent.py (documents handed in), regent discovers the issuer's keys itself, over
HTTP: ``{iss}/.well-known/{dwk}`` then its ``jwks_uri``, from our servers listening on 127.0.0.1,
reached through the loopback host table (loopback_async.py).  The identifier hosts are regent's
``insecure_hosts`` (its SSRF guard would refuse a loopback address; protocol-current §5.1 bug 8),
so nothing is resolved.

stdin: {"method", "url", "headers", "body" (text or null), "routes": {host: port},
        "resource_url" (regent's ``resource_url``: the audience of person and auth tokens),
        "trusted_ps": [issuers whose auth tokens regent accepts, keys discovered from metadata]}
stdout: {"verified": bool, "error": the Signature-Error code or null, "scheme", "claims"
         (regent's selection of the token's claims), "fetched": [URLs regent fetched]}
"""

import asyncio
import json
import sys

import httpx
from loopback_async import AsyncLoopbackTransport
from regent_httpsig import HttpsigConfig, HttpsigVerifier, VerifiedSignature


async def main():
    req = json.load(sys.stdin)
    transport = AsyncLoopbackTransport(req["routes"])
    config = HttpsigConfig(insecure_hosts=frozenset(req["routes"]), resource_url=req["resource_url"],
                           trusted_ps={issuer: "" for issuer in req.get("trusted_ps") or ()})
    async with httpx.AsyncClient(transport=transport) as client:
        verifier = HttpsigVerifier(config, http_client=client)
        body = req["body"].encode() if req.get("body") is not None else None
        result = await verifier.verify_detailed(req["method"], req["url"], req["headers"], body)
    fetched = [e["url"] for e in transport.exchanges]
    if isinstance(result, VerifiedSignature):
        out = {"verified": True, "error": None, "scheme": result.scheme, "claims": result.claims}
    else:
        out = {"verified": False, "error": None if result is None else result.code, "scheme": None, "claims": None}
    json.dump({**out, "fetched": fetched}, sys.stdout)


asyncio.run(main())
