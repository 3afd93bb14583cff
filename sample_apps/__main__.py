"""``python -m sample_apps [FLOW] [--quiet|--json ...]`` or ``python -m sample_apps serve ROLE ...``.

Without a FLOW (nothing, or options only) the default flow runs: token-exchange.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import FRAMEWORKS, add_party_arguments
from .flows import FLOWS
from .flows.base import FlowContext, FlowFailed, temp_dir
from .printer import RULE, Printer

DEFAULT_FLOW = "token-exchange"
_TOP_LEVEL_OPTIONS = ("-h", "--help")


def _run_flow(name: str, args: argparse.Namespace) -> int:
    module = FLOWS[name]
    printer = getattr(module, "PRINTER", Printer)(quiet=args.quiet or args.json)  # -11 flows: TokenPrinter
    ctx = FlowContext(name, printer, debug=not (args.quiet or args.json))
    printer.line(RULE)
    printer.line(module.TITLE)
    printer.line(RULE)
    printer.line()
    printer.line("MODE: Automated")
    printer.line(RULE)
    printer.line(module.BANNER)
    printer.line()
    printer.line("Debug output is enabled by default (--quiet or --json to silence it).")
    printer.line(RULE)
    printer.line()
    started = time.monotonic()
    error: str | None = None
    options = {k: v for k, v in vars(args).items() if k in _flow_options(module) and v is not None}
    try:
        with temp_dir() as workdir:
            module.run(ctx, Path(workdir), **options)
    except FlowFailed as exc:
        error = str(exc)
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:  # any failure is the flow's verdict, reported, never a traceback
        error = f"{type(exc).__name__}: {exc}"
    passed = error is None and ctx.passed
    elapsed = round(time.monotonic() - started, 2)
    if args.json:
        parties = [spec.url for spec in ctx.cluster.specs] if ctx.cluster is not None else []
        sys.stdout.write(json.dumps({"flow": name, "passed": passed, "seconds": elapsed, "steps": ctx.results,
                                     "error": error, "parties": parties}, indent=2) + "\n")
    else:
        summary = Printer(quiet=False)
        summary.line()
        summary.line(RULE)
        if not passed and error:
            summary.line(f"✗ {name}: {error}")
        summary.line(f"{name}: {'PASSED' if passed else 'FAILED'} "
                     f"({sum(r['passed'] for r in ctx.results)}/{len(ctx.results)} checks, {elapsed} s)")
        summary.line(RULE)
    return 0 if passed else 1


def _flow_options(module: Any) -> set[str]:
    import inspect

    return {p for p in inspect.signature(module.run).parameters if p not in ("ctx", "workdir")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_apps", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one party as a server on 127.0.0.1")
    add_party_arguments(serve)
    for name, module in FLOWS.items():
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        p.add_argument("--quiet", action="store_true", help="print only the verdict")
        p.add_argument("--json", action="store_true", help="print a JSON verdict")
        for option in sorted(_flow_options(module)):
            p.add_argument(f"--{option.replace('_', '-')}", dest=option, choices=FRAMEWORKS,
                           help=f"framework of {option.upper()}")
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0].startswith("-") and words[0] not in _TOP_LEVEL_OPTIONS):
        words.insert(0, DEFAULT_FLOW)  # `--quiet`, `--json`, `--r1 flask`: the default flow with them
    args = parser.parse_args(words)
    if args.command == "serve":
        from .serve import serve as run_serve

        return run_serve(args)
    handler: Callable[[str, argparse.Namespace], int] = _run_flow
    return handler(args.command, args)


if __name__ == "__main__":
    sys.exit(main())
