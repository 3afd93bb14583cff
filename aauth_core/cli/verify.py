"""``aauth verify``: verify a signed request envelope and print a JSON verdict naming the failing check.

Like a dual-stack resource, it accepts both wire profiles and verifies each envelope under
the one it speaks (``--profile`` forces one); the verdict names the profile, and a refusal
under ``aauth-11`` names the ``Signature-Error`` code a resource would send beside ours
(:mod:`._verify11`).  A January refusal prints what it always printed.

With ``--explain``, the JSON verdict is followed on standard output by a blank line and
a human-readable explanation (:mod:`aauth_core.resource.explain`): the signature base exactly as
built, each covered component, and, when the signature does not verify, the
alternatives that would have (the other base, another authority, a rewritten path, a
base64 alphabet mix-up).  Under ``aauth-11`` the ``Signature-Error`` comes first.
Scripts that parse the JSON leave ``--explain`` off."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..context import Requirement, VerifiedRequest
from ..errors import AAuthError, SignatureError
from ..headers import parse_signature_key
from ..httpsig import Base
from ..keys import KeyError_, PublicKey
from ..profile import AAUTH_11, DEFAULT, PROFILES
from ..request import RequestView
from ..resource.explain import Explanation, explain_request
from ..settings import AAuthSettings
from ._common import load_envelope, print_json, usage
from ._verify11 import is_11_request, key_for_explain_11, print_signature_error, refusal_11, verdict_11

__all__ = ["add_parser"]

_JANUARY_FIELDS = ("scheme", "agent", "agent_delegate", "sub", "scope", "act", "key_thumbprint")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="verify a signed request envelope and print a JSON verdict",
                       description="Verify a request envelope (from `aauth sign`, or written by hand) as a "
                                   "resource would, and print a JSON verdict naming the failing check.")
    p.add_argument("envelope", help="envelope file, or - for standard input")
    p.add_argument("--now", type=int, help="verify as of this unix time (default: now)")
    p.add_argument("--profile", choices=tuple(PROFILES),
                   help="verify under this wire profile only (default: both, each envelope under the one it "
                        "speaks, as a dual-stack resource does)")
    p.add_argument("--base", choices=("rfc9421", "demo-2026-01"), default="rfc9421",
                   help="the signature base to accept (default: rfc9421; aauth-11 always uses rfc9421)")
    p.add_argument("--trust-issuer", action="append", help="trusted auth server (repeatable)")
    p.add_argument("--key", help="public JWK file: check only the HTTP signature against it")
    p.add_argument("--level", choices=("signature", "identity", "person", "authorization"), default="signature",
                   help="what the request must prove (default: signature)")
    p.add_argument("--resource", help="the verifying resource's identifier (default: the URL's origin)")
    p.add_argument("--allow-loopback", action="store_true",
                   help="development only: allow fetching http://127.0.0.1-style identifiers")
    p.add_argument("--explain", action="store_true",
                   help="after the verdict, print the signature base, the covered components and, for a "
                        "signature that does not verify, what would have verified")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace, resource: str) -> AAuthSettings:
    profiles = (args.profile,) if args.profile else (DEFAULT.name, AAUTH_11.name)
    if profiles == (AAUTH_11.name,) and args.base != "rfc9421":
        usage(f"--profile {AAUTH_11.name} verifies the RFC 9421 base only")
    try:
        return AAuthSettings(
            resource_id=resource,
            trusted_issuers=tuple(args.trust_issuer or ()),
            signature_bases=(args.base,),
            allow_insecure_loopback=args.allow_loopback,
            replay_protection=False,
            algorithms=("ed25519", "ecdsa-p256-sha256"),
            debug=args.explain,  # the verifier then keeps, on a refusal, the key it checked with
            profiles=profiles,
        )
    except AAuthError as exc:
        usage(exc.description)


def _public_key(path: str | None) -> PublicKey | None:
    if not path:
        return None
    try:
        return PublicKey.from_jwk(json.loads(Path(path).read_text()))
    except (OSError, json.JSONDecodeError, KeyError_) as exc:
        usage(f"cannot load --key {path!r}: {getattr(exc, 'description', exc)}")


def run(args: argparse.Namespace) -> int:
    from ..discovery import Discovery
    from ..verifier import Verifier

    envelope = load_envelope(args.envelope)
    url = envelope["url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        usage("envelope 'url' must be an absolute http(s) URL")
    settings = _settings(args, args.resource or f"{parts.scheme}://{parts.netloc}")
    body = envelope.get("body")
    now = float(args.now) if args.now is not None else time.time()
    public = _public_key(args.key)
    documents = envelope.get("discovery") or {}
    if not isinstance(documents, dict):
        usage("envelope 'discovery' must be an object mapping URLs to documents")
    discovery = Discovery(settings, clock=lambda: now, documents=documents)
    verifier = Verifier(settings, discovery=discovery, clock=lambda: now)
    view = RequestView.from_url(
        envelope["method"], url, [(str(k), str(v)) for k, v in envelope["headers"].items()],
        body.encode("utf-8", "surrogateescape") if isinstance(body, str) else None,
    )
    is_11 = is_11_request(view, settings.profiles)
    try:
        if public is None:
            verified = verifier.authorize(view, Requirement(args.level))
        elif is_11:
            from ..resource.fixed_key11 import verify_with_key_11

            verified = verify_with_key_11(view, public, now=now, max_age=settings.created_max_age,
                                          max_future=settings.created_max_future,
                                          algorithms=frozenset(settings.algorithms),
                                          authority=settings.canonical_authority)
        else:
            verified = verifier.verify_with_key(view, public)
    except AAuthError as exc:
        _refused(args, view, settings, public, exc)
        return 1
    finally:
        discovery.close()
    _accepted(args, view, settings, verified)
    return 0


def _accepted(args: argparse.Namespace, view: RequestView, settings: AAuthSettings,
              verified: VerifiedRequest) -> None:
    if verified.profile == AAUTH_11.name:
        print_json(verdict_11(verified))
        if args.explain:
            print_signature_error(None)
            _explain(view, settings, "rfc9421", verified.key, None)
        return
    result = {"valid": True, "profile": verified.profile, **verified.to_dict()}
    print_json({k: result[k] for k in ("valid", "profile", *_JANUARY_FIELDS)})
    if args.explain:
        _explain(view, settings, args.base, verified.key, None)


def _refused(args: argparse.Namespace, view: RequestView, settings: AAuthSettings, public: PublicKey | None,
             exc: AAuthError) -> None:
    if exc.profile == AAUTH_11.name:
        print_json(refusal_11(exc))
        if args.explain:
            print_signature_error(exc)
            _explain(view, settings, "rfc9421", key_for_explain_11(view, public), exc)
        return
    print_json({"valid": False, "error": exc.code, "error_description": exc.description})
    if args.explain:
        _explain(view, settings, args.base, _key_for_explain(exc, public, view), exc)


def _key_for_explain(exc: AAuthError, public: PublicKey | None, view: RequestView) -> PublicKey | None:
    """The key to explain a refusal with: the one the verifier checked the signature
    with, else ``--key``, else an inline ``hwk`` key; ``None`` when the request was
    refused before any key was found (the explanation then shows the base only)."""
    explanation: Explanation | None = exc.explanation if isinstance(exc, SignatureError) else None
    if explanation is not None and explanation.key is not None:
        return explanation.key
    if public is not None:
        return public
    try:
        sigkey = parse_signature_key(view.headers.get("signature-key") or "")
        return sigkey.hwk_key() if sigkey.scheme == "hwk" else None
    except AAuthError:
        return None


def _explain(view: RequestView, settings: AAuthSettings, base: Base, key: PublicKey | None,
             refusal: AAuthError | None) -> None:
    """Print the explanation after the verdict (``--explain``)."""
    configured = settings.canonical_authority
    verified_view = view._replace(authority=configured) if configured else view
    try:
        explanation = explain_request(verified_view, key, bases=(base,), configured_authority=configured,
                                      received_authority=view.authority, refusal=refusal)
    except AAuthError as exc:
        sys.stdout.write(f"\nexplain: nothing to explain: {exc.code}: {exc.description}\n")
        return
    sys.stdout.write("\n" + explanation.to_text())
