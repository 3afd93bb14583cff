"""The adversarial table (issue 6): named attacks, each with the refusal it must get.

An :class:`Attack` builds its request(s) from a :class:`Ctx` — the test World plus
the *target* it is aimed at: a protected ``resource`` (run through every framework
adapter) or the ``authserver`` token endpoint.  Attacks on the shared machinery
(JWTs in Signature-Key, signature headers, ``created``, Content-Digest, key
discovery, replay) are built once and aimed at both; the ctx turns "present this
token" or "sign this request" into the target's request: a ``GET /data-auth`` at
the resource, a token exchange or ``request_type=auth`` form at the auth server.

Every attack states its expected ``(status, error code)`` per target.  The runners
(test_resource_attacks.py, test_authserver_attacks.py) also assert: never a 500,
a ``{"error", "error_description"}`` JSON body (for an aauth-11 row: problem+json, with the
``Signature-Error`` code of ``signature_error``), no traceback or token text in it,
the handler never ran / nothing was issued or stored, and for ``forbidden`` hosts
that the network never saw a request to them.  docs/security.md lists the same
table (test_docs.py keeps the two in step).  The table's types are :mod:`.table`; the
aauth-11 rows :mod:`.attacks_11`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aauth_core import dialect
from aauth_core.authserver import AllowAll, RequireConsent, ScopeLimits, User
from aauth_core.httpsig import component_value
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView
from aauth_core.tokens import mint_agent_token, mint_resource_token

from ..conftest import AGENT, ISSUER, NOW, OTHER_ISSUER, RESOURCE
from .attacks_11 import ATTACKS_11
from .conftest import DOWNSTREAM, OTHER_AGENT, huge_document, redirect_to, slow_document
from .table import AS, BOTH, REDIRECT, RES, Attack, Ctx, Outcome, Req, Target, auth_server, b64, both, forge, res

__all__ = ["ATTACKS", "AS", "BOTH", "RES", "Attack", "Ctx", "Req", "Target", "forge", "resign"]

ATTACKER = "https://attacker.example"
EVIL_AGENT = "https://evil-agent.example"
METADATA_IP = "169.254.169.254"


def _header(ctx: Ctx, **changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"alg": "EdDSA", "kid": ctx.issuer_key.kid, "typ": dialect.TYP_AUTH}
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _hs256(secret: bytes, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    h, p = b64(json.dumps(header)), b64(json.dumps(claims))
    mac = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(mac)}"


def resign(ctx: Ctx, req: Req, inner: str, *, value_names: Sequence[str] | None = None,
           key: SigningKey | None = None, label: str = "sig1") -> Req:
    """Replace Signature-Input by ``label=inner`` (verbatim text) and sign the base a lenient
    verifier would build from it: component values by ``value_names`` (lower-cased names by default)."""
    names = list(value_names) if value_names is not None else _names(inner)
    view = RequestView.from_url(req.method, ctx.base + req.path, req.headers, req.body)
    lines = [f'"{n}": {"200" if n == "@status" else component_value(n.lower(), view)}' for n in names]
    lines.append(f'"@signature-params": {inner}')
    signature = (key or ctx.world.agent.key).sign("\n".join(lines).encode())
    out = req.set(dialect.SIGNATURE_INPUT_HEADER, f"{label}={inner}")
    return out.set(dialect.SIGNATURE_HEADER, f"{label}=:{b64(signature)}:")


def _names(inner: str) -> list[str]:
    listed = inner[inner.index("(") + 1: inner.index(")")]
    return [part.split(";")[0].strip('"') for part in listed.split()]


def _components(req: Req) -> str:
    """The component list of a signed request, as written in its Signature-Input."""
    value = req.get(dialect.SIGNATURE_INPUT_HEADER) or ""
    return value[value.index("("): value.index(")") + 1]


def _digest(body: bytes, alg: str = "sha-256") -> str:
    fn = hashlib.sha256 if alg == "sha-256" else hashlib.sha512
    return base64.b64encode(fn(body).digest()).decode()


def _signed_with_digest(ctx: Ctx, digest_value: str) -> Req:
    """A request whose (covered) Content-Digest is ``digest_value``, correctly signed."""
    req = ctx.sign(body=_body(ctx))
    req = req.set(dialect.CONTENT_DIGEST_HEADER, digest_value)
    return resign(ctx, req, _components(req) + f";created={ctx.created()}")


def _body(ctx: Ctx) -> bytes:
    if ctx.target == "resource":
        return b'{"amount": 100}'
    return urlencode({"request_type": "auth", "scope": "data.read", "redirect_uri": REDIRECT}).encode()


def _jwks_params(identifier: str, kid: str = "key-1", well_known: str | None = "aauth-agent") -> dict[str, str]:
    out = {"id": identifier, "kid": kid}
    if well_known is not None:
        out["well-known"] = well_known
    return out


def _ssrf(identifier: str) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.sign(params=_jwks_params(identifier))


def _nested(depth: int) -> dict[str, Any]:
    act: dict[str, Any] = {"agent": f"https://hop{depth}.example"}
    for i in range(depth - 1, 0, -1):
        act = {"agent": f"https://hop{i}.example", "act": act}
    return act


def _publish_evil_agent(ctx: Ctx, metadata: Mapping[str, Any] | None = None) -> None:
    doc = dict(metadata or {"agent": EVIL_AGENT, "jwks_uri": f"{EVIL_AGENT}/jwks.json"})
    ctx.world.network.publish(f"{EVIL_AGENT}/.well-known/aauth-agent", doc)


# ----------------------------------------------------------------------------- builders: JWT


def _alg_none(ctx: Ctx, alg: str = "none") -> Req:
    return ctx.present(forge(_header(ctx, alg=alg), ctx.claims(), None))


def _hmac_public_key(ctx: Ctx) -> Req:
    secret = base64.urlsafe_b64decode(ctx.issuer_key.public_jwk()["x"] + "==")
    return ctx.present(_hs256(secret, _header(ctx, alg="HS256"), ctx.claims()))


def _hmac_public_pem(ctx: Ctx) -> Req:
    pem = ctx.issuer_key.public.key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return ctx.present(_hs256(pem, _header(ctx, alg="HS256"), ctx.claims()))


def _hmac_public_jwk_text(ctx: Ctx) -> Req:
    secret = json.dumps(ctx.issuer_key.public_jwk()).encode()
    return ctx.present(_hs256(secret, _header(ctx, alg="HS512"), ctx.claims()))


def _kid(kid: Any) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.present(forge(_header(ctx, kid=kid), ctx.claims(), ctx.issuer_key))


def _kid_collision(ctx: Ctx) -> Req:
    # The rogue auth server publishes the same kid ("auth-key-1"); its key must not verify a token
    # that claims to come from the trusted issuer.
    return ctx.present(forge(_header(ctx), ctx.claims(), ctx.world.rogue.key))


def _header_key_injection(member: str) -> Callable[[Ctx], Req]:
    """A token signed by the attacker, whose header points at (or embeds) the attacker's key."""

    def build(ctx: Ctx) -> Req:
        attacker = SigningKey.generate(kid=ctx.issuer_key.kid)
        ctx.world.network.publish(f"{ATTACKER}/jwks.json", {"keys": [attacker.public_jwk()]})
        ctx.world.network.publish(f"{ATTACKER}/chain.pem", "not a certificate")
        value: Any = {
            "jku": f"{ATTACKER}/jwks.json",
            "x5u": f"{ATTACKER}/chain.pem",
            "jwk": attacker.public_jwk(),
            "x5c": [base64.b64encode(b"attacker certificate").decode()],
        }[member]
        return ctx.present(forge(_header(ctx, **{member: value}), ctx.claims(), attacker))

    return build


