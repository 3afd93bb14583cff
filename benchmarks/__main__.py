"""Every benchmark in one run, as one Markdown report.

    python -m benchmarks [--quick] [--out benchmarks/results.md] [--skip-load]

Writes the report to ``--out`` and prints it.  Sections: the verify floor
(``benchmarks.verify``), the adapters (``benchmarks.middleware``, issue 4), the
peers (``benchmarks.compare``: ``aauth`` 0.1.0 in its own venv, built by
``benchmarks/peers/setup.sh``; ``http-message-signatures``), memory
(``benchmarks.memory``, in a fresh process), client signing
(``benchmarks.client``) and loopback throughput plus token-endpoint calls
(``benchmarks.throughput``).  A full run takes a few minutes on 2 cores;
``--quick`` (small samples, for a smoke test) well under one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import client, compare, middleware, throughput, verify
from ._timing import machine

FULL = {"n": 3000, "mw": 2000, "peers": 2000, "replay": 200_000, "issuers": 10_000, "load": 5000, "client": 1000}
QUICK = {"n": 300, "mw": 300, "peers": 200, "replay": 10_000, "issuers": 1000, "load": 500, "client": 50}


def _us(ns: float) -> str:
    return f"{ns / 1e3:.1f}"


def _verify_section(n: int) -> tuple[str, list[tuple[str, bool]]]:
    r = verify.run(n)
    floor = r["raw Ed25519 verify"]
    lines = ["| case | median µs | ratio to raw Ed25519 (≤ 1.15, both profiles) |", "|---|---:|---:|"]
    targets = []
    for name, ns in r.items():
        ratio, limit = ns / floor, verify.target(name)
        mark = "" if name.startswith("raw") else (" ✅" if ratio <= limit else " ❌")
        if limit != verify.TARGET:
            mark += f" (≤ {limit})"
        if not name.startswith("raw"):
            targets.append((f"floor: {name} ≤ {limit} x raw", ratio <= limit))
        lines.append(f"| {name} | {_us(ns)} | {ratio:.2f}{mark} |")
    return "\n".join(lines), targets


def _memory_section(requests: int, issuers: int) -> tuple[str, list[tuple[str, bool]]]:
    r: dict[str, Any] = {}
    for part in ("replay", "keys"):  # one fresh process each
        out = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--requests", str(requests),
                              "--issuers", str(issuers), "--part", part, "--json"], capture_output=True, text=True,
                             check=True, cwd=Path(__file__).resolve().parent.parent, timeout=900)
        r.update(json.loads(out.stdout))
    rp, k = r["replay"], r["keys"]
    mib = 1024 * 1024
    samples = ", ".join(f"{n // 1000}k→{rss / mib:.0f}" for n, _, rss in rp["samples"])
    at_capacity = [s for s in rp["samples"] if s[1] >= rp["capacity"]]
    plateau = rp["samples"][-1][2] - at_capacity[0][2] if at_capacity else None
    bounded = rp["entries"] <= rp["capacity"] + 100
    lines = [
        "| measure | value |", "|---|---|",
        f"| distinct signed requests verified | {rp['requests']:,} (all inside one `created` window: none expire) |",
        f"| replay cache entries at the end (capacity, the default) | {rp['entries']:,} ({rp['capacity']:,}) "
        f"{'✅ bounded' if bounded else '❌'} |",
        f"| RSS before → after | {rp['base_rss'] / mib:.1f} MiB → {rp['final_rss'] / mib:.1f} MiB |",
        f"| RSS (MiB) as requests went by | {samples} |",
        f"| bytes per cached replay entry (RSS growth ÷ entries, to capacity) | {rp['bytes_per_entry']:.0f} |",
        f"| key cache: distinct issuers discovered | {k['issuers']:,} (documents cached: {k['documents_cached']:,}) |",
        f"| key cache: RSS growth per issuer | {k['bytes_per_issuer']:.0f} bytes "
        f"({(k['final_rss'] - k['base_rss']) / mib:.1f} MiB in all) |",
    ]
    if plateau is not None:
        lines.append(f"| RSS growth after the cache was full (to {rp['requests']:,} requests) "
                     f"| {plateau / mib:.1f} MiB |")
    return "\n".join(lines), [("memory: replay cache bounded", bounded)]


def _client_section(n: int, load: dict[str, Any] | None) -> tuple[str, list[tuple[str, bool]]]:
    r = client.run(n)
    floor = r["raw Ed25519 sign"]
    lines = ["| case | median µs | ratio to raw Ed25519 sign |", "|---|---:|---:|"]
    lines += [f"| {name} | {_us(ns)} | {ns / floor:.2f} |" for name, ns in r.items()]
    targets = []
    if load is not None and "client" in load:
        c = load["client"]
        per_k = c["token_calls"] * 1000 / c["requests"]
        ok = c["token_calls"] == 1 and c["ok"] == c["requests"]
        targets.append(("client: one token-endpoint call per 1,000 requests", ok))
        lines += ["", f"Token cache: {c['requests']:,} requests through `agent_auth` (httpx, scheme=jwks, "
                      f"challenge → token → jwt) to the Starlette sample on loopback: {c['ok']:,} answered 200, "
                      f"**{c['token_calls']} token-endpoint call(s)** ({per_k:.1f} per 1,000; target 1) "
                      f"{'✅' if ok else '❌'}."]
    return "\n".join(lines), targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.md"))
    parser.add_argument("--skip-load", action="store_true", help="no loopback servers (throughput, token calls)")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    started = time.time()
    command = "python -m benchmarks" + (" --quick" if args.quick else "") + (" --skip-load" if args.skip_load else "")
    targets: list[tuple[str, bool]] = []
    parts = [f"# Benchmark results\n\nCommand: `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n"]
    m = machine()
    parts.append("Machine: " + "; ".join(f"{k}: {v}" for k, v in m.items()) + "\n")

    def section(title: str, body: str) -> None:
        parts.append(f"## {title}\n\n{body}\n")
        print(f"[{time.time() - started:5.0f}s] {title} done", file=sys.stderr)

    text, t = _verify_section(size["n"])
    targets += t
    section("Floor: warm verify paths vs one raw Ed25519 verify", text)

    mw = middleware.run(size["mw"])
    targets += [(f"adapter ({name}) ≤ 0.2 x raw (strict)", r["ratio"] <= 0.2) for name, r in mw.items()]
    section("Adapters (issue 4): in-process, per request", middleware.table(mw) + "\n\n"
            "*open*: the route in the bare framework; *protected*: behind the adapter (jwt, warm); *core verify*: "
            "`service.verify()` of the same kind of request, in a tight loop / each call preceded by one open-route "
            "request (the CPU-cache state it meets inside an app); *adapter* = protected - open - core verify; "
            "*adapter code alone*: protected - open with `verify()` answering a precomputed result; *the formula "
            "for an adapter with no code*: the same formula applied to `verify()` of a prebuilt view followed by the "
            "bare route, i.e. what the formula charges any adapter for running `verify()` and the framework in one "
            "request (CPU-cache interference between the two).")

    text, t = compare.table(compare.run(size["peers"]))
    targets += t
    section("Peers: aauth 0.1.0 and http-message-signatures 3.x, identical work", text)

    text, t = _memory_section(size["replay"], size["issuers"])
    targets += t
    section("Memory", text)

    load = None
    if not args.skip_load:
        load = throughput.run(size["load"], 50, size["client"])
        errors_ok = all(r["errors"] == 0 for r in load["load"].values())
        targets.append(("throughput: 0 errors", errors_ok))
        section("Throughput on loopback", throughput.table(load))
    text, t = _client_section(size["n"], load)
    targets += t
    section("Client side", text)

    parts.append("## Targets\n\n" + "\n".join(f"- {'✅' if ok else '❌'} {name}" for name, ok in targets) + "\n")
    parts.append(f"Total run time: {time.time() - started:.0f} s.\n")
    report = "\n".join(parts)
    Path(args.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
