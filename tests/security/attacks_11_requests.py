"""January's request attacks re-run under aauth-11 (issue 14): the signature headers, the
components a -11 signature must cover (``invalid_input`` with ``required_input``),
``created`` and ``expires``, Content-Digest, replay, schemes no -11 agent signs with,
and the authority.  Signed with a genuine person token (or the agent token where the
token does not matter), so each row changes only the request.

Dual-stack, a request whose Signature-Input or Signature-Key cannot be read at all is
January's to refuse (decision P2: classification needs the pair); those rows name
January's code, and their -11-only twins the -11 one.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from aauth_core.headers import SignatureKey, format_content_digest
from aauth_core.keys import SigningKey

from ..conftest import NOW, RESOURCE
from ..profile11.mint import BASE, PS, agent_token, sign11
from .build11 import (
    BODY,
    ONLY_11,
    PATH_11,
    TRUST,
    UPLOAD_PATH_11,
    agent11_request,
    ap,
    components_of,
    res11,
    res11_january,
    resign11,
    sign_at,
    signed_person_request,
    token11,
)
from .table import Attack, Ctx, Req

__all__ = ["REQUEST_ROWS"]

BODY_SET = (*BASE, "content-type", "content-digest")


def row(name: str, build: Callable[[Ctx], Req | list[Req]], code: str, description: str, *,
        settings: Mapping[str, Any] | None = None, **kw: Any) -> Attack:
    """An -11 request row, the person server listed unless ``settings`` say otherwise."""
    return res11(name, build, code, description, settings={**TRUST, **(settings or {})}, **kw)


# ----------------------------------------------------------------------------- builders: headers


def _person(ctx: Ctx) -> Req:
    return signed_person_request(ctx)[0]


def _without(name: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = _person(ctx)
        return replace(req, headers=[(k, v) for k, v in req.headers if k.lower() != name.lower()])

    return build


def _second_field(name: str) -> Callable[[Ctx], Req]:
    """The same field again, from a second genuine request (another agent, another token)."""

    def build(ctx: Ctx) -> Req:
        other = _person(ctx).get(name)
        assert other is not None
        return _person(ctx).add(name, other)

    return build


def _relabelled(header: str, to: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = _person(ctx)
        return req.set(header, (req.get(header) or "").replace("sig=", f"{to}=", 1))

    return build


def _sk_swapped(ctx: Ctx) -> Req:
    """Signed presenting an agent token; the (covered) Signature-Key then swapped for a person
    token bound to the same key: the person claim must not ride on the agent's signature."""
    req, agent, _ = signed_person_request(ctx)
    signed = sign_at(ctx, PATH_11, agent, agent_token(ap(ctx), agent))
    person_sk = req.get("Signature-Key")
    assert person_sk is not None
    return signed.set("Signature-Key", person_sk)


def _sk_respaced(ctx: Ctx) -> Req:
    """The Signature-Key re-serialised with a space after ``;`` (still valid RFC 9651): the
    signature covers the header as sent, never a re-serialisation (open point 16)."""
    req = _person(ctx)
    return req.set("Signature-Key", (req.get("Signature-Key") or "").replace(";", "; ", 1))


def _inner(transform: Callable[[str], str]) -> Callable[[Ctx], Req]:
    """Signature-Input's inner list rewritten, then signed again over what it now says."""

    def build(ctx: Ctx) -> Req:
        req, agent, _ = signed_person_request(ctx)
        return resign11(req, transform(components_of(req) + f";created={ctx.created()}"), agent)

    return build


def _bad_signature(transform: Callable[[bytes], str]) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = _person(ctx)
        raw = base64.b64decode((req.get("Signature") or "").split(":")[1])
        return req.set("Signature", f"sig=:{transform(raw)}:")

    return build


def _mixed_alphabet(raw: bytes) -> str:
    return "-+" + base64.b64encode(raw).decode()[2:]


