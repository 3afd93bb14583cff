"""The agent-side request signer: one value per keying scheme (protocol B §2.2, §2.3).

A :class:`RequestSigner` is *how* a party signs: its private key and what goes in
``Signature-Key``.  The signing itself is :func:`aauth_core.httpsig.sign_request`
(components of B §2.3, ``Content-Digest`` for bodies); this module only chooses
the scheme parameters, so no protocol rule is written twice.

``SignerOptions(profile="aauth-11")`` (:meth:`SignerOptions.aauth_11`) signs as an -11
agent: the SK-09 Dictionary ``Signature-Key``, the components of
:func:`~aauth_core.wire.coverage.required_components_11`, no ``alg``/``keyid``, and a
standard base64 ``Signature``.  January signing is unchanged by these options.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

from .. import dialect
from ..errors import AAuthError
from ..headers import Scheme, SignatureKey
from ..httpsig import Base, SignedHeaders, sign_request
from ..keys import SigningKey
from ..settings import SignatureKeyFormat
from ..tokens import peek
from ..wire.coverage import required_components_11
from .values import origin_of

__all__ = ["RequestSigner", "SignerOptions", "SignerProfile"]

SignerProfile = Literal["aauth-2026-01", "aauth-11"]
SignatureEncoding = Literal["base64", "base64url"]


@dataclass(frozen=True, slots=True)
class SignerOptions:
    """Wire choices: signature base (A2), Signature-Key syntax (A4) and label (A5).

    ``profile="aauth-11"`` signs as an -11 agent (build it with :meth:`aauth_11`):
    ``key_format`` is then always SK-09's Dictionary.  ``signature_encoding``: the
    ``Signature`` alphabet; ``None`` is the profile's (January unpadded base64url, -11
    standard base64).  Under -11, ``"base64url"`` is only a compatibility switch for
    aauth-signing 0.2.0 / aauth 0.5.0, which read nothing else (protocol-current §5.1
    bug 1); every other -11 verifier reads the standard form.  ``base64url_origins`` (-11)
    narrows that switch to those origins (``scheme://host[:port]``): an agent whose resource
    is such a peer and whose person server reads only the standard form needs both.  ``cover_query`` (-11):
    cover ``@query`` when the URL has a query (-11 does not require it; we protect the
    query by default).  ``extra_components`` (-11): what a resource asks for besides
    the base set (its ``additional_signature_components``, or a ``required_input``).
    """

    base: Base = "rfc9421"
    key_format: SignatureKeyFormat = "transcript"
    label: str = "sig1"
    profile: SignerProfile = "aauth-2026-01"
    signature_encoding: SignatureEncoding | None = None
    cover_query: bool = True
    extra_components: tuple[str, ...] = ()
    base64url_origins: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.profile == "aauth-11" and self.base != "rfc9421":
            raise ValueError("aauth-11 signs with the RFC 9421 base only")
        object.__setattr__(self, "base64url_origins", frozenset(origin_of(o) for o in self.base64url_origins))

    @classmethod
    def aauth_11(cls, *, signature_encoding: SignatureEncoding = "base64", label: str = "sig",
                 cover_query: bool = True, extra_components: tuple[str, ...] = (),
                 base64url_origins: Iterable[str] = ()) -> SignerOptions:
        """The options of an -11 agent: label ``sig``, standard base64 unless told."""
        return cls(label=label, profile="aauth-11", signature_encoding=signature_encoding,
                   cover_query=cover_query, extra_components=tuple(extra_components),
                   base64url_origins=frozenset(base64url_origins))

    def encoding_for(self, url: str) -> SignatureEncoding:
        """The ``Signature`` alphabet for a request to ``url``."""
        if self.profile == "aauth-11":
            if self.base64url_origins and origin_of(url) in self.base64url_origins:
                return "base64url"
            return self.signature_encoding or "base64"
        return self.signature_encoding or "base64url"  # sign_request's default: January unchanged

    def components_11(self, url: str, headers: Mapping[str, str], *, body: bool) -> tuple[str, ...]:
        """What an -11 signature of this request covers (docs/client-11.md, "Signing")."""
        extra: list[str] = []
        if self.cover_query and urlsplit(url).query:
            extra.append("@query")
        extra += self.extra_components
        authorization = any(k.lower() == "authorization" for k in headers)
        return required_components_11(body=body, authorization=authorization, extra=extra)


@dataclass(frozen=True, slots=True)
class RequestSigner:
    """A private key plus the Signature-Key it is presented with.

    Build one with :meth:`hwk`, :meth:`jwks` or :meth:`jwt`; :meth:`with_token`
    gives the same key presenting an auth token (``scheme=jwt``).
    """

    key: SigningKey
    scheme: Scheme
    params: Mapping[str, str] = field(repr=False)
    options: SignerOptions = SignerOptions()

    @classmethod
    def hwk(cls, key: SigningKey, *, options: SignerOptions = SignerOptions()) -> RequestSigner:
        """Pseudonymous: the public key inline (``scheme=hwk``, no ``kid``/``alg``)."""
        params = {k: v for k, v in key.public_jwk().items() if k not in ("kid", "alg", "use")}
        return cls(key, "hwk", MappingProxyType(params), options)

    @classmethod
    def jwks(
        cls,
        key: SigningKey,
        id: str,
        *,
        well_known: str | None = dialect.WELL_KNOWN_AGENT,
        options: SignerOptions = SignerOptions(),
    ) -> RequestSigner:
        """Identified by a published JWKS: ``well_known`` is ``aauth-agent`` for an agent
        server and ``aauth-resource`` for a resource acting as an agent."""
        if not key.kid:
            raise ValueError("a jwks signer needs a key with a kid")
        params = {"id": id.rstrip("/"), "kid": key.kid}
        if well_known is not None:
            params["well-known"] = well_known
        return cls(key, "jwks", MappingProxyType(params), options)

    @classmethod
    def jwt(cls, key: SigningKey, token: str, *, options: SignerOptions = SignerOptions()) -> RequestSigner:
        """Presenting a JWT (an agent token for a delegate, or an auth token) whose
        ``cnf.jwk`` is ``key``'s public half."""
        return cls(key, "jwt", MappingProxyType({"jwt": token}), options)

    def with_token(self, token: str) -> RequestSigner:
        """The same key, presenting ``token`` with ``scheme=jwt``."""
        return RequestSigner.jwt(self.key, token, options=self.options)

    def with_options(self, options: SignerOptions) -> RequestSigner:
        return replace(self, options=options)

    @property
    def agent_id(self) -> str | None:
        """The agent identifier this signer proves, when it proves one.

        ``jwks``: the ``id``; ``jwt`` with an agent token: its ``iss`` (read without
        verification: it is our own token, only used to derive defaults).
        """
        if self.scheme == "jwks":
            return self.params.get("id")
        if self.scheme == "jwt":
            try:
                unverified = peek(self.params["jwt"])
            except AAuthError:
                return None
            iss = unverified.claims.get("iss")
            if unverified.typ == dialect.TYP_AGENT and isinstance(iss, str):
                return iss.rstrip("/")
        return None

    def signature_key(self) -> SignatureKey:
        fmt = "sk" if self.options.profile == "aauth-11" else self.options.key_format
        return SignatureKey.build(self.scheme, self.params, label=self.options.label, fmt=fmt)

    def sign(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        created: int,
        content_digest: str | None = None,
        nonce: str | None = None,
    ) -> SignedHeaders:
        """The headers to add: Signature-Input, Signature, Signature-Key (and Content-Digest)."""
        opts = self.options
        if opts.profile == "aauth-11":
            components = opts.components_11(url, headers, body=bool(body) or content_digest is not None)
            return sign_request(
                method, url, headers, body, key=self.key, signature_key=self.signature_key(), created=created,
                base=opts.base, content_digest=content_digest, nonce=nonce, components=components,
                encoding=opts.encoding_for(url),
            )
        return sign_request(
            method, url, headers, body, key=self.key, signature_key=self.signature_key(), created=created,
            base=opts.base, content_digest=content_digest, nonce=nonce, encoding=opts.encoding_for(url),
        )
