"""``aauth sign``: sign a request as an agent would and print its envelope (for ``aauth verify``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .. import dialect
from ..errors import AAuthError
from ..headers import SignatureKey
from ..httpsig import sign_request
from ..keys import KeyError_, SigningKey, load_signing_key
from ._common import print_json, usage

__all__ = ["add_parser", "parse_header"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sign", help="sign a request and print its envelope",
                       description="Sign a request and print its envelope, a JSON object "
                                   "{method, url, headers, body, discovery} that `aauth verify` reads.")
    p.add_argument("method", help="the HTTP method, e.g. GET")
    p.add_argument("url", help="the absolute URL the request goes to")
    p.add_argument("--key", required=True, help="private key file (JWK or PEM) or env:NAME")
    p.add_argument("--scheme", choices=("hwk", "jwks", "jwt"), default="hwk",
                   help="how Signature-Key names the key: inline (hwk, default), by agent identifier (jwks), "
                        "or a token bound to it (jwt)")
    p.add_argument("--id", help="agent identifier URL (scheme jwks)")
    p.add_argument("--kid", help="key id (scheme jwks; default: the key file's kid)")
    p.add_argument("--well-known", default=dialect.WELL_KNOWN_AGENT,
                   help="metadata document name (scheme jwks); '' to fetch --id as a JWKS")
    p.add_argument("--jwt", help="agent or auth token (scheme jwt)")
    p.add_argument("--body", help="the request body, as text")
    p.add_argument("--body-file", help="the request body, read from a file")
    p.add_argument("--header", action="append", help="an extra header, 'Name: value' (repeatable)")
    p.add_argument("--label", default="sig1", help="the signature label (default: sig1)")
    p.add_argument("--base", choices=("rfc9421", "demo-2026-01"), default="rfc9421",
                   help="the signature base: RFC 9421 (default) or the January 2026 demo's")
    p.add_argument("--created", type=int, help="the signature's created time (default: now)")
    p.add_argument("--signature-key-format", choices=("transcript", "sf"), default="transcript",
                   help="Signature-Key syntax: the transcript's (default), or RFC 8941 structured fields, "
                        "which also writes the jwks parameters as jwks_uri and dwk")
    p.set_defaults(func=run)


def parse_header(header: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``; anything else is a usage error."""
    name, sep, value = header.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        usage(f"a header must look like 'Name: value', got {header!r}")
    return name.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(args.key)
    except KeyError_ as exc:
        usage(exc.description)
    if args.body is not None and args.body_file is not None:
        usage("give --body or --body-file, not both")
    body: bytes | None = None
    if args.body is not None:
        body = args.body.encode()
    elif args.body_file is not None:
        try:
            body = Path(args.body_file).read_bytes()
        except OSError as exc:
            usage(f"cannot read --body-file {args.body_file!r}: {exc.strerror}")
    headers = dict(parse_header(h) for h in args.header or ())
    if body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    sk = signature_key(args, key)
    created = int(args.created) if args.created is not None else int(time.time())
    signed = sign_request(
        args.method, args.url, headers, body, key=key, signature_key=sk, created=created, base=args.base,
    )
    print_json({
        "method": args.method.upper(),
        "url": args.url,
        "headers": {**headers, **signed.headers},
        "body": body.decode("utf-8", "surrogateescape") if body is not None else None,
        "discovery": {},
    })
    return 0


def signature_key(args: argparse.Namespace, key: SigningKey) -> SignatureKey:
    fmt = args.signature_key_format
    try:
        if args.scheme == "hwk":
            return SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"},
                                      label=args.label, fmt=fmt)
        if args.scheme == "jwks":
            if not args.id:
                usage("--scheme jwks needs --id (the agent's identifier URL)")
            kid = args.kid or key.kid
            if not kid:
                usage("--scheme jwks needs --kid (or a key file with a kid)")
            params = {"id": args.id, "kid": kid}
            if args.well_known != "":
                params["well-known"] = args.well_known
            return SignatureKey.build("jwks", params, label=args.label, fmt=fmt)
        if not args.jwt:
            usage("--scheme jwt needs --jwt TOKEN")
        return SignatureKey.build("jwt", {"jwt": args.jwt}, label=args.label, fmt=fmt)
    except AAuthError as exc:
        usage(exc.description)
