"""Driver: regent-httpsig 0.7.3 verifies one request.  Runs under .interop/py, never under .venv.

stdin: {"method", "url", "headers", "body" (text or null),
        "documents": {url: JSON document}, what key discovery would fetch}
stdout: {"verified": bool, "error": the Signature-Error code or null, "detail": text,
         "accept_schemes": [...]}
No network: the verifier's httpx client answers from "documents" through a MockTransport, and
the documents' hosts are regent's `insecure_hosts`, so its SSRF guard does not resolve them.
"""

import asyncio
import json
import sys
from urllib.parse import urlsplit

import httpx
import regent_httpsig.verify
from regent_httpsig import HttpsigConfig, HttpsigVerifier, NotPublicURL, VerifiedSignature


async def main():
    req = json.load(sys.stdin)
    documents = req.get("documents") or {}

    def serve(request):
        doc = documents.get(str(request.url))
        return httpx.Response(404) if doc is None else httpx.Response(200, json=doc)

    hosts = frozenset(urlsplit(u).hostname for u in documents)

    async def no_dns(url, allow_hosts=frozenset()):
        # A safety net under insecure_hosts: a host we serve no document for is refused, never resolved.
        if urlsplit(url).hostname not in hosts:
            raise NotPublicURL(f"{url}: not served in this test, and never resolved")

    regent_httpsig.verify.assert_public_url = no_dns
    config = HttpsigConfig(insecure_hosts=hosts)
    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        verifier = HttpsigVerifier(config, http_client=client)
        body = req["body"].encode() if req.get("body") is not None else None
        result = await verifier.verify_detailed(req["method"], req["url"], req["headers"], body)
    if isinstance(result, VerifiedSignature):
        out = {"verified": True, "error": None, "detail": result.scheme}
    elif result is None:
        out = {"verified": False, "error": None, "detail": "no Signature header"}
    else:
        out = {"verified": False, "error": result.code, "detail": result.detail,
               "accept_schemes": list(result.accept_schemes)}
    json.dump(out, sys.stdout)


asyncio.run(main())
