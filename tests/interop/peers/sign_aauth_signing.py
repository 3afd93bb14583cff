"""Driver: aauth-signing 0.2.0 signs one request.  Runs under .interop/py, never under .venv.

stdin: {"method", "url", "headers", "body" (text or null), "key" (private JWK),
        "scheme" ("hwk" | "jwt" | "jwks_uri" | "jkt-jwt"), "token", "id", "dwk", "kid"}
stdout: {"headers": every header to send (the request's own, Signature-Key, Content-Digest,
        Signature-Input, Signature)}
"""

import json
import sys

from aauth_signing import sign_request
from jwk_keys import private_key  # beside this driver


def main():
    req = json.load(sys.stdin)
    headers = dict(req.get("headers") or {})
    body = req["body"].encode() if req.get("body") is not None else None
    scheme = req["scheme"]
    kwargs = {}
    if scheme in ("jwt", "jkt-jwt"):
        kwargs["jwt"] = req["token"]
    elif scheme == "jwks_uri":
        kwargs.update(id=req["id"], dwk=req["dwk"], kid=req["kid"])
    # Body coverage is the caller's choice in 0.2.0 (-11: PS, AS and revocation endpoints).
    extra = ["content-digest", "content-type"] if body else None
    # sign_request adds Signature-Key and Content-Digest to `headers` in place and returns only
    # the three signature headers (protocol-current §5.1 bug 4): send the merged set.
    added = sign_request(req["method"], req["url"], headers, body, private_key(req["key"]),
                         sig_scheme=scheme, additional_signature_components=extra, **kwargs)
    headers.update(added)
    json.dump({"headers": headers}, sys.stdout)


main()
