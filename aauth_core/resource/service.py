"""``AAuthService``: everything a framework adapter needs, with no framework in it.

An adapter's whole job is translation: build a :class:`RequestView` with
:meth:`AAuthService.view`, call :meth:`verify` / :meth:`averify`, apply the route's
:class:`Requirement` with :meth:`require`, and turn an :class:`AAuthError` into a
response with :meth:`error_response`.  Path rules, body-reading policy, the
canonical authority, the metadata routes and the error body live here once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qsl

from .. import dialect
from ..cache import KeyCache, ReplayCache
from ..cache.url import MEMORY_URL, cache_from_url, revocation_store_from_url
from ..context import Requirement, VerifiedRequest
from ..discovery import Discovery
from ..errors import AAuthError
from ..headers import parse_signature_input
from ..keys import SigningKey, load_signing_key
from ..profile import DEFAULT as DEFAULT_PROFILE
from ..profile import PROFILES, Profile
from ..profile.aauth_11 import AAUTH_11
from ..request import HEADER_TYPES as _HEADER_TYPES
from ..request import Headers, RequestView
from ..settings import AAuthSettings, SettingsError, parse_requirement
from . import endpoints11
from .contract import PREFLIGHT, SKIP, Gate, HeaderLookup, Reply, Step, declared_length, is_cors_preflight
from .deferred import PENDING_BODY, PENDING_PREFIX, DeferredCalls, Pending
from .identity import RESOURCE_TOKEN_PATH, ResourceIdentity
from .observe import Telemetry, log_refusal
from .revocation import RevocationStore
from .revocation_endpoint import REVOCATION_PATH_11, RevocationEndpoint
from .verifier import Verifier

__all__ = ["AAuthService", "DOCUMENT_CACHE_CONTROL", "DOCUMENT_PATHS", "ErrorResponse", "Gate", "JWKS_PATH",
           "METADATA_PATH", "METADATA_PATH_11", "PENDING_PREFIX", "REVOCATION_PATH_11",
           "PREFLIGHT_REPLY", "RESOURCE_TOKEN_PATH", "Reply", "Step"]

log = logging.getLogger("aauth.core")

METADATA_PATH = f"/.well-known/{dialect.WELL_KNOWN_RESOURCE}"
#: aauth-11's resource metadata (-11 §11.2.4), served when the ``profiles`` setting accepts it.
METADATA_PATH_11 = f"/.well-known/{AAUTH_11.well_known_resource}"
JWKS_PATH = "/jwks.json"
#: Every document path an adapter routes to :meth:`AAuthService.document`.
DOCUMENT_PATHS = frozenset({METADATA_PATH, METADATA_PATH_11, JWKS_PATH})
#: -11 ``access_mode`` (RS-01) for a default requirement level: advisory, routes may differ.
_ACCESS_MODE = {"signature": "agent-token", "identity": "agent-token", "person": "person-token",
                "authorization": "auth-token"}
#: How long others may cache our metadata and JWKS (short, so key rotation propagates).
DOCUMENT_CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """A rendered error: what every adapter sends for an :class:`AAuthError`."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    error: AAuthError


