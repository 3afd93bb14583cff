"""Driver: aauth-signing 0.2.0 verifies one request.  Runs under .interop/py, never under .venv.

stdin: {"method", "url", "headers", "body" (text or null),
        "documents": {url: JSON document}, what key discovery would fetch}
stdout: {"verified": bool, "error": the peer's Signature-Error code or null, "detail": text}
No network: the JWKS fetcher answers from "documents" only.
"""

import json
import sys

from aauth_signing import verify_signature
from aauth_signing.errors import SignatureError


def main():
    req = json.load(sys.stdin)
    headers = req["headers"]
    lower = {k.lower(): v for k, v in headers.items()}
    body = req["body"].encode() if req.get("body") is not None else None
    documents = req.get("documents") or {}

    def fetcher(identifier, dwk, kid=None):
        # Two-step discovery, as the verifier's docstring asks: {id}/.well-known/{dwk} -> jwks_uri -> JWKS.
        metadata = documents.get(f"{identifier.rstrip('/')}/.well-known/{dwk}")
        return documents.get(metadata.get("jwks_uri")) if metadata else None

    try:
        ok = verify_signature(req["method"], req["url"], headers, body, lower.get("signature-input", ""),
                              lower.get("signature", ""), lower.get("signature-key", ""), jwks_fetcher=fetcher)
        out = {"verified": bool(ok), "error": None if ok else "invalid_signature",
               "detail": "" if ok else "verify_signature returned False"}
    except SignatureError as exc:
        out = {"verified": False, "error": exc.error_code, "detail": str(exc)}
    json.dump(out, sys.stdout)


main()
