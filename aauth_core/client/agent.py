"""What an agent server publishes, and agent tokens for its delegates.

An agent server is identified by its URL: it serves ``/.well-known/aauth-agent``
and a JWKS (B §4.1, §4.4), and may issue ``agent+jwt`` tokens binding a delegate
(``sub``) to the delegate's own key (B §1.2 flow 6) so the delegate can sign with
``scheme=jwt``.  How a delegate asks for its token is out of the protocol's scope;
the sample apps expose it however they like.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import dialect
from ..keys import SigningKey, jwks_document
from ..tokens import mint_agent_token
from .signer import RequestSigner, SignerOptions

__all__ = ["AgentServer", "agent_metadata"]


def agent_metadata(agent_id: str, *, jwks_uri: str | None = None, **extra: Any) -> dict[str, Any]:
    """``/.well-known/aauth-agent``: ``agent``, ``jwks_uri`` and optional fields
    (``redirect_uris``, ``name``, ``logo_uri``, ...) given as keywords."""
    agent_id = agent_id.rstrip("/")
    doc: dict[str, Any] = {dialect.METADATA_ID_FIELD[dialect.WELL_KNOWN_AGENT]: agent_id,
                           "jwks_uri": jwks_uri or f"{agent_id}/jwks.json"}
    doc.update({k: v for k, v in extra.items() if v is not None})
    return doc


@dataclass
class AgentServer:
    """An agent server's identity: its documents, its signer and delegate tokens."""

    agent_id: str
    keys: Sequence[SigningKey]
    clock: Callable[[], float] = time.time
    metadata_extra: Mapping[str, Any] = field(default_factory=dict)
    agent_token_lifetime: int = 3600

    def __post_init__(self) -> None:
        if not self.keys or any(k.kid is None for k in self.keys):
            raise ValueError("an agent server needs signing keys with a kid")
        self.agent_id = self.agent_id.rstrip("/")

    @property
    def metadata_path(self) -> str:
        return f"/.well-known/{dialect.WELL_KNOWN_AGENT}"

    def metadata(self) -> dict[str, Any]:
        return agent_metadata(self.agent_id, **dict(self.metadata_extra))

    def jwks(self) -> dict[str, Any]:
        return jwks_document(self.keys)

    def signer(self, options: SignerOptions | None = None) -> RequestSigner:
        """Sign as the agent server itself (``scheme=jwks``, ``well-known="aauth-agent"``)."""
        return RequestSigner.jwks(self.keys[0], self.agent_id, options=options or SignerOptions())

    def issue_agent_token(
        self, sub: str, cnf_jwk: Mapping[str, Any], *, lifetime: int | None = None,
        aud: str | Sequence[str] | None = None,
    ) -> str:
        """An ``agent+jwt`` for delegate ``sub`` holding the key ``cnf_jwk`` (public only)."""
        return mint_agent_token(self.keys[0], iss=self.agent_id, sub=sub, cnf_jwk=cnf_jwk, now=self.clock(),
                                lifetime=lifetime or self.agent_token_lifetime, aud=aud)

    def delegate_signer(self, sub: str, key: SigningKey, options: SignerOptions | None = None) -> RequestSigner:
        """Issue a token for ``key`` and return the delegate's ``scheme=jwt`` signer."""
        return RequestSigner.jwt(key, self.issue_agent_token(sub, key.public_jwk()),
                                 options=options or SignerOptions())
