"""``aauth dev``: a local auth server and agent identity for developing a resource.

The stack itself lives in :mod:`aauth_starlette.dev` (it serves Starlette apps); it is
imported only when the command runs, so the rest of the CLI needs no framework."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import usage

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("dev", help="run a local auth server and agent identity on 127.0.0.1",
                       description="Run an auth server and an agent identity on 127.0.0.1 for developing a "
                                   "resource, and print the settings to paste and the `aauth request` line "
                                   "that calls it. Development only.")
    p.add_argument("--dir", default=".aauth-dev", help="where the keys are kept (default: .aauth-dev)")
    p.add_argument("--resource-port", type=int, default=8000, help="the port your app will serve on (default 8000)")
    p.add_argument("--auth-port", type=int, default=8001, help="the auth server's port (default 8001)")
    p.add_argument("--agent-port", type=int, default=8002, help="the agent identity's port (default 8002)")
    p.add_argument("--consent", action="store_true",
                   help="ask a user (dev/dev) on a consent page instead of granting every request")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from aauth_starlette.dev import DevStack, run_dev
    except ImportError as exc:
        usage(f"aauth dev needs the starlette extra: pip install 'aauth-kit[starlette]' ({exc.name} is missing)")
    ports = (args.resource_port, args.auth_port, args.agent_port)
    if len(set(ports)) != 3 or not all(0 < p < 65536 for p in ports):
        usage("--resource-port, --auth-port and --agent-port must be three different ports from 1 to 65535")
    stack = DevStack(Path(args.dir), resource_port=args.resource_port, auth_port=args.auth_port,
                     agent_port=args.agent_port, consent=args.consent)
    return run_dev(stack)
