"""Issue 7: resident memory of the replay cache and of the key cache.

    python -m benchmarks.memory [--requests 200000] [--issuers 10000]

Run in a fresh process per part (the driver starts them).  Replay cache: a verifier with
the default in-memory replay cache (``replay_cache_size`` at its default)
verifies ``--requests`` distinct ``hwk`` requests, all inside one ``created``
window (the worst case: no entry expires), sampling RSS as it goes; it must
plateau once the cache is full (from then on it refuses new requests with 503
``cache_unavailable`` rather than forget an unexpired entry).  Key cache: discovery of ``--issuers`` distinct
agent identifiers (metadata + JWKS each, served in memory).
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

import httpx

from aauth_core import dialect
from aauth_core.discovery import Discovery
from aauth_core.errors import CacheUnavailable
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.request import RequestView
from aauth_core.settings import AAuthSettings
from aauth_core.verifier import Verifier

from ._parties import NOW, RESOURCE, Parties
from ._timing import rss_bytes

__all__ = ["run"]

DEFAULT_REPLAY_SIZE: int = AAuthSettings.__dataclass_fields__["replay_cache_size"].default


def replay(n: int) -> dict[str, Any]:
    logging.getLogger("aauth").setLevel(logging.ERROR)  # the "replay cache is full" warning is expected here
    p = Parties()
    settings = p.settings(replay_cache_size=DEFAULT_REPLAY_SIZE)
    verifier = Verifier(settings, discovery=p.discovery(settings), clock=lambda: NOW)
    cache: Any = verifier.replay_cache

    refused = 0

    def one(i: int) -> None:
        nonlocal refused
        url = f"{RESOURCE}/data?i={i}"
        headers, _ = p.sign("GET", url, "hwk")
        try:
            verifier.verify(RequestView.from_url("GET", url, headers))
        except CacheUnavailable:  # full of unexpired entries: refused, nothing evicted
            refused += 1

    for i in range(100):
        one(-i - 1)
    base = rss_bytes()
    samples = []
    step = max(1, n // 10)
    for i in range(n):
        one(i)
        if (i + 1) % step == 0:
            samples.append((i + 1, len(cache), rss_bytes()))
    full = next((s for s in samples if s[1] >= DEFAULT_REPLAY_SIZE), samples[-1])
    return {"requests": n, "capacity": DEFAULT_REPLAY_SIZE, "entries": len(cache), "refused": refused,
            "base_rss": base,
            "final_rss": samples[-1][2], "samples": samples,
            "bytes_per_entry": (full[2] - base) / max(1, full[1] - 100)}


def keys(n: int) -> dict[str, Any]:
    key = SigningKey.generate(kid="key-1")
    jwks = json.dumps(jwks_document([key])).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.url.path == f"/.well-known/{dialect.WELL_KNOWN_AGENT}":
            body = json.dumps({"agent": f"https://{host}", "jwks_uri": f"https://{host}/jwks.json"}).encode()
        else:
            body = jwks
        return httpx.Response(200, content=body, headers={"Cache-Control": "max-age=86400"})

    settings = AAuthSettings(resource_id=RESOURCE)
    discovery = Discovery(settings, transport=httpx.MockTransport(handle), clock=lambda: NOW,
                          resolver=lambda host: ["93.184.216.34"])
    for i in range(50):
        discovery.key_for(f"https://warm{i}.example", dialect.WELL_KNOWN_AGENT, "key-1")
    base = rss_bytes()
    for i in range(n):
        discovery.key_for(f"https://agent{i}.example", dialect.WELL_KNOWN_AGENT, "key-1")
    cache: Any = getattr(discovery, "_cache", None)  # the default MemoryKeyCache
    entries = len(cache) if cache is not None and hasattr(cache, "__len__") else -1
    after = rss_bytes()
    return {"issuers": n, "documents_cached": entries, "base_rss": base, "final_rss": after,
            "bytes_per_issuer": (after - base) / n}


def run(requests: int, issuers: int, part: str = "both") -> dict[str, Any]:
    """Each part is best run in a process of its own (``--part``): memory freed by one
    is reused by the other and hides its growth."""
    out: dict[str, Any] = {}
    if part in ("replay", "both"):
        out["replay"] = replay(requests)
    if part in ("keys", "both"):
        out["keys"] = keys(issuers)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--issuers", type=int, default=10_000)
    parser.add_argument("--part", choices=("replay", "keys", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="print JSON (for the driver)")
    args = parser.parse_args()
    r = run(args.requests, args.issuers, args.part)
    print(json.dumps(r) if args.json else json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
