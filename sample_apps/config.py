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
DEFAULT_KIDS = {"agent": "key-1", "resource": "resource-key-1", "authserver": "auth-key-1", "mcp": "mcp-key-1",
                "agentprovider": "ap-key-1", "personserver": "ps-key-1", "accessserver": "as-key-1"}
#: The roles of the aauth-11 demos (three-party, four-party, call-chaining).
ROLES_11 = ("agentprovider", "personserver", "accessserver")
PROFILES = ("aauth-2026-01", "aauth-11")


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
    #: aauth-11 (the demos three-party, four-party, call-chaining): the resource's wire profile,
    #: its person server and access server; a person server's registered agents (agent → user);
    #: the resources an access server governs.
    profile: str = "aauth-2026-01"
    person_server: str | None = None
    access_server: str | None = None
    agents: tuple[tuple[str, str], ...] = ()
    governs: tuple[str, ...] = ()

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
                   signature_bases=BASES[getattr(args, "base", None) or "rfc9421"],
                   profile=getattr(args, "profile", None) or "aauth-2026-01",
                   person_server=getattr(args, "person_server", None),
                   access_server=getattr(args, "access_server", None),
                   agents=tuple(_registration(r) for r in getattr(args, "register", None) or ()),
                   governs=tuple(getattr(args, "governs", None) or ()))


def _registration(text: str) -> tuple[str, str]:
    """``--register AGENT=USER``: an agent registered to the user it acts for."""
    agent, sep, user = text.rpartition("=")
    if not sep or not agent or not user:
        raise SystemExit(f"--register takes AGENT=USER, got {text!r}")
    return agent, user


def add_party_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("role", choices=("agent", "resource", "authserver", "mcp", *ROLES_11))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--id", help="identifier (default http://127.0.0.1:PORT)")
    parser.add_argument("--key", type=Path, help="private JWK as written by `aauth keygen` (default: generated)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="starlette", help="resources only")
    parser.add_argument("--auth-server", help="resources: the auth server whose tokens are accepted")
    parser.add_argument("--downstream", help="resources: a resource /aggregate calls on the agent's behalf")
    parser.add_argument("--trust", action="append", help="auth servers: trusted upstream for exchange (repeatable)")
    parser.add_argument("--policy", choices=("allow", "consent"), default="allow",
                        help="auth and person servers: grant autonomously or ask the user")
    parser.add_argument("--debug", action="store_true", help="print every exchange like the transcript")
    parser.add_argument("--label", help="name shown in --debug output (e.g. 'Resource 1')")
    parser.add_argument("--base", choices=tuple(BASES), default="rfc9421",
                        help="resources: the signature base(s) accepted; demo-2026-01 (the reference demo's, "
                             "which leaves `created` unsigned) is for interop tests only")
    parser.add_argument("--profile", choices=PROFILES, default="aauth-2026-01",
                        help="resources: the wire profile spoken (aauth-11: the current draft)")
    parser.add_argument("--person-server", help="aauth-11 resources: the person server whose tokens are accepted")
    parser.add_argument("--access-server", help="aauth-11 resources: their own access server (four-party)")
    parser.add_argument("--register", action="append", metavar="AGENT=USER",
                        help="person servers: an agent registered to its user (repeatable)")
    parser.add_argument("--governs", action="append", metavar="RESOURCE",
                        help="access servers: a resource they decide for (repeatable)")
