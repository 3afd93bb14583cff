"""What every sample party is told on its command line."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from aauth_core.keys import SigningKey, load_signing_key
from aauth_core.settings import SignatureBase

__all__ = ["PartyConfig", "add_party_arguments"]

FRAMEWORKS = ("starlette", "flask", "django")
#: ``--base`` choices: the signature bases a resource accepts (``AAuthSettings.signature_bases``).
BASES: dict[str, tuple[SignatureBase, ...]] = {
    "rfc9421": ("rfc9421",),
    "demo-2026-01": ("demo-2026-01",),
    "both": ("rfc9421", "demo-2026-01"),
}
DEFAULT_KIDS = {"agent": "key-1", "resource": "resource-key-1", "authserver": "auth-key-1", "mcp": "mcp-key-1"}


@dataclass(frozen=True)
class PartyConfig:
    role: str
    port: int
    id: str
    key: SigningKey
    framework: str = "starlette"
    auth_server: str | None = None
    trust: tuple[str, ...] = ()
    downstream: str | None = None
    policy: str = "allow"
    debug: bool = False
    label: str = ""
    signature_bases: tuple[SignatureBase, ...] = ("rfc9421",)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PartyConfig:
        kid = DEFAULT_KIDS[args.role]
        key = load_signing_key(args.key) if args.key else SigningKey.generate(kid=kid)
        if key.kid is None:
            key = SigningKey(key.private, kid)
        ident = (args.id or f"http://127.0.0.1:{args.port}").rstrip("/")
        return cls(role=args.role, port=args.port, id=ident, key=key, framework=args.framework,
                   auth_server=args.auth_server, trust=tuple(args.trust or ()), downstream=args.downstream,
                   policy=args.policy, debug=args.debug,
                   label=(args.label or args.role.upper()).upper(),
                   signature_bases=BASES[getattr(args, "base", None) or "rfc9421"])


def add_party_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("role", choices=("agent", "resource", "authserver", "mcp"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--id", help="identifier (default http://127.0.0.1:PORT)")
    parser.add_argument("--key", type=Path, help="private JWK as written by `aauth keygen` (default: generated)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="starlette", help="resources only")
    parser.add_argument("--auth-server", help="resources: the auth server whose tokens are accepted")
    parser.add_argument("--downstream", help="resources: a resource /aggregate calls on the agent's behalf")
    parser.add_argument("--trust", action="append", help="auth servers: trusted upstream for exchange (repeatable)")
    parser.add_argument("--policy", choices=("allow", "consent"), default="allow",
                        help="auth servers: grant autonomously or ask the user")
    parser.add_argument("--debug", action="store_true", help="print every exchange like the transcript")
    parser.add_argument("--label", help="name shown in --debug output (e.g. 'Resource 1')")
    parser.add_argument("--base", choices=tuple(BASES), default="rfc9421",
                        help="resources: the signature base(s) accepted; demo-2026-01 (the reference demo's, "
                             "which leaves `created` unsigned) is for interop tests only")