def _spoofed(header: str) -> Callable[[Ctx], Req]:
    """Signed for another authority, sent with ``header`` naming it (the authority is configured)."""

    def build(ctx: Ctx) -> Req:
        req, agent, token = signed_person_request(ctx)
        headers = sign11("GET", "https://evil.example" + PATH_11, agent, token, created=ctx.created())
        return replace(req, headers=list(headers.items())).set(header, "evil.example")

    return build


def _raw_sk(text: Callable[[str], str]) -> Callable[[Ctx], Req]:
    """A Signature-Key built from the genuine token's text, covered by a valid signature."""

    def build(ctx: Ctx) -> Req:
        req, agent, token = signed_person_request(ctx)
        headers = sign11("GET", RESOURCE + PATH_11, agent, token, created=ctx.created(), signature_key=text(token))
        return replace(req, headers=list(headers.items()))

    return build


def _hwk(ctx: Ctx) -> Req:
    key = SigningKey.generate()
    jwk = key.public_jwk()
    sk = SignatureKey.build("hwk", {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"], "alg": "Ed25519"},
                            label="sig", fmt="sk").raw
    return Req("GET", PATH_11, list(sign11("GET", RESOURCE + PATH_11, key, created=ctx.created(),
                                           signature_key=sk).items()))


# ----------------------------------------------------------------------------- builders: coverage, digest, replay


def _body_request(ctx: Ctx, *, components: tuple[str, ...] = BODY_SET, body: bytes = BODY) -> Req:
    return signed_person_request(ctx, path=UPLOAD_PATH_11, body=body, components=components)[0]


def _digest_header(value: Callable[[bytes], str]) -> Callable[[Ctx], Req]:
    """A body request whose covered Content-Digest is ``value(body)``, signed over it."""

    def build(ctx: Ctx) -> Req:
        req, agent, _ = signed_person_request(ctx, path=UPLOAD_PATH_11, body=BODY, components=BODY_SET)
        req = req.set("Content-Digest", value(BODY))
        return resign11(req, components_of(req) + f";created={ctx.created()}", agent)

    return build


def _b64(data: bytes, alg: str = "sha-256") -> str:
    fn = hashlib.sha256 if alg == "sha-256" else hashlib.sha512
    return base64.b64encode(fn(data).digest()).decode()


def _with_query(ctx: Ctx, components: tuple[str, ...]) -> Req:
    """A person-token request to ``PATH_11?page=2`` covering ``components``."""
    _, agent, token = signed_person_request(ctx)
    return sign_at(ctx, PATH_11 + "?page=2", agent, token, components=components)


def _replayed(make: Callable[[Ctx], Req]) -> Callable[[Ctx], list[Req]]:
    def build(ctx: Ctx) -> list[Req]:
        req = make(ctx)
        return [req, req]

    return build


def _replay_reencoded(ctx: Ctx) -> list[Req]:
    req = _person(ctx)
    raw = base64.b64decode((req.get("Signature") or "").split(":")[1])
    return [req, req.set("Signature", "sig=:" + base64.urlsafe_b64encode(raw).decode().rstrip("=") + ":")]


# ----------------------------------------------------------------------------- the rows

REQUEST_ROWS: list[Attack] = [
    # ------------------------------------------------------------------ the three headers
    row("aa11_signature_missing", _without("Signature"), "invalid_signature", "-11: no Signature field"),
    res11_january("aa11_signature_input_missing_dual", _without("Signature-Input"), (401, "missing_signature"),
                  "dual-stack: no Signature-Input (nothing to classify by: January names what is missing)",
                  settings=TRUST),
    row("aa11_signature_input_missing", _without("Signature-Input"), "invalid_signature",
        "-11-only resource: no Signature-Input", profiles=ONLY_11),
    row("aa11_signature_key_missing", _without("Signature-Key"), "invalid_signature",
        "-11-only resource: no Signature-Key", profiles=ONLY_11),
    row("aa11_signature_duplicated", _second_field("Signature"), "invalid_signature",
        "-11: a second Signature field from another request"),
    row("aa11_signature_input_duplicated", _second_field("Signature-Input"), "invalid_signature",
        "-11-only resource: a second Signature-Input field", profiles=ONLY_11),
    row("aa11_signature_key_duplicated", _second_field("Signature-Key"), "invalid_signature",
        "-11-only resource: a second Signature-Key field", profiles=ONLY_11),
    row("aa11_label_signature", _relabelled("Signature", "other"), "invalid_signature",
        "-11: Signature labelled `other`, Signature-Input `sig`"),
    row("aa11_label_signature_key", _relabelled("Signature-Key", "other"), "invalid_signature",
        "-11-only resource: the Signature-Key member labelled `other` (none for `sig`)", profiles=ONLY_11),
    row("aa11_signature_key_swapped", _sk_swapped, "invalid_signature",
        "-11: signed presenting an agent token, Signature-Key then swapped for a person token of the same key"),
    row("aa11_signature_key_respaced", _sk_respaced, "invalid_signature",
        "-11: Signature-Key re-serialised with a space after `;` (the raw header is what is signed)"),
    # ------------------------------------------------------------------ components and parameters
    # an unreadable Signature-Input cannot be classified: dual-stack, January refuses it (its own rows)
    row("aa11_component_uppercase", _inner(lambda t: t.replace('"@method"', '"@METHOD"')), "invalid_signature",
        "-11-only resource: `\"@METHOD\"` instead of `\"@method\"`", profiles=ONLY_11),
    row("aa11_component_with_parameters", _inner(lambda t: t.replace('"signature-key"', '"signature-key";sf')),
        "invalid_signature", "-11-only resource: component parameters (`;sf`)", profiles=ONLY_11),
    row("aa11_component_status", _inner(lambda t: t.replace("(", '("@status" ', 1)), "invalid_signature",
        "-11: a response-only derived component (`@status`)"),
    row("aa11_component_duplicated", _inner(lambda t: t.replace('"@path"', '"@path" "@path"')), "invalid_signature",
        "-11-only resource: `\"@path\"` covered twice", profiles=ONLY_11),
    row("aa11_created_missing", _inner(lambda t: t.split(";")[0]), "invalid_signature", "-11: no `created`"),
    row("aa11_created_decimal", _inner(lambda t: t.split(";")[0] + f";created={NOW}.5"), "invalid_signature",
        "-11-only resource: `created` as a decimal", profiles=ONLY_11),
    row("aa11_created_repeated", _inner(lambda t: t + f";created={NOW + 1}"), "invalid_signature",
        "-11-only resource: `created` given twice", profiles=ONLY_11),
    row("aa11_created_stale", lambda c: signed_person_request(c, created=NOW - 61)[0], "invalid_signature",
        "-11: `created` 61 s old (the window is 60 s)"),
    row("aa11_created_future", lambda c: signed_person_request(c, created=NOW + 61)[0], "clock_skew",
        "-11: `created` 61 s ahead"),
    row("aa11_expires_passed", _inner(lambda t: t.split(";")[0] + f";created={NOW - 5};expires={NOW - 1}"),
        "invalid_signature", "-11: `expires` already passed"),
    row("aa11_expires_before_created", _inner(lambda t: t + f";expires={NOW - 10}"), "invalid_signature",
        "-11: `expires` earlier than `created`"),
    row("aa11_signature_truncated", _bad_signature(lambda raw: base64.b64encode(raw[:32]).decode()),
        "invalid_signature", "-11: the first 32 bytes of a genuine signature"),
    row("aa11_signature_mixed_alphabet", _bad_signature(_mixed_alphabet), "invalid_signature",
        "-11: a Signature value mixing base64 and base64url alphabets"),
    row("aa11_host_spoofing", _spoofed("Host"), "invalid_signature",
        "-11: signed for another authority, sent with that `Host`"),
    row("aa11_forwarded_host_spoofing", _spoofed("X-Forwarded-Host"), "invalid_signature",
        "-11: signed for another authority, sent with `X-Forwarded-Host` naming it"),
    # ------------------------------------------------------------------ what a -11 signature must cover
    row("aa11_body_not_covered", lambda c: _body_request(c, components=BASE), "invalid_input",
        "-11: a body, and neither `content-type` nor `content-digest` covered"),
    row("aa11_digest_not_covered", lambda c: _body_request(c, components=(*BASE, "content-type")), "invalid_input",
        "-11: a body with `content-type` covered, `content-digest` not"),
    row("aa11_signature_key_not_covered", lambda c: signed_person_request(
        c, components=("@method", "@authority", "@path"))[0], "invalid_input", "-11: `signature-key` not covered"),
    row("aa11_authority_not_covered", lambda c: signed_person_request(
        c, components=("@method", "@path", "signature-key"))[0], "invalid_input", "-11: `@authority` not covered"),
    row("aa11_authorization_not_covered", lambda c: signed_person_request(
        c, headers={"Authorization": "AAuth c2Vzc2lvbg"})[0], "invalid_input",
        "-11: an `Authorization` header sent and not covered"),
    row("aa11_additional_component_not_covered", lambda c: _with_query(c, BASE), "invalid_input",
        "-11: `additional_signature_components` names `@query`; the signature leaves it out",
        settings={"additional_signature_components": ("@query",)}),
    # ------------------------------------------------------------------ Content-Digest
    row("aa11_body_swapped", lambda c: replace(_body_request(c), body=b'{"amount": 999}'), "invalid_signature",
        "-11: the body replaced after signing (Content-Digest no longer matches)"),
    row("aa11_digest_unknown_only", _digest_header(
        lambda b: f"md5=:{base64.b64encode(hashlib.md5(b).digest()).decode()}:"), "invalid_signature",
        "-11: covered Content-Digest with only `md5`"),
    row("aa11_digest_one_wrong", _digest_header(lambda b: f"sha-256=:{_b64(b)}:, sha-512=:{_b64(b'x', 'sha-512')}:"),
        "invalid_signature", "-11: `sha-256` right, `sha-512` wrong"),
    row("aa11_digest_repeated", _digest_header(lambda b: f"sha-256=:{_b64(b'x')}:, sha-256=:{_b64(b)}:"),
        "invalid_signature", "-11: `sha-256` twice, a wrong value first"),
    row("aa11_digest_two_fields", lambda c: _body_request(c).add("Content-Digest", format_content_digest(b"x")),
        "invalid_signature", "-11: a second Content-Digest field added after signing"),
    # ------------------------------------------------------------------ replay
    row("aa11_pt_replayed", _replayed(_person), "invalid_signature", "-11: a person-token request sent twice"),
    row("aa11_at_replayed", _replayed(token11("auth")), "invalid_signature", "-11: an auth-token request sent twice"),
    row("aa11_agent_replayed", _replayed(agent11_request), "invalid_signature",
        "-11: an agent-token request sent twice"),
    row("aa11_replayed_reencoded", _replay_reencoded, "invalid_signature",
        "-11: the same signature re-sent in base64url instead of standard base64"),
    # ------------------------------------------------------------------ schemes no -11 agent signs with (-11 §11.3.2)
    row("aa11_scheme_hwk", _hwk, "unsupported_scheme", "-11-only resource: `sig=hwk` (a bare key)",
        profiles=ONLY_11),
    row("aa11_scheme_jwks_uri", _raw_sk(lambda t: f'sig=jwks_uri;id="{PS}";dwk="aauth-person.json";kid="ps-key-1"'),
        "unsupported_scheme", "-11: an agent signing as a person server (`jwks_uri`) at a resource"),
    row("aa11_scheme_jkt_jwt", _raw_sk(lambda t: f'sig=jkt-jwt;jwt="{t}"'), "unsupported_scheme",
        "-11: `jkt-jwt` (key-delegation), which no -11 agent uses here"),
    row("aa11_scheme_jwks_url", _raw_sk(lambda t: 'sig=jwks;url="https://ps.example/jwks.json";kid="ps-key-1"'),
        "unsupported_scheme", "-11-only resource: SK-09 `jwks` with a URL", profiles=ONLY_11),
]
