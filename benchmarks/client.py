"""Issue 7, client side: the cost of signing one request, next to one raw Ed25519 signature.

    python -m benchmarks.client [--n 3000]
"""

from __future__ import annotations

import argparse
import time

from aauth_core.client import RequestSigner

from ._parties import RESOURCE, Parties
from ._timing import median_ns

__all__ = ["run"]


def run(n: int) -> dict[str, float]:
    p = Parties()
    body = b'{"data": "' + b"x" * 1010 + b'"}'
    msg = b"x" * 200
    created = int(time.time())
    signers = {"hwk": RequestSigner.hwk(p.agent), "jwt": RequestSigner.jwt(p.agent, p.token)}
    results = {"raw Ed25519 sign": median_ns(lambda i: p.agent.sign(msg), n)}
    for name, signer in signers.items():
        results[f"sign {name} GET"] = median_ns(
            lambda i, s=signer: s.sign("GET", f"{RESOURCE}/data?i={i}", {}, None, created=created), n)
        results[f"sign {name} POST 1 KiB"] = median_ns(
            lambda i, s=signer: s.sign("POST", f"{RESOURCE}/data?i={i}", {"Content-Type": "application/json"},
                                       body, created=created), n)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    r = run(parser.parse_args().n)
    floor = r["raw Ed25519 sign"]
    for name, ns in r.items():
        print(f"{name:<22} {ns / 1e3:8.1f} µs {ns / floor:6.2f}")


if __name__ == "__main__":
    main()