def _crit(ctx: Ctx) -> Req:
    return ctx.present(forge(_header(ctx, crit=["exp"], exp=0), ctx.claims(), ctx.issuer_key))


def _oversized_token(ctx: Ctx) -> Req:
    return ctx.present(ctx.token(padding="x" * 20_000))


def _json_bomb(ctx: Ctx) -> Req:
    header = json.dumps(_header(ctx))[:-1] + ', "x": ' + "[" * 4000 + "]" * 4000 + "}"
    return ctx.present(forge(header, ctx.claims(), ctx.issuer_key))


def _nested_jws(ctx: Ctx) -> Req:
    inner = ctx.token()
    return ctx.present(forge(_header(ctx, cty="JWT"), json.dumps(inner), ctx.issuer_key))


def _jwe(ctx: Ctx) -> Req:
    header = b64(json.dumps({"alg": "dir", "enc": "A256GCM", "kid": "auth-key-1", "typ": dialect.TYP_AUTH}))
    return ctx.present(f"{header}..{b64(b'iv')}.{b64(b'ciphertext')}.{b64(b'tag')}")


def _duplicate_claim(ctx: Ctx) -> Req:
    claims = json.dumps(ctx.claims())[:-1] + ', "aud": "https://elsewhere.example"}'
    return ctx.present(forge(_header(ctx), claims, ctx.issuer_key))


def _act_depth(ctx: Ctx) -> Req:
    return ctx.present(ctx.token(act=_nested(9)))


def _typ_confusion(ctx: Ctx) -> Req:
    w = ctx.world
    rt = mint_resource_token(w.resource.key if ctx.target == "resource" else ctx.issuer_key,
                             iss=RESOURCE if ctx.target == "resource" else ctx.issuer_id, aud=RESOURCE,
                             agent=AGENT, agent_jkt=w.agent.key.thumbprint, now=w.clock(), scope="data.read")
    return ctx.present(rt)


def _agent_token_for_auth(ctx: Ctx) -> Req:
    w = ctx.world
    delegate = SigningKey.generate(kid="delegate-key-1") if ctx.target == "resource" else ctx.presenter
    token = mint_agent_token(w.agent.key, iss=AGENT, sub="delegate-1", cnf_jwk=delegate.public_jwk(), now=w.clock())
    return ctx.present(token, key=delegate)


def _other_audience(ctx: Ctx) -> Req:
    return ctx.present(ctx.token(aud=DOWNSTREAM))


def _untrusted_issuer(ctx: Ctx) -> Req:
    return ctx.present(ctx.token(issuer=ctx.world.rogue.key, iss=OTHER_ISSUER))


def _iat_future(ctx: Ctx) -> Req:
    return ctx.present(forge(_header(ctx), ctx.claims(iat=NOW + 10 * 365 * 86400), ctx.issuer_key))


def _exp_string(ctx: Ctx) -> Req:
    return ctx.present(forge(_header(ctx), ctx.claims(exp=str(NOW + 3600)), ctx.issuer_key))


def _cnf(jwk: Callable[[Ctx], Mapping[str, Any]]) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.present(forge(_header(ctx), ctx.claims(cnf={"jwk": jwk(ctx)}), ctx.issuer_key))


def _stolen_token(ctx: Ctx) -> Req:
    return ctx.present(ctx.token(), key=SigningKey.generate(kid="thief"))


def _signature_stripped(ctx: Ctx) -> Req:
    h, p, _ = ctx.token().split(".")
    return ctx.present(f"{h}.{p}.")


def _payload_swapped(ctx: Ctx) -> Req:
    h, _, s = ctx.token(scope="data.read").split(".")
    _, p, _ = forge(_header(ctx), ctx.claims(scope="data.read data.write data.admin"), None).split(".")
    return ctx.present(f"{h}.{p}.{s}")


# ----------------------------------------------------------------------------- builders: signature headers


