"""The agent's challenge loop, written once as a generator (httpx's ``auth_flow`` pattern).

The generator *yields* every request it wants sent — the signed request itself,
the auth server's metadata, token-endpoint POSTs — and receives the response.
The httpx and httpx2 ``Auth`` classes (``_httpx``) drive it with blocking or
awaited I/O, so sync and async share every protocol line.

Rules kept here: every (re)send is re-signed with a fresh ``created``; the auth
server named in a challenge passes the SSRF guard and its metadata must name
itself (``issuer``); tokens are cached and refreshed; a body that cannot be
replayed is never re-sent; nothing secret is logged unless ``debug`` is on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Generator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from .. import dialect
from ..discovery import Resolver, check_url
from ..errors import AAuthError, DiscoveryError, HeaderError, TokenEndpointError
from ..headers import AgentAuthChallenge, parse_agent_auth
from ..tokens import is_lifetime, is_numeric_date, peek
from .interaction import (
    InteractionHandler,
    consent_url,
    parse_interaction_result,
    raise_interaction_required,
)
from .signer import RequestSigner
from .token_cache import CachedToken, TokenCache

__all__ = [
    "Body",
    "ClientOptions",
    "Flow",
    "FlowEngine",
    "SignState",
    "encode_form",
    "origin_of",
    "redirected",
]

log = logging.getLogger("aauth.client")

_SIGNATURE_HEADERS = ("signature", "signature-input", "signature-key", "content-digest")
_STATE = "aauth"


class _Request(Protocol):
    method: str
    url: Any
    headers: MutableMapping[str, str]
    extensions: MutableMapping[str, Any]


class _Response(Protocol):
    status_code: int
    headers: Mapping[str, str]
    history: Sequence[Any]
    content: bytes


RequestFactory = Callable[[str, str, Mapping[str, str], bytes | None], Any]
Flow = Generator[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How the agent behaves (architecture convention 8: safe defaults).

    ``clock``: unix seconds (tests inject a frozen one).  ``token_cache_margin``:
    stop using a token this many seconds before it expires (for the default
    cache; a :class:`TokenCache` passed in keeps its own margin).
    ``allow_insecure_loopback`` / ``resolver``: the SSRF guard's development switch
    and DNS resolver, as in :func:`aauth_core.discovery.check_url`.
    ``redirect_uri``: sent with ``auth``/``code`` requests (default
    ``{agent}/callback``).  ``start_pseudonymous``: sign with ``hwk`` until a
    challenge asks for an identity.  ``metadata_ttl``: how long auth-server
    metadata is reused.  ``max_rounds``: bound on challenge rounds per request.
    ``debug``: log full requests like the seed transcript — tokens included, so
    for demos only.  The interaction handler is called synchronously, also from
    an ``AsyncClient``: in async applications it should not block for long.
    """

    clock: Callable[[], float] = time.time
    token_cache_margin: float = 60.0
    allow_insecure_loopback: bool = False
    resolver: Resolver | None = None
    redirect_uri: str | None = None
    start_pseudonymous: bool = False
    metadata_ttl: float = 300.0
    max_rounds: int = 3
    debug: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """The request body as the signer sees it.

    ``content``: the bytes (``None`` without a body).  ``digest``: a caller-supplied
    ``Content-Digest`` for a streamed body that is not in memory; such a body is
    not ``replayable`` and is never re-sent.
    """

    content: bytes | None = None
    digest: str | None = None
    replayable: bool = True


