"""The shape of the adversarial table (issue 6): requests, the context they are built from,
and one named :class:`Attack` with the refusal it must get.

The rows themselves are :mod:`.attacks` (January, both targets) and :mod:`.attacks_11`
(aauth-11 at a resource); the runners and docs/security.md read them through
``attacks.ATTACKS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from aauth_core import dialect
from aauth_core.keys import SigningKey, b64url_encode
from aauth_core.tokens import mint_auth_token, mint_resource_token

from ..conftest import AGENT, ISSUER, NOW, RESOURCE, signed_request
from .conftest import DOWNSTREAM, AttackWorld

if TYPE_CHECKING:
    from aauth_core.service import AAuthService

__all__ = ["AS", "BOTH", "RES", "Attack", "Ctx", "Outcome", "Req", "Target", "auth_server", "b64", "both", "forge",
           "res"]

Target = Literal["resource", "authserver"]
BOTH: tuple[Target, ...] = ("resource", "authserver")
RES: tuple[Target, ...] = ("resource",)
AS: tuple[Target, ...] = ("authserver",)

REDIRECT = "https://agent.example/callback"
FORM_TYPE = dialect.FORM_CONTENT_TYPE

# ----------------------------------------------------------------------------- requests


@dataclass
class Req:
    """One HTTP request; headers as a list so a field can be sent twice."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None = None
    #: Run by the resource runner just before this request is sent (e.g. a person server
    #: revoking the token the previous request presented).
    before: Callable[[], None] | None = None

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set(self, name: str, value: str) -> Req:
        """A copy with ``name`` replaced (or added)."""
        kept = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        return replace(self, headers=[*kept, (name, value)])

    def add(self, name: str, value: str) -> Req:
        """A copy with one more ``name`` field (a repeated header)."""
        return replace(self, headers=[*self.headers, (name, value)])

    def combined(self) -> dict[str, str]:
        """Repeated fields joined with ", ", as a WSGI server or Django's ASGI handler does."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out[k] = f"{out[k]}, {v}" if k in out else v
        return out


@dataclass
class Ctx:
    """What an attack is built from: the World, the target, and (at the auth server) its env;
    at a resource, ``service`` is the adapter's own :class:`AAuthService` (what a person
    server's revocation reaches, RS-43)."""

    world: AttackWorld
    target: Target
    env: Any = None  # tests.authserver.conftest.AS when target == "authserver"
    _created: int = NOW
    service: AAuthService | None = None
    #: Keys of the parties a row published, by (URL, kid): a second request in one row is
    #: signed by the same person server, as it would be (its JWKS is cached by then).
    keys: dict[tuple[str, str], SigningKey] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return RESOURCE if self.target == "resource" else ISSUER

    @property
    def issuer_key(self) -> SigningKey:
        """The key of the auth server whose tokens this target trusts."""
        w = self.world
        return (w.issuer if self.target == "resource" else w.upstream).key  # type: ignore[union-attr]

    @property
    def issuer_id(self) -> str:
        w = self.world
        return (w.issuer if self.target == "resource" else w.upstream).id  # type: ignore[union-attr]

    @property
    def presenter(self) -> SigningKey:
        """Who presents a token: the agent at the resource, the intermediary (RESOURCE) in an exchange."""
        return self.world.agent.key if self.target == "resource" else self.world.resource.key

    def created(self) -> int:
        """A fresh ``created`` for every legitimate request (so only deliberate repeats are replays)."""
        self._created += 1
        return self._created

    # ------------------------------------------------------------------ building requests

    def sign(self, *, key: SigningKey | None = None, scheme: str = "jwks", params: Mapping[str, str] | None = None,
             created: int | None = None, label: str = "sig1", base: str = "rfc9421", body: bytes | None = None,
             path: str | None = None, form: Mapping[str, str] | None = None, origin: str | None = None) -> Req:
        """A correctly signed request to this target.

        Resource: ``GET /data`` (``POST /upload`` with a body).  Auth server: ``POST
        /agent/token`` with ``form`` (default: an agent-is-resource ``auth`` request).
        """
        headers: dict[str, str] = {}
        if self.target == "resource":
            method = "POST" if body is not None else "GET"
            path = path or ("/upload" if body is not None else "/data")
            if body is not None:
                headers["Content-Type"] = "application/json"
        else:
            method, path = "POST", path or "/agent/token"
            if body is None:
                body = urlencode(dict(form or {"request_type": "auth", "scope": "data.read",
                                               "redirect_uri": REDIRECT})).encode()
            headers["Content-Type"] = FORM_TYPE
        signed, _ = signed_request(method, (origin or self.base) + path, key=key or self.world.agent.key, scheme=scheme,
                                   params=params, body=body, headers=headers,
                                   created=self.created() if created is None else created, base=base, label=label)
        return Req(method, path, list(signed.items()), body)

    def present(self, token: str, *, key: SigningKey | None = None, created: int | None = None) -> Req:
        """Present ``token`` in Signature-Key: at the resource on ``/data-auth``, at the auth
        server as the upstream token of an exchange (signed by the intermediary)."""
        if self.target == "resource":
            return self.sign(key=key or self.presenter, scheme="jwt", params={"jwt": token}, path="/data-auth",
                             created=created)
        form = {"request_type": "exchange", "resource_token": self.downstream_rt()}
        return self.sign(key=key or self.presenter, scheme="jwt", params={"jwt": token}, form=form, created=created)

    def downstream_rt(self, *, scope: str = "data.read", agent_jkt: str | None = None,
                      key: SigningKey | None = None, iss: str = DOWNSTREAM) -> str:
        """The downstream resource's resource token for the intermediary (RESOURCE)."""
        w = self.world
        assert w.downstream is not None
        return mint_resource_token(key or w.downstream.key, iss=iss, aud=ISSUER, agent=RESOURCE,
                                   agent_jkt=agent_jkt or w.resource.key.thumbprint, now=w.clock(), scope=scope)

    # ------------------------------------------------------------------ tokens

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims of a valid auth token for this target (``None`` drops a claim)."""
        now = int(self.world.clock())
        out: dict[str, Any] = {"iss": self.issuer_id, "aud": RESOURCE,
                               "cnf": {"jwk": self.world.agent.key.public_jwk()}, "scope": "data.read data.write",
                               "exp": now + 3600, "iat": now, "agent": AGENT}
        for name, value in changes.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def token(self, *, issuer: SigningKey | None = None, iss: str | None = None, **claims: Any) -> str:
        """A real auth token (minted by our own code) from this target's trusted issuer."""
        c = self.claims(**claims)
        extra = {k: v for k, v in c.items() if k not in ("iss", "aud", "cnf", "scope", "exp", "iat", "agent",
                                                         "act", "sub")}
        return mint_auth_token(issuer or self.issuer_key, iss=iss or c["iss"], aud=c["aud"], cnf_jwk=c["cnf"]["jwk"],
                               now=self.world.clock(), agent=c.get("agent"), scope=c.get("scope"),
                               act=c.get("act"), sub=c.get("sub"), extra=extra or None)