def _duplicate_header(name: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = ctx.sign()
        other = ctx.sign(key=SigningKey.generate(kid="key-1"), created=ctx.created())
        value = other.get(name)
        assert value is not None
        return req.add(name, value)

    return build


def _duplicate_same_value(name: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = ctx.sign()
        value = req.get(name)
        assert value is not None
        return req.add(name, value)

    return build


def _two_members(ctx: Ctx) -> Req:
    req = ctx.sign()
    second = ctx.sign(label="sig2", created=ctx.created())
    for name in (dialect.SIGNATURE_INPUT_HEADER, dialect.SIGNATURE_HEADER):
        req = req.set(name, f"{req.get(name)}, {second.get(name)}")
    return req


def _valid_last_member(ctx: Ctx) -> Req:
    # Garbage first, the genuine signature last: a "last one wins" parser would accept it.
    req = ctx.sign()
    return req.set(dialect.SIGNATURE_HEADER, f"sig1=:{b64(bytes(64))}:, {req.get(dialect.SIGNATURE_HEADER)}")


def _label_signature(ctx: Ctx) -> Req:
    req = ctx.sign()
    value = req.get(dialect.SIGNATURE_HEADER) or ""
    return req.set(dialect.SIGNATURE_HEADER, value.replace("sig1=", "sig2=", 1))


def _label_signature_key(ctx: Ctx) -> Req:
    req = ctx.sign(label="sig2")  # Signature-Key (covered) says sig2 ...
    inner = _components(req) + f";created={ctx.created()}"
    return resign(ctx, req, inner, label="sig1")  # ... Signature-Input and Signature say sig1


def _label_uppercase(ctx: Ctx) -> Req:
    req = ctx.sign()
    for name in (dialect.SIGNATURE_INPUT_HEADER, dialect.SIGNATURE_HEADER):
        req = req.set(name, (req.get(name) or "").replace("sig1=", "SIG1=", 1))
    return req


def _component_text(transform: Callable[[str], str]) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = ctx.sign()
        inner = transform(_components(req)) + f";created={ctx.created()}"
        return resign(ctx, req, inner)

    return build


def _created_param(text: str) -> Callable[[Ctx], Req]:
    return lambda ctx: resign(ctx, ctx.sign(), _components(ctx.sign()) + text)


def _created(value: int) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.sign(created=value)


def _bad_signature_bytes(transform: Callable[[bytes], str]) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        req = ctx.sign()
        value = req.get(dialect.SIGNATURE_HEADER) or ""
        raw = base64.urlsafe_b64decode(value.split(":")[1] + "==")
        return req.set(dialect.SIGNATURE_HEADER, f"sig1=:{transform(raw)}:")

    return build


def _mixed_alphabet(raw: bytes) -> str:
    text = base64.b64encode(raw).decode().rstrip("=")
    return "-+" + text[2:]  # one base64url and one standard-only character


def _spoofed_host(header: str) -> Callable[[Ctx], Req]:
    """Signed for evil.example, sent with a header claiming that authority."""
    return lambda ctx: ctx.sign(origin="https://evil.example").set(header, "evil.example")


# ----------------------------------------------------------------------------- builders: Content-Digest


def _digest_unknown_only(ctx: Ctx) -> Req:
    body = _body(ctx)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return _signed_with_digest(ctx, f"md5=:{md5}:, unixsum=:{md5}:")


def _digest_one_wrong(ctx: Ctx) -> Req:
    body = _body(ctx)
    return _signed_with_digest(ctx, f"sha-256=:{_digest(body)}:, sha-512=:{_digest(b'other', 'sha-512')}:")


def _digest_repeated(ctx: Ctx) -> Req:
    body = _body(ctx)
    return _signed_with_digest(ctx, f"sha-256=:{_digest(b'other')}:, sha-256=:{_digest(body)}:")


def _digest_two_fields(ctx: Ctx) -> Req:
    req = ctx.sign(body=_body(ctx))
    return req.add(dialect.CONTENT_DIGEST_HEADER, f"sha-256=:{_digest(b'other')}:")


def _digest_absent(ctx: Ctx) -> Req:
    req = ctx.sign(body=_body(ctx))
    return Req(req.method, req.path, [(k, v) for k, v in req.headers if k.lower() != "content-digest"], req.body)


def _digest_unknown_plus_body_swap(ctx: Ctx) -> Req:
    # Covered Content-Digest names only an unknown algorithm, then the body is replaced.
    req = _digest_unknown_only(ctx)
    return Req(req.method, req.path, req.headers, (req.body or b"") + b" ")


def _oversized_body(ctx: Ctx) -> Req:
    size = 4096 if ctx.target == "resource" else 70 * 1024
    body = b"x" * size if ctx.target == "resource" else b"request_type=auth&scope=" + b"a" * size
    return ctx.sign(body=body)


# ----------------------------------------------------------------------------- builders: discovery / SSRF


def _jwks_direct(url: str) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.sign(params={"jwks": url, "kid": "key-1"})


def _metadata_jwks_uri(jwks_uri: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        _publish_evil_agent(ctx, {"agent": EVIL_AGENT, "jwks_uri": jwks_uri})
        return ctx.sign(params=_jwks_params(EVIL_AGENT))

    return build


def _redirect(where: str, location: str) -> Callable[[Ctx], Req]:
    """``metadata``: the World's own agent party answers its metadata URL with a redirect;
    ``jwks``: a hostile agent's JWKS does."""

    def build(ctx: Ctx) -> Req:
        if where == "metadata":
            ctx.world.net.respond(f"{AGENT}/.well-known/aauth-agent", redirect_to(location))
            return ctx.sign()
        _publish_evil_agent(ctx)
        ctx.world.net.respond(f"{EVIL_AGENT}/jwks.json", redirect_to(location, 301))
        return ctx.sign(params=_jwks_params(EVIL_AGENT))

    return build


def _slow(ctx: Ctx) -> Req:
    ctx.world.net.respond(f"{EVIL_AGENT}/.well-known/aauth-agent", slow_document())
    return ctx.sign(params=_jwks_params(EVIL_AGENT))


def _huge(declared: bool) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        ctx.world.net.respond(f"{EVIL_AGENT}/.well-known/aauth-agent", huge_document(1024 * 1024, declared=declared))
        return ctx.sign(params=_jwks_params(EVIL_AGENT))

    return build


def _metadata_mismatch(ctx: Ctx) -> Req:
    # evil-agent.example serves metadata naming the real agent, and the real agent's JWKS
    _publish_evil_agent(ctx, {"agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json"})
    return ctx.sign(params=_jwks_params(EVIL_AGENT))


def _x5u(url: str) -> Callable[[Ctx], Req]:
    return lambda ctx: ctx.sign(scheme="x509", params={"x5u": url, "x5t": b64(hashlib.sha256(b"leaf").digest())})


def _raw_signature_key(text: str) -> Callable[[Ctx], Req]:
    """Any Signature-Key text, covered by a valid signature (so only the key rules can refuse it)."""

    def build(ctx: Ctx) -> Req:
        req = ctx.sign().set(dialect.SIGNATURE_KEY_HEADER, text)
        return resign(ctx, req, _components(req) + f";created={ctx.created()}")

    return build


def _hwk_with(extra: Mapping[str, str], drop: Sequence[str] = ()) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        key = ctx.world.agent.key
        params = {k: v for k, v in key.public_jwk().items() if k != "kid" and k not in drop}
        params.update(extra)
        body = " ".join(f'{k}="{v}"' for k, v in params.items())
        return _raw_signature_key(f"sig1=(scheme=hwk {body})")(ctx)

    return build


# ----------------------------------------------------------------------------- builders: replay


def _replay(ctx: Ctx) -> list[Req]:
    req = ctx.sign()
    return [req, req]


def _replay_reencoded(ctx: Ctx) -> list[Req]:
    req = ctx.sign()
    raw = base64.urlsafe_b64decode((req.get(dialect.SIGNATURE_HEADER) or "").split(":")[1] + "==")
    return [req, req.set(dialect.SIGNATURE_HEADER, f"sig1=:{base64.b64encode(raw).decode()}:")]


def _replay_token_request(ctx: Ctx) -> list[Req]:
    req = ctx.present(ctx.token())
    return [req, req]


# ----------------------------------------------------------------------------- builders: auth server only


def _exchange(ctx: Ctx, upstream: str, *, rt: str | None = None, key: SigningKey | None = None) -> Req:
    form = {"request_type": "exchange", "resource_token": rt or ctx.downstream_rt()}
    return ctx.sign(key=key or ctx.world.resource.key, scheme="jwt", params={"jwt": upstream}, form=form)


def _exchange_untrusted(ctx: Ctx) -> Req:
    return _exchange(ctx, ctx.token(issuer=ctx.world.rogue.key, iss=OTHER_ISSUER))


def _exchange_other_resource(ctx: Ctx) -> Req:
    # A token the agent holds for another resource (DOWNSTREAM), presented by RESOURCE.
    return _exchange(ctx, ctx.token(aud=DOWNSTREAM))


def _exchange_act_loop(ctx: Ctx) -> Req:
    # The intermediary already acted earlier in the chain: RESOURCE → AGENT → RESOURCE.
    return _exchange(ctx, ctx.token(act={"agent": RESOURCE}))


def _exchange_act_cycle(ctx: Ctx) -> Req:
    return _exchange(ctx, ctx.token(act={"agent": "https://b.example", "act": {"agent": AGENT}}))


def _exchange_act_depth(ctx: Ctx) -> Req:
    return _exchange(ctx, ctx.token(act=_nested(8)))  # the exchanged token would need 9 levels


def _exchange_act_bomb(ctx: Ctx) -> Req:
    claims = json.dumps(ctx.claims())[:-1] + ', "act": ' + '{"agent":"a","act":' * 200 + '{"agent":"b"}' \
        + "}" * 200 + "}"
    return _exchange(ctx, forge(_header(ctx), claims, ctx.issuer_key))


def _exchange_scope_widening(ctx: Ctx) -> Req:
    return _exchange(ctx, ctx.token(scope="data.read"), rt=ctx.downstream_rt(scope="data.admin"))


def _exchange_forged_rt(ctx: Ctx) -> Req:
    # The intermediary mints "the downstream's" resource token itself, asking for more.
    return _exchange(ctx, ctx.token(), rt=ctx.downstream_rt(scope="files.read files.delete",
                                                             key=SigningKey.generate(kid="resource-key-1")))


def _exchange_by_agent(ctx: Ctx) -> Req:
    # The original agent tries to exchange its own token for the intermediary's downstream access.
    return _exchange(ctx, ctx.token(), key=ctx.world.agent.key)


def _exchange_without_jwt(ctx: Ctx) -> Req:
    form = {"request_type": "exchange", "resource_token": ctx.downstream_rt()}
    return ctx.sign(key=ctx.world.resource.key, params=_jwks_params(RESOURCE, "resource-key-1", "aauth-resource"),
                    form=form)


def _auth_rt(ctx: Ctx, *, agent: str = AGENT, aud: str = ISSUER, scope: str = "data.read data.write",
             agent_jkt: str | None = None) -> str:
    w = ctx.world
    return mint_resource_token(w.resource.key, iss=RESOURCE, aud=aud, agent=agent,
                               agent_jkt=agent_jkt or w.agent.key.thumbprint, now=w.clock(), scope=scope)


def _code(ctx: Ctx) -> str:
    """Run the consent flow for AGENT (sync driver) and return the code the user's approval yields."""
    env = ctx.env
    req = ctx.sign(form={"request_type": "auth", "resource_token": _auth_rt(ctx), "redirect_uri": REDIRECT})
    view = RequestView.from_url(req.method, ISSUER + req.path, req.headers, req.body)
    answer = env.server.token(view)
    assert answer.status == 200 and "request_token" in answer.body, answer.body
    location = env.server.approve(answer.body["request_token"], User("alice"))
    return str(location.split("code=", 1)[1])


def _code_form(code: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    return {"request_type": "code", "code": code, "redirect_uri": redirect_uri}


def _code_replayed(ctx: Ctx) -> list[Req]:
    code = _code(ctx)
    return [ctx.sign(form=_code_form(code)), ctx.sign(form=_code_form(code))]


def _code_other_agent(ctx: Ctx) -> Req:
    code = _code(ctx)
    w = ctx.world
    assert w.other_agent is not None
    return ctx.sign(key=w.other_agent.key, params=_jwks_params(OTHER_AGENT), form=_code_form(code))


def _code_wrong_redirect(ctx: Ctx) -> Req:
    return ctx.sign(form=_code_form(_code(ctx), "https://evil.example/callback"))


def _auth_token_as_agent(ctx: Ctx) -> Req:
    token = ctx.token(aud=ISSUER)  # even one naming this very auth server
    return ctx.sign(scheme="jwt", params={"jwt": token})


def _stolen_rt(ctx: Ctx) -> Req:
    w = ctx.world
    assert w.other_agent is not None
    form = {"request_type": "auth", "resource_token": _auth_rt(ctx), "redirect_uri": REDIRECT}
    return ctx.sign(key=w.other_agent.key, params=_jwks_params(OTHER_AGENT), form=form)


def _rt_other_as(ctx: Ctx) -> Req:
    form = {"request_type": "auth", "resource_token": _auth_rt(ctx, aud=OTHER_ISSUER), "redirect_uri": REDIRECT}
    return ctx.sign(form=form)


def _rt_tampered_scope(ctx: Ctx) -> Req:
    h, _, s = _auth_rt(ctx, scope="data.read").split(".")
    w = ctx.world
    claims = {"iss": RESOURCE, "aud": ISSUER, "agent": AGENT, "agent_jkt": w.agent.key.thumbprint,
              "scope": "data.read data.admin", "exp": NOW + 600, "iat": NOW}
    form = {"request_type": "auth", "resource_token": f"{h}.{b64(json.dumps(claims))}.{s}",
            "redirect_uri": REDIRECT}
    return ctx.sign(form=form)


def _scope_beyond_policy(ctx: Ctx) -> Req:
    form = {"request_type": "auth", "resource_token": _auth_rt(ctx, scope="data.admin"), "redirect_uri": REDIRECT}
    return ctx.sign(form=form)


def _rt_as_auth_token(ctx: Ctx) -> Req:
    # A resource token is no auth token: presented in an exchange's Signature-Key
    return _exchange(ctx, ctx.downstream_rt())


BAD_TOKEN: Outcome = (401, "invalid_token")  # every upstream-token failure at the auth server
AS_BAD_REQUEST: Outcome = (401, "invalid_request")  # signature-layer failures at the auth server
AS_BAD_SIGNATURE: Outcome = (401, "invalid_signature")
METADATA_HOSTS = (METADATA_IP, "169.254.169.254")
_PRIVATE = {"d": "nUXRWTn1Q5c-R9A9UpVr5B1s3i1ESU7yKs9U8sZ1Zzw"}

ATTACKS: list[Attack] = [
    # ------------------------------------------------------------------ JWTs in Signature-Key
    both("jwt_alg_none", _alg_none, (401, "disallowed_algorithm"), BAD_TOKEN,
         "token with `alg: none` and an empty signature"),
    both("jwt_alg_none_uppercase", lambda c: _alg_none(c, "NONE"), (401, "disallowed_algorithm"), BAD_TOKEN,
         "`alg: NONE` (case variant of none)"),
    both("hmac_public_key_secret", _hmac_public_key, (401, "disallowed_algorithm"), BAD_TOKEN,
         "HS256 token keyed with the issuer's raw public key bytes"),
    both("hmac_public_pem_secret", _hmac_public_pem, (401, "disallowed_algorithm"), BAD_TOKEN,
         "HS256 token keyed with the issuer's public key PEM (classic RS/HS confusion)"),
    both("hmac_public_jwk_secret", _hmac_public_jwk_text, (401, "disallowed_algorithm"), BAD_TOKEN,
         "HS512 token keyed with the issuer's public JWK text"),
    both("jwt_alg_es256_on_ed25519", lambda c: c.present(forge(_header(c, alg="ES256"), c.claims(), c.issuer_key)),
         (401, "disallowed_algorithm"), BAD_TOKEN, "`alg: ES256` on a token verified with an Ed25519 key"),
    both("jwt_alg_rs256", lambda c: c.present(forge(_header(c, alg="RS256"), c.claims(), c.issuer_key)),
         (401, "disallowed_algorithm"), BAD_TOKEN, "`alg: RS256`, an algorithm never enabled"),
    both("kid_path_traversal", _kid("../../../../etc/passwd"), (401, "unknown_key"), BAD_TOKEN,
         "`kid` holding a path traversal; keys are only looked up in the issuer's JWKS"),
    both("kid_url_injection", _kid(f"{ATTACKER}/jwks.json"), (401, "unknown_key"), BAD_TOKEN,
         "`kid` holding a URL; it is never fetched", forbidden=("attacker.example",)),
    both("kid_sql_injection", _kid("' OR '1'='1"), (401, "unknown_key"), BAD_TOKEN,
         "`kid` holding SQL; it is only compared"),
    both("kid_not_a_string", _kid(1), (401, "malformed_token"), BAD_TOKEN, "`kid` that is a number"),
    both("kid_collision_other_issuer", _kid_collision, (401, "invalid_token_signature"), BAD_TOKEN,
         "token signed by another auth server's key with the same `kid`, claiming the trusted issuer"),
    both("jku_header_injection", _header_key_injection("jku"), (401, "invalid_token_signature"), BAD_TOKEN,
         "`jku` pointing at the attacker's JWKS (must be ignored, never fetched)", forbidden=("attacker.example",)),
    both("x5u_header_injection", _header_key_injection("x5u"), (401, "invalid_token_signature"), BAD_TOKEN,
         "`x5u` pointing at the attacker's certificate (must be ignored, never fetched)",
         forbidden=("attacker.example",)),
    both("jwk_header_injection", _header_key_injection("jwk"), (401, "invalid_token_signature"), BAD_TOKEN,
         "embedded `jwk` header carrying the attacker's key (must be ignored)", forbidden=("attacker.example",)),
    both("x5c_header_injection", _header_key_injection("x5c"), (401, "invalid_token_signature"), BAD_TOKEN,
         "embedded `x5c` certificate chain (must be ignored)", forbidden=("attacker.example",)),
    both("jwt_crit_header", _crit, (401, "unsupported_token"), BAD_TOKEN,
         "`crit` naming an extension the verifier does not understand"),
    both("jwt_oversized", _oversized_token, (401, "invalid_signature_key"), AS_BAD_REQUEST,
         "a 27 KiB token (over the 16 KiB header and token limits)"),
    both("jwt_json_nesting_bomb", _json_bomb, (401, "malformed_token"), BAD_TOKEN,
         "JWT header with 4000 nested arrays"),
    both("jwt_nested_jws", _nested_jws, (401, "malformed_token"), BAD_TOKEN,
         "`cty: JWT` whose payload is another signed token"),
    both("jwt_jwe_five_segments", _jwe, (401, "malformed_token"), BAD_TOKEN, "an encrypted (JWE) token"),
    both("jwt_duplicate_claim", _duplicate_claim, (401, "malformed_token"), BAD_TOKEN,
         "payload naming `aud` twice (parsers disagree on which wins)"),
    both("jwt_act_depth_bomb", _act_depth, (401, "act_too_deep"), BAD_TOKEN,
         "auth token whose `act` chain is 9 levels deep (limit 8)"),
    both("jwt_act_loop", lambda c: c.present(c.token(act={"agent": "https://b.example",
                                                           "act": {"agent": "https://b.example/"}})),
         (401, "act_loop"), BAD_TOKEN, "auth token whose `act` chain names the same agent twice"),
    both("jwt_typ_confusion_resource_token", _typ_confusion, (401, "wrong_token_type"), BAD_TOKEN,
         "a resource token (`resource+jwt`) presented as a credential"),
    both("agent_token_where_auth_token_required", _agent_token_for_auth, (401, "authorization_required"), BAD_TOKEN,
         "a valid agent token on an auth-token route / as an exchange's upstream token"),
    both("token_for_another_audience", _other_audience, (401, "invalid_audience"), BAD_TOKEN,
         "a genuine auth token issued for another resource"),
    both("token_from_untrusted_issuer", _untrusted_issuer, (401, "untrusted_issuer"), BAD_TOKEN,
         "a well-formed auth token from an auth server that is not trusted"),
    both("token_iat_far_future", _iat_future, (401, "token_not_yet_valid"), BAD_TOKEN,
         "`iat` ten years ahead"),
    both("token_exp_string", _exp_string, (401, "malformed_token"), BAD_TOKEN, "`exp` given as a string"),
    both("cnf_private_key", _cnf(lambda c: {**c.world.agent.key.public_jwk(), **_PRIVATE}), (401, "invalid_cnf"),
         BAD_TOKEN, "`cnf.jwk` carrying private key material"),
    both("cnf_symmetric_key", _cnf(lambda c: {"kty": "oct", "k": b64(b"shared secret")}), (401, "invalid_cnf"),
         BAD_TOKEN, "`cnf.jwk` that is a symmetric key"),
    both("stolen_token_other_signer", _stolen_token, (401, "invalid_signature"), AS_BAD_SIGNATURE,
         "a genuine token presented by someone without its key"),
    both("token_signature_stripped", _signature_stripped, (401, "invalid_token_signature"), BAD_TOKEN,
         "a genuine token with its signature removed"),
    both("token_payload_swapped", _payload_swapped, (401, "invalid_token_signature"), BAD_TOKEN,
         "a genuine token's header and signature around a payload with wider scope"),
    # ------------------------------------------------------------------ signature headers
    both("duplicate_signature_header", _duplicate_header(dialect.SIGNATURE_HEADER),
         (401, "invalid_signature_header"), AS_BAD_REQUEST, "a second Signature field from another key"),
    both("duplicate_signature_header_same_value", _duplicate_same_value(dialect.SIGNATURE_HEADER),
         (401, "invalid_signature_header"), AS_BAD_REQUEST, "the same Signature field sent twice"),
    both("duplicate_signature_input_header", _duplicate_header(dialect.SIGNATURE_INPUT_HEADER),
         (401, "invalid_signature_input"), AS_BAD_REQUEST, "a second Signature-Input field"),
    both("duplicate_signature_key_header", _duplicate_header(dialect.SIGNATURE_KEY_HEADER),
         (401, "invalid_signature_key"), AS_BAD_REQUEST, "a second Signature-Key field"),
    both("repeated_signature_members", _two_members, (401, "invalid_signature_input"), AS_BAD_REQUEST,
         "two signatures (sig1, sig2) in one Signature-Input and Signature"),
    both("signature_valid_member_last", _valid_last_member, (401, "invalid_signature_header"), AS_BAD_REQUEST,
         "`sig1` twice in Signature: garbage first, the genuine value last"),
    both("label_confusion_signature", _label_signature, (401, "label_mismatch"), AS_BAD_REQUEST,
         "Signature labelled sig2, Signature-Input and Signature-Key sig1"),
    both("label_confusion_signature_key", _label_signature_key, (401, "label_mismatch"), AS_BAD_REQUEST,
         "Signature-Key labelled sig2 while the signature (covering it) is sig1"),
    both("label_uppercase", _label_uppercase, (401, "invalid_signature_input"), AS_BAD_REQUEST,
         "label `SIG1` (not a valid structured-field key)"),
    both("component_name_uppercase", _component_text(lambda t: t.replace('"@method"', '"@METHOD"')),
         (401, "invalid_signature_input"), AS_BAD_REQUEST, "`\"@METHOD\"` instead of `\"@method\"`"),
    both("component_header_name_case", _component_text(lambda t: t.replace('"signature-key"', '"Signature-Key"')),
         (401, "invalid_signature_input"), AS_BAD_REQUEST, "`\"Signature-Key\"` in mixed case"),
    both("component_duplicated", _component_text(lambda t: t.replace('"@path"', '"@path" "@path"')),
         (401, "invalid_signature_input"), AS_BAD_REQUEST, "`\"@path\"` covered twice"),
    both("component_with_parameters", _component_text(lambda t: t.replace('"signature-key"', '"signature-key";sf')),
         (401, "invalid_signature_input"), AS_BAD_REQUEST,
         "component parameters (`;sf`) that would change what is signed"),
    both("component_unsupported_derived", _component_text(lambda t: t.replace("(", '("@status" ', 1)),
         (401, "unsupported_component"), AS_BAD_SIGNATURE, "a response-only derived component (`@status`)"),
    both("created_far_future", _created(NOW + 10 * 365 * 86400), (401, "signature_not_yet_valid"),
         AS_BAD_SIGNATURE, "`created` ten years ahead"),
    both("created_negative", _created_param(";created=-1"), (401, "invalid_signature_input"), AS_BAD_REQUEST,
         "`created=-1`"),
    both("created_decimal", _created_param(f";created={NOW}.5"), (401, "invalid_signature_input"),
         AS_BAD_REQUEST, "`created` as a decimal"),
    both("created_string", _created_param(f';created="{NOW}"'), (401, "invalid_signature_input"),
         AS_BAD_REQUEST, "`created` as a string"),
    both("created_out_of_range", _created_param(";created=10000000000000000"), (401, "invalid_signature_input"),
         AS_BAD_REQUEST, "`created` beyond the 15-digit structured-field integer range"),
    both("created_missing", _created_param(""), (401, "missing_created"), AS_BAD_SIGNATURE,
         "no `created` at all (nothing bounds the signature in time)"),
    both("created_repeated", _created_param(f";created={NOW};created={NOW + 1}"), (401, "invalid_signature_input"),
         AS_BAD_REQUEST, "`created` given twice"),
    both("expires_before_created", _created_param(f";created={NOW};expires={NOW - 10}"),
         (401, "invalid_signature_input"), AS_BAD_SIGNATURE, "`expires` earlier than `created`"),
    both("unknown_signature_parameter", _created_param(f';created={NOW};foo="bar"'),
         (401, "invalid_signature_input"), AS_BAD_REQUEST, "an unknown Signature-Input parameter"),
    both("alg_parameter_hmac", _created_param(f';created={NOW};alg="hmac-sha256"'), (401, "unsupported_algorithm"),
         AS_BAD_SIGNATURE, "Signature-Input `alg=\"hmac-sha256\"`"),
    both("signature_base_downgrade", lambda c: c.sign(base="demo-2026-01"), (401, "invalid_signature"),
         AS_BAD_SIGNATURE, "signed over the `demo-2026-01` base, which leaves `created` unsigned (off by default)"),
    both("signature_truncated", _bad_signature_bytes(lambda raw: b64(raw[:32])), (401, "invalid_signature"),
         AS_BAD_SIGNATURE, "the first 32 bytes of a genuine signature"),
    both("signature_mixed_alphabet", _bad_signature_bytes(_mixed_alphabet), (401, "invalid_signature_header"),
         AS_BAD_REQUEST, "a Signature value mixing base64 and base64url alphabets"),
    both("host_header_spoofing", _spoofed_host("Host"), (401, "invalid_signature"), AS_BAD_SIGNATURE,
         "signed for another authority, sent with that `Host` (the authority comes from configuration)"),
    both("forwarded_host_spoofing", _spoofed_host("X-Forwarded-Host"), (401, "invalid_signature"),
         AS_BAD_SIGNATURE, "signed for another authority, sent with `X-Forwarded-Host` naming it (not trusted)"),
    # ------------------------------------------------------------------ Content-Digest
    both("content_digest_unknown_algorithms_only", _digest_unknown_only, (401, "unsupported_digest_algorithm"),
         AS_BAD_REQUEST, "covered Content-Digest with only `md5` and `unixsum`"),
    both("content_digest_unknown_algorithm_body_swap", _digest_unknown_plus_body_swap,
         (401, "unsupported_digest_algorithm"), AS_BAD_REQUEST,
         "only an unknown digest algorithm, and the body changed in transit"),
    both("content_digest_several_values_one_wrong", _digest_one_wrong, (401, "digest_mismatch"), AS_BAD_SIGNATURE,
         "`sha-256` right, `sha-512` wrong"),
    both("content_digest_repeated_algorithm", _digest_repeated, (401, "invalid_content_digest"), AS_BAD_REQUEST,
         "`sha-256` twice: a wrong value first, the right one last"),
    both("content_digest_two_fields", _digest_two_fields, (401, "invalid_content_digest"), AS_BAD_REQUEST,
         "a second Content-Digest field added after signing"),
    both("content_digest_absent_but_covered", _digest_absent, (401, "missing_component"), AS_BAD_SIGNATURE,
         "signature covers content-digest, header removed"),
    both("body_oversized", _oversized_body, (413, "body_too_large"), (413, "invalid_request"),
         "a body over the limit (resource: `max_body_bytes`=1024; auth server: 64 KiB)",
         settings={"max_body_bytes": 1024}),
    # ------------------------------------------------------------------ Signature-Key: identifiers and SSRF
    both("ssrf_private_ip", _ssrf("https://10.0.0.1"), (401, "blocked_url"), AS_BAD_REQUEST,
         "`id` at a private address", forbidden=("10.0.0.1",)),
    both("ssrf_loopback", _ssrf("https://127.0.0.1:8443"), (401, "blocked_url"), AS_BAD_REQUEST,
         "`id` at 127.0.0.1", forbidden=("127.0.0.1",)),
    both("ssrf_loopback_ipv6", _ssrf("https://[::1]"), (401, "blocked_url"), AS_BAD_REQUEST, "`id` at [::1]",
         forbidden=("::1", "[::1]")),
    both("ssrf_link_local", _ssrf("https://169.254.10.10"), (401, "blocked_url"), AS_BAD_REQUEST,
         "`id` at a link-local address", forbidden=("169.254.10.10",)),
    both("ssrf_cloud_metadata", _ssrf(f"https://{METADATA_IP}/latest/meta-data"), (401, "blocked_url"),
         AS_BAD_REQUEST, "`id` at the cloud metadata address", forbidden=METADATA_HOSTS),
    both("ssrf_dns_private", _ssrf("https://internal.example"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a name that resolves to 10.0.0.7", forbidden=("internal.example",)),
    both("ssrf_dns_metadata", _ssrf("https://metadata.google.internal"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a name that resolves to 169.254.169.254", forbidden=("metadata.google.internal",)),
    both("ssrf_dns_mixed_answers", _ssrf("https://rebind.example"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a name with one public and one loopback address", forbidden=("rebind.example",)),
    both("ssrf_dns_ipv6_unique_local", _ssrf("https://v6-internal.example"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a name that resolves to fd00::7", forbidden=("v6-internal.example",)),
    both("ssrf_decimal_ip", _ssrf("https://2852039166"), (401, "blocked_url"), AS_BAD_REQUEST,
         "169.254.169.254 spelled as one decimal number", forbidden=("2852039166",)),
    both("ssrf_hex_ip", _ssrf("https://0xa9fea9fe"), (401, "blocked_url"), AS_BAD_REQUEST,
         "169.254.169.254 spelled in hex", forbidden=("0xa9fea9fe",)),
    both("ssrf_octal_ip", _ssrf("https://0251.0376.0251.0376"), (401, "blocked_url"), AS_BAD_REQUEST,
         "169.254.169.254 spelled in octal", forbidden=("0251.0376.0251.0376",)),
    both("ssrf_short_ip", _ssrf("https://127.1"), (401, "blocked_url"), AS_BAD_REQUEST,
         "127.0.0.1 spelled `127.1`", forbidden=("127.1",)),
    both("ssrf_ipv4_mapped_ipv6", _ssrf(f"https://[::ffff:{METADATA_IP}]"), (401, "blocked_url"), AS_BAD_REQUEST,
         "the metadata address as an IPv4-mapped IPv6 literal", forbidden=(f"::ffff:{METADATA_IP}", "::ffff:a9fe:a9fe")),
    both("ssrf_nat64_ip", _ssrf("https://[64:ff9b::a9fe:a9fe]"), (401, "blocked_url"), AS_BAD_REQUEST,
         "the metadata address through the NAT64 prefix", forbidden=("64:ff9b::a9fe:a9fe",)),
    both("ssrf_ipv6_unique_local", _ssrf("https://[fd00::1]"), (401, "blocked_url"), AS_BAD_REQUEST,
         "`id` at a unique-local IPv6 address", forbidden=("fd00::1",)),
    both("ssrf_userinfo", _ssrf(f"https://agent.example@{METADATA_IP}"), (401, "blocked_url"), AS_BAD_REQUEST,
         "userinfo that makes the host the metadata address", forbidden=METADATA_HOSTS),
    both("ssrf_fragment", _ssrf(f"https://agent.example#@{METADATA_IP}"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a fragment hiding the real path", forbidden=METADATA_HOSTS),
    both("ssrf_http_scheme", _ssrf("http://agent.example"), (401, "blocked_url"), AS_BAD_REQUEST,
         "plain http identifier (https only, loopback only behind the development switch)"),
    both("ssrf_file_scheme", _ssrf("file:///etc/passwd"), (401, "blocked_url"), AS_BAD_REQUEST,
         "a file: identifier"),
    both("ssrf_jwks_url_private", _jwks_direct("https://10.0.0.1/jwks.json"), (401, "blocked_url"), AS_BAD_REQUEST,
         "Signature-Key `jwks` URL at a private address", forbidden=("10.0.0.1",)),
    both("ssrf_metadata_jwks_uri_private", _metadata_jwks_uri(f"https://{METADATA_IP}/jwks.json"),
         (401, "blocked_url"), AS_BAD_REQUEST, "public metadata whose `jwks_uri` is the metadata address",
         forbidden=METADATA_HOSTS),
    both("ssrf_redirect_to_metadata", _redirect("metadata", f"http://{METADATA_IP}/latest/meta-data/"),
         (401, "discovery_failed"), AS_BAD_REQUEST, "the agent's metadata answering 302 to http://169.254.169.254/ (not followed)",
         forbidden=METADATA_HOSTS),
    both("ssrf_redirect_jwks_to_private", _redirect("jwks", "https://10.0.0.1/jwks.json"),
         (401, "discovery_failed"), AS_BAD_REQUEST, "JWKS answering 301 to a private address (not followed)",
         forbidden=("10.0.0.1",)),
    res("ssrf_x5u_private", _x5u("https://10.0.0.1/chain.pem"), (401, "blocked_url"),
        "x509 `x5u` at a private address (x509 enabled)", forbidden=("10.0.0.1",),
        settings={"x509_trust_roots": ("/nonexistent/aauth-test-roots.pem",)}),
    both("slow_document", _slow, (401, "discovery_failed"), AS_BAD_REQUEST,
         "metadata trickling in for 10 s; refused once `discovery_timeout` (0.3 s) passes",
         settings={"discovery_timeout": 0.3}, max_seconds=3.0),
    both("oversized_document_declared", _huge(True), (401, "document_too_large"), AS_BAD_REQUEST,
         "a 1 MiB metadata document with Content-Length"),
    both("oversized_document_streamed", _huge(False), (401, "document_too_large"), AS_BAD_REQUEST,
         "a 1 MiB metadata document streamed without Content-Length"),
    both("metadata_identity_mismatch", _metadata_mismatch, (401, "metadata_mismatch"), AS_BAD_REQUEST,
         "metadata at evil-agent.example claiming to be agent.example"),
    both("well_known_path_traversal", _raw_signature_key(
        f'sig1=(scheme=jwks id="{AGENT}" kid="key-1" well-known="../../admin")'),
        (401, "invalid_signature_key"), AS_BAD_REQUEST, "`well-known` with a path traversal"),
    both("well_known_issuer_as_agent", lambda c: c.sign(params=_jwks_params(ISSUER, "auth-key-1", "aauth-issuer"),
                                                          key=c.world.issuer.key),
         (401, "invalid_signature_key"), AS_BAD_REQUEST, "an auth server's key (`well-known=aauth-issuer`) as agent identity"),
    both("jwks_and_id_together", _raw_signature_key(
        f'sig1=(scheme=jwks id="{AGENT}" jwks="{AGENT}/jwks.json" kid="key-1")'),
        (401, "invalid_signature_key"), AS_BAD_REQUEST, "both `jwks` and `id` (ambiguous key source)"),
    both("signature_key_unknown_scheme", _raw_signature_key('sig1=(scheme=psk secret="x")'),
         (401, "unsupported_scheme"), AS_BAD_REQUEST, "an unknown Signature-Key scheme"),
    both("signature_key_repeated_parameter", _raw_signature_key(
        f'sig1=(scheme=jwks id="{AGENT}" id="{EVIL_AGENT}" kid="key-1" well-known="aauth-agent")'),
        (401, "invalid_signature_key"), AS_BAD_REQUEST, "`id` given twice"),
    # decision P4: an inline key may name the alg that fits it; any other alg is refused
    both("hwk_alg_none", _hwk_with({"alg": "none"}), (401, "unsupported_algorithm"), AS_BAD_REQUEST,
         "an inline key whose `alg` is `none`"),
    both("hwk_alg_hmac", _hwk_with({"alg": "HS256"}), (401, "unsupported_algorithm"), AS_BAD_REQUEST,
         "an inline key whose `alg` is `HS256` (a shared-secret algorithm)"),
    both("hwk_alg_other_key_type", _hwk_with({"alg": "ES256"}), (401, "invalid_key"), AS_BAD_REQUEST,
         "an Ed25519 inline key whose `alg` is `ES256` (algorithm confusion)"),
    both("hwk_rsa_key", _hwk_with({"kty": "RSA", "n": b64(b"\x01" * 256), "e": "AQAB"}, drop=("crv", "x")),
         (401, "invalid_signature_key"), AS_BAD_REQUEST, "an inline RSA key (never accepted)"),
    both("hwk_symmetric_key", _raw_signature_key('sig1=(scheme=hwk kty="oct" k="c2VjcmV0")'),
         (401, "invalid_signature_key"), AS_BAD_REQUEST, "an inline symmetric key"),
    # ------------------------------------------------------------------ replay
    both("replayed_request", _replay, (401, "replayed_request"), AS_BAD_SIGNATURE,
         "the same signed request sent twice"),
    both("replayed_request_reencoded", _replay_reencoded, (401, "replayed_request"), AS_BAD_SIGNATURE,
         "the same signature re-sent in standard base64 instead of base64url"),
    both("replayed_token_request", _replay_token_request, (401, "replayed_request"), AS_BAD_SIGNATURE,
         "a request presenting a token (resource) / a token exchange (auth server) replayed"),
    # ------------------------------------------------------------------ resource-only
    res("scope_widening_at_resource", lambda c: _scope_at_resource(c), (403, "insufficient_scope"),
        "an auth token for `data.read` used on a route that needs `data.admin`"),
    # ------------------------------------------------------------------ auth server only
    auth_server("exchange_untrusted_upstream", _exchange_untrusted, BAD_TOKEN,
                "token exchange presenting an auth token from an untrusted auth server"),
    auth_server("exchange_other_resources_upstream_token", _exchange_other_resource, BAD_TOKEN,
                "token exchange presenting an auth token issued for another resource"),
    auth_server("exchange_act_loop", _exchange_act_loop, BAD_TOKEN,
                "exchange whose upstream `act` chain already contains the intermediary"),
    auth_server("exchange_act_cycle", _exchange_act_cycle, BAD_TOKEN,
                "exchange whose upstream `act` chain names the same agent twice"),
    auth_server("exchange_act_depth_bomb", _exchange_act_depth, BAD_TOKEN,
                "exchange whose result would have 9 `act` levels (limit 8)"),
    auth_server("exchange_act_nesting_bomb", _exchange_act_bomb, BAD_TOKEN,
                "upstream token with 200 nested `act` objects"),
    auth_server("exchange_scope_widening", _exchange_scope_widening, (403, "access_denied"),
                "exchange asking downstream for `data.admin` with an upstream token for `data.read` "
                "(narrow_to_upstream_scope)", as_config={"narrow_to_upstream_scope": True}),
    auth_server("exchange_forged_resource_token", _exchange_forged_rt, (400, "invalid_resource_token"),
                "the intermediary mints the downstream's resource token itself"),
    auth_server("exchange_by_original_agent", _exchange_by_agent, AS_BAD_SIGNATURE,
                "the upstream agent signs an exchange meant for the intermediary"),
    auth_server("exchange_without_upstream_token", _exchange_without_jwt, AS_BAD_REQUEST,
                "exchange signed with scheme=jwks (no upstream token)"),
    auth_server("exchange_resource_token_as_upstream", _rt_as_auth_token, BAD_TOKEN,
                "a resource token presented as the upstream auth token"),
    auth_server("code_replayed", _code_replayed, (400, "invalid_grant"), "an authorization code redeemed twice",
                as_config={"policy": RequireConsent()}),
    auth_server("code_other_agent", _code_other_agent, (400, "invalid_grant"),
                "another agent redeems a code issued to the agent", as_config={"policy": RequireConsent()}),
    auth_server("code_wrong_redirect_uri", _code_wrong_redirect, (400, "invalid_grant"),
                "a code redeemed with another redirect_uri", as_config={"policy": RequireConsent()}),
    auth_server("auth_token_as_agent_credential", _auth_token_as_agent, AS_BAD_REQUEST,
                "an auth token (not an agent identity) signing `request_type=auth`"),
    auth_server("resource_token_stolen_by_other_agent", _stolen_rt, (400, "invalid_resource_token"),
                "a resource token issued to the agent used by another agent"),
    auth_server("resource_token_for_other_auth_server", _rt_other_as, (400, "invalid_resource_token"),
                "a resource token addressed to another auth server"),
    auth_server("resource_token_scope_tampered", _rt_tampered_scope, (400, "invalid_resource_token"),
                "a resource token whose scope was widened after signing"),
    auth_server("scope_widening_beyond_policy", _scope_beyond_policy, (403, "access_denied"),
                "a resource token asking for a scope the policy never grants",
                as_config={"policy": AllowAll(ScopeLimits({RESOURCE: ["data.read", "data.write"]}))}),
]


def _scope_at_resource(ctx: Ctx) -> Req:
    return ctx.sign(key=ctx.presenter, scheme="jwt", params={"jwt": ctx.token(scope="data.read")},
                    path="/data-admin")


def _check_table() -> None:
    names = [a.name for a in ATTACKS]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, duplicates


ATTACKS += ATTACKS_11  # aauth-11 at a resource (issue 14): attacks_11.py
_check_table()
