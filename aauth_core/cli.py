"""The ``aauth`` command: keys, decoding, and signing/verifying request envelopes.

``sign`` and ``verify`` exchange a *signed request envelope*, a JSON object
``{"method", "url", "headers", "body", "discovery"}``; ``discovery`` maps URLs to
metadata/JWKS documents used instead of fetching.  ``verify`` is how a user
debugs "why was my request rejected": the verdict names the failing check.

Exit codes: 0 valid / done, 1 refused, 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from . import dialect
from .context import Requirement
from .errors import AAuthError
from .headers import SignatureKey, parse_agent_auth, parse_signature_input, parse_signature_key
from .httpsig import sign_request
from .keys import KeyError_, PublicKey, SigningKey, load_signing_key
from .request import RequestView
from .settings import AAuthSettings

__all__ = ["main"]


class _UsageError(Exception):
    pass


def _usage(message: str) -> NoReturn:
    raise _UsageError(message)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


# ----------------------------------------------------------------------------- keygen


def _keygen(args: argparse.Namespace) -> int:
    key = SigningKey.generate(args.alg, kid=args.kid)
    out = Path(args.out)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(key.private_jwk(), fh, indent=2)
        fh.write("\n")
    sys.stderr.write(f"wrote {args.alg} key kid={args.kid!r} thumbprint={key.thumbprint} to {out}\n")
    return 0


# ----------------------------------------------------------------------------- decode


def _decode(args: argparse.Namespace) -> int:
    value = args.value.strip()
    if value.count(".") == 2 and " " not in value and "=" not in value.rstrip("="):
        from .tokens import peek

        token = peek(value)
        _print_json({"kind": "jwt", "header": dict(token.header), "claims": _plain(token.claims)})
        return 0
    if value.startswith("httpsig"):
        c = parse_agent_auth(value)
        _print_json({"kind": "agent-auth", "level": c.level, "identity": c.identity, "auth_token": c.auth_token,
                     "resource_token": c.resource_token, "auth_server": c.auth_server,
                     "user_interaction": c.user_interaction, "algs": list(c.algs) if c.algs else None,
                     "extra": {k: str(v) for k, v in c.extra.items()}})
        return 0
    try:
        sk = parse_signature_key(value)
    except AAuthError:
        params = parse_signature_input(value)
        _print_json({"kind": "signature-input", "label": params.label, "components": list(params.components),
                     "created": params.created, "expires": params.expires, "nonce": params.nonce,
                     "alg": params.alg, "keyid": params.keyid})
        return 0
    _print_json({"kind": "signature-key", "label": sk.label, "scheme": sk.scheme, "params": dict(sk.params)})
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------- sign


def _sign(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(args.key)
    except KeyError_ as exc:
        _usage(exc.description)
    if args.body is not None and args.body_file is not None:
        _usage("give --body or --body-file, not both")
    body: bytes | None = None
    if args.body is not None:
        body = args.body.encode()
    elif args.body_file is not None:
        body = Path(args.body_file).read_bytes()
    headers: dict[str, str] = {}
    for header in args.header or ():
        name, sep, hvalue = header.partition(":")
        if not sep or not name.strip():
            _usage(f"--header must look like 'Name: value', got {header!r}")
        headers[name.strip()] = hvalue.strip()
    if body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    sk = _signature_key(args, key)
    created = int(args.created) if args.created is not None else int(time.time())
    signed = sign_request(
        args.method, args.url, headers, body, key=key, signature_key=sk, created=created, base=args.base,
    )
    envelope = {
        "method": args.method.upper(),
        "url": args.url,
        "headers": {**headers, **signed.headers},
        "body": body.decode("utf-8", "surrogateescape") if body is not None else None,
        "discovery": {},
    }
    _print_json(envelope)
    return 0


def _signature_key(args: argparse.Namespace, key: SigningKey) -> SignatureKey:
    fmt = args.signature_key_format
    try:
        if args.scheme == "hwk":
            return SignatureKey.build("hwk", {k: v for k, v in key.public_jwk().items() if k != "kid"},
                                      label=args.label, fmt=fmt)
        if args.scheme == "jwks":
            if not args.id:
                _usage("--scheme jwks needs --id (the agent's identifier URL)")
            kid = args.kid or key.kid
            if not kid:
                _usage("--scheme jwks needs --kid (or a key file with a kid)")
            params = {"id": args.id, "kid": kid}
            if args.well_known != "":
                params["well-known"] = args.well_known
            return SignatureKey.build("jwks", params, label=args.label, fmt=fmt)
        if not args.jwt:
            _usage("--scheme jwt needs --jwt TOKEN")
        return SignatureKey.build("jwt", {"jwt": args.jwt}, label=args.label, fmt=fmt)
    except AAuthError as exc:
        _usage(exc.description)


# ----------------------------------------------------------------------------- verify


def _load_envelope(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        _usage(f"cannot read envelope: {exc.strerror}")
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        _usage(f"envelope is not valid JSON: {exc.msg} (line {exc.lineno})")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("method"), str) \
            or not isinstance(envelope.get("url"), str) or not isinstance(envelope.get("headers"), dict):
        _usage("envelope must be an object with string 'method', 'url' and object 'headers'")
    return envelope


def _verify(args: argparse.Namespace) -> int:
    from .discovery import Discovery
    from .verifier import Verifier

    envelope = _load_envelope(args.envelope)
    url = envelope["url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _usage("envelope 'url' must be an absolute http(s) URL")
    resource = args.resource or f"{parts.scheme}://{parts.netloc}"
    body = envelope.get("body")
    now = float(args.now) if args.now is not None else time.time()
    try:
        settings = AAuthSettings(
            resource_id=resource,
            trusted_issuers=tuple(args.trust_issuer or ()),
            signature_bases=(args.base,),
            allow_insecure_loopback=args.allow_loopback,
            replay_protection=False,
            algorithms=("ed25519", "ecdsa-p256-sha256"),
        )
    except AAuthError as exc:
        _usage(exc.description)
    documents = envelope.get("discovery") or {}
    if not isinstance(documents, dict):
        _usage("envelope 'discovery' must be an object mapping URLs to documents")
    discovery = Discovery(settings, clock=lambda: now, documents=documents)
    verifier = Verifier(settings, discovery=discovery, clock=lambda: now)
    view = RequestView.from_url(
        envelope["method"], url, [(str(k), str(v)) for k, v in envelope["headers"].items()],
        body.encode("utf-8", "surrogateescape") if isinstance(body, str) else None,
    )
    try:
        if args.key:
            try:
                jwk = json.loads(Path(args.key).read_text())
                public = PublicKey.from_jwk(jwk)
            except (OSError, json.JSONDecodeError, KeyError_) as exc:
                _usage(f"cannot load --key: {getattr(exc, 'description', exc)}")
            verified = verifier.verify_with_key(view, public)
        else:
            verified = verifier.authorize(view, Requirement(args.level))
    except AAuthError as exc:
        _print_json({"valid": False, "error": exc.code, "error_description": exc.description})
        return 1
    finally:
        discovery.close()
    result = {"valid": True, **verified.to_dict()}
    _print_json({k: result[k] for k in ("valid", "scheme", "agent", "agent_delegate", "sub", "scope", "act",
                                        "key_thumbprint")})
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aauth", description="AAuth (Agent Auth) tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("keygen", help="generate a private JWK")
    p.add_argument("--kid", default=None)
    p.add_argument("--alg", choices=("ed25519", "p256"), default="ed25519")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_keygen)

    p = sub.add_parser("decode", help="pretty-print a JWT, Signature-Key, Signature-Input or Agent-Auth value")
    p.add_argument("value")
    p.set_defaults(func=_decode)

    p = sub.add_parser("sign", help="sign a request and print its envelope")
    p.add_argument("method")
    p.add_argument("url")
    p.add_argument("--key", required=True, help="private key file (JWK or PEM) or env:NAME")
    p.add_argument("--scheme", choices=("hwk", "jwks", "jwt"), default="hwk")
    p.add_argument("--id", help="agent identifier URL (scheme jwks)")
    p.add_argument("--kid", help="key id (scheme jwks; default: the key file's kid)")
    p.add_argument("--well-known", default=dialect.WELL_KNOWN_AGENT,
                   help="metadata document name (scheme jwks); '' to fetch --id as a JWKS")
    p.add_argument("--jwt", help="agent or auth token (scheme jwt)")
    p.add_argument("--body")
    p.add_argument("--body-file")
    p.add_argument("--header", action="append", help="'Name: value' (repeatable)")
    p.add_argument("--label", default="sig1")
    p.add_argument("--base", choices=("rfc9421", "demo-2026-01"), default="rfc9421")
    p.add_argument("--created", type=int)
    p.add_argument("--signature-key-format", choices=("transcript", "sf"), default="transcript")
    p.set_defaults(func=_sign)

    p = sub.add_parser("verify", help="verify a signed request envelope and print a JSON verdict")
    p.add_argument("envelope", help="envelope file, or - for standard input")
    p.add_argument("--now", type=int, help="verify as of this unix time")
    p.add_argument("--base", choices=("rfc9421", "demo-2026-01"), default="rfc9421")
    p.add_argument("--trust-issuer", action="append", help="trusted auth server (repeatable)")
    p.add_argument("--key", help="public JWK file: check only the HTTP signature against it")
    p.add_argument("--level", choices=("signature", "identity", "authorization"), default="signature")
    p.add_argument("--resource", help="the verifying resource's identifier (default: the URL's origin)")
    p.add_argument("--allow-loopback", action="store_true",
                   help="development only: allow fetching http://127.0.0.1-style identifiers")
    p.set_defaults(func=_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except _UsageError as exc:
        sys.stderr.write(f"aauth {args.command}: {exc}\n")
        return 2
    except AAuthError as exc:
        sys.stderr.write(f"aauth {args.command}: {exc.code}: {exc.description}\n")
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
