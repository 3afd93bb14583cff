"""Timing and memory helpers shared by the benchmarks: medians of per-call samples,
the floor (one raw Ed25519 verification) and the process's resident memory."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["interleaved_medians", "machine", "median_ns", "raw_ed25519_call", "raw_ed25519_ns", "rss_bytes"]


def median_ns(fn: Callable[[int], object], n: int) -> float:
    """Median of ``n`` timed calls ``fn(0) .. fn(n-1)``, in nanoseconds."""
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples)


def interleaved_medians(cases: dict[str, Callable[[int], object]], n: int, rounds: int = 5) -> dict[str, float]:
    """Per-case medians over ``n`` calls each, run in ``rounds`` alternating blocks.

    Alternating the cases spreads a noisy neighbour over all of them alike, so the
    differences between medians (an adapter's own cost) stay meaningful.  Each
    call index is used exactly once per case (the requests are distinct).
    """
    samples: dict[str, list[int]] = {name: [] for name in cases}
    block = max(1, n // rounds)
    for start in range(0, n, block):
        for name, fn in cases.items():
            gc.collect()
            out = samples[name]
            for i in range(start, min(n, start + block)):
                t0 = time.perf_counter_ns()
                fn(i)
                out.append(time.perf_counter_ns() - t0)
    return {name: statistics.median(s) for name, s in samples.items()}


RAW_PAIRS = 4096


def raw_ed25519_call() -> Callable[[int], object]:
    """One raw ``Ed25519PublicKey.verify`` of a 200-byte message (the floor), as a case.

    Call ``i`` verifies the ``i``-th of 4,096 distinct (message, signature) pairs, as
    every benchmarked request carries a signature of its own: verifying one signature
    over and over lets the branch predictor learn the data-dependent steps of Ed25519
    verification, which then runs about 1 µs faster than it does on real traffic.
    """
    key = Ed25519PrivateKey.generate()
    messages = [i.to_bytes(4, "big") * 50 for i in range(RAW_PAIRS)]
    pairs = [(key.sign(m), m) for m in messages]
    public = key.public_key()
    return lambda i: public.verify(*pairs[i % RAW_PAIRS])


def raw_ed25519_ns(n: int) -> float:
    """Median of ``n`` raw Ed25519 verifications, timed on their own."""
    return median_ns(raw_ed25519_call(), n)


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def machine() -> dict[str, str]:
    """What the numbers ran on: CPU model and count, kernel, Python, key libraries."""
    cpu = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        cpu = f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPU(s)"
    except (OSError, subprocess.SubprocessError):
        cpu = platform.processor() or "?"
    from importlib.metadata import version

    libs: Iterable[str] = ("cryptography", "starlette", "flask", "django", "uvicorn", "http-message-signatures")
    return {
        "cpu": cpu,
        "kernel": platform.platform(),
        "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
        "libraries": ", ".join(f"{name} {version(name)}" for name in libs),
    }
