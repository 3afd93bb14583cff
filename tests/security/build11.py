"""What the aauth-11 rows of the attack table are built from: the row constructors, the
parties an -11 request involves (an agent provider, person servers, access servers, all
published on the World's in-process network with fresh keys) and requests signed as an
-11 agent signs them (SK-09 ``sig=jwt``, RFC 9421 base, standard base64).

Every builder here makes a request our resource accepts when nothing is changed (the
controls in test_controls_11.py); a row changes one thing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aauth_core.httpsig import component_value
from aauth_core.keys import SigningKey
from aauth_core.request import RequestView

from ..conftest import NOW, RESOURCE
from ..profile11.mint import (
    ACCESS,
    AP,
    BASE,
    PS,
    agent_token,
    auth_claims,
    mint,
    person_claims,
    publish_ap,
    publish_server,
    sign11,
)
from .table import Attack, Ctx, Outcome, Req, res

__all__ = ["ACCESS2", "ACCESS_DOC", "AP2", "AUTH_PATH_11", "BODY", "DUAL", "JANUARY_ONLY", "ONLY_11", "PATH_11",
           "PERSON_DOC", "PS2", "TRUST", "TokenSpec", "UPLOAD_PATH_11", "agent11_request", "ap", "components_of",
           "problem11", "publish", "res11", "res11_january", "resign11", "server", "sign_at",
           "signed_person_request", "token11"]

DUAL = ("aauth-2026-01", "aauth-11")
ONLY_11 = ("aauth-11",)
JANUARY_ONLY = ("aauth-2026-01",)
AP2 = "https://ap2.example"
PS2 = "https://ps2.example"
ACCESS2 = "https://access2.example"
PATH_11 = "/data-jwks"  # an identity route: a genuine -11 agent or person token is let in here
AUTH_PATH_11 = "/data-auth"  # authorization:data.read: an auth token granting data.read is let in
UPLOAD_PATH_11 = "/upload"  # signature level, POST with a body
BODY = b'{"amount": 100}'
PERSON_DOC, ACCESS_DOC = "aauth-person.json", "aauth-access.json"
#: The trust most token rows run under: the person server is listed (so its auth tokens count).
TRUST: Mapping[str, Any] = {"person_servers": (PS,)}


# ----------------------------------------------------------------------------- rows


def res11(name: str, build: Callable[[Ctx], Req | list[Req]], code: str, description: str, *,
          profiles: tuple[str, ...] = DUAL, settings: Mapping[str, Any] | None = None, **kw: Any) -> Attack:
    """A resource attack under aauth-11: 401, ``Signature-Error: error=<code>``, problem+json."""
    return res(name, build, (401, code), description, settings={"profiles": profiles, **(settings or {})},
               signature_error=code, **kw)


def problem11(name: str, build: Callable[[Ctx], Req | list[Req]], outcome: Outcome, description: str, *,
              profiles: tuple[str, ...] = DUAL, settings: Mapping[str, Any] | None = None, **kw: Any) -> Attack:
    """An -11 refusal that is no signature failure: problem+json ``error``, no ``Signature-*``."""
    return res(name, build, outcome, description, settings={"profiles": profiles, **(settings or {})},
               problem11=True, **kw)


def res11_january(name: str, build: Callable[[Ctx], Req | list[Req]], outcome: Outcome, description: str, *,
                  profiles: tuple[str, ...] = DUAL, settings: Mapping[str, Any] | None = None,
                  **kw: Any) -> Attack:
    """An -11-shaped request that classification (P2) hands to January: January's refusal."""
    return res(name, build, outcome, description, settings={"profiles": profiles, **(settings or {})}, **kw)


# ----------------------------------------------------------------------------- parties


def ap(ctx: Ctx, *, at: str = AP, kid: str = "ap-key-1", issuer: Any = ...) -> SigningKey:
    """An -11 agent provider published at ``at`` (its metadata naming ``issuer``)."""
    key = ctx.keys.setdefault((at, kid), SigningKey.generate(kid=kid))
    publish_ap(ctx.world.network, key, ap=at, issuer=issuer)
    return key


def server(ctx: Ctx, at: str = PS, dwk: str = PERSON_DOC, *, kid: str = "ps-key-1", issuer: Any = ...,
           key: SigningKey | None = None) -> SigningKey:
    """A person (``aauth-person.json``) or access (``aauth-access.json``) server published at
    ``at``: its metadata naming ``issuer`` (``...``: itself; ``None``: no ``issuer``) and its JWKS."""
    key = key or ctx.keys.setdefault((at, kid), SigningKey.generate(kid=kid))
    publish_server(ctx.world.network, key, at, dwk, issuer=issuer)
    return key


def publish(ctx: Ctx, url: str, document: Any) -> None:
    ctx.world.network.publish(url, document)


# ----------------------------------------------------------------------------- requests


