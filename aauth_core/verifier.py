"""The resource-side pipeline: ``RequestView`` → ``VerifiedRequest`` or ``AAuthError``.

Steps follow protocol B §8 with the stricter rules of A8.  The pipeline is
written once, as a generator that *yields* each I/O it needs (a key lookup, a
replay-cache write) and receives the answer; :meth:`Verifier.verify` drives it
with blocking calls and :meth:`Verifier.averify` with awaits.  Parsing and
cryptography are therefore one code path for both (architecture convention 2).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from . import dialect
from ._sansio import Call, Flow, arun, run
from .cache import MemoryReplayCache, ReplayCache
from .cache.url import cache_from_url
from .context import Actor, Requirement, VerifiedRequest
from .discovery import Discovery
from .errors import (
    AAuthError,
    AuthorizationRequired,
    InsufficientScope,
    ReplayError,
    SignatureError,
    TokenError,
)
from .headers import (
    SignatureKey,
    SignatureParams,
    check_content_digest,
    parse_signature,
    parse_signature_input,
    parse_signature_key,
)
from .httpsig import check_components, check_created, verify_signature
from .keys import PublicKey
from .request import RequestView
from .resource import ResourceIdentity, challenge_header
from .settings import AAuthSettings
from .tokens import (
    TokenTimes,
    ValidatedToken,
    VerifiedTokenCache,
    jwt_algorithms_for,
    peek,
    validate_token,
)

__all__ = ["Verifier"]

log = logging.getLogger("aauth.core")

_SIGNATURE_CHALLENGE = challenge_header()
_IDENTITY_CHALLENGE = challenge_header(identity=True)


_Flow = Flow[VerifiedRequest]


def _key_for(identifier: str, well_known: str | None, kid: str) -> Call:
    """Fetch a key by ``kid`` (I/O).  Flows ask discovery's memo first, which answers
    without I/O while every document behind the key is fresh:
    ``key = discovery.cached_key_for(*route) or (yield _key_for(*route))``."""
    return Call("discovery", "key_for", (identifier, well_known, kid))


def _refuse_replay(fresh: bool) -> None:
    if not fresh:
        raise ReplayError("this signature was already used", code="replayed_request")


_KeyRoute = tuple[str, "str | None", str]
_PREPARED_SIZE = 1024


class _Identity(NamedTuple):
    """The trailing fields of :class:`VerifiedRequest`, same names and order: who the
    caller is, as its key or token says.  A verified request is the signature's own
    fields followed by these, built in one step."""

    agent: str | None = None
    agent_delegate: str | None = None
    sub: str | None = None
    scope: frozenset[str] = frozenset()
    act: tuple[Actor, ...] = ()
    token_type: str | None = None
    issuer: str | None = None
    claims: Mapping[str, Any] = MappingProxyType({})
    token: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"_Identity(agent={self.agent!r})"


_PSEUDONYMOUS = _Identity()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Signature-Key and Signature-Input parsed and checked against each other and
    this verifier's settings.  Decided once per distinct pair: an agent repeats both
    texts on every request it signs within the same second."""

    sigkey: SignatureKey
    params: SignatureParams
    digest: bool  # Content-Digest is covered: the body must be checked
    key: PublicKey | None = None  # hwk: the key itself
    route: _KeyRoute | None = None  # jwks by id: (agent, well-known, kid) to find the key
    identity: _Identity = _PSEUDONYMOUS
    #: The last outcome, with the key and identity it was built from: every request of
    #: the pair proves the same thing (the created time is part of the pair), so while
    #: key and identity stay the same objects it is handed out again, not rebuilt.
    last: tuple[PublicKey, _Identity, VerifiedRequest] | None = field(default=None, compare=False)

    def outcome(self, key: PublicKey, identity: _Identity) -> VerifiedRequest:
        last = self.last
        if last is not None and last[0] is key and last[1] is identity:
            return last[2]
        sk, params = self.sigkey, self.params
        verified = VerifiedRequest._make((sk.scheme, sk.label, key, params.created or 0, params.components, *identity))
        object.__setattr__(self, "last", (key, identity, verified))
        return verified


_WARM_TOKENS_SIZE = 1024


