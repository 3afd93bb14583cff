"""The agent-side request signer: one value per keying scheme (protocol B §2.2, §2.3).

A :class:`RequestSigner` is *how* a party signs: its private key and what goes in
``Signature-Key``.  The signing itself is :func:`aauth_core.httpsig.sign_request`
(components of B §2.3, ``Content-Digest`` for bodies); this module only chooses
the scheme parameters, so no protocol rule is written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .. import dialect
from ..errors import AAuthError
from ..headers import Scheme, SignatureKey
from ..httpsig import Base, SignedHeaders, sign_request
from ..keys import SigningKey
from ..settings import SignatureKeyFormat
from ..tokens import peek

__all__ = ["RequestSigner", "SignerOptions"]


@dataclass(frozen=True, slots=True)
class SignerOptions:
    """Wire choices: signature base (A2), Signature-Key syntax (A4) and label (A5)."""

    base: Base = "rfc9421"
    key_format: SignatureKeyFormat = "transcript"
    label: str = "sig1"


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
        return SignatureKey.build(self.scheme, self.params, label=self.options.label, fmt=self.options.key_format)

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
        return sign_request(
            method, url, headers, body, key=self.key, signature_key=self.signature_key(), created=created,
            base=self.options.base, content_digest=content_digest, nonce=nonce,
        )
