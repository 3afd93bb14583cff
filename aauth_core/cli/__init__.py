"""The ``aauth`` command: keys, decoding, and signing/verifying request envelopes.

One module per command (``keygen``, ``decode``, ``sign``, ``verify``), each adding
its own parser.  ``sign`` and ``verify`` exchange a *signed request envelope*, a
JSON object ``{"method", "url", "headers", "body", "discovery"}``; ``discovery``
maps URLs to metadata/JWKS documents used instead of fetching.

Exit codes: 0 valid / done, 1 refused, 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import AAuthError
from . import decode, dev, keygen, request, sign, verify
from ._common import UsageError

__all__ = ["build_parser", "main"]

COMMANDS = (keygen, decode, sign, verify, dev, request)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aauth", description="AAuth (Agent Auth) tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        sys.stderr.write(f"aauth {args.command}: {exc}\n")
        return 2
    except AAuthError as exc:
        sys.stderr.write(f"aauth {args.command}: {exc.code}: {exc.description}\n")
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