class AAuthService:
    """One resource's AAuth machinery, shared by the Starlette, Flask and Django adapters."""

    def __init__(
        self,
        settings: AAuthSettings,
        *,
        keys: Sequence[SigningKey] | None = None,
        discovery: Discovery | None = None,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        #: The wire dialect this service speaks (aauth_core.profile): error bodies come from it.
        #: An aauth-11-only resource answers even what it refuses before classifying a request
        #: (a body too large, a bad Content-Length) in -11's shape; otherwise January's.
        self.profile: Profile = DEFAULT_PROFILE if DEFAULT_PROFILE.name in settings.profiles else AAUTH_11
        self._accepted = frozenset(settings.profiles) & frozenset(PROFILES)
        key_cache: KeyCache | None = None
        if settings.cache_url != MEMORY_URL and (discovery is None or replay_cache is None):
            shared_replay, key_cache = cache_from_url(
                settings.cache_url, replay_cache_size=settings.replay_cache_size, clock=clock
            )
            replay_cache = replay_cache if replay_cache is not None else shared_replay
        self.discovery = discovery if discovery is not None else Discovery(settings, clock=clock, cache=key_cache)
        self.resource: ResourceIdentity | None = None
        if settings.resource_id is not None:
            self.resource = ResourceIdentity.from_settings(settings, self._keys(keys), clock=clock)
        else:
            log.warning("AAuth: no resource_id configured; the Host header will be used as @authority "
                        "and no resource tokens can be issued")
        #: aauth-11: the tokens its person and access servers revoked (RS-43), checked on every use;
        #: shared by every worker when ``cache_url`` is Redis.
        self.revocations: RevocationStore = revocation_store_from_url(settings.cache_url, clock=clock)
        self.verifier = Verifier(
            settings, discovery=self.discovery, replay_cache=replay_cache, resource=self.resource, clock=clock,
            revocations=self.revocations,
        )
        #: OpenTelemetry spans and counters: with ``telemetry=True``, or an injected one (see
        #: :mod:`aauth_core.resource.observe`).
        if telemetry is None and settings.telemetry:
            telemetry = Telemetry()
        self.telemetry = telemetry
        if self.telemetry is not None:  # wrapped once here: no cost per request when it is off
            self.verify = self.telemetry.wrap(self.verify)  # type: ignore[method-assign,assignment]
            self.averify = self.telemetry.awrap(self.averify)  # type: ignore[method-assign,assignment]
        #: What a bare decorator or ``protect_all`` demands (the ``default_requirement`` setting).
        self.default_requirement = parse_requirement(settings.default_requirement)
        # The path rules, compiled once: longest prefix first, each with its "prefix/" form and
        # the Gate the middleware acts on (built once, not per request).
        self._rules: tuple[tuple[str, str, Gate], ...] = tuple(
            (prefix, prefix.rstrip("/") + "/", Gate(Step.VERIFY, requirement))
            for prefix, requirement in sorted(
                ((prefix, parse_requirement(spec)) for prefix, spec in settings.protected_paths.items()),
                key=lambda item: -len(item[0]),
            )
        )
        self._unmatched = Gate(Step.VERIFY, self.default_requirement if settings.protect_all else None)
        self._allow_options = settings.allow_options
        #: aauth-11: the revocation endpoint (RS-60); it verifies its own (server-signed) requests.
        self.revocation: RevocationEndpoint | None = None
        v11 = self.verifier._v11
        if v11 is not None and self.resource is not None:
            self.revocation = RevocationEndpoint(
                self.discovery, self.revocations, v11.tokens.trust, max_age=settings.created_max_age,
                max_future=settings.created_max_future, clock=clock, remember=self.verifier._remember)
        self._exempt_exact = frozenset(settings.exempt_paths) | (
            {REVOCATION_PATH_11} if self.revocation is not None else set())
        #: aauth-11 deferred delivery (RS-36): the held calls, polled under ``PENDING_PREFIX``.
        self.deferred: DeferredCalls | None = self.verifier._c11.deferred if self.verifier._c11 else None
        self._exempt_prefixes = tuple(p for p in settings.exempt_paths if p.endswith("/")) + (
            (PENDING_PREFIX,) if self.deferred is not None else ())
        #: The configured ``@authority`` (``None``: taken from the request's Host, A8).  Adapters
        #: skip working out the server's own host name when this is set.
        self.canonical_authority: str | None = settings.canonical_authority

    def _keys(self, keys: Sequence[SigningKey] | None) -> list[SigningKey]:
        if keys:
            return list(keys)
        if self.settings.signing_keys:
            loaded = [load_signing_key(src) for src in self.settings.signing_keys]
            missing = [i for i, k in enumerate(loaded) if k.kid is None]
            if missing:
                raise SettingsError("signing_keys need a 'kid' (write them with `aauth keygen --kid`)")
            return loaded
        log.warning("AAuth: no signing_keys configured; generated an ephemeral key. Configure keys so "
                    "that every worker publishes the same JWKS.")
        return [SigningKey.generate(kid="ephemeral-1")]

    # ------------------------------------------------------------------ requests

    def view(
        self,
        *,
        method: str,
        path: str,
        query: str | None,
        headers: Headers | Iterable[tuple[str, str]] | Mapping[str, str],
        body: bytes | None = None,
        host: str | None = None,
        scheme: str = "https",
    ) -> RequestView:
        """Build the neutral view; ``path``/``query`` raw as received, ``host`` from the server.

        Runs once per request in every adapter, so it avoids the generic paths: no ABC
        ``isinstance`` for the usual header types, no keyword ``__init__``.
        """
        hdrs: Headers
        if type(headers) in _HEADER_TYPES:
            hdrs = cast(Headers, headers)
        else:
            hdrs = headers if isinstance(headers, Headers) else Headers(headers)
        authority = self.canonical_authority
        if authority is None:
            authority = self.authority(hdrs, host)
        return RequestView(method.upper(), authority, path or "/", query, hdrs, body, scheme)

    def authority(self, headers: Headers, host: str | None) -> str:
        """The configured canonical authority; only without one, the (forwarded) Host (A8)."""
        configured = self.settings.canonical_authority
        if configured is not None:
            return configured
        if self.settings.trust_forwarded:
            forwarded = headers.get("x-forwarded-host") or _forwarded_host(headers.get("forwarded"))
            if forwarded:
                return forwarded.split(",")[0].strip().lower()
        return (headers.get("host") or host or "").lower()

    def needs_body(self, headers: Headers | Mapping[str, str]) -> bool:
        """Read the body only when the signature covers ``content-digest``."""
        value = headers.get("signature-input")
        if not value and type(headers) not in _HEADER_TYPES:  # a plain mapping may be case-sensitive
            value = headers.get("Signature-Input")
        if not value or "content-digest" not in value:
            return False
        try:
            return "content-digest" in parse_signature_input(value).components
        except AAuthError:
            return False  # the verifier reports the malformed header itself

    def body_too_large(self, size: int | None) -> AAuthError | None:
        """The 413 to send when a body (or its declared length) exceeds ``max_body_bytes``."""
        if size is None or size <= self.settings.max_body_bytes:
            return None
        return AAuthError(f"the request body exceeds {self.settings.max_body_bytes} bytes",
                          code="body_too_large", status_code=413)

    def check_declared_length(self, value: object) -> int | None:
        """Refuse (413) a declared ``Content-Length`` over the limit before reading a byte.

        Returns the length, or ``None`` when none is declared (read at most
        ``max_body_bytes + 1`` bytes and check what arrived).  A value that is not plain
        ASCII digits is a 400 ``invalid_request``."""
        if value is None or value == "":
            return None
        size = declared_length(value)
        if size is None:  # "²", "-1", "8, 8": no server should pass it; never int() it
            raise AAuthError("the Content-Length header is not a number", code="invalid_request", status_code=400)
        too_large = self.body_too_large(size)
        if too_large is not None:
            raise too_large
        return size

    @property
    def body_read_limit(self) -> int:
        """How many bytes an adapter reads at most: one past the limit, to tell "too large"."""
        return self.settings.max_body_bytes + 1

    def verify(self, view: RequestView) -> VerifiedRequest | None:
        return self.verifier.verify(view)

    async def averify(self, view: RequestView) -> VerifiedRequest | None:
        return await self.verifier.averify(view)

    def require(self, verified: VerifiedRequest | None, requirement: Requirement) -> VerifiedRequest:
        return self.verifier.require(verified, requirement)

    # ------------------------------------------------------------------ the adapter contract

    def is_exempt(self, path: str) -> bool:
        """A path in ``exempt_paths`` (one ending in ``/``: everything under it)."""
        return path in self._exempt_exact or path.startswith(self._exempt_prefixes)

    def requirement_for_path(self, path: str) -> Requirement | None:
        """What the path rules demand of ``path`` (``None``: nothing; exempt paths: nothing)."""
        return self.gate("GET", path, _NO_HEADERS).requirement

    def gate(self, method: str, path: str, headers: HeaderLookup) -> Gate:
        """The middleware's decision for one request (see :mod:`aauth_core.resource.contract`).

        ``path`` is the decoded path the framework routes on, so a percent-encoded
        spelling cannot dodge a rule."""
        if path in self._exempt_exact or path.startswith(self._exempt_prefixes):
            return SKIP
        gate = self._unmatched
        for prefix, under, rule in self._rules:
            if path == prefix or path.startswith(under):
                gate = rule
                break
        if gate.requirement is not None and method == "OPTIONS" and self.is_preflight(method, headers):
            return PREFLIGHT
        return gate

    def is_preflight(self, method: str, headers: HeaderLookup) -> bool:
        """Whether a protected route answers this request with :data:`PREFLIGHT_REPLY`
        instead of running: a CORS preflight while ``allow_options`` is on."""
        return self._allow_options and is_cors_preflight(method.upper(), headers)

    # ------------------------------------------------------------------ responses

    def log_refusal(self, error: AAuthError, method: str, path: str, headers: HeaderLookup | None = None) -> None:
        """Every adapter calls this once per refusal: one INFO line on ``aauth`` (code, description,
        scheme, claimed caller, path; never a token, signature or body) and, with telemetry, the
        refusal counter.  A held call (202) is not a refusal."""
        if error.status_code != 202:
            log_refusal(error, method, path, headers, self.telemetry)

    def error_response(self, error: AAuthError) -> ErrorResponse:
        """The error body of the profile the request was verified under (``error.profile``;
        January: JSON ``{"error", "error_description"}``, A9; aauth-11: problem+json) plus the
        error's headers (``Agent-Auth``, or ``Signature-Error`` / ``AAuth-Requirement``)."""
        # The profile the request was verified under; one this resource does not accept (an error
        # raised before any classification carries January's default) renders in the service's.
        profile = PROFILES[error.profile] if error.profile in self._accepted else self.profile
        if error.status_code == 202:  # a held call (deferred delivery): not a refusal
            return ErrorResponse(202, {"Content-Type": "application/json", **error.headers}, PENDING_BODY, error)
        headers = {"Content-Type": profile.error_content_type, **error.headers}
        if error.status_code in (401, 403):
            headers.setdefault("Cache-Control", "no-store")
        return ErrorResponse(error.status_code, headers, json.dumps(profile.error_body(error)).encode(), error)

    def resource_token(self, view: RequestView) -> Reply | ErrorResponse:
        """``POST /resource/token`` (B §5.4): a resource token for an identified agent that
        asks for ``scope`` ahead of time, instead of waiting for a challenge."""
        try:
            verified = self.verify(view)
        except AAuthError as exc:
            self.log_refusal(exc, view.method, view.path, view.headers)
            return self.error_response(exc)
        return self.resource_token_reply(verified, view.body or b"", view.headers)

    async def aresource_token(self, view: RequestView) -> Reply | ErrorResponse:
        try:
            verified = await self.averify(view)
        except AAuthError as exc:
            self.log_refusal(exc, view.method, view.path, view.headers)
            return self.error_response(exc)
        return self.resource_token_reply(verified, view.body or b"", view.headers)

    def resource_token_reply(self, verified: VerifiedRequest | None, body: bytes,
                             headers: HeaderLookup | None = None) -> Reply | ErrorResponse:
        """The endpoint's answer for a request an adapter already verified (once: twice
        would trip the replay cache)."""
        try:
            return self._resource_token_reply(self.require(verified, _IDENTITY), body)
        except AAuthError as exc:
            self.log_refusal(exc, "POST", RESOURCE_TOKEN_PATH, headers)
            return self.error_response(exc)

    def _resource_token_reply(self, verified: VerifiedRequest, body: bytes) -> Reply:
        resource = self.resource
        if resource is None or resource.auth_server is None:
            raise AAuthError("this resource has no auth server to issue resource tokens for",
                             code="server_error", status_code=500)
        form = _form(body)
        if "auth_request_url" in form:
            raise AAuthError("auth_request_url is not supported; send scope", code="invalid_request",
                             status_code=400)
        scope = form.get("scope", "").split()
        if not scope:
            raise AAuthError("scope is required", code="invalid_request", status_code=400)
        unknown = sorted(set(scope) - set(resource.scopes)) if resource.scopes else []
        if unknown:
            raise AAuthError(f"unknown scope(s): {' '.join(unknown)}", code="invalid_scope", status_code=400)
        assert verified.agent is not None  # the identity requirement guarantees it
        token = resource.mint_resource_token(agent=verified.agent, agent_jkt=verified.key_thumbprint,
                                             scope=" ".join(scope))
        answer = {"resource_token": token, "auth_server": resource.auth_server,
                  "expires_in": resource.token_lifetime}
        return Reply(200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                     json.dumps(answer).encode())

    # aauth-11's own endpoints (resource/endpoints11.py): the adapters route them here.

    def revoke(self, view: RequestView) -> Reply | ErrorResponse:
        """``POST /aauth/revoke`` (aauth-11, RS-60): an empty 200 once recorded."""
        return endpoints11.revoke(self, view)

    async def arevoke(self, view: RequestView) -> Reply | ErrorResponse:
        return await endpoints11.arevoke(self, view)

    def poll(self, view: RequestView) -> Pending | ErrorResponse:
        """``GET /aauth/pending/<id>`` (aauth-11 deferred delivery, RS-36): an answer to send,
        or a held call to :class:`Run` through the app (then :meth:`DeferredCalls.complete`)."""
        return endpoints11.poll(self, view)

    async def apoll(self, view: RequestView) -> Pending | ErrorResponse:
        return await endpoints11.apoll(self, view)

    def document(self, path: str) -> bytes | None:
        """The body for a metadata or JWKS route, or ``None`` for any other path (and for the
        -11 document when the ``profiles`` setting does not accept aauth-11)."""
        resource, s = self.resource, self.settings
        if resource is None:
            return None
        speaks_11 = AAUTH_11.name in s.profiles
        if path == METADATA_PATH:
            return json.dumps(resource.metadata()).encode()
        if path == JWKS_PATH:
            return json.dumps(resource.jwks(with_alg=speaks_11)).encode()
        if path == METADATA_PATH_11 and speaks_11:
            doc = resource.metadata_11(
                access_mode=_ACCESS_MODE[self.default_requirement.level], signature_window=s.created_max_age,
                algorithms=s.algorithms, additional_components=s.additional_signature_components,
                revocation_endpoint=f"{resource.id}{REVOCATION_PATH_11}" if self.revocation is not None else None)
            return json.dumps(doc).encode()
        return None


_IDENTITY = Requirement("identity")
_NO_HEADERS: Mapping[str, str] = {}

#: The answer to a CORS preflight at a protected route: no body, nothing cached, the view never ran.
#: A CORS middleware placed before ours answers preflights with its own headers instead.
PREFLIGHT_REPLY = Reply(204, {"Cache-Control": "no-store", "Vary": "Origin, Access-Control-Request-Method"}, b"")


#: The resource token form has one or two fields; more is not a request, only work for us.
_MAX_FORM_FIELDS = 16


def _form(body: bytes) -> dict[str, str]:
    """A form body; a repeated parameter is refused (which one would count?)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=_MAX_FORM_FIELDS)
    except UnicodeDecodeError:
        raise AAuthError("the form body is not UTF-8", code="invalid_request", status_code=400) from None
    except ValueError:  # parse_qsl: "Max number of fields exceeded"
        raise AAuthError(f"the form has more than {_MAX_FORM_FIELDS} fields", code="invalid_request",
                         status_code=400) from None
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise AAuthError(f"parameter {name[:40]!r} is repeated", code="invalid_request", status_code=400)
        out[name] = value
    return out


def _forwarded_host(value: str | None) -> str | None:
    if not value:
        return None
    for part in value.split(",")[0].split(";"):
        name, _, val = part.strip().partition("=")
        if name.lower() == "host":
            return val.strip('"')
    return None
