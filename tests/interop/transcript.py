"""The six signed requests of the seed transcript (protocol B §2.7), rebuilt from its text.

The transcript truncates long header lines in its display; everything needed is
still in it (full JWTs in the JSON bodies, full form bodies), so each request is
reconstructed exactly as the demo sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TRANSCRIPT = (Path(__file__).parent / "data" / "seed-token-exchange-transcript.txt").read_text(encoding="utf-8")
CREATED = 1768786273

AGENT1_X = "RC-Evfrxrf6yOojCMGjYxwsDpFb4LKa9E4ZLNsG3rwA"
R1_X = "cEu1GpfjCgXbz7oi1emwOlYngK4TDHBOQlrEE7jT7DM"
AGENT1 = "http://127.0.0.1:8001"
R1 = "http://127.0.0.1:8002"
R2 = "http://127.0.0.1:8004"

_auth_tokens = re.findall(r'"auth_token": "([^"]+)"', TRANSCRIPT)
AS1_TOKEN, AS2_TOKEN = _auth_tokens[0], _auth_tokens[1]
_bodies = dict((n, b) for n, b in re.findall(r"\[Body \((\d+) bytes\)\]\n(request_type=[^\n]+)", TRANSCRIPT))
AUTH_BODY, EXCHANGE_BODY = _bodies["510"].encode(), _bodies["470"].encode()
_sigs = re.findall(r"^(?:Signature|signature): sig1=:([A-Za-z0-9_-]+):$", TRANSCRIPT, re.M)


def _signature(prefix: str) -> str:
    return next(s for s in _sigs if s.startswith(prefix))


@dataclass(frozen=True)
class Vector:
    number: int
    method: str
    url: str
    signature_key: str
    signature: str
    signer_x: str
    body: bytes | None = None

    @property
    def components(self) -> str:
        if self.body:
            return '("@method" "@authority" "@path" "content-type" "content-digest" "signature-key")'
        return '("@method" "@authority" "@path" "signature-key")'

    def headers(self) -> dict[str, str]:
        import base64
        import hashlib

        h = {
            "Signature": f"sig1=:{self.signature}:",
            "Signature-Input": f"sig1={self.components};created={CREATED}",
            "Signature-Key": self.signature_key,
        }
        if self.body:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            h["Content-Digest"] = "sha-256=:" + base64.b64encode(hashlib.sha256(self.body).digest()).decode() + ":"
            h["Content-Length"] = str(len(self.body))
        return h


def _jwks_key(ident: str, kid: str, wk: str) -> str:
    return f'sig1=(scheme=jwks id="{ident}" kid="{kid}" well-known="{wk}")'


VECTORS = (
    Vector(1, "GET", f"{R1}/data-auth", _jwks_key(AGENT1, "key-1", "aauth-agent"), _signature("bfJBXx"), AGENT1_X),
    Vector(2, "POST", "http://127.0.0.1:8003/agent/token", _jwks_key(AGENT1, "key-1", "aauth-agent"),
           _signature("-cxGlW"), AGENT1_X, AUTH_BODY),
    Vector(3, "GET", f"{R1}/data-auth", f'sig1=(scheme=jwt jwt="{AS1_TOKEN}")', _signature("r4bCep"), AGENT1_X),
    Vector(4, "GET", f"{R2}/data-auth", _jwks_key(R1, "resource-key-1", "aauth-resource"), _signature("QyF8Fy"), R1_X),
    Vector(5, "POST", "http://127.0.0.1:8005/agent/token", f'sig1=(scheme=jwt jwt="{AS1_TOKEN}")',
           _signature("ell-87"), R1_X, EXCHANGE_BODY),
    Vector(6, "GET", f"{R2}/data-auth", f'sig1=(scheme=jwt jwt="{AS2_TOKEN}")', _signature("ZZneZe"), R1_X),
)
