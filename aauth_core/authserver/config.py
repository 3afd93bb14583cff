"""``AuthServerConfig``: who the auth server is, whom it trusts, how long things live.

The auth server verifies signed requests with the same :class:`~aauth_core.verifier.Verifier`
a resource uses; :meth:`AuthServerConfig.verifier_settings` derives those settings
(the issuer is the ``aud`` agent tokens may name, trusted upstream auth servers are
the issuers whose auth tokens an exchange accepts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..keys import SigningKey
from ..settings import AAuthSettings, SettingsError, normalize_identifier
from ..tokens import MAX_LIFETIME
from .branding import Branding

__all__ = ["AuthServerConfig", "Lifetimes"]


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """Lifetimes in seconds (spec recommendations and the demo's values).

    ``refresh_token`` ``None`` turns refresh tokens off (the default, as in the demo);
    ``session`` bounds a user's login at the consent endpoint.
    """

    auth_token: int = 3600
    request_token: int = 600
    code: int = 60
    refresh_token: int | None = None
    session: int = 900

    def __post_init__(self) -> None:
        for name in ("auth_token", "request_token", "code", "refresh_token", "session"):
            value = getattr(self, name)
            if value is None and name == "refresh_token":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_LIFETIME:
                raise SettingsError(f"lifetime {name} must be a positive whole number of seconds, "
                                    f"at most {MAX_LIFETIME}")


@dataclass(frozen=True, slots=True)
class AuthServerConfig:
    """Everything an :class:`~aauth_core.authserver.AuthServer` is told at start-up.

    ``issuer``: this auth server's identifier (its origin URL); auth tokens carry it
    as ``iss`` and resource tokens must name it as ``aud``.  ``keys``: signing keys,
    ``keys[0]`` signs, all are published (see :meth:`AuthServer.rotate_key` for
    retiring one).  ``trusted_upstreams``: auth servers whose auth tokens a token
    exchange accepts (exact identifiers; empty = no exchange).  ``max_act_depth``:
    deepest ``act`` chain accepted or issued.  ``narrow_to_upstream_scope``: an
    exchange never grants scopes the upstream token lacks (unless the policy's
    ``Decision.beyond_upstream`` allows them); asking for one is refused with
    ``invalid_scope``, or, with this set, the excess is silently dropped.
    ``require_registered_redirect_uris``: refuse consent flows for agents whose
    metadata lists no ``redirect_uris`` (when listed, an exact match is always
    required).  ``scopes_supported``: advertised in metadata when set.
    ``store_url``: where pending consents, codes, sessions and refresh tokens live
    (``memory://``, or ``redis://...`` shared by every worker; see
    :func:`~aauth_core.authserver.store.store_from_url`).
    ``settings``: overrides for the request verifier (``allow_insecure_loopback``,
    ``signature_bases``, ``created_max_age``, ...); ``resource_id`` and
    ``trusted_issuers`` are always derived from this config.
    ``scope_descriptions``: scope → words for the consent page, used when the
    resource's metadata does not describe a scope.  ``branding``: the pages' product
    name, logo, and the directories of templates and static files that override the
    package's (:class:`~aauth_core.authserver.branding.Branding`).
    """

    issuer: str
    keys: Sequence[SigningKey]
    trusted_upstreams: tuple[str, ...] = ()
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    max_act_depth: int = 8
    narrow_to_upstream_scope: bool = False
    require_registered_redirect_uris: bool = False
    scopes_supported: tuple[str, ...] = ()
    allow_insecure_loopback: bool = False
    store_url: str = "memory://"
    settings: Mapping[str, Any] = field(default_factory=dict)
    scope_descriptions: Mapping[str, str] = field(default_factory=dict)
    branding: Branding = field(default_factory=Branding)

    def __post_init__(self) -> None:
        # Normalised once, here (see normalize_identifier); tokens are then compared exactly.
        object.__setattr__(self, "issuer", normalize_identifier(self.issuer))
        if self.store_url != "memory://":
            from ..cache.url import check_cache_url

            try:
                check_cache_url(self.store_url)
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            if "fail_open" in self.store_url:
                raise SettingsError("the auth server store never fails open; remove fail_open from store_url")
        if not self.keys:
            raise SettingsError("an auth server needs at least one signing key")
        if any(k.kid is None for k in self.keys):
            raise SettingsError("auth server signing keys need a 'kid'")
        object.__setattr__(self, "keys", tuple(self.keys))
        upstreams = tuple(dict.fromkeys(normalize_identifier(u) for u in self.trusted_upstreams))
        object.__setattr__(self, "trusted_upstreams", upstreams)
        object.__setattr__(self, "scopes_supported", tuple(self.scopes_supported))
        if not isinstance(self.max_act_depth, int) or self.max_act_depth < 1:
            raise SettingsError("max_act_depth must be a positive integer")
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        descriptions = dict(self.scope_descriptions)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()):
            raise SettingsError("scope_descriptions must map scope names to strings")
        object.__setattr__(self, "scope_descriptions", MappingProxyType(descriptions))
        if not isinstance(self.branding, Branding):
            raise SettingsError("branding must be a Branding")
        for name in ("resource_id", "trusted_issuers"):
            if name in self.settings:
                raise SettingsError(f"{name} is derived from the auth server config; do not set it")

    def verifier_settings(self) -> AAuthSettings:
        """Settings for the verifier of the token endpoint."""
        values: dict[str, Any] = {
            "allow_insecure_loopback": self.allow_insecure_loopback,
            "max_act_depth": self.max_act_depth,
        }
        values.update(self.settings)
        values["resource_id"] = self.issuer
        values["trusted_issuers"] = self.trusted_upstreams
        return AAuthSettings(**values)

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/agent/token"

    @property
    def auth_endpoint(self) -> str:
        return f"{self.issuer}/agent/auth"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks.json"
