"""Driver: aauth 0.5.0's agent mints an -11 agent token (as its AP) and signs one request with
``AgentRequestSigner``.  Runs under .interop/py, never under .venv.

stdin: {"method", "url", "headers", "body" (text or null), "ap_key" (private JWK with kid),
        "agent_key" (private JWK), "iss", "sub"}
stdout: {"headers": every header to send, "token": the agent token}
"""

import json
import sys

from aauth.agent.signer import AgentRequestSigner
from aauth.tokens.agent_token import create_agent_token
from jwk_keys import private_key  # beside this driver


def main():
    req = json.load(sys.stdin)
    agent_jwk = req["agent_key"]
    cnf = {k: agent_jwk[k] for k in ("kty", "crv", "x", "y") if k in agent_jwk}
    cnf["alg"] = "Ed25519" if agent_jwk["kty"] == "OKP" else "ES256"
    token = create_agent_token(req["iss"], req["sub"], cnf, private_key(req["ap_key"]), req["ap_key"]["kid"])
    headers = dict(req.get("headers") or {})
    body = req["body"].encode() if req.get("body") is not None else None
    signer = AgentRequestSigner(private_key(agent_jwk), agent_token=token)
    # sign_request adds Signature-Key (and Content-Digest) to `headers` in place and returns only
    # the three signature headers (protocol-current §5.1 bug 4): send the merged set.
    headers.update(signer.sign_request(req["method"], req["url"], headers, body))
    json.dump({"headers": headers, "token": token}, sys.stdout)


main()
