"""``PersonServerConfig``: who the person server is, whose agents it speaks for, how long things live.

The person server verifies its agents' requests with the resource machinery
(:class:`~aauth_core.resource.service.AAuthService` under ``aauth-11``, the person server
being the "resource" the agent token is presented to); :meth:`PersonServerConfig.service_settings`
derives those settings once, here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..authserver.branding import Branding
from ..keys import SigningKey
from ..profile.aauth_11 import AAUTH_11
from ..profile.identifiers import InvalidIdentifier, is_server_identifier, parse_agent_identifier
from ..settings import AAuthSettings, SettingsError

__all__ = ["PS_LIFETIME_CAP", "PersonServerConfig", "PersonLifetimes"]

#: Person and auth tokens live at most an hour (-11 §7.1.2, §9.4.1).
PS_LIFETIME_CAP = 3600


@dataclass(frozen=True, slots=True)
class PersonLifetimes:
    """Lifetimes in seconds.  ``person_token`` and ``auth_token`` are capped at an hour (and
    at the agent token); ``pending``: how long a deferred request waits for the user;
    ``consent``: how long a user's approval is remembered for (user, resource, agent);
    ``mission``: how long an approved mission stays active; ``session``: a consent-page login."""

    person_token: int = 3600
    auth_token: int = 3600
    pending: int = 600
    consent: int = 30 * 86400
    mission: int = 7 * 86400
    session: int = 900

    def __post_init__(self) -> None:
        for name in ("person_token", "auth_token", "pending", "consent", "mission", "session"):
            value = getattr(self, name)
            cap = PS_LIFETIME_CAP if name in ("person_token", "auth_token") else 365 * 86400
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= cap:
                raise SettingsError(f"lifetime {name} must be a whole number of seconds between 1 and {cap}")


@dataclass(frozen=True, slots=True)
class PersonServerConfig:
    """Everything a :class:`~aauth_core.personserver.PersonServer` is told at start-up.

    ``issuer``: the person server's identifier (``https://`` + host, -11 §11.1.1).
    ``keys``: signing keys (``keys[0]`` signs; all are published, each with a ``kid``).
    ``subject_secret``: the HMAC key behind the directed ``sub`` (at least 32 bytes; the same
    on every worker, and kept: changing it changes every person's ``sub`` at every resource).
    ``agents``: agent identifier (``aauth:local@domain``) → the user it acts for, registered
    ahead of time; an agent not listed is bound to the user who first approves one of its
    requests on the consent page (see docs/person-server.md).
    ``scopes_supported``: advertised in the metadata.  ``allow_insecure_loopback``: accept
    ``http://127.0.0.1[:port]`` identifiers (development only).  ``store_url``: ``memory://``
    or a Redis URL shared by every worker.  ``poll_interval``: the ``Retry-After`` of a 202;
    ``max_wait``: the longest ``Prefer: wait`` honoured.  ``settings``: overrides for the
    request verifier (``created_max_age``, ``cache_url``, ...).  ``access_servers``: the access
    servers this person server federates with (four-party); empty: any server identifier a
    resource token names in ``aud``, for a resource we issued the presented token for.
    """

    issuer: str
    keys: Sequence[SigningKey]
    subject_secret: bytes
    agents: Mapping[str, str] = field(default_factory=dict)
    scopes_supported: tuple[str, ...] = ()
    lifetimes: PersonLifetimes = field(default_factory=PersonLifetimes)
    allow_insecure_loopback: bool = False
    store_url: str = "memory://"
    poll_interval: int = 5
    max_wait: int = 30
    settings: Mapping[str, Any] = field(default_factory=dict)
    scope_descriptions: Mapping[str, str] = field(default_factory=dict)
    branding: Branding = field(default_factory=Branding)
    access_servers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_server_identifier(self.issuer, allow_loopback_http=self.allow_insecure_loopback):
            raise SettingsError("a person server's issuer is https:// and a lowercase host (no port, path or slash)")
        if not self.keys or any(k.kid is None for k in self.keys):
            raise SettingsError("a person server needs at least one signing key, each with a 'kid'")
        object.__setattr__(self, "keys", tuple(self.keys))
        if not isinstance(self.subject_secret, bytes) or len(self.subject_secret) < 32:
            raise SettingsError("subject_secret must be at least 32 random bytes")
        for agent, user in self.agents.items():
            try:
                parse_agent_identifier(agent, allow_loopback_http=self.allow_insecure_loopback)
            except (InvalidIdentifier, TypeError):
                raise SettingsError(f"agents: {agent!r} is not an aauth:local@domain agent identifier") from None
            if not isinstance(user, str) or not user:
                raise SettingsError(f"agents: the user of {agent!r} must be a non-empty string")
        object.__setattr__(self, "agents", MappingProxyType(dict(self.agents)))
        object.__setattr__(self, "access_servers", tuple(self.access_servers))
        for server in self.access_servers:
            if not is_server_identifier(server, allow_loopback_http=self.allow_insecure_loopback):
                raise SettingsError(f"access_servers: {server!r} is not a server identifier")
        object.__setattr__(self, "scopes_supported", tuple(self.scopes_supported))
        object.__setattr__(self, "scope_descriptions", MappingProxyType(dict(self.scope_descriptions)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if not 0 < self.poll_interval <= 300 or not 0 <= self.max_wait <= 300:
            raise SettingsError("poll_interval must be 1..300 s and max_wait 0..300 s")
        if "resource_id" in self.settings or "profiles" in self.settings:
            raise SettingsError("resource_id and profiles are derived from the person server config")
        if self.store_url != "memory://":
            from ..cache.url import check_cache_url

            try:
                check_cache_url(self.store_url)
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            if "fail_open" in self.store_url:
                raise SettingsError("the person server store never fails open; remove fail_open from store_url")

    def service_settings(self) -> AAuthSettings:
        """Settings of the verifier for the agents' requests: the person server is their audience."""
        values: dict[str, Any] = {"allow_insecure_loopback": self.allow_insecure_loopback}
        values.update(self.settings)
        values["resource_id"] = self.issuer
        values["profiles"] = (AAUTH_11.name,)
        return AAuthSettings(**values)

    # the endpoints (-11 §11.2.2), all at the root of the issuer's origin

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks.json"

    @property
    def person_token_endpoint(self) -> str:
        return f"{self.issuer}/person"

    @property
    def auth_token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def mission_endpoint(self) -> str:
        return f"{self.issuer}/mission"

    @property
    def interaction_url(self) -> str:
        return f"{self.issuer}/interaction"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.issuer}/revoke"
