"""Runs inside the peer virtual environment (``aauth`` 0.1.0 from PyPI), never in ours.

Reads a JSON job on stdin (signed requests, the JWKS documents by identifier, the
canonical authority), verifies every request with ``aauth.RequestVerifier`` (keys
resolved in-process by a dict lookup, no network), and prints JSON: the median
per-request time of each case, how many verified, and one raw Ed25519
verification measured in this process.  Standard library + the peer only.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import time


def median_ns(fn, n):
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples)


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
    for name, requests in job["cases"].items():
        prepared = [(r["method"], r["url"], r["headers"], base64.b64decode(r["body"]) if r["body"] else None)
                    for r in requests]
        ok = []

        def call(i, prepared=prepared, ok=ok):
            method, url, headers, body = prepared[i]
            result = verifier.verify_request(method, url, headers, body)
            ok.append(bool(result.get("valid")))

        ns = median_ns(call, len(prepared))
        out["cases"][name] = {"median_ns": ns, "verified": sum(ok), "n": len(ok)}
    key = Ed25519PrivateKey.generate()
    msg = b"x" * 200
    sig = key.sign(msg)
    public = key.public_key()
    out["raw_ns"] = median_ns(lambda i: public.verify(sig, msg), job["n"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
