"""Resource as agent: call a downstream resource on behalf of a verified request.

Protocol A7 / B §7: the intermediary signs with its *own* resource key
(``scheme=jwks``, ``well-known="aauth-resource"``); on an ``auth-token`` challenge it
sends ``request_type=exchange&resource_token=...`` presenting the upstream auth
token in ``Signature-Key`` (``scheme=jwt``) — still signed with its own key — and
retries with the exchanged token.  The downstream auth server nests ``act``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import dialect
from ..context import VerifiedRequest
from ..errors import AAuthError
from ..keys import SigningKey
from ._httpx import Library, auth_class
from .flow import ClientOptions, FlowEngine
from .signer import RequestSigner, SignerOptions
from .token_cache import TokenCache

__all__ = ["ResourceAgent"]


@dataclass
class ResourceAgent:
    """A resource's identity when it acts as an agent.

    One instance per resource; it keeps one token cache, partitioned by upstream
    token, so exchanged tokens are reused only for the same upstream grant.
    """

    resource_id: str
    keys: Sequence[SigningKey]
    options: ClientOptions = field(default_factory=ClientOptions)
    signer_options: SignerOptions = field(default_factory=SignerOptions)
    library: Library = "httpx"
    cache: TokenCache = field(default_factory=TokenCache)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a resource agent needs its signing key")
        self.resource_id = self.resource_id.rstrip("/")

    @property
    def signer(self) -> RequestSigner:
        return RequestSigner.jwks(self.keys[0], self.resource_id, well_known=dialect.WELL_KNOWN_RESOURCE,
                                  options=self.signer_options)

    def auth_for(self, upstream: VerifiedRequest, *, library: Library | None = None) -> Any:
        """An ``Auth`` that calls downstream on behalf of ``upstream`` (which must carry an auth token)."""
        if upstream.token is None or upstream.token_type != dialect.TYP_AUTH:
            raise AAuthError("a token exchange needs an upstream request authorised with an auth token",
                             code="authorization_required")
        engine = FlowEngine(self.signer, options=self.options, cache=self.cache, exchange_token=upstream.token)
        return auth_class(library or self.library)(engine, library or self.library)

    def client(self, upstream: VerifiedRequest, **kwargs: Any) -> Any:
        """A ``Client`` (with the redirect guard) calling downstream on behalf of ``upstream``."""
        return self.auth_for(upstream).client(**kwargs)

    def async_client(self, upstream: VerifiedRequest, **kwargs: Any) -> Any:
        return self.auth_for(upstream).async_client(**kwargs)
