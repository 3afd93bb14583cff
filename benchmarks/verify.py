"""How close a warm ``verify()`` comes to the floor: one raw Ed25519 verification.

    python -m benchmarks.verify [--n 3000]

Reports the median time of one raw ``Ed25519PublicKey.verify`` and of our
``Verifier.verify`` for a warm ``scheme=jwt`` GET, a warm ``scheme=jwks`` GET, an
``hwk`` GET and a 1 KiB ``jwks`` POST, each as a ratio to the raw verify measured
in the same run (target: at most 1.5), and a warm aauth-11 GET (``sig=jwt`` carrying an
``aa-agent+jwt``, issue 14) at a resource accepting only ``aauth-11`` and at a dual-stack
one (target: at most 1.15).  Every request is distinct (so the replay cache, which is on,
accepts each) and all keys are already cached.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.request import RequestView
from aauth_core.tokens.mint_11 import mint_agent_token_11
from aauth_core.verifier import Verifier
from aauth_core.wire.coverage import required_components_11

from ._parties import NOW, RESOURCE, Parties
from ._timing import interleaved_medians, raw_ed25519_call

AP = "https://ap.example"
#: The aauth-11 rows: a resource accepting only aauth-11, and a dual-stack one.
PROFILES_11 = {"aauth-11 jwt GET": ("aauth-11",), "aauth-11 jwt GET (dual-stack)": ("aauth-2026-01", "aauth-11")}


def _views_11(p: Parties, n: int) -> list[RequestView]:
    """``n + 1`` distinct -11 GETs signed by ``p.agent`` with an ``aa-agent+jwt`` from an agent
    provider whose ``aauth-agent.json`` and JWKS ``p`` now serves."""
    ap = SigningKey.generate(kid="ap-key-1")
    jwks = jwks_document([ap])
    jwks["keys"][0]["alg"] = "Ed25519"
    p.documents[f"{AP}/.well-known/aauth-agent.json"] = {"issuer": AP, "jwks_uri": f"{AP}/jwks.json"}
    p.documents[f"{AP}/jwks.json"] = jwks
    token = mint_agent_token_11(ap, iss=AP, sub="aauth:bench@ap.example", cnf_jwk=p.agent.public_jwk(), now=NOW)
    sk = SignatureKey.build("jwt", {"jwt": token}, label="sig", fmt="sk")
    out = []
    for i in range(n + 1):
        url = f"{RESOURCE}/data/{i}"
        signed = sign_request("GET", url, {}, None, key=p.agent, signature_key=sk, created=NOW, encoding="base64",
                              components=required_components_11())
        out.append(RequestView.from_url("GET", url, dict(signed.headers), None))
    return out


def run(n: int) -> dict[str, float]:
    p = Parties()
    settings = p.settings()
    verifier = Verifier(settings, discovery=p.discovery(settings), clock=lambda: NOW)
    views_11 = _views_11(p, n)

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
    for name, profiles in PROFILES_11.items():
        s11 = p.settings(profiles=profiles)
        v11 = Verifier(s11, discovery=p.discovery(s11), clock=lambda: NOW)
        warmed = v11.verify(views_11[-1])
        assert warmed is not None and warmed.profile == "aauth-11"
        timed[name] = lambda i, v=v11: v.verify(views_11[i])
    return interleaved_medians(timed, n)  # alternating blocks: noise hits the floor and the cases alike


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    results = run(args.n)
    floor = results["raw Ed25519 verify"]
    print(f"{'case':<30} {'median µs':>10} {'ratio':>7}")
    for name, ns in results.items():
        print(f"{name:<30} {ns / 1000:>10.1f} {ns / floor:>7.2f}")


if __name__ == "__main__":
    main()