@dataclass(frozen=True, slots=True)
class _WarmToken:
    """A ``scheme=jwt`` token validated in full: the issuer key it was checked with
    (and where discovery keeps it), its ``cnf`` key, what it says, and the time
    claims every request checks again."""

    route: _KeyRoute
    issuer_key: PublicKey
    key: PublicKey
    identity: _Identity
    times: TokenTimes


# ----------------------------------------------------------------------------- the verifier


class Verifier:
    """Verifies signed requests for one resource (or auth server).

    ``discovery`` fetches metadata and keys (its transport is injectable);
    ``replay_cache`` defaults to a bounded in-memory cache; ``clock`` returns unix
    seconds.  ``resource`` is needed to answer ``authorization`` requirements
    with a fresh resource token.
    """

    def __init__(
        self,
        settings: AAuthSettings,
        *,
        discovery: Discovery | None = None,
        replay_cache: ReplayCache | None = None,
        resource: ResourceIdentity | None = None,
        clock: Callable[[], float] = time.time,
        token_cache: VerifiedTokenCache | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.discovery = discovery if discovery is not None else Discovery(settings, clock=clock)
        self.replay_cache: ReplayCache | None = None
        if settings.replay_protection:
            if replay_cache is None:  # settings.cache_url decides: memory:// or a shared Redis
                replay_cache, _ = cache_from_url(settings.cache_url, replay_cache_size=settings.replay_cache_size,
                                                 clock=clock)
            self.replay_cache = replay_cache
        self._local_replay = self.replay_cache if isinstance(self.replay_cache, MemoryReplayCache) else None
        self.resource = resource
        self.token_cache = token_cache if token_cache is not None else VerifiedTokenCache()
        self._jwt_algs = jwt_algorithms_for(settings.algorithms)
        # Settings are frozen: what every request consults is looked up once, here.  Issuers
        # are compared exactly (RFC 8414 §3.3, RFC 9207): settings normalised them at load.
        self._trusted = frozenset(settings.trusted_issuers)
        self._schemes = frozenset(settings.schemes)
        self._algorithms = frozenset(settings.algorithms)
        self._bases = tuple(settings.signature_bases)
        self._base = self._bases[0] if len(self._bases) == 1 else None
        self._replay_window = settings.created_max_age + 1
        self._max_age, self._max_future = settings.created_max_age, settings.created_max_future
        self._authority = settings.canonical_authority
        self._leeway = settings.token_leeway
        self._warm_tokens: dict[str, _WarmToken] = {}
        self._prepared: dict[tuple[str, str], _Prepared] = {}

    # ------------------------------------------------------------------ public API

    def verify(self, view: RequestView) -> VerifiedRequest | None:
        """Verify a request; ``None`` when it carries no signature at all."""
        if not view.is_signed:
            return None
        try:  # _run, inlined: every request comes here
            return run(self, self._verify_flow(view))
        except AAuthError as exc:
            raise self._with_default_challenge(exc) from None

    async def averify(self, view: RequestView) -> VerifiedRequest | None:
        if not view.is_signed:
            return None
        return await self._arun(self._verify_flow(view))

    def require(self, verified: VerifiedRequest | None, requirement: Requirement) -> VerifiedRequest:
        """Turn a missing or insufficient context into the right challenge (B §3, §8)."""
        if verified is None:
            if requirement.level == "signature":
                raise AuthorizationRequired(
                    "this resource requires a signed request", code="signature_required",
                    challenge=_SIGNATURE_CHALLENGE,
                )
            raise AuthorizationRequired(
                "this resource requires a signed request from an identified agent",
                code="identity_required", challenge=_IDENTITY_CHALLENGE,
            )
        if requirement.level == "identity" and verified.level == "signature":
            raise AuthorizationRequired(
                "this resource requires an identified agent (jwks, x509 or an agent token)",
                code="identity_required", challenge=_IDENTITY_CHALLENGE,
            )
        if requirement.level == "authorization":
            if verified.level != "authorization":
                raise AuthorizationRequired(
                    "this resource requires an auth token", code="authorization_required",
                    challenge=self._auth_challenge(verified, requirement.scopes),
                )
            if not requirement.scopes <= verified.scope:
                missing = " ".join(sorted(requirement.scopes - verified.scope))
                raise InsufficientScope(
                    f"the auth token does not grant: {missing}",
                    challenge=self._auth_challenge(verified, requirement.scopes, step_up=True),
                )
        return verified

    def authorize(self, view: RequestView, requirement: Requirement) -> VerifiedRequest:
        """``verify`` then ``require``: what a protected route does."""
        return self.require(self.verify(view), requirement)

    async def aauthorize(self, view: RequestView, requirement: Requirement) -> VerifiedRequest:
        return self.require(await self.averify(view), requirement)

    def verify_exchange(self, view: RequestView, *, intermediary: str, agent_jkt: str) -> VerifiedRequest:
        """Verify a token-exchange request (protocol A7).

        The request presents the *upstream* auth token in Signature-Key but is
        signed with the intermediary's own key, found in the intermediary's
        ``aauth-resource`` JWKS by the resource token's ``agent_jkt``.  The upstream
        token is validated in full: trusted issuer, ``typ``, signature, ``exp`` and
        ``aud`` equal to the intermediary.
        """
        return self._run(self._exchange_flow(view, intermediary, agent_jkt))

    async def averify_exchange(self, view: RequestView, *, intermediary: str, agent_jkt: str) -> VerifiedRequest:
        return await self._arun(self._exchange_flow(view, intermediary, agent_jkt))

    def verify_with_key(self, view: RequestView, key: PublicKey) -> VerifiedRequest:
        """Check only the HTTP signature against a known key (``aauth verify --key``):
        headers, components, ``created``, digest and signature; no discovery, no tokens."""
        return self._run(self._fixed_key_flow(view, key))

    # ------------------------------------------------------------------ drivers

    def _run(self, flow: _Flow) -> VerifiedRequest:
        try:
            return run(self, flow)
        except AAuthError as exc:
            raise self._with_default_challenge(exc) from None

    async def _arun(self, flow: _Flow) -> VerifiedRequest:
        try:
            return await arun(self, flow)
        except AAuthError as exc:
            raise self._with_default_challenge(exc) from None

    def _with_default_challenge(self, exc: AAuthError) -> AAuthError:
        if exc.challenge is None and exc.status_code == 401:
            exc.challenge = _IDENTITY_CHALLENGE if isinstance(exc, TokenError) else _SIGNATURE_CHALLENGE
        log.info("aauth request refused: %s", exc.code)
        return exc

    # ------------------------------------------------------------------ the pipeline

    def _parse(self, view: RequestView) -> tuple[_Prepared, bytes]:
        """B §8 steps 1-6: headers, label, components, ``created``, digest."""
        h = view.headers
        key_text = h.get(dialect.SIGNATURE_KEY_HEADER)
        input_text = h.get(dialect.SIGNATURE_INPUT_HEADER)
        signature_text = h.get(dialect.SIGNATURE_HEADER)
        if key_text is None or input_text is None or signature_text is None:
            names = (dialect.SIGNATURE_HEADER, dialect.SIGNATURE_INPUT_HEADER, dialect.SIGNATURE_KEY_HEADER)
            missing = [n for n in names if n not in h]
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}", code="missing_signature")
        prepared = self._prepared.get((key_text, input_text)) or self._prepare(key_text, input_text)
        params = prepared.params
        label, signature = parse_signature(signature_text)
        if label != params.label:
            raise SignatureError(
                "Signature, Signature-Input and Signature-Key labels differ", code="label_mismatch"
            )
        check_components(params, view)
        check_created(params, self.clock(), self._max_age, self._max_future)
        if prepared.digest:
            if view.body is None:
                raise SignatureError("the request body was not available to check Content-Digest",
                                     code="body_unavailable", status_code=500)
            digest = h.get(dialect.CONTENT_DIGEST_HEADER)
            if digest is None:
                raise SignatureError("covered header 'content-digest' is absent from the request",
                                     code="missing_component")
            check_content_digest(digest, view.body)
        return prepared, signature

    def _prepare(self, key_text: str, input_text: str) -> _Prepared:
        """Parse and cross-check the two headers that do not change per request (errors are not kept)."""
        sigkey = parse_signature_key(key_text)
        params = parse_signature_input(input_text)
        if params.label != sigkey.label:
            raise SignatureError(
                "Signature, Signature-Input and Signature-Key labels differ", code="label_mismatch"
            )
        if sigkey.scheme not in self._schemes:
            raise SignatureError(f"scheme {sigkey.scheme!r} is not accepted here", code="unsupported_scheme")
        if params.alg is not None and params.alg not in self._algorithms:
            raise SignatureError(f"algorithm {params.alg!r} is not accepted", code="unsupported_algorithm")
        digest = "content-digest" in params.components
        if sigkey.scheme == "hwk":
            prepared = _Prepared(sigkey, params, digest, key=sigkey.hwk_key())
        elif sigkey.scheme == "jwks" and sigkey.id is not None:
            if sigkey.well_known not in (None, dialect.WELL_KNOWN_AGENT, dialect.WELL_KNOWN_RESOURCE):
                raise SignatureError(f"well-known {sigkey.well_known!r} does not identify an agent",
                                     code="invalid_signature_key")
            prepared = _Prepared(sigkey, params, digest, route=(sigkey.id, sigkey.well_known, sigkey.kid or ""),
                                 identity=_Identity(agent=sigkey.id.rstrip("/")))
        else:
            prepared = _Prepared(sigkey, params, digest)
        if len(self._prepared) >= _PREPARED_SIZE:
            self._prepared.clear()
        self._prepared[(key_text, input_text)] = prepared
        return prepared

    def _canonical(self, view: RequestView) -> RequestView:
        authority = self._authority
        if authority is not None and view.authority != authority:
            return view._replace(authority=authority)
        return view

    def _check_signature(self, view: RequestView, params: SignatureParams, signature: bytes,
                         key: PublicKey) -> None:
        if key.httpsig_alg not in self._algorithms:
            raise SignatureError(f"key algorithm {key.httpsig_alg} is not accepted", code="unsupported_algorithm")
        try:
            if self._base is not None:  # one base configured, the usual case
                verify_signature(view, params, signature, key, base=self._base)
                return
            for base in self._bases[:-1]:  # compatibility: any configured base may match
                try:
                    verify_signature(view, params, signature, key, base=base)
                    return
                except SignatureError:
                    continue
            verify_signature(view, params, signature, key, base=self._bases[-1])
        except SignatureError as exc:
            if self.settings.debug:  # explicit debug mode, after the refusal: never part of the decision
                self._explain_refusal(view, params, signature, key, exc)
            raise

    def _explain_refusal(self, view: RequestView, params: SignatureParams, signature: bytes, key: PublicKey,
                         exc: SignatureError) -> None:
        """Explicit debug mode only: log the bases we built and what would have verified
        (:mod:`aauth_core.explain`), and keep the explanation on the error."""
        from .explain import explain_signature  # diagnosis only; off the import path of a server

        try:
            explanation = explain_signature(view, params, signature, key, bases=self._bases,
                                            configured_authority=self._authority, refusal=exc)
        except Exception:  # a diagnosis never changes the refusal it explains
            log.debug("aauth debug: could not explain the refusal", exc_info=True)
            return
        exc.explanation = explanation
        log.debug("aauth debug: signature refused (%s) with key %s; explanation:\n%s",
                  exc.code, key.thumbprint, explanation.to_text())

    def _remember(self, params: SignatureParams, signature: bytes, key: PublicKey) -> Call | None:
        """Record the signature in the replay cache; refuse it if it was seen before.

        An in-process cache is written here, keyed by the signature and the key's
        thumbprint as they are.  A shared one is I/O: the ``Call`` to make is
        returned for the flow to yield (then :func:`_refuse_replay`), under a
        fixed-length hashed name, so a warm request costs no await it does not need.
        """
        cache = self.replay_cache
        if cache is None:
            return None
        until = (params.created or 0) + self._replay_window
        if self._local_replay is not None:
            _refuse_replay(self._local_replay.add(signature + key.thumbprint.encode(), until))
            return None
        digest = hashlib.sha256(key.thumbprint.encode() + b"\0" + signature).hexdigest()
        return Call("replay_cache", "add", (f"aauth:replay:{digest}", until))

    def _verify_flow(self, view: RequestView) -> _Flow:
        view = self._canonical(view)
        prepared, signature = self._parse(view)
        sk, params, identity = prepared.sigkey, prepared.params, prepared.identity
        if prepared.key is not None:  # hwk
            key = prepared.key
        elif prepared.route is not None:  # jwks by agent identifier
            route = prepared.route
            key = self.discovery.cached_key_for(*route) or (yield _key_for(*route))
        elif sk.scheme == "jwks":
            key = yield Call("discovery", "jwks_key", (sk.jwks_uri or "", sk.kid or ""))
        elif sk.scheme == "jwt":
            token, now = sk.jwt or "", self.clock()
            warm = self._warm_token(token, now)
            if warm is None:
                warm = yield from self._token_key(token, now)
            key, identity = warm
        else:  # x509
            from .x509chain import x509_identity  # x509 is rare; keep its imports off the hot path

            if not self.settings.x509_trust_roots:
                raise SignatureError("x509 keys need configured trust roots (x509_trust_roots)",
                                     code="unsupported_scheme")
            chain_pem = yield Call("discovery", "fetch_text", (sk.params["x5u"],))
            key, agent = x509_identity(chain_pem, sk.params["x5t"], self.settings.x509_trust_roots,
                                       now=self.clock())
            identity = _Identity(agent=agent)
        self._check_signature(view, params, signature, key)
        replay = self._remember(params, signature, key)
        if replay is not None:
            _refuse_replay((yield replay))
        return prepared.outcome(key, identity)

    def _fixed_key_flow(self, view: RequestView, key: PublicKey) -> _Flow:
        view = self._canonical(view)
        prepared, signature = self._parse(view)
        sk, params = prepared.sigkey, prepared.params
        self._check_signature(view, params, signature, key)
        replay = self._remember(params, signature, key)
        if replay is not None:
            _refuse_replay((yield replay))
        return VerifiedRequest(scheme=sk.scheme, label=sk.label, key=key, created=params.created or 0,
                               components=params.components)

    def _warm_token(self, token: str, now: float) -> tuple[PublicKey, _Identity] | None:
        """A token this verifier validated in full before, under the same settings, with
        the issuer key discovery still holds fresh: only its time claims are checked
        again (B §6.3).  ``None`` sends it through :meth:`_token_key`."""
        hit = self._warm_tokens.get(token)
        if hit is None or self.discovery.cached_key_for(*hit.route) is not hit.issuer_key:
            return None
        hit.times.check(now, self._leeway)
        return hit.key, hit.identity

    def _token_key(self, token: str, now: float) -> Flow[tuple[PublicKey, _Identity]]:
        """Validate the JWT of ``scheme=jwt`` completely before using its ``cnf`` key (B §6.3)."""
        unverified = peek(token)
        typ = unverified.header.get("typ")
        iss = unverified.claims.get("iss")
        kid = unverified.header.get("kid")
        if not isinstance(iss, str) or not isinstance(kid, str):
            raise TokenError("token needs string 'iss' and 'kid'", code="malformed_token")
        s = self.settings
        if typ == dialect.TYP_AUTH:
            if iss not in self._trusted:
                raise TokenError("auth token issuer is not trusted here", code="untrusted_issuer")
            if s.resource_id is None:
                raise TokenError("this server has no resource_id to check 'aud' against", code="invalid_audience")
            route: _KeyRoute = (iss, dialect.WELL_KNOWN_ISSUER, kid)
            issuer_key = self.discovery.cached_key_for(*route) or (yield _key_for(*route))
            valid = validate_token(
                unverified, typ=dialect.TYP_AUTH, key=issuer_key, now=now, leeway=s.token_leeway,
                algorithms=self._jwt_algs, audience=s.resource_id, max_act_depth=s.max_act_depth,
                cache=self.token_cache,
            )
        elif typ == dialect.TYP_AGENT:
            route = (iss, dialect.WELL_KNOWN_AGENT, kid)
            issuer_key = self.discovery.cached_key_for(*route) or (yield _key_for(*route))
            # ``aud`` is optional in an agent token; when present (a string or an array,
            # RFC 7519 §4.1.3) it must name this server exactly.
            valid = validate_token(
                unverified, typ=dialect.TYP_AGENT, key=issuer_key, now=now, leeway=s.token_leeway,
                algorithms=self._jwt_algs, audience=s.resource_id, max_act_depth=s.max_act_depth,
                cache=self.token_cache,
            )
        else:
            raise TokenError(
                f"a Signature-Key JWT must be an agent+jwt or auth+jwt, not {typ!r}", code="wrong_token_type"
            )
        if valid.cnf_key is None:  # validate_token requires cnf for both typs; belt and braces
            raise TokenError("token has no cnf.jwk", code="invalid_cnf")
        identity = self._token_identity(valid, typ, iss)
        if len(self._warm_tokens) >= _WARM_TOKENS_SIZE:
            self._warm_tokens.clear()
        self._warm_tokens[token] = _WarmToken(route, issuer_key, valid.cnf_key, identity, TokenTimes.of(valid.claims))
        return valid.cnf_key, identity

    @staticmethod
    def _token_identity(valid: ValidatedToken, typ: str, iss: str) -> _Identity:
        """What a validated token says about the caller (kept with the warm token)."""
        claims = valid.claims
        if typ == dialect.TYP_AUTH:
            return _auth_identity(claims, valid.act, issuer=iss, token=valid.raw)
        return _Identity(agent=iss.rstrip("/"), agent_delegate=_opt_str(claims.get("sub")), token_type=typ,
                         issuer=iss, claims=claims, token=valid.raw)

    def _exchange_flow(self, view: RequestView, intermediary: str, agent_jkt: str) -> _Flow:
        view = self._canonical(view)
        prepared, signature = self._parse(view)
        sk, params = prepared.sigkey, prepared.params
        if sk.scheme != "jwt":
            raise SignatureError("a token exchange must present the upstream auth token (scheme=jwt)",
                                 code="invalid_request")
        now = self.clock()
        s = self.settings
        upstream = peek(sk.jwt or "")
        if upstream.header.get("typ") != dialect.TYP_AUTH:
            raise TokenError("the upstream token must be an auth+jwt", code="wrong_token_type")
        iss, kid = upstream.claims.get("iss"), upstream.header.get("kid")
        if not isinstance(iss, str) or not isinstance(kid, str):
            raise TokenError("upstream token needs string 'iss' and 'kid'", code="malformed_token")
        if iss not in self._trusted:
            raise TokenError("upstream auth server is not trusted", code="untrusted_issuer")
        route: _KeyRoute = (iss, dialect.WELL_KNOWN_ISSUER, kid)
        issuer_key = self.discovery.cached_key_for(*route) or (yield _key_for(*route))
        valid = validate_token(
            upstream, typ=dialect.TYP_AUTH, key=issuer_key, now=now, leeway=s.token_leeway,
            algorithms=self._jwt_algs, audience=intermediary, max_act_depth=s.max_act_depth,
            cache=self.token_cache,
        )
        signer = yield Call("discovery", "key_by_thumbprint",
                            (intermediary, dialect.WELL_KNOWN_RESOURCE, agent_jkt))
        self._check_signature(view, params, signature, signer)
        replay = self._remember(params, signature, signer)
        if replay is not None:
            _refuse_replay((yield replay))
        identity = _auth_identity(valid.claims, valid.act, issuer=iss, token=upstream.raw)
        return VerifiedRequest._make(("jwt", sk.label, signer, params.created or 0, params.components, *identity))

    # ------------------------------------------------------------------ challenges

    def _auth_challenge(self, verified: VerifiedRequest, scopes: frozenset[str], *, step_up: bool = False) -> str:
        """A fresh resource token for the verified agent, or an identity challenge when
        there is no agent identifier to bind one to (A8: never before verification)."""
        if verified.agent is None or self.resource is None or self.resource.auth_server is None:
            return _IDENTITY_CHALLENGE
        if scopes and step_up:
            scope = " ".join(sorted(scopes | verified.scope))
        elif scopes:
            scope = " ".join(sorted(scopes))
        else:
            scope = None
        return self.resource.auth_token_challenge(
            agent=verified.agent, agent_jkt=verified.key_thumbprint, scope=scope
        )


# ----------------------------------------------------------------------------- helpers


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _auth_identity(claims: Mapping[str, Any], act: tuple[Any, ...], *, issuer: str, token: str) -> _Identity:
    scope = claims.get("scope")
    return _Identity(
        agent=_opt_str(claims.get("agent")),
        agent_delegate=_opt_str(claims.get("agent_delegate")),
        sub=_opt_str(claims.get("sub")),
        scope=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        act=tuple(Actor(a.agent, a.agent_delegate, a.sub) for a in act),
        token_type=dialect.TYP_AUTH,
        issuer=issuer,
        claims=claims if isinstance(claims, MappingProxyType) else MappingProxyType(dict(claims)),
        token=token,
    )
