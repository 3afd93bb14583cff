"""``AAuthSettings``: the one settings vocabulary.

Starlette takes these as keyword arguments, Flask as ``AAUTH_*`` config keys and
Django as an ``AAUTH = {...}`` dict; all three map onto this frozen dataclass
(:meth:`AAuthSettings.from_mapping`).  Every default is the secure one; loosening
anything takes an explicit setting (docs/architecture.md, "secure defaults").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from .cache.url import check_cache_url
from .context import Requirement
from .errors import SettingsError
from .request import canonical_authority
from .tokens import MAX_LIFETIME

__all__ = ["AAuthSettings", "SettingsError", "SignatureBase", "SignatureKeyFormat", "normalize_identifier",
           "parse_requirement", "route_requirement"]

SignatureBase = Literal["rfc9421", "demo-2026-01"]
SignatureKeyFormat = Literal["transcript", "sf"]

_BASES = ("rfc9421", "demo-2026-01")
_ALGS = ("ed25519", "ecdsa-p256-sha256")


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class AAuthSettings:
    """Everything the engine can be told.  Immutable; build a new one with :meth:`replace`.

    Identity
        ``resource_id``: this resource's identifier (its HTTPS origin); the ``aud``
        that auth tokens must carry.  ``canonical_authority``: the ``@authority``
        signatures must cover; derived from ``resource_id`` when unset.
        ``auth_server``: the auth server named in challenges.
    Trust
        ``trusted_issuers``: auth servers whose auth tokens are accepted (exact
        identifiers).  ``allow_insecure_loopback``: the development switch that lets
        ``http://127.0.0.1``-style identifiers be fetched; never on by default.
    Signatures
        ``signature_bases``: accepted bases; ``demo-2026-01`` is opt-in (A2).
        ``created_max_age`` / ``created_max_future``: the ``created`` window, seconds.
        ``algorithms``: accepted HTTP-signature algorithms (A6).
        ``replay_protection``: reject a signature seen before inside its window.
        ``cache_url``: where the replay and key caches live: ``memory://`` (one
        process) or ``redis://`` / ``rediss://`` / ``unix://`` shared by every
        worker (:mod:`aauth_core.cache_url`; Redis down → 503 ``cache_unavailable``
        unless the URL says ``?fail_open=true``).
    Tokens
        ``token_leeway``: clock skew for ``exp``/``nbf``/``iat``.  ``max_act_depth``:
        the deepest ``act`` chain accepted or issued.  ``resource_token_lifetime``.
        ``resource_name`` and ``resource_scope_descriptions`` (scope → words): published
        in our metadata as ``name`` and ``scope_descriptions``, for consent pages.
    Discovery
        timeouts, document size limit and cache TTL bounds.
        ``discovery_failed_host_budget``: fetches a minute from one host whose
        fetches fail (a good document gives its fetch back).
    Adapters
        ``signing_keys``: key sources (file paths or ``env:NAME``) for the resource's
        own keys; the first signs.  ``protect_all`` with ``default_requirement``
        protects every route but ``exempt_paths``; ``protected_paths`` maps path
        prefixes to requirements (``"identity"``, ``"authorization:data.read"``).
        ``trust_forwarded``: take the authority from ``X-Forwarded-Host`` /
        ``Forwarded`` when no canonical authority is configured.  ``allow_options``:
        let CORS preflight through unauthenticated.  ``max_body_bytes``: the largest
        body an adapter buffers to check ``Content-Digest`` (413 beyond it).
        ``debug``: log the signature base of a
        signature that did not verify (development only: bases are sensitive).
        ``telemetry``: an OpenTelemetry span per verification and counters of
        verified and refused requests (needs the ``otel`` extra).
    Profiles
        ``profiles``: the wire profiles a resource accepts (``aauth-2026-01``,
        ``aauth-11``); both is dual-stack, each request verified under the one its
        Signature-Key names (docs/profiles.md).
        aauth-11 only: ``person_servers``, the person servers whose person tokens (empty:
        any person server's) and three-party auth tokens (empty: none) are accepted and
        for which resource tokens are minted; ``access_server``, the resource's own access
        server (four-party: resource tokens name it, its auth tokens are accepted);
        ``additional_signature_components``, components every -11 signature must cover
        besides -11's own (published in ``aauth-resource.json``); ``deferred_delivery``,
        answer an auth-token challenge with 202 and hold the call until the agent polls
        with its auth token (RS-36).
    """

    resource_id: str | None = None
    canonical_authority: str | None = None
    auth_server: str | None = None
    trusted_issuers: tuple[str, ...] = ()
    allow_insecure_loopback: bool = False

    signature_bases: tuple[SignatureBase, ...] = ("rfc9421",)
    created_max_age: int = 60
    created_max_future: int = 60
    algorithms: tuple[str, ...] = ("ed25519",)
    replay_protection: bool = True
    replay_cache_size: int = 100_000
    cache_url: str = "memory://"
    schemes: tuple[str, ...] = ("hwk", "jwks", "jwt", "x509")
    x509_trust_roots: tuple[str, ...] = ()

    token_leeway: int = 30
    max_act_depth: int = 8
    resource_token_lifetime: int = 600
    resource_scopes: tuple[str, ...] = ()
    resource_scope_descriptions: Mapping[str, str] = field(default_factory=dict)
    resource_name: str | None = None

    discovery_timeout: float = 5.0
    discovery_max_bytes: int = 64 * 1024
    discovery_default_ttl: int = 300
    discovery_min_ttl: int = 30
    discovery_max_ttl: int = 86_400
    discovery_stale_ttl: int = 86_400
    unknown_kid_refetch_interval: float = 30.0
    discovery_failed_host_budget: int = 5

    signing_keys: tuple[str, ...] = ()
    trust_forwarded: bool = False
    protect_all: bool = False
    default_requirement: str = "signature"
    protected_paths: Mapping[str, str] = field(default_factory=dict)
    exempt_paths: tuple[str, ...] = ("/.well-known/", "/jwks.json")
    allow_options: bool = True
    max_body_bytes: int = 10 * 1024 * 1024
    debug: bool = False
    telemetry: bool = False
    profiles: tuple[str, ...] = ("aauth-2026-01",)
    person_servers: tuple[str, ...] = ()
    access_server: str | None = None
    additional_signature_components: tuple[str, ...] = ()
    deferred_delivery: bool = False

    def __post_init__(self) -> None:
        for name in ("trusted_issuers", "signature_bases", "algorithms", "schemes", "x509_trust_roots",
                     "resource_scopes", "exempt_paths", "signing_keys", "profiles", "person_servers",
                     "additional_signature_components"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        # Identifiers are normalised once, here; every later comparison is exact.
        for name in ("resource_id", "auth_server"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, normalize_identifier(getattr(self, name)))
        object.__setattr__(self, "trusted_issuers",
                           tuple(dict.fromkeys(normalize_identifier(i) for i in self.trusted_issuers)))
        bad_bases: list[str] = [b for b in self.signature_bases if b not in _BASES]
        if bad_bases or not self.signature_bases:
            raise SettingsError(f"signature_bases must be a non-empty subset of {_BASES}, got {bad_bases or '()'}")
        _check_profiles(self.profiles)
        _check_profile_11(self)
        bad = [a for a in self.algorithms if a not in _ALGS]
        if bad or not self.algorithms:
            raise SettingsError(f"algorithms must be a non-empty subset of {_ALGS}, got {bad or '()'}")
        for name in ("created_max_age", "created_max_future", "token_leeway", "max_act_depth",
                     "resource_token_lifetime", "discovery_max_bytes", "replay_cache_size", "max_body_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SettingsError(f"{name} must be a non-negative integer")
        budget = self.discovery_failed_host_budget
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            raise SettingsError("discovery_failed_host_budget must be a positive integer")
        for name in ("created_max_age", "created_max_future", "token_leeway", "resource_token_lifetime"):
            if getattr(self, name) > MAX_LIFETIME:  # seconds added to clock readings: keep them finite
                raise SettingsError(f"{name} must be at most {MAX_LIFETIME} seconds")
        try:
            check_cache_url(self.cache_url)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        parse_requirement(self.default_requirement)
        for prefix, spec in dict(self.protected_paths).items():
            if not prefix.startswith("/"):
                raise SettingsError(f"protected path {prefix!r} must start with '/'")
            parse_requirement(spec)
        object.__setattr__(self, "protected_paths", MappingProxyType(dict(self.protected_paths)))
        descriptions = dict(self.resource_scope_descriptions)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()):
            raise SettingsError("resource_scope_descriptions must map scope names to strings")
        object.__setattr__(self, "resource_scope_descriptions", MappingProxyType(descriptions))
        if self.resource_name is not None and not isinstance(self.resource_name, str):
            raise SettingsError("resource_name must be a string")
        if self.canonical_authority is None and self.resource_id is not None:
            object.__setattr__(self, "canonical_authority", canonical_authority(self.resource_id))
        if self.canonical_authority is not None:
            object.__setattr__(self, "canonical_authority", self.canonical_authority.lower())

    @property
    def is_resource(self) -> bool:
        return self.resource_id is not None

    def replace(self, **changes: Any) -> AAuthSettings:
        """A copy with ``changes``.  An authority derived from ``resource_id`` (none configured)
        follows a new ``resource_id``; a configured one stays."""
        if ("resource_id" in changes and "canonical_authority" not in changes and self.resource_id is not None
                and self.canonical_authority == canonical_authority(self.resource_id).lower()):
            changes["canonical_authority"] = None
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, prefix: str = "") -> AAuthSettings:
        """Build settings from a mapping, e.g. Flask config (``prefix="AAUTH_"``) or Django's dict.

        Keys are matched case-insensitively after ``prefix``; unknown keys raise,
        so a typo in a setting name is an error at start-up, not a silent default.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in values.items():
            if prefix and not key.startswith(prefix):
                continue
            name = key[len(prefix):].lower()
            if name in known:
                kwargs[name] = value
            else:
                unknown.append(key)
        if unknown:
            raise SettingsError(f"unknown AAuth setting(s): {', '.join(sorted(unknown))}")
        return cls(**kwargs)


def _check_profiles(profiles: tuple[str, ...]) -> None:
    from .profile import PROFILES  # local: the profile package is imported after settings

    unknown = [p for p in profiles if p not in PROFILES]
    if unknown or not profiles or len(set(profiles)) != len(profiles):
        raise SettingsError(f"profiles must be distinct names from {sorted(PROFILES)}, got {list(profiles)!r}")


def _check_profile_11(s: AAuthSettings) -> None:
    """-11 servers are ``https://host`` (§11.1.1; ``http://127.0.0.1[:port]`` with the loopback
    switch, P7), compared byte for byte, so a misspelt one is refused here, not per request."""
    from .profile.identifiers import is_server_identifier
    from .wire.coverage import check_component_name

    for name in ("person_servers", "access_server"):
        value = getattr(s, name)
        for identifier in (value if isinstance(value, tuple) else () if value is None else (value,)):
            if not isinstance(identifier, str) or not is_server_identifier(
                    identifier, allow_loopback_http=s.allow_insecure_loopback):
                raise SettingsError(f"{name}: {identifier!r} is not an aauth-11 server identifier (https://host)")
    for component in s.additional_signature_components:
        try:
            check_component_name(component)
        except ValueError as exc:
            raise SettingsError(f"additional_signature_components: {exc}") from None


def parse_requirement(spec: str | Requirement, scopes: str | Iterable[str] = ()) -> Requirement:
    """``"identity"``, ``"authorization:data.read data.write"`` or a :class:`Requirement`,
    plus extra ``scopes`` (what every adapter's decorator takes) → :class:`Requirement`.

    Raises :class:`SettingsError` where the route is declared, not per request.
    """
    if isinstance(spec, Requirement):
        base = spec
    elif isinstance(spec, str):
        level, _, listed = spec.partition(":")
        try:
            base = Requirement.of(level.strip(), listed)  # type: ignore[arg-type]
        except ValueError as exc:
            raise SettingsError(f"invalid requirement {spec!r}: {exc}") from None
    else:
        raise SettingsError(f"a requirement must be a string like 'authorization:scope', got {spec!r}")
    extra = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
    if not extra:
        return base
    if not all(isinstance(s, str) and s and not any(c.isspace() for c in s) for s in extra):
        raise SettingsError(f"scopes must be non-empty strings without spaces, got {sorted(map(repr, extra))}")
    try:
        return Requirement(base.level, base.scopes | extra)
    except ValueError as exc:
        raise SettingsError(f"invalid requirement: {exc}") from None


def route_requirement(level: str | Requirement | None = None, scopes: str | Iterable[str] = ()) -> Requirement | None:
    """What a decorator's arguments demand, the same in every adapter.

    No level and no scopes: ``None``, the configured ``default_requirement`` (read per
    request).  Scopes without a level: ``authorization`` (only auth tokens carry
    scopes).  Anything invalid raises :class:`SettingsError` where the route is
    declared, never per request.
    """
    if isinstance(scopes, str):
        scopes = scopes.split()
    else:
        try:
            scopes = list(scopes)
        except TypeError:
            raise SettingsError(f"scopes must be a string or an iterable of strings, got {scopes!r}") from None
    if level is None:
        if not scopes:
            return None
        level = "authorization"
    return parse_requirement(level, scopes)


def _check_identifier(identifier: str) -> None:
    parts = urlsplit(identifier)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SettingsError(f"identifier {identifier!r} must be an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError(f"identifier {identifier!r} must not carry a query, fragment or userinfo")


def normalize_identifier(identifier: str) -> str:
    """A configured party identifier (issuer, resource, upstream), checked and normalised once.

    Tokens and metadata are then compared with it exactly (RFC 8414 §3.3, RFC 9207), so
    the spelling is fixed here: a bare origin written with a trailing ``/`` is the origin
    (for http(s) an empty path and ``/`` are the same, RFC 3986 §6.2.3).  A longer path
    ending in ``/`` is refused: ``https://h/t/`` and ``https://h/t`` are different
    identifiers, and which one the party's tokens carry cannot be guessed.
    """
    if not isinstance(identifier, str):
        raise SettingsError(f"identifier {identifier!r} must be a string")
    _check_identifier(identifier)
    path = urlsplit(identifier).path
    if path == "/":
        return identifier[:-1]
    if path.endswith("/"):
        raise SettingsError(
            f"identifier {identifier!r} is ambiguous: with a path, a trailing '/' names a different "
            f"identifier than {identifier.rstrip('/')!r}, and identifiers are compared exactly; configure it "
            "without the trailing '/' (identifiers whose path ends in '/' are not supported)"
        )
    return identifier