def b64(data: bytes | str) -> str:
    return b64url_encode(data.encode() if isinstance(data, str) else data)


def forge(header: Mapping[str, Any] | str, claims: Mapping[str, Any] | str, key: SigningKey | None, *,
          signature: bytes | None = None) -> str:
    """A compact JWS built by hand: any header, any payload, signed by ``key`` (Ed25519) or not at all."""
    h = b64(header if isinstance(header, str) else json.dumps(header))
    p = b64(claims if isinstance(claims, str) else json.dumps(claims))
    if signature is None:
        signature = key.sign(f"{h}.{p}".encode()) if key is not None else b""
    return f"{h}.{p}.{b64(signature)}"


# ----------------------------------------------------------------------------- the table


Outcome = tuple[int, str]


@dataclass(frozen=True)
class Attack:
    """One named attack: how to build it, and the refusal each target must give.

    ``status``/``code`` is the outcome at the first of ``targets``; ``as_outcome`` the
    auth server's when the attack runs against both.  ``settings`` loosen or tighten
    resource settings (also given to the auth server's verifier); ``as_config``
    overrides the auth server's config (``policy`` included).  ``forbidden``: hosts
    the network must never be asked for.  ``max_seconds``: the refusal must be fast.

    aauth-11 rows (P6) answer problem+json: ``signature_error`` names the ``Signature-Error``
    code of a signature or token failure; ``problem11`` marks a refusal that is no signature
    failure (a challenge, a 403) and so carries no ``Signature-*`` header; ``requirement`` is
    the ``AAuth-Requirement`` the refusal must carry (``None``: none at all).
    """

    name: str
    build: Callable[[Ctx], Req | list[Req]]
    status: int
    code: str
    description: str
    targets: tuple[Target, ...] = RES
    as_outcome: Outcome | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    as_config: Mapping[str, Any] = field(default_factory=dict)
    forbidden: tuple[str, ...] = ()
    max_seconds: float | None = None
    signature_error: str | None = None  # aauth-11: the Signature-Error code (problem+json body)
    problem11: bool = False  # aauth-11: a problem+json refusal without Signature-Error
    requirement: str | None = None  # aauth-11: the AAuth-Requirement's requirement

    @property
    def is_11(self) -> bool:
        return self.signature_error is not None or self.problem11

    def outcome(self, target: Target) -> Outcome:
        if target == self.targets[0]:
            return self.status, self.code
        assert self.as_outcome is not None and target == "authserver"
        return self.as_outcome


def both(name: str, build: Callable[[Ctx], Req | list[Req]], resource: Outcome, authserver: Outcome,
         description: str, **kw: Any) -> Attack:
    return Attack(name, build, resource[0], resource[1], description, targets=BOTH, as_outcome=authserver, **kw)


def res(name: str, build: Callable[[Ctx], Req | list[Req]], outcome: Outcome, description: str, **kw: Any) -> Attack:
    return Attack(name, build, outcome[0], outcome[1], description, targets=RES, **kw)


def auth_server(name: str, build: Callable[[Ctx], Req | list[Req]], outcome: Outcome, description: str,
                **kw: Any) -> Attack:
    return Attack(name, build, outcome[0], outcome[1], description, targets=AS, **kw)