def sign_at(ctx: Ctx, path: str, agent: SigningKey, token: str, *, method: str = "GET", body: bytes | None = None,
            components: Sequence[str] | None = None, created: int | None = None, **kw: Any) -> Req:
    """A request to ``path`` signed by ``agent`` presenting ``token`` as an -11 agent signs it."""
    if components is None:
        components = (*BASE, "content-type", "content-digest") if body else BASE
    headers = sign11(method, RESOURCE + path, agent, token, components=components, body=body,
                     created=ctx.created() if created is None else created, **kw)
    return Req(method, path, list(headers.items()), body)


def agent11_request(ctx: Ctx, *, path: str = PATH_11, **claims: Any) -> Req:
    """A genuine -11 agent token from the published AP, presented at ``path``."""
    agent = SigningKey.generate()
    return sign_at(ctx, path, agent, agent_token(ap(ctx), agent, **claims))


class TokenSpec:
    """An -11 person or auth token as its issuer mints it, and who presents it where.

    ``kind``: ``person`` (the person server's ``aa-person+jwt``, at :data:`PATH_11`),
    ``auth`` (its three-party ``aa-auth+jwt``, at :data:`AUTH_PATH_11`) or ``access`` (the
    resource's access server's four-party ``aa-auth+jwt``).  Keyword claims override the
    honest ones (``None`` drops one); ``typ``/``alg`` the JWS header.
    """

    def __init__(self, kind: str = "person", *, typ: str | None = None, alg: str | None = None, at: str | None = None,
                 dwk_doc: str | None = None, issuer_doc: Any = ..., path: str | None = None,
                 lifetime: int = 3600, now: float = NOW, **claims: Any) -> None:
        self.kind = kind
        self.typ = typ or ("aa-person+jwt" if kind == "person" else "aa-auth+jwt")
        self.alg = alg
        self.at = at or (ACCESS if kind == "access" else PS)
        self.dwk_doc = dwk_doc or (ACCESS_DOC if kind == "access" else PERSON_DOC)
        self.issuer_doc = issuer_doc
        self.path = path or (PATH_11 if kind == "person" else AUTH_PATH_11)
        self.lifetime, self.now = lifetime, now
        self.claims = claims

    def publish(self, ctx: Ctx) -> SigningKey:
        kid = "as-key-1" if self.kind == "access" else "ps-key-1"
        return server(ctx, self.at, self.dwk_doc, kid=kid, issuer=self.issuer_doc)

    def claims_for(self, agent: SigningKey) -> dict[str, Any]:
        over = dict(self.claims)
        aud = over.pop("aud", RESOURCE)
        if self.kind == "access":
            over = {"iss": ACCESS, "dwk": ACCESS_DOC, **over}
        make = person_claims if self.kind == "person" else auth_claims
        return make(agent, aud=aud, now=self.now, lifetime=self.lifetime, **over)

    def token(self, issuer: SigningKey, agent: SigningKey) -> str:
        return mint(issuer, self.claims_for(agent), typ=self.typ, alg=self.alg)


def token11(kind: str = "person", **spec: Any) -> Callable[[Ctx], Req]:
    """The builder of one :class:`TokenSpec`: publish its issuer, mint, sign, present."""
    made = TokenSpec(kind, **spec)

    def build(ctx: Ctx) -> Req:
        agent = SigningKey.generate()
        return sign_at(ctx, made.path, agent, made.token(made.publish(ctx), agent))

    return build


def components_of(req: Req) -> str:
    """The inner list of a signed request's Signature-Input, as written: ``("@method" ...)``."""
    value = req.get("Signature-Input") or ""
    return value[value.index("("): value.index(")") + 1]


def resign11(req: Req, inner: str, key: SigningKey, *, label: str = "sig") -> Req:
    """Replace Signature-Input by ``label=inner`` (verbatim text) and sign the base a lenient
    verifier would build from it (component names lower-cased), in standard base64: so only
    the verifier's own rules can refuse what ``inner`` says."""
    listed = inner[inner.index("(") + 1: inner.index(")")]
    names = [part.split(";")[0].strip('"') for part in listed.split()]
    view = RequestView.from_url(req.method, RESOURCE + req.path, req.headers, req.body)
    lines = [f'"{n}": {"200" if n == "@status" else component_value(n.lower(), view)}' for n in names]
    lines.append(f'"@signature-params": {inner}')
    signature = base64.b64encode(key.sign("\n".join(lines).encode())).decode()
    return req.set("Signature-Input", f"{label}={inner}").set("Signature", f"{label}=:{signature}:")


def signed_person_request(ctx: Ctx, *, path: str = PATH_11, body: bytes | None = None,
                          **sign: Any) -> tuple[Req, SigningKey, str]:
    """A genuine person-token request (the person server published and listed), with the
    agent's key and the token, so a row can change the request and sign it again."""
    spec = TokenSpec("person", path=path)
    agent = SigningKey.generate()
    token = spec.token(spec.publish(ctx), agent)
    method = "POST" if body is not None else "GET"
    return sign_at(ctx, path, agent, token, method=method, body=body, **sign), agent, token
