"""Driver: regent-httpsig 0.7.3 signs one request.  Runs under .interop/py, never under .venv.

stdin: {"method", "url", "headers", "body" (text or null), "key" (private Ed25519 JWK: its "d" is
        regent's seed), "scheme" ("jwt": EgressSigner.sign_aauth | "jwks_uri": ServerSigner.sign),
        "token", "id", "dwk", "kid"}
stdout: {"headers": every header to send}
"""

import json
import sys

from regent_httpsig import EgressSigner, ServerSigner


def main():
    req = json.load(sys.stdin)
    headers = dict(req.get("headers") or {})
    body = req["body"].encode() if req.get("body") is not None else None
    seed = req["key"]["d"]
    if req["scheme"] == "jwt":
        signer = EgressSigner(seed=seed, signature_agent="https://agent.example")
        out = signer.sign_aauth(req["method"], req["url"], headers, token=req["token"], body=body)
    elif req["scheme"] == "jwks_uri":
        server = ServerSigner(seed=seed, server_id=req["id"], dwk=req["dwk"], kid=req["kid"])
        out = server.sign(req["method"], req["url"], headers, body=body)
    else:
        raise SystemExit(f"regent-httpsig 0.7.3 offers no {req['scheme']!r} signer")
    json.dump({"headers": out}, sys.stdout)


main()
