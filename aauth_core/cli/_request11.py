"""``aauth request --profile aauth-11``: the same curl-like agent, speaking aauth-11.

The agent presents an ``aa-agent+jwt`` (``--agent-token``) bound to ``--key``; the library's
-11 client (:func:`aauth_core.client.agent_auth_11`) answers ``person-token`` and
``auth-token`` requirements at the person server the agent token names (``ps``), follows
``202`` answers and shows an ``interaction`` URL to the user.  This module only turns the
command line into that client.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..client import ClientOptions
from ..client.auth import agent_auth_11
from ..errors import AAuthError
from ..keys import KeyError_, load_signing_key
from ..tokens import peek
from ._common import usage

__all__ = ["add_arguments", "auth_11", "check_11"]

_ME = "aauth request"
_JANUARY_ONLY = (("agent_id", "--agent-id"), ("hwk", "--hwk"), ("scope", "--scope"),
                 ("redirect_uri", "--redirect-uri"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", choices=("aauth-2026-01", "aauth-11"), default="aauth-2026-01",
                   help="the wire profile to speak (default: aauth-2026-01)")
    p.add_argument("--agent-token", metavar="TOKEN",
                   help="aauth-11: the agent token (aa-agent+jwt) bound to --key, as text or @FILE")
    p.add_argument("--mission-s256", metavar="S256", help="aauth-11: the mission to name in person-token requests")
    p.add_argument("--upstream-token", metavar="TOKEN",
                   help="aauth-11, call chaining: the person or auth token this call serves, as text or @FILE")


def check_11(args: argparse.Namespace) -> None:
    """Usage errors (exit 2) of an -11 command line, before anything is sent."""
    if args.profile != "aauth-11":
        for name, flag in (("agent_token", "--agent-token"), ("mission_s256", "--mission-s256"),
                           ("upstream_token", "--upstream-token")):
            if getattr(args, name) is not None:
                usage(f"{flag} is an aauth-11 option: add --profile aauth-11")
        return
    for name, flag in _JANUARY_ONLY:
        if getattr(args, name):
            usage(f"{flag} is not used under aauth-11: the agent signs with its agent token (--agent-token)")
    if args.key is None or args.agent_token is None:
        usage("--profile aauth-11 needs --key and --agent-token (the aa-agent+jwt bound to that key)")


def auth_11(args: argparse.Namespace, options: ClientOptions) -> Any:
    """The httpx ``Auth`` of an -11 agent for this command line."""
    try:
        key = load_signing_key(args.key)
    except KeyError_ as exc:
        usage(exc.description)
    token = _text(args.agent_token, "--agent-token")
    try:
        typ = peek(token).typ
    except AAuthError as exc:
        usage(f"--agent-token is not a JWT: {exc.description}")
    if typ != "aa-agent+jwt":
        usage(f"--agent-token must be an aa-agent+jwt, got typ {typ!r}")
    upstream = _text(args.upstream_token, "--upstream-token") if args.upstream_token is not None else None
    return agent_auth_11(token, key, options=options, interaction=_show_url, mission_s256=args.mission_s256,
                         upstream_token=upstream)


def _text(value: str, flag: str) -> str:
    if not value.startswith("@"):
        return value.strip()
    try:
        return Path(value[1:]).read_text().strip()
    except OSError as exc:
        usage(f"cannot read {flag} file {value[1:]!r}: {exc.strerror}")


def _show_url(url: str, /) -> str:
    """-11 interaction: the user approves at ``url`` while the client keeps polling (the
    -11 client does not use the return value)."""
    sys.stderr.write(f"{_ME}: the person server needs you. Open this URL and approve:\n  {url}\n")
    sys.stderr.flush()
    return ""
