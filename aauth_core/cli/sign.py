"""``aauth sign``: sign a request as an agent would and print its envelope (for ``aauth verify``).

``--profile aauth-2026-01`` (the default) signs as the January 2026 dialect always did;
``--profile aauth-11`` signs as draft -11 with signature-key -09 requires: label ``sig``,
Signature-Key in the SK-09 Dictionary form (``jwt`` for an agent, person or auth token,
``jwks_uri`` for a server as itself), no ``alg`` or ``keyid`` parameter, the components of
-11 §11.3.3.1 and a standard base64 ``Signature`` (:mod:`._sign11`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Literal

from .. import dialect
from ..errors import AAuthError
from ..headers import SignatureKey
from ..httpsig import SignedHeaders, sign_request
from ..keys import KeyError_, SigningKey, load_signing_key
from ..profile import AAUTH_11, DEFAULT, PROFILES
from ._common import print_json, usage
from ._sign11 import sign_11

__all__ = ["add_parser", "parse_header"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sign", help="sign a request and print its envelope",
                       description="Sign a request and print its envelope, a JSON object "
                                   "{method, url, headers, body, discovery} that `aauth verify` reads.")
    p.add_argument("method", help="the HTTP method, e.g. GET")
    p.add_argument("url", help="the absolute URL the request goes to")
    p.add_argument("--key", required=True, help="private key file (JWK or PEM) or env:NAME")
    p.add_argument("--profile", choices=tuple(PROFILES), default=DEFAULT.name,
                   help=f"the wire profile to sign in (default: {DEFAULT.name}; {AAUTH_11.name}: draft -11 "
                        "with signature-key -09)")
    p.add_argument("--scheme", choices=("hwk", "jwks", "jwt", "jwks_uri"),
                   help="how Signature-Key names the key. aauth-2026-01: inline (hwk, default), by agent "
                        "identifier (jwks), or a token bound to it (jwt). aauth-11: a token bound to it (jwt, "
                        "default), or a server as itself (jwks_uri)")
    p.add_argument("--id", help="agent identifier URL (scheme jwks), or server identifier (aauth-11 jwks_uri)")
    p.add_argument("--kid", help="key id (scheme jwks or jwks_uri; default: the key file's kid)")
    p.add_argument("--well-known",
                   help=f"metadata document name (scheme jwks; default {dialect.WELL_KNOWN_AGENT}); "
                        "'' to fetch --id as a JWKS")
    p.add_argument("--dwk", help="aauth-11 jwks_uri: the server's own metadata document, e.g. aauth-person.json")
    p.add_argument("--jwt", help="agent or auth token (scheme jwt); under aauth-11 an aa-agent+jwt, "
                                 "aa-person+jwt or aa-auth+jwt bound to --key")
    p.add_argument("--body", help="the request body, as text")
    p.add_argument("--body-file", help="the request body, read from a file")
    p.add_argument("--header", action="append", help="an extra header, 'Name: value' (repeatable)")
    p.add_argument("--label", help="the signature label (default: the profile's, sig1 or sig)")
    p.add_argument("--base", choices=("rfc9421", "demo-2026-01"),
                   help="the signature base: RFC 9421 (default) or the January 2026 demo's (aauth-2026-01 only)")
    p.add_argument("--created", type=int, help="the signature's created time (default: now)")
    p.add_argument("--signature-key-format", choices=("transcript", "sf"),
                   help="aauth-2026-01 Signature-Key syntax: the transcript's (default), or RFC 8941 structured "
                        "fields, which also writes the jwks parameters as jwks_uri and dwk")
    p.add_argument("--component", action="append",
                   help="aauth-11: one more component to cover, such as a resource's "
                        "additional_signature_components (repeatable)")
    p.set_defaults(func=run)


def parse_header(header: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``; anything else is a usage error."""
    name, sep, value = header.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        usage(f"a header must look like 'Name: value', got {header!r}")
    return name.strip(), value.strip()


def _body(args: argparse.Namespace) -> bytes | None:
    if args.body is not None and args.body_file is not None:
        usage("give --body or --body-file, not both")
    if args.body is not None:
        return bytes(args.body.encode())
    if args.body_file is not None:
        try:
            return Path(args.body_file).read_bytes()
        except OSError as exc:
            usage(f"cannot read --body-file {args.body_file!r}: {exc.strerror}")
    return None


def run(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(args.key)
    except KeyError_ as exc:
        usage(exc.description)
    body = _body(args)
    headers = dict(parse_header(h) for h in args.header or ())
    if body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    created = int(args.created) if args.created is not None else int(time.time())
    if args.profile == AAUTH_11.name:
        signed = sign_11(args, key, headers, body, created)
    else:
        signed = _sign_january(args, key, headers, body, created)
    print_json({
        "method": args.method.upper(),
        "url": args.url,
        "headers": {**headers, **signed.headers},
        "body": body.decode("utf-8", "surrogateescape") if body is not None else None,
        "discovery": {},
    })
    return 0


def _sign_january(args: argparse.Namespace, key: SigningKey, headers: dict[str, str], body: bytes | None,
                  created: int) -> SignedHeaders:
    for option, given in (("--dwk", args.dwk), ("--component", args.component)):
        if given:
            usage(f"{option} is for --profile {AAUTH_11.name}")
    if args.scheme == "jwks_uri":
        usage(f"--scheme jwks_uri is aauth-11's; {DEFAULT.name} names an agent's key with --scheme jwks --id")
    sk = signature_key(args, key)
    return sign_request(args.method, args.url, headers, body, key=key, signature_key=sk, created=created,
                        base=args.base or "rfc9421")


def signature_key(args: argparse.Namespace, key: SigningKey) -> SignatureKey:
    """The January Signature-Key the options describe."""
    fmt: Literal["transcript", "sf"] = args.signature_key_format or "transcript"
    label = args.label or DEFAULT.signature_label
    scheme = args.scheme or "hwk"
    try:
        if scheme == "hwk":
            return SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"},
                                      label=label, fmt=fmt)
        if scheme == "jwks":
            if not args.id:
                usage("--scheme jwks needs --id (the agent's identifier URL)")
            kid = args.kid or key.kid
            if not kid:
                usage("--scheme jwks needs --kid (or a key file with a kid)")
            params = {"id": args.id, "kid": kid}
            well_known = dialect.WELL_KNOWN_AGENT if args.well_known is None else args.well_known
            if well_known != "":
                params["well-known"] = well_known
            return SignatureKey.build("jwks", params, label=label, fmt=fmt)
        if not args.jwt:
            usage("--scheme jwt needs --jwt TOKEN")
        return SignatureKey.build("jwt", {"jwt": args.jwt}, label=label, fmt=fmt)
    except AAuthError as exc:
        usage(exc.description)