@dataclass(slots=True)
class SignState:
    """Attached to a signed request (``extensions["aauth"]``) so the redirect guard can
    tell a redirected copy from the original and re-sign or strip it."""

    method: str
    url: str
    signer: RequestSigner = field(repr=False)
    guarded: bool = False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` — the resource key of the token cache."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port is not None and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def encode_form(pairs: Sequence[tuple[str, str]]) -> bytes:
    """``k=v&k=v`` as the transcript sends it: JWTs and URLs stay readable (``:`` and ``/``
    unescaped), everything a form parser would misread is percent-encoded."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=':/')}" for k, v in pairs).encode("ascii")


class _SentSignatures:
    """Signatures this process sent during the current second, across every client.

    Ed25519 is deterministic: the same request signed twice in one second by the
    same key (two calls, or two clients) is byte-identical, and a resource's replay
    cache rightly refuses the second.  A signature seen before gets a random
    ``nonce`` parameter instead, so the usual case keeps the transcript's shape.
    """

    def __init__(self) -> None:
        self._second = -1
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first_use(self, created: int, signature: str) -> bool:
        with self._lock:
            if created != self._second:
                self._second, self._seen = created, set()
            if signature in self._seen:
                return False
            self._seen.add(signature)
            return True


_SENT = _SentSignatures()


class FlowEngine:
    """One agent's challenge loop.  ``identity`` signs requests that present no token;
    ``exchange_token`` turns the engine into a resource acting as agent (protocol A7):
    auth-token challenges are answered with ``request_type=exchange`` presenting that
    upstream token, signed with ``identity``'s key."""

    def __init__(
        self,
        identity: RequestSigner,
        *,
        options: ClientOptions = ClientOptions(),
        cache: TokenCache | None = None,
        interaction: InteractionHandler | None = None,
        exchange_token: str | None = None,
    ) -> None:
        self.identity = identity
        self.options = options
        self.cache = cache if cache is not None else TokenCache(options.token_cache_margin)
        self.interaction: InteractionHandler = interaction or raise_interaction_required
        self.exchange_token = exchange_token
        self.partition = (
            hashlib.sha256(exchange_token.encode()).hexdigest()[:32] if exchange_token is not None else ""
        )
        self._metadata: dict[str, tuple[float, Mapping[str, Any]]] = {}

    # ------------------------------------------------------------------ the loop

    def flow(self, request: _Request, body: Body, make_request: RequestFactory) -> Flow:
        """Sign ``request``, answer challenges, return when a response needs nothing more."""
        resource = origin_of(str(request.url))
        now = self.options.clock()
        token = self.cache.get(resource, now=now, partition=self.partition)
        if token is None:
            stale = self.cache.refreshable(resource, partition=self.partition)
            if stale is not None:
                token = yield from self._refresh(stale, make_request)
        first = RequestSigner.hwk(self.identity.key, options=self.identity.options) if (
            self.options.start_pseudonymous and self.exchange_token is None) else self.identity
        signer = first if token is None else self.identity.with_token(token.auth_token)
        sends = 0
        response = yield from self._send(request, body, signer, sends)
        sends += 1
        obtained = False
        renonced = False
        for _ in range(self.options.max_rounds):
            if response.status_code not in (401, 403):
                return None
            challenge = _challenge_of(response)
            if challenge is None:
                return None
            if not body.replayable:
                raise _not_replayable()
            if not renonced and _error_code(response) == "replayed_request":
                # Another process sent this very request (same key, same second): the
                # resource saw an identical signature.  Once, re-sign it with a nonce.
                renonced = True
                response = yield from self._send(request, body, signer, sends, nonce=True)
                sends += 1
                continue
            if token is not None and response.status_code == 401:
                self.cache.drop(token)
                log.info("aauth client: auth token refused by %s; dropped from the cache", resource)
            if challenge.auth_token and challenge.resource_token and challenge.auth_server:
                if obtained:
                    return None  # a token obtained just now was refused: hand the answer back
                token = yield from self._obtain(challenge, resource, make_request)
                obtained = True
                signer = self.identity.with_token(token.auth_token)
            elif token is not None or (challenge.identity and signer.scheme == "hwk" and self.identity.scheme != "hwk"):
                token = None
                signer = self.identity  # present the identity (an hwk-only agent has none to present)
            else:
                return None
            response = yield from self._send(request, body, signer, sends)
            sends += 1
        return None

    # ------------------------------------------------------------------ sending

    def sign_into(self, request: _Request, body: Body, signer: RequestSigner, *, nonce: bool = False) -> None:
        """(Re)sign ``request`` in place with a fresh ``created``."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SIGNATURE_HEADERS}
        created = int(self.options.clock())
        digest = body.digest if body.content is None else None
        signed = signer.sign(request.method, str(request.url), headers, body.content, created=created,
                             content_digest=digest)
        if nonce or not _SENT.first_use(created, signed.headers[dialect.SIGNATURE_HEADER]):
            # The same request again within the same second would carry a byte-identical
            # (Ed25519 is deterministic) signature that a replay cache rightly refuses;
            # only then is a random `nonce` parameter added to tell the two apart.
            signed = signer.sign(request.method, str(request.url), headers, body.content, created=created,
                                 content_digest=digest, nonce=secrets.token_urlsafe(16))
        for name in _SIGNATURE_HEADERS:
            if name in request.headers:
                del request.headers[name]
        request.headers.update(signed.headers)
        request.extensions[_STATE] = SignState(request.method, str(request.url), signer)

    def _send(self, request: _Request, body: Body, signer: RequestSigner, sends: int, *,
              nonce: bool = False) -> Flow:
        if sends and not body.replayable:
            raise _not_replayable()
        self.sign_into(request, body, signer, nonce=nonce)
        self._debug(">>>", request, body.content)
        response = yield request
        _check_guarded(request, response)
        log.debug("aauth client: %s %s -> %s (scheme=%s)", request.method, _safe_url(request), response.status_code,
                  signer.scheme)
        return response

    def _debug(self, arrow: str, request: _Request, content: bytes | None) -> None:
        if not self.options.debug:
            return
        lines = [f"{arrow} {request.method} {request.url}"]
        lines += [f"{k}: {v}" for k, v in request.headers.items()]
        if content:
            lines.append(content.decode("utf-8", "replace"))
        log.debug("\n".join(lines))

    # ------------------------------------------------------------------ auth server

    def obtain(self, url: str, resource_token: str, auth_server: str, make_request: RequestFactory) -> Flow:
        """Trade a resource token got ahead of time (``POST /resource/token``, B §5.4) for an
        auth token, cached for ``url``'s origin exactly as if a challenge had carried it.

        A generator like :meth:`flow`: the caller sends what it yields (without this auth)."""
        challenge = AgentAuthChallenge(auth_token=True, resource_token=resource_token, auth_server=auth_server)
        token: CachedToken = yield from self._obtain(challenge, origin_of(url), make_request)
        return token

    def _obtain(self, challenge: AgentAuthChallenge, resource: str, make_request: RequestFactory) -> Flow:
        auth_server = challenge.auth_server or ""  # the issuer identifier, kept exactly as named
        resource_token = challenge.resource_token or ""
        meta = yield from self._issuer_metadata(auth_server, make_request)
        endpoint = _endpoint(meta, "agent_token_endpoint", self.options)
        if self.exchange_token is not None:
            presenter = self.identity.with_token(self.exchange_token)
            form = [("request_type", "exchange"), ("resource_token", resource_token)]
            data = yield from self._token_request(endpoint, form, presenter, make_request)
        else:
            redirect_uri = self._redirect_uri()
            form = [("request_type", "auth"), ("resource_token", resource_token), ("redirect_uri", redirect_uri)]
            data = yield from self._token_request(endpoint, form, self.identity, make_request)
            if "auth_token" not in data and isinstance(data.get("request_token"), str):
                auth_endpoint = _endpoint(meta, "agent_auth_endpoint", self.options)
                url = consent_url(auth_endpoint, data["request_token"], redirect_uri)
                log.info("aauth client: user consent required at %s", auth_endpoint)
                code = parse_interaction_result(self.interaction(url))
                form = [("request_type", "code"), ("code", code), ("redirect_uri", redirect_uri)]
                data = yield from self._token_request(endpoint, form, self.identity, make_request)
        token = self._store(data, resource=resource, scope=_scope_of(resource_token), auth_server=auth_server,
                            endpoint=endpoint)
        return token

    def _refresh(self, stale: CachedToken, make_request: RequestFactory) -> Flow:
        """``request_type=refresh``; any failure drops the token so a new challenge follows."""
        assert stale.refresh_token is not None and stale.token_endpoint is not None
        form = [("request_type", "refresh"), ("refresh_token", stale.refresh_token)]
        try:
            data = yield from self._token_request(stale.token_endpoint, form, self.identity, make_request)
            token = self._store(data, resource=stale.resource, scope=stale.scope, auth_server=stale.auth_server,
                                endpoint=stale.token_endpoint, previous_refresh=stale.refresh_token)
        except AAuthError as exc:
            log.info("aauth client: refresh failed (%s); falling back to a new challenge", exc.code)
            self.cache.drop(stale)
            return None
        self.cache.drop(stale)
        self.cache.put(token)
        return token

    def _redirect_uri(self) -> str:
        if self.options.redirect_uri:
            return self.options.redirect_uri
        agent = self.identity.agent_id
        if agent is None:
            raise AAuthError("a redirect_uri is needed for the token request; configure one (the signer "
                             "proves no agent identifier to derive it from)", code="invalid_request")
        return f"{agent}/callback"

    def _issuer_metadata(self, auth_server: str, make_request: RequestFactory) -> Flow:
        check_url(auth_server, allow_insecure_loopback=self.options.allow_insecure_loopback,
                  resolver=self.options.resolver)
        now = self.options.clock()
        cached = self._metadata.get(auth_server)
        if cached is not None and cached[0] > now:
            return cached[1]
        # RFC 8414 §3.1: a terminating "/" is dropped to build the URL, never to compare (§3.3).
        base = auth_server[:-1] if auth_server.endswith("/") else auth_server
        url = f"{base}/.well-known/{dialect.WELL_KNOWN_ISSUER}"
        request = make_request("GET", url, {"Accept": "application/json"}, None)
        response = yield request
        if redirected(request, response):
            raise DiscoveryError("auth server metadata was redirected; refusing", code="discovery_failed")
        if response.status_code != 200:
            raise DiscoveryError(f"auth server metadata answered HTTP {response.status_code}",
                                 code="discovery_failed")
        doc = _json_object(response.content, DiscoveryError, "discovery_failed", "auth server metadata")
        issuer = doc.get(dialect.METADATA_ID_FIELD[dialect.WELL_KNOWN_ISSUER])
        if not isinstance(issuer, str) or issuer != auth_server:
            raise DiscoveryError("auth server metadata names a different issuer than the challenge",
                                 code="issuer_mismatch")
        self._metadata[auth_server] = (now + self.options.metadata_ttl, doc)
        return doc

    def _token_request(
        self, endpoint: str, form: Sequence[tuple[str, str]], signer: RequestSigner, make_request: RequestFactory
    ) -> Flow:
        content = encode_form(form)
        request = make_request("POST", endpoint, {"Content-Type": dialect.FORM_CONTENT_TYPE}, content)
        self.sign_into(request, Body(content), signer)
        self._debug(">>>", request, content)
        response = yield request
        _check_guarded(request, response)
        kind = form[0][1]
        if redirected(request, response):
            raise TokenEndpointError("the token endpoint redirected; refusing", code="invalid_token_response")
        data = _json_object(response.content, TokenEndpointError, "invalid_token_response", "token response")
        if response.status_code != 200 or "error" in data:
            code = data.get("error") if isinstance(data.get("error"), str) else "token_endpoint_error"
            text = data.get("error_description")
            detail = f": {text[:200]}" if isinstance(text, str) else ""
            log.info("aauth client: token request (%s) refused: %s", kind, code)
            raise TokenEndpointError(f"the auth server refused the {kind} request{detail}", code=code,
                                     status_code=response.status_code if response.status_code >= 400 else 400)
        log.info("aauth client: token request (%s) at %s succeeded", kind, _host(endpoint))
        return data

    def _store(self, data: Mapping[str, Any], *, resource: str, scope: str | None, auth_server: str | None,
               endpoint: str, previous_refresh: str | None = None) -> CachedToken:
        auth_token = data.get("auth_token")
        if not isinstance(auth_token, str) or not auth_token:
            raise TokenEndpointError("the token response carries no auth_token", code="invalid_token_response")
        now = self.options.clock()
        expires: list[float] = []
        # Numbers from the auth server are checked before any arithmetic: a 400-digit
        # expires_in or exp would otherwise raise OverflowError, NaN would never expire.
        expires_in = data.get("expires_in")
        if expires_in is not None:
            if not is_lifetime(expires_in):
                raise TokenEndpointError("the token response's expires_in is not a positive number of seconds "
                                         "in range", code="invalid_token_response")
            expires.append(now + expires_in)
        try:
            claims = peek(auth_token).claims
        except AAuthError:
            raise TokenEndpointError("the auth token is not a well-formed JWT",
                                     code="invalid_token_response") from None
        if "exp" in claims:
            exp = claims["exp"]
            if not is_numeric_date(exp):
                raise TokenEndpointError("the auth token's exp is not a NumericDate in range",
                                         code="invalid_token_response")
            expires.append(float(exp))
        refresh = data.get("refresh_token")
        token = CachedToken(
            auth_token=auth_token, expires_at=min(expires) if expires else now + 300, resource=resource,
            scope=scope, partition=self.partition, auth_server=auth_server, token_endpoint=endpoint,
            refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
        )
        self.cache.put(token)
        return token


# ----------------------------------------------------------------------------- helpers


def _not_replayable() -> AAuthError:
    return AAuthError(
        "the server asked for a retry (Agent-Auth challenge) but the request body is a stream that was "
        "already sent and cannot be replayed; send bytes (or a re-readable body) instead",
        code="body_not_replayable", status_code=400,
    )


def _challenge_of(response: _Response) -> AgentAuthChallenge | None:
    value = response.headers.get(dialect.CHALLENGE_HEADER)
    if not value:
        return None
    try:
        return parse_agent_auth(value)
    except HeaderError:
        log.info("aauth client: unparseable Agent-Auth challenge ignored")
        return None


def _error_code(response: _Response) -> str | None:
    """The ``error`` of a JSON error body (A9), if the response has one."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _check_guarded(request: _Request, response: _Response) -> None:
    """A client that followed a redirect without our guard may have copied signature
    headers to another origin; refuse to treat that answer as authenticated."""
    state = request.extensions.get(_STATE)
    if redirected(request, response) and isinstance(state, SignState) and not state.guarded:
        raise AAuthError(
            "the client followed a redirect without the AAuth redirect guard; create the client with "
            "auth.client(...) or install_redirect_guard(client)", code="unguarded_redirect", status_code=500,
        )


def redirected(request: Any, response: Any) -> bool:
    """True when the client followed a redirect for ``request`` (httpx's ``history`` also
    lists earlier auth-flow responses, so compare the request objects instead)."""
    final = getattr(response, "request", None)
    return final is not None and final is not request


def _endpoint(meta: Mapping[str, Any], name: str, options: ClientOptions) -> str:
    value = meta.get(name)
    if not isinstance(value, str) or not value:
        raise DiscoveryError(f"auth server metadata has no {name}", code="discovery_failed")
    check_url(value, allow_insecure_loopback=options.allow_insecure_loopback, resolver=options.resolver)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _json_object(content: bytes, error: type[AAuthError], code: str, what: str) -> dict[str, Any]:
    try:  # NaN/Infinity are not JSON; ints beyond 4300 digits raise ValueError
        doc = json.loads(content, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile server's nesting bomb included
        raise error(f"{what} is not JSON", code=code) from None
    if not isinstance(doc, dict):
        raise error(f"{what} is not a JSON object", code=code)
    return doc


def _scope_of(resource_token: str) -> str | None:
    """The scope a resource token asks for, read without verification (it is only a cache key)."""
    try:
        scope = peek(resource_token).claims.get("scope")
    except AAuthError:
        return None
    return scope if isinstance(scope, str) else None


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _safe_url(request: _Request) -> str:
    parts = urlsplit(str(request.url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
