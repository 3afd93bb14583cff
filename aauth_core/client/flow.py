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
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from .. import dialect
from ..discovery import check_url
from ..errors import AAuthError, DiscoveryError, TokenEndpointError
from ..headers import AgentAuthChallenge
from ..tokens import is_lifetime, is_numeric_date, peek
from .interaction import (
    InteractionHandler,
    consent_url,
    parse_interaction_result,
    raise_interaction_required,
)
from .responses import (
    challenge_of,
    check_guarded,
    endpoint_of,
    error_code,
    host,
    json_object,
    not_replayable,
    redirected,
    safe_url,
    scope_of,
)
from .signer import RequestSigner
from .token_cache import CachedToken, TokenCache
from .values import (
    SENT,
    STATE,
    Body,
    ClientOptions,
    Flow,
    RequestFactory,
    RequestLike,
    SignState,
    encode_form,
    origin_of,
)

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


class FlowEngine:
    """One agent's challenge loop.  ``identity`` signs requests that present no token;
    ``exchange_token`` turns the engine into a resource acting as agent (protocol A7):
    auth-token challenges are answered with ``request_type=exchange`` presenting that
    upstream token, signed with ``identity``'s key."""

    def __init__(
        self,
        identity: RequestSigner,
        *,
        options: ClientOptions = ClientOptions(),  # noqa: B008  (frozen: one shared default is safe)
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

    def flow(self, request: RequestLike, body: Body, make_request: RequestFactory) -> Flow:
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
            challenge = challenge_of(response)
            if challenge is None:
                return None
            if not body.replayable:
                raise not_replayable()
            if not renonced and error_code(response) == "replayed_request":
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

    def sign_into(self, request: RequestLike, body: Body, signer: RequestSigner, *, nonce: bool = False) -> None:
        """(Re)sign ``request`` in place with a fresh ``created``."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SIGNATURE_HEADERS}
        created = int(self.options.clock())
        digest = body.digest if body.content is None else None
        signed = signer.sign(request.method, str(request.url), headers, body.content, created=created,
                             content_digest=digest)
        if nonce or not SENT.first_use(created, signed.headers[dialect.SIGNATURE_HEADER]):
            # The same request again within the same second would carry a byte-identical
            # (Ed25519 is deterministic) signature that a replay cache rightly refuses;
            # only then is a random `nonce` parameter added to tell the two apart.
            signed = signer.sign(request.method, str(request.url), headers, body.content, created=created,
                                 content_digest=digest, nonce=secrets.token_urlsafe(16))
        for name in _SIGNATURE_HEADERS:
            if name in request.headers:
                del request.headers[name]
        request.headers.update(signed.headers)
        request.extensions[STATE] = SignState(request.method, str(request.url), signer)

    def _send(self, request: RequestLike, body: Body, signer: RequestSigner, sends: int, *,
              nonce: bool = False) -> Flow:
        if sends and not body.replayable:
            raise not_replayable()
        self.sign_into(request, body, signer, nonce=nonce)
        self._debug(">>>", request, body.content)
        response = yield request
        check_guarded(request, response)
        log.debug("aauth client: %s %s -> %s (scheme=%s)", request.method, safe_url(request), response.status_code,
                  signer.scheme)
        return response

    def _debug(self, arrow: str, request: RequestLike, content: bytes | None) -> None:
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
        endpoint = endpoint_of(meta, "agent_token_endpoint", self.options)
        if self.exchange_token is not None:
            presenter = self.identity.with_token(self.exchange_token)
            form = [("request_type", "exchange"), ("resource_token", resource_token)]
            data = yield from self._token_request(endpoint, form, presenter, make_request)
        else:
            redirect_uri = self._redirect_uri()
            form = [("request_type", "auth"), ("resource_token", resource_token), ("redirect_uri", redirect_uri)]
            data = yield from self._token_request(endpoint, form, self.identity, make_request)
            if "auth_token" not in data and isinstance(data.get("request_token"), str):
                auth_endpoint = endpoint_of(meta, "agent_auth_endpoint", self.options)
                url = consent_url(auth_endpoint, data["request_token"], redirect_uri)
                log.info("aauth client: user consent required at %s", auth_endpoint)
                code = parse_interaction_result(self.interaction(url))
                form = [("request_type", "code"), ("code", code), ("redirect_uri", redirect_uri)]
                data = yield from self._token_request(endpoint, form, self.identity, make_request)
        token = self._store(data, resource=resource, scope=scope_of(resource_token), auth_server=auth_server,
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
        doc = json_object(response.content, DiscoveryError, "discovery_failed", "auth server metadata")
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
        check_guarded(request, response)
        kind = form[0][1]
        if redirected(request, response):
            raise TokenEndpointError("the token endpoint redirected; refusing", code="invalid_token_response")
        data = json_object(response.content, TokenEndpointError, "invalid_token_response", "token response")
        if response.status_code != 200 or "error" in data:
            code = data.get("error") if isinstance(data.get("error"), str) else "token_endpoint_error"
            text = data.get("error_description")
            detail = f": {text[:200]}" if isinstance(text, str) else ""
            log.info("aauth client: token request (%s) refused: %s", kind, code)
            raise TokenEndpointError(f"the auth server refused the {kind} request{detail}", code=code,
                                     status_code=response.status_code if response.status_code >= 400 else 400)
        log.info("aauth client: token request (%s) at %s succeeded", kind, host(endpoint))
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
