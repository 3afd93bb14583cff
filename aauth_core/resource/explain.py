"""Why a signature did (not) verify: the base we built, and what would have verified.

Diagnosis only, never part of a decision.  The verifier asks for an explanation in
its explicit debug mode, *after* it refused a signature, and ``aauth verify
--explain`` asks for one on demand; nothing here runs on the path that accepts or
refuses a request, and nothing here can make a refused request pass.

An :class:`Explanation` holds the signature base exactly as it was built, each
covered component with its value (and, for ``@authority``, where the value came
from) and, for a signature that does not verify, the few alternatives that would
have: the other base (``demo-2026-01`` / ``rfc9421``), another authority (the
``Host`` or ``X-Forwarded-Host`` header, the request's own, the configured one), a
handful of path rewrites a proxy or a signer commonly makes, and a signature whose
base64 text swaps the characters for 62 and 63.  Each alternative costs one
signature verification; at most :data:`MAX_ATTEMPTS` are made.  A change that makes
the signature verify is proof of what the signer signed, so it is reported plainly
with the component that differs; when none does, the explanation says so and
guesses nothing.

Explanations contain signature bases and header values (tokens among them): they
are for a developer's terminal or an explicit debug log, never a response.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args
from urllib.parse import quote, unquote

from .. import dialect
from ..errors import AAuthError
from ..headers import SignatureParams, parse_signature, parse_signature_input
from ..httpsig import Base, component_value, signature_base
from ..keys import PublicKey
from ..request import RequestView, canonical_authority

__all__ = ["ComponentValue", "Explanation", "Finding", "MAX_ATTEMPTS", "explain_request", "explain_signature"]

#: Every signature base this library can build.
BASES: tuple[Base, ...] = get_args(Base)
#: The most signature verifications one explanation makes (alternatives times bases).
MAX_ATTEMPTS = 24


@dataclass(frozen=True, slots=True)
class ComponentValue:
    """One covered component: its value under the explained base, or why it has none.
    ``source`` says where a value came from when that is a choice (``@authority``)."""

    name: str
    value: str | None
    problem: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """An alternative that verifies: proof of what the signer signed.

    ``component`` is the covered component whose value differs (``None`` when only the
    base or the signature's encoding differs); ``ours`` is the value we used and
    ``theirs`` the one that verifies; ``base`` is the base it verifies under."""

    summary: str
    hint: str
    base: Base
    component: str | None = None
    ours: str | None = None
    theirs: str | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """What was checked, and why it did not verify (see the module docstring).

    ``verified`` is ``True`` when the signature verifies under one of ``bases`` (the
    base is then ``verified_base``), ``False`` when it verifies under none, ``None``
    when it was not checked (no key).  ``refusal`` is the error code the request was
    refused with, if it was.  ``base_texts`` holds, per base in ``bases``, the exact
    text built (or ``None``) and what stopped it being built."""

    bases: tuple[Base, ...]
    base_texts: tuple[tuple[Base, str | None, str | None], ...]
    components: tuple[ComponentValue, ...]
    params: SignatureParams
    key: PublicKey | None
    verified: bool | None
    verified_base: Base | None = None
    refusal: str | None = None
    refusal_description: str | None = None
    findings: tuple[Finding, ...] = ()
    tried: tuple[str, ...] = ()

    @property
    def differing_component(self) -> str | None:
        """The first covered component an alternative proves differs, if any."""
        return next((f.component for f in self.findings if f.component is not None), None)

    def to_text(self) -> str:
        """The human-readable explanation (what ``aauth verify --explain`` prints)."""
        return "\n".join(_render(self)) + "\n"


# ----------------------------------------------------------------------------- entry points


def explain_request(
    view: RequestView,
    key: PublicKey | None,
    *,
    bases: Sequence[Base] = ("rfc9421",),
    configured_authority: str | None = None,
    received_authority: str | None = None,
    refusal: AAuthError | None = None,
) -> Explanation:
    """:func:`explain_signature` for a request whose signature headers are still to be
    parsed (raises :class:`~aauth_core.errors.AAuthError` when they cannot be)."""
    h = view.headers
    input_text, signature_text = h.get(dialect.SIGNATURE_INPUT_HEADER), h.get(dialect.SIGNATURE_HEADER)
    if input_text is None or signature_text is None:
        raise AAuthError("the request carries no Signature-Input and Signature headers to explain",
                         code="missing_signature")
    params = parse_signature_input(input_text)
    _, signature = parse_signature(signature_text)
    return explain_signature(view, params, signature, key, bases=bases, configured_authority=configured_authority,
                             received_authority=received_authority, refusal=refusal)


def explain_signature(
    view: RequestView,
    params: SignatureParams,
    signature: bytes,
    key: PublicKey | None,
    *,
    bases: Sequence[Base] = ("rfc9421",),
    configured_authority: str | None = None,
    received_authority: str | None = None,
    refusal: AAuthError | None = None,
) -> Explanation:
    """Explain ``signature`` over ``view`` (the view as verified: its authority is the
    one the verifier used).  ``bases`` are the bases the verifier accepts;
    ``configured_authority`` is the resource's canonical authority, if it has one, and
    ``received_authority`` the request's own before the configured one replaced it
    (the URL's in ``aauth verify``).  With no ``key`` the signature is not checked and
    only the base and the components are shown.  Pure: reads nothing but its
    arguments, raises nothing for a request it cannot build a base for."""
    bases = tuple(bases) or ("rfc9421",)
    texts = tuple((b, *_base_text(view, params, b)) for b in bases)
    verified: bool | None = None
    verified_base: Base | None = None
    findings: tuple[Finding, ...] = ()
    tried: tuple[str, ...] = ()
    if key is not None:
        verified_base = next((b for b, text, _ in texts if text is not None and _verifies(key, signature, text)),
                             None)
        verified = verified_base is not None
        if not verified:
            findings, tried = _alternatives(view, params, signature, key, bases, configured_authority,
                                            received_authority)
    shown = verified_base or bases[0]
    sources = [_authority_source(view, configured_authority, received_authority) or "",
               *(f"{source}: {a}" for source, a in _authorities(view, configured_authority, received_authority))]
    authority_note = "; ".join(s for s in sources if s) or None
    components = tuple(_component(view, name, shown, authority_note) for name in params.components)
    return Explanation(
        bases=bases, base_texts=texts, components=components, params=params, key=key, verified=verified,
        verified_base=verified_base, refusal=refusal.code if refusal is not None else None,
        refusal_description=refusal.description if refusal is not None else None, findings=findings, tried=tried,
    )


# ----------------------------------------------------------------------------- building blocks


def _base_text(view: RequestView, params: SignatureParams, base: Base) -> tuple[str | None, str | None]:
    try:
        return signature_base(view, params, base=base).decode("ascii"), None
    except AAuthError as exc:
        return None, f"{exc.code}: {exc.description}"


def _verifies(key: PublicKey, signature: bytes, text: str) -> bool:
    return key.verify(signature, text.encode("ascii"))


def _component(view: RequestView, name: str, base: Base, authority_source: str | None) -> ComponentValue:
    try:
        value = component_value(name, view, base=base)
    except AAuthError as exc:
        return ComponentValue(name, None, problem=f"{exc.code}: {exc.description}")
    return ComponentValue(name, value, source=authority_source if name in ("@authority", "@target-uri") else None)


def _host_authority(value: str | None, scheme: str) -> str | None:
    """A ``Host``-style header value as a canonical authority (``None`` when unusable)."""
    if not value:
        return None
    value = value.split(",")[0].strip()
    if not value or any(c.isspace() or c in "/?#@" for c in value):
        return None
    try:
        return canonical_authority(f"{scheme.lower() or 'https'}://{value}/") or None
    except ValueError:  # a port that is not a number
        return None


def _authorities(view: RequestView, configured: str | None, received: str | None) -> list[tuple[str, str]]:
    """The other authorities the request could have been signed for, each with its source."""
    h = view.headers
    candidates = [
        ("the Host header", _host_authority(h.get("host"), view.scheme)),
        ("the X-Forwarded-Host header", _host_authority(h.get("x-forwarded-host"), view.scheme)),
        ("the request URL", received),
        ("configured", configured),
    ]
    out: list[tuple[str, str]] = []
    seen = {view.authority}
    for source, authority in candidates:
        if authority and authority not in seen:
            seen.add(authority)
            out.append((source, authority))
    return out


def _authority_source(view: RequestView, configured: str | None, received: str | None) -> str | None:
    """Where the ``@authority`` we used came from."""
    if configured is not None and view.authority == configured:
        return "configured"
    if view.authority == _host_authority(view.headers.get("host"), view.scheme):
        return "the Host header"
    if received is not None and view.authority == received:
        return "the request URL"
    return None


def _paths(view: RequestView) -> list[tuple[str, str, str]]:
    """Path rewrites worth one verification each: (value, what happened, what to do)."""
    path = view.path or "/"
    out: list[tuple[str, str, str]] = []
    if view.query is not None:
        out.append((f"{path}?{view.query}", "the signer put the query into @path",
                    "fix the signer: @path excludes the query, which goes into @query (RFC 9421 §2.2.6, §2.2.7)"))
    prefix = (view.headers.get("x-forwarded-prefix") or "").split(",")[0].strip().rstrip("/")
    if prefix.startswith("/"):
        out.append((prefix + path, f"a proxy stripped the prefix {prefix!r} (X-Forwarded-Prefix)",
                    "make the app see the path the agent called, or have the agent sign the public path"))
    segments = path.split("/")
    if len(segments) > 2 and segments[1] and "/".join(segments[2:]):
        out.append(("/" + "/".join(segments[2:]), f"the prefix '/{segments[1]}' was added on the way",
                    "have the proxy forward the path unchanged, or have the agent call the path the app serves"))
    if path != "/":
        toggled = path[:-1] if path.endswith("/") else path + "/"
        out.append((toggled, "a trailing slash was added or removed on the way (a redirect or a rewrite)",
                    "call the exact path the route serves, or stop the rewrite"))
    decoded, encoded = unquote(path), quote(path, safe="/%:@!$&'()*+,;=-._~")
    for other, what in ((decoded, "percent-encoding: the signer signed the decoded path"),
                        (encoded, "percent-encoding: the signer signed the encoded path")):
        if other != path:
            out.append((other, what, "@path is the raw path as sent: sign and verify the same bytes "
                                     "(check the adapter passes the raw path, and the signer does not re-encode)"))
    return out


_SWAP_62_63 = bytes.maketrans(b"+/-_", b"/+/+")


def _swapped_signature(text: str | None) -> bytes | None:
    """The signature with the base64 characters for 62 and 63 read the other way round."""
    if not text:
        return None
    _, sep, rest = text.strip(" \t").partition("=:")
    body, sep2, _ = rest.partition(":")
    if not sep or not sep2 or not any(c in body for c in "+/-_"):
        return None
    data = body.rstrip("=").encode("ascii", "replace").translate(_SWAP_62_63)
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return None


@dataclass(frozen=True, slots=True)
class _Variant:
    """One alternative to try: the request (or signature) as it might have been signed."""

    label: str
    view: RequestView
    signature: bytes
    component: str | None = None
    ours: str | None = None
    theirs: str | None = None
    summary: str = ""
    hint: str = ""


def _base_hint(b: Base, bases: tuple[Base, ...]) -> str:
    listed = ", ".join(repr(x) for x in (*bases, b))
    return (f"start the resource with signature_bases=({listed}) (aauth verify --base {b}) "
            f"or sign with {' or '.join(bases)}")


def _variants(view: RequestView, params: SignatureParams, signature: bytes, configured: str | None,
              received: str | None) -> list[_Variant]:
    """The bounded set of alternatives, most likely first."""
    out: list[_Variant] = []
    covered = set(params.components)
    if covered & {"@authority", "@target-uri"}:
        ours = view.authority
        our_source = _authority_source(view, configured, received)
        ours_text = f"{ours} ({our_source})" if our_source else ours
        for source, authority in _authorities(view, configured, received):
            out.append(_Variant(
                f"@authority {authority} ({source})", view._replace(authority=authority), signature,
                "@authority", ours, authority,
                f"differs: @authority: we used {ours_text}; the signature verifies with {authority} ({source})",
                f"the agent signed for {authority}, not {view.authority}: either it called another host name, "
                f"or this resource's resource_id / canonical_authority is not the name agents use "
                f"(see docs/proxy.md)",
            ))
    if covered & {"@path", "@request-target", "@target-uri"}:
        ours = view.path or "/"
        for path, what, hint in _paths(view):
            out.append(_Variant(f"@path {path}", view._replace(path=path), signature, "@path", ours, path,
                                f"differs: @path: we used {ours}; the signature verifies with {path} ({what})", hint))
    swapped = _swapped_signature(view.headers.get(dialect.SIGNATURE_HEADER))
    if swapped is not None and swapped != signature:
        out.append(_Variant(
            "the Signature's base64 with the characters for 62 and 63 swapped", view, swapped,
            summary="verifies when the Signature's base64 is read with the characters for 62 and 63 swapped",
            hint="the signer's base64 encoder swaps them: base64url writes 62 as '-' and 63 as '_', standard "
                 "base64 '+' and '/' (RFC 4648 §4, §5); fix the signer",
        ))
    return out


def _alternatives(
    view: RequestView, params: SignatureParams, signature: bytes, key: PublicKey, bases: tuple[Base, ...],
    configured: str | None, received: str | None,
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """Try each alternative under every base; each attempt is one signature verification."""
    others = tuple(b for b in BASES if b not in bases)
    findings: list[Finding] = []
    tried: list[str] = []
    attempts = 0

    def verifies(v: RequestView, sig: bytes, b: Base) -> bool:
        nonlocal attempts
        text, _ = _base_text(v, params, b)
        if text is None or attempts >= MAX_ATTEMPTS:
            return False
        attempts += 1
        return _verifies(key, sig, text)

    for b in others:  # the request as it is, under a base this resource does not accept
        tried.append(f"base {b}")
        if verifies(view, signature, b):
            findings.append(Finding(f"verifies with base {b}", _base_hint(b, bases), b))
    for variant in _variants(view, params, signature, configured, received):
        tried.append(variant.label)
        for b in (*bases, *others):
            if verifies(variant.view, variant.signature, b):
                summary, hint = variant.summary, variant.hint
                if b not in bases:
                    summary, hint = f"{summary}, under base {b}", f"{hint}; and {_base_hint(b, bases)}"
                findings.append(Finding(summary, hint, b, variant.component, variant.ours, variant.theirs))
                break
    return tuple(findings), tuple(tried)


# ----------------------------------------------------------------------------- rendering


def _render(e: Explanation) -> list[str]:
    p = e.params
    lines: list[str] = []
    if e.verified is True:
        verdict = f"valid: the signature verifies with base {e.verified_base}"
        if e.refusal is not None:
            verdict = f"refused ({e.refusal}: {e.refusal_description}), although the signature itself verifies " \
                      f"with base {e.verified_base}"
    elif e.verified is False:
        verdict = "invalid_signature: the signature does not verify with base " + " or ".join(e.bases)
    else:
        verdict = "signature not checked (no key)"
        if e.refusal is not None:
            verdict = f"refused ({e.refusal}: {e.refusal_description}) before the signature was checked"
    lines.append(f"explain: {verdict}")
    if e.key is not None:
        lines.append(f"key: {e.key.alg}, thumbprint {e.key.thumbprint}")
    extras = [f"created={p.created}" if p.created is not None else "no created"]
    extras += [f"{name}={getattr(p, name)}" for name in ("expires", "alg", "keyid", "nonce") if getattr(p, name)]
    lines.append(f"signature: label {p.label}, {', '.join(extras)}")
    lines.append("")
    lines.append("covered components:")
    width = max((len(c.name) for c in e.components), default=0)
    for c in e.components:
        if c.value is None:
            lines.append(f"  {c.name:<{width}}  (none: {c.problem})")
        else:
            lines.append(f"  {c.name:<{width}}  {c.value}" + (f"    [{c.source}]" if c.source else ""))
    for b, text, problem in e.base_texts:
        lines.append("")
        if text is None:
            lines.append(f"signature base ({b}): cannot be built: {problem}")
            continue
        trailing = ", ending with LF" if text.endswith("\n") else ""
        lines.append(f"signature base ({b}), exactly as built{trailing}, between the rules:")
        lines.append("-----")
        lines.extend(text[:-1].split("\n") if trailing else text.split("\n"))
        lines.append("-----")
    if e.verified is False:
        lines.append("")
        if e.findings:
            lines.append("what would have verified:")
            for f in e.findings:
                lines.append(f"  * {f.summary}")
                lines.append(f"    -> {f.hint}")
        else:
            lines.append("no alternative verifies. Tried: " + "; ".join(e.tried) + ".")
            key = e.key.thumbprint if e.key is not None else "?"
            lines.append("Left: a covered value changed in transit (method, path, query or a header), a key other "
                         f"than the signer's (we used {key}), or a signer that builds the base differently: "
                         "compare the base above with the signer's.")
    return lines
