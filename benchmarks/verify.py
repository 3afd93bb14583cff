"""How close a warm ``verify()`` comes to the floor: one raw Ed25519 verification.

    python -m benchmarks.verify [--n 3000]

Reports the median time of one raw ``Ed25519PublicKey.verify`` and of our
``Verifier.verify`` for a warm ``scheme=jwt`` GET, a warm ``scheme=jwks`` GET, an
``hwk`` GET and a 1 KiB ``jwks`` POST, each as a ratio to the raw verify measured
in the same run (target: at most 1.5).  Every request is distinct (so the replay
cache, which is on, accepts each) and all keys are already cached.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from aauth_core.request import RequestView
from aauth_core.verifier import Verifier

from ._parties import NOW, RESOURCE, Parties
from ._timing import interleaved_medians, raw_ed25519_call


def run(n: int) -> dict[str, float]:
    p = Parties()
    settings = p.settings()
    verifier = Verifier(settings, discovery=p.discovery(settings), clock=lambda: NOW)

    def views(scheme: str, method: str = "GET", body: bytes | None = None) -> list[RequestView]:
        out = []
        for i in range(n + 1):
            headers, b = p.sign(method, f"{RESOURCE}/data/{i}", scheme, body)
            out.append(RequestView.from_url(method, f"{RESOURCE}/data/{i}", headers, b))
        return out

    cases = {
        "jwt GET": views("jwt"),
        "jwks GET": views("jwks"),
        "hwk GET": views("hwk"),
        "jwks POST 1 KiB": views("jwks", "POST", b"x" * 1024),
    }
    for vs in cases.values():  # warm the key and token caches
        verifier.verify(vs[-1])

    timed: dict[str, Callable[[int], object]] = {"raw Ed25519 verify": raw_ed25519_call()}
    for name, vs in cases.items():
        timed[name] = lambda i, vs=vs: verifier.verify(vs[i])
    return interleaved_medians(timed, n)  # alternating blocks: noise hits the floor and the cases alike


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    results = run(args.n)
    floor = results["raw Ed25519 verify"]
    print(f"{'case':<22} {'median µs':>10} {'ratio':>7}")
    for name, ns in results.items():
        print(f"{name:<22} {ns / 1000:>10.1f} {ns / floor:>7.2f}")


if __name__ == "__main__":
    main()
