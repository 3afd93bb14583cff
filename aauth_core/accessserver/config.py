"""``AccessServerConfig``: who the access server is, which resources it governs, how long
things live (draft -11 §2.4, four-party).

An access server decides for the resources that name it as their ``access_server``: a
resource token whose ``iss`` is not listed in ``resources`` is refused.  The scopes listed
for a resource are what the default policy (:class:`~.policy.AllowListedScopes`) grants
there; a policy of your own may ignore them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..keys import SigningKey
from ..profile.identifiers import is_server_identifier
from ..settings import AAuthSettings, SettingsError

__all__ = ["AccessServerConfig"]

_MAX_WAIT = 60


@dataclass(frozen=True, slots=True)
class AccessServerConfig:
    """Everything an :class:`~aauth_core.accessserver.AccessServer` is told at start-up.

    ``issuer``: this access server's identifier (``https://host``); auth tokens carry it as
    ``iss``, resource tokens must name it as ``aud``.  ``keys``: ``keys[0]`` signs, all are
    published.  ``resources``: the governed resources → the scopes the default policy grants.
    ``person_servers``: the person servers that may call (empty: any, found by discovery).
    ``auth_token_lifetime``: at most 3600 s, and never past the agent or presented token.
    ``pending_lifetime``: how long a 202 waits for claims or an approval.  ``retry_after``:
    the ``Retry-After`` of a 202.  ``max_wait``: the longest ``Prefer: wait`` honoured.
    ``signature_window`` / ``max_future``: the ``created`` window.  ``allow_loopback_http``:
    decision P7, ``http://127.0.0.1[:port]`` identifiers in development only.
    ``store_url``: ``memory://`` or a Redis URL (pending requests, issued tokens).
    """

    issuer: str
    keys: tuple[SigningKey, ...]
    resources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    person_servers: tuple[str, ...] = ()
    auth_token_lifetime: int = 3600
    pending_lifetime: int = 600
    retry_after: int = 5
    max_wait: int = 30
    signature_window: int = 60
    max_future: int = 60
    allow_loopback_http: bool = False
    store_url: str = "memory://"

    def __post_init__(self) -> None:
        loopback = self.allow_loopback_http
        for name in (self.issuer, *self.resources, *self.person_servers):
            if not is_server_identifier(name, allow_loopback_http=loopback):
                raise SettingsError(f"{name!r} is not a server identifier (https://host, -11 §11.1.1)")
        if not self.keys:
            raise SettingsError("an access server needs at least one signing key")
        if not 0 < self.auth_token_lifetime <= 3600:
            raise SettingsError("auth_token_lifetime must be between 1 and 3600 seconds (-11 §9.4.1)")
        for name in ("pending_lifetime", "retry_after", "signature_window", "max_future"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be a positive number of seconds")
        if not 0 <= self.max_wait <= _MAX_WAIT:
            raise SettingsError(f"max_wait must be between 0 and {_MAX_WAIT} seconds")
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "resources", MappingProxyType(
            {resource: tuple(scopes) for resource, scopes in self.resources.items()}))
        object.__setattr__(self, "person_servers", tuple(self.person_servers))

    def discovery_settings(self) -> AAuthSettings:
        """What :class:`~aauth_core.discovery.Discovery` reads: the SSRF switches."""
        return AAuthSettings(allow_insecure_loopback=self.allow_loopback_http, profiles=("aauth-11",),
                             created_max_age=self.signature_window, created_max_future=self.max_future)
