"""Runs inside the peer virtual environment (``aauth`` 0.1.0 from PyPI), never in ours.

Reads a JSON job on stdin (signed requests, the JWKS documents by identifier, the
canonical authority), verifies every request with ``aauth.RequestVerifier`` (keys
resolved in-process by a dict lookup, no network), and prints JSON: the median
per-request time of each case, how many verified, and one raw Ed25519
verification measured in this process in blocks alternating with every case.  Standard library + the peer only.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import time


def interleaved_medians(cases, n, rounds=5):
    """Per-case medians of n calls each, in alternating blocks (as benchmarks._timing does):
    a noisy neighbour then slows every case alike, the raw verification included."""
    samples = {name: [] for name in cases}
    block = max(1, n // rounds)
    for start in range(0, n, block):
        for name, fn in cases.items():
            out = samples[name]
            for i in range(start, min(n, start + block)):
                t0 = time.perf_counter_ns()
                fn(i)
                out.append(time.perf_counter_ns() - t0)
    return {name: statistics.median(s) for name, s in samples.items()}


def main() -> None:
    import aauth
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    job = json.load(sys.stdin)
    documents = job["jwks"]

    def fetch(identifier, kid=None):  # the peer's jwks_fetcher contract: JWKS by identifier
        return documents[identifier]

    verifier = aauth.RequestVerifier(canonical_authorities=[job["authority"]], jwks_fetcher=fetch,
                                     trusted_auth_servers=job["trusted"])
    out = {"version": aauth.__version__, "cases": {}}
    key = Ed25519PrivateKey.generate()  # the floor as benchmarks._timing.raw_ed25519_call measures it
    pairs = [(key.sign(m), m) for m in (i.to_bytes(4, "big") * 50 for i in range(4096))]
    public = key.public_key()
    raw = []
    for name, requests in job["cases"].items():
        prepared = [(r["method"], r["url"], r["headers"], base64.b64decode(r["body"]) if r["body"] else None)
                    for r in requests]
        ok = []

        def call(i, prepared=prepared, ok=ok):
            method, url, headers, body = prepared[i]
            result = verifier.verify_request(method, url, headers, body)
            ok.append(bool(result.get("valid")))

        medians = interleaved_medians({"case": call, "raw": lambda i: public.verify(*pairs[i % len(pairs)])},
                                      len(prepared))
        out["cases"][name] = {"median_ns": medians["case"], "verified": sum(ok), "n": len(ok)}
        raw.append(medians["raw"])
    out["raw_ns"] = statistics.median(raw)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
