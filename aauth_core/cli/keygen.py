"""``aauth keygen``: a private JWK file, readable by its owner only."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..keys import SigningKey
from ._common import usage

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("keygen", help="generate a private key as a JWK file",
                       description="Generate a private key (a JWK, mode 0600). Every key needs a kid: "
                                   "agents and resources name their keys by it.")
    p.add_argument("--kid", required=True, help="the key id published in the JWKS (e.g. agent-1)")
    p.add_argument("--alg", choices=("ed25519", "p256"), default="ed25519", help="key type (default: ed25519)")
    p.add_argument("--out", required=True, help="the file to write (refused if it exists, unless --force)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.kid.strip():
        usage("--kid must not be empty")
    key = SigningKey.generate(args.alg, kid=args.kid)
    out = Path(args.out)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if args.force else os.O_EXCL)
    try:
        fd = os.open(out, flags, 0o600)
    except FileExistsError:
        usage(f"{out} exists; pass --force to overwrite it")
    except OSError as exc:
        usage(f"cannot write {out}: {exc.strerror}")
    with os.fdopen(fd, "w") as fh:
        json.dump(key.private_jwk(), fh, indent=2)
        fh.write("\n")
    sys.stderr.write(f"wrote {args.alg} key kid={args.kid!r} thumbprint={key.thumbprint} to {out}\n")
    return 0
