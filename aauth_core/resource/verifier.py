"""The resource-side pipeline: ``RequestView`` → ``VerifiedRequest`` or ``AAuthError``.

Steps follow protocol B §8 with the stricter rules of A8.  The pipeline is
written once, as a generator that *yields* each I/O it needs (a key lookup, a
replay-cache write) and receives the answer; :meth:`Verifier.verify` drives it
with blocking calls and :meth:`Verifier.averify` with awaits.  Parsing and
cryptography are therefore one code path for both (docs/architecture.md, "sans-I/O").
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

from .. import dialect
from ..cache import BoundedCache, MemoryReplayCache, ReplayCache
from ..cache.url import cache_from_url
from ..context import Requirement, VerifiedRequest
from ..discovery import Discovery
from ..effects import Call, Flow, arun, call, run
from ..errors import AAuthError, AuthorizationRequired, InsufficientScope, ReplayError, SignatureError, TokenError
from ..headers import SignatureParams, parse_signature
from ..httpsig import check_components, check_created, verify_signature
from ..keys import PublicKey, canonical_signature
from ..profile.aauth_11 import AAUTH_11 as _PROFILE_11
from ..request import RequestView
from ..settings import AAuthSettings, SignatureBase
from ..tokens import VerifiedTokenCache, jwt_algorithms_for, peek
from ..wire.content_digest import check_request_digest
from .challenge11 import Challenges11
from .identity import ResourceIdentity, challenge_header, person_required, unsigned_refusal
from .prepared import Identity, Prepared, auth_identity, prepare
from .profile11 import NAME as AAUTH_11
from .profile11 import Verifier11, as_11, is_aauth_11
from .revocation import RevocationStore, check_revoked
from .token_keys import TokenKeys, TokenPolicy
from .tokens11 import Tokens11, TokenTrust11

__all__ = ["Verifier"]

log = logging.getLogger("aauth.core")

_SIGNATURE_CHALLENGE = challenge_header()
_IDENTITY_CHALLENGE = challenge_header(identity=True)
_PREPARED_SIZE = 1024

_Flow = Flow[VerifiedRequest]
_Effects = Generator[Call[Any], Any, None]


class _Policy(NamedTuple):
    """What every request consults, read from the (frozen) settings once: the verifier
    reads nothing else from them per request."""

    schemes: frozenset[str]
    algorithms: frozenset[str]
    bases: tuple[SignatureBase, ...]
    base: SignatureBase | None  # the one configured base, else None (try each)
    authority: str | None  # the configured @authority
    max_age: int
    max_future: int
    replay_window: int
    debug: bool
    x509_roots: tuple[str, ...]

    @classmethod
    def of(cls, s: AAuthSettings) -> _Policy:
        bases = tuple(s.signature_bases)
        return cls(frozenset(s.schemes), frozenset(s.algorithms), bases, bases[0] if len(bases) == 1 else None,
                   s.canonical_authority, s.created_max_age, s.created_max_future, s.created_max_age + 1,
                   s.debug, tuple(s.x509_trust_roots))


def _refuse_replay(fresh: bool) -> None:
    if not fresh:
        raise ReplayError("this signature was already used", code="replayed_request")


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
        revocations: RevocationStore | None = None,
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
        self._policy = _Policy.of(settings)
        self.tokens = TokenKeys(self.discovery, TokenPolicy(
            frozenset(settings.trusted_issuers), settings.resource_id, settings.token_leeway,
            settings.max_act_depth, tuple(jwt_algorithms_for(settings.algorithms))), self.token_cache)
        self._prepared: BoundedCache[tuple[str, str], Prepared] = BoundedCache(_PREPARED_SIZE)
        # Profiles (decision P2): January alone is the default and costs nothing extra; with
        # aauth-11 accepted each header pair is classified once and memoised.
        self._january = "aauth-2026-01" in settings.profiles
        self._v11: Verifier11 | None = None
        self._c11: Challenges11 | None = None
        self._is_11: BoundedCache[tuple[str, str], bool] = BoundedCache(_PREPARED_SIZE)
        if AAUTH_11 in settings.profiles:
            self._v11, self._c11 = self._profile_11(settings)
        #: aauth-11: where revoked person and auth tokens are listed (RS-43); none: never revoked.
        self.revocations = revocations

    def _profile_11(self, s: AAuthSettings) -> tuple[Verifier11, Challenges11]:
        """aauth-11's verifier and challenges, with the trust the settings give (tokens11)."""
        algs = tuple(a for a in jwt_algorithms_for(s.algorithms) if a in _PROFILE_11.jwt_algs)
        trust = TokenTrust11(s.resource_id, frozenset(s.person_servers), s.access_server, s.allow_insecure_loopback)
        tokens = Tokens11(self.discovery, self.token_cache, algorithms=algs, trust=trust)
        verifier = Verifier11(tokens, max_age=s.created_max_age, max_future=s.created_max_future,
                              extra=tuple(s.additional_signature_components))
        return verifier, Challenges11(self.resource, trust, token_lifetime=s.resource_token_lifetime,
                                      clock=self.clock, deferred=s.deferred_delivery)

    # ------------------------------------------------------------------ public API

    def verify(self, view: RequestView) -> VerifiedRequest | None:
        """Verify a request; ``None`` when it carries no signature at all."""
        if not view.is_signed:
            return None
        return self._run(self._verify_flow(view))

    async def averify(self, view: RequestView) -> VerifiedRequest | None:
        if not view.is_signed:
            return None
        return await self._arun(self._verify_flow(view))

    def require(self, verified: VerifiedRequest | None, requirement: Requirement) -> VerifiedRequest:
        """Turn a missing or insufficient context into the right challenge (B §3, §8)."""
        if verified is not None and verified.satisfies(requirement):
            return verified
        c11 = self._c11
        if verified is None:
            absent = unsigned_refusal(requirement) if self._january else None
            if c11 is not None:
                raise c11.unsigned(requirement, absent)
            raise absent or person_required()
        if verified.profile == AAUTH_11 and c11 is not None:
            raise c11.refuse(verified, requirement)
        if requirement.level == "person":  # a January request names no person; -11 says how to
            raise person_required() if c11 is None else c11.unsigned(requirement, person_required())
        if requirement.level == "identity":  # and the request proved only a key (hwk)
            raise AuthorizationRequired(
                "this resource requires an identified agent (jwks, x509 or an agent token)",
                code="identity_required", challenge=_IDENTITY_CHALLENGE,
            )
        if verified.level != "authorization":
            raise AuthorizationRequired(
                "this resource requires an auth token", code="authorization_required",
                challenge=self._auth_challenge(verified, requirement.scopes),
            )
        missing = " ".join(sorted(requirement.scopes - verified.scope))
        raise InsufficientScope(
            f"the auth token does not grant: {missing}",
            challenge=self._auth_challenge(verified, requirement.scopes, step_up=True),
        )

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

    # ------------------------------------------------------------------ drivers (twins)

    def _run(self, flow: _Flow) -> VerifiedRequest:
        try:
            return run(flow)
        except AAuthError as exc:
            raise self._with_default_challenge(exc) from None

    async def _arun(self, flow: _Flow) -> VerifiedRequest:
        try:
            return await arun(flow)
        except AAuthError as exc:
            raise self._with_default_challenge(exc) from None

    @staticmethod
    def _with_default_challenge(exc: AAuthError) -> AAuthError:
        if exc.challenge is None and exc.status_code == 401 and exc.profile != AAUTH_11:
            exc.challenge = _IDENTITY_CHALLENGE if isinstance(exc, TokenError) else _SIGNATURE_CHALLENGE
        log.debug("aauth request refused: %s", exc.code)  # the adapters log every refusal once, at INFO
        return exc

    # ------------------------------------------------------------------ the pipeline

    def _parse(self, view: RequestView) -> tuple[Prepared, bytes]:
        """B §8 steps 1-6: headers, label, components, ``created``, digest."""
        h = view.headers
        key_text = h.get(dialect.SIGNATURE_KEY_HEADER)
        input_text = h.get(dialect.SIGNATURE_INPUT_HEADER)
        signature_text = h.get(dialect.SIGNATURE_HEADER)
        if key_text is None or input_text is None or signature_text is None:
            names = (dialect.SIGNATURE_HEADER, dialect.SIGNATURE_INPUT_HEADER, dialect.SIGNATURE_KEY_HEADER)
            missing = [n for n in names if n not in h]
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}", code="missing_signature")
        policy = self._policy
        prepared = self._prepared.get((key_text, input_text))
        if prepared is None:
            prepared = self._prepared.put((key_text, input_text), prepare(
                key_text, input_text, schemes=policy.schemes, algorithms=policy.algorithms))
        params = prepared.params
        label, signature = parse_signature(signature_text)
        if label != params.label:
            raise SignatureError(
                "Signature, Signature-Input and Signature-Key labels differ", code="label_mismatch"
            )
        check_components(params, view)
        check_created(params, self.clock(), policy.max_age, policy.max_future)
        if prepared.digest:
            check_request_digest(view)
        return prepared, signature

    def _canonical(self, view: RequestView) -> RequestView:
        authority = self._policy.authority
        if authority is not None and view.authority != authority:
            return view._replace(authority=authority)
        return view

    def _check_signature(self, view: RequestView, params: SignatureParams, signature: bytes,
                         key: PublicKey) -> None:
        policy = self._policy
        if key.httpsig_alg not in policy.algorithms:
            raise SignatureError(f"key algorithm {key.httpsig_alg} is not accepted", code="unsupported_algorithm")
        try:
            if policy.base is not None:  # one base configured, the usual case
                verify_signature(view, params, signature, key, base=policy.base)
                return
            for base in policy.bases[:-1]:  # compatibility: any configured base may match
                try:
                    verify_signature(view, params, signature, key, base=base)
                    return
                except SignatureError:
                    continue
            verify_signature(view, params, signature, key, base=policy.bases[-1])
        except SignatureError as exc:
            if policy.debug:  # explicit debug mode, after the refusal: never part of the decision
                self._explain_refusal(view, params, signature, key, exc)
            raise

    def _explain_refusal(self, view: RequestView, params: SignatureParams, signature: bytes, key: PublicKey,
                         exc: SignatureError) -> None:
        """Explicit debug mode only: log the bases we built and what would have verified
        (:mod:`aauth_core.resource.explain`), and keep the explanation on the error."""
        from .explain import explain_signature  # diagnosis only; off the import path of a server

        try:
            explanation = explain_signature(view, params, signature, key, bases=self._policy.bases,
                                            configured_authority=self._policy.authority, refusal=exc)
        except Exception:  # a diagnosis never changes the refusal it explains
            log.debug("aauth debug: could not explain the refusal", exc_info=True)
            return
        exc.explanation = explanation
        log.debug("aauth debug: signature refused (%s) with key %s; explanation:\n%s",
                  exc.code, key.thumbprint, explanation.to_text())

    def _accept(self, view: RequestView, params: SignatureParams, signature: bytes, key: PublicKey) -> _Effects:
        """The last two steps of every flow: the signature verifies with ``key``, and it was
        not seen before (:meth:`_remember`)."""
        self._check_signature(view, params, signature, key)
        yield from self._remember(params, signature, key)

    def _remember(self, params: SignatureParams, signature: bytes, key: PublicKey) -> _Effects:
        """An in-process replay cache is written directly, keyed by the signature (ECDSA: its
        low-S form) and the key's thumbprint; a shared one is I/O, under a fixed-length hashed
        name, so a warm request costs no await it does not need."""
        cache = self.replay_cache
        if cache is None:
            return
        until = (params.created or 0) + self._policy.replay_window
        if key.alg == "p256":  # ECDSA is malleable: the twin (r, n - s) is the same signature
            signature = canonical_signature(signature)
        if self._local_replay is not None:
            _refuse_replay(self._local_replay.add(signature + key.thumbprint.encode(), until))
            return
        digest = hashlib.sha256(key.thumbprint.encode() + b"\0" + signature).hexdigest()
        _refuse_replay((yield from call(cache.add, cache.aadd, f"aauth:replay:{digest}", until)))

    def _verify_flow(self, view: RequestView) -> _Flow:
        view = self._canonical(view)
        if self._v11 is not None and self._speaks_11(view):
            return (yield from self._flow_11(view, self._v11))
        prepared, signature = self._parse(view)
        sk, identity = prepared.sigkey, prepared.identity
        discovery = self.discovery
        if prepared.key is not None:  # hwk
            key = prepared.key
        elif prepared.route is not None:  # jwks by agent identifier
            key = discovery.cached_key_for(*prepared.route) or (
                yield from call(discovery.key_for, discovery.akey_for, *prepared.route))
        elif sk.scheme == "jwks":
            key = yield from call(discovery.jwks_key, discovery.ajwks_key, sk.jwks_uri or "", sk.kid or "")
        elif sk.scheme == "jwt":
            token, now = sk.jwt or "", self.clock()
            warm = self.tokens.warm(token, now)
            if warm is None:
                warm = yield from self.tokens.flow(token, now)
            key, identity = warm
        else:
            key, identity = yield from self._x509_flow(sk.params)
        yield from self._accept(view, prepared.params, signature, key)
        return prepared.outcome(key, identity)

    def _speaks_11(self, view: RequestView) -> bool:
        """Decision P2: which profile verifies this request, decided once per header pair."""
        if not self._january:
            return True
        h = view.headers
        key_text, input_text = h.get(dialect.SIGNATURE_KEY_HEADER), h.get(dialect.SIGNATURE_INPUT_HEADER)
        if key_text is None or input_text is None:
            return False  # January's parser names what is missing
        hit = self._is_11.get((key_text, input_text))
        if hit is None:
            hit = self._is_11.put((key_text, input_text), is_aauth_11(key_text, input_text))
        return hit

    def _flow_11(self, view: RequestView, v11: Verifier11) -> _Flow:
        """An aauth-11 request (agent, person or auth token): -11 §11.3.4 in order, every refusal in -11's shape."""
        try:
            h = view.headers
            key_text, input_text = h.get(dialect.SIGNATURE_KEY_HEADER), h.get(dialect.SIGNATURE_INPUT_HEADER)
            signature_text = h.get(dialect.SIGNATURE_HEADER)
            if key_text is None or input_text is None or signature_text is None:
                raise SignatureError("missing signature header(s)", code="missing_signature")
            now = self.clock()
            prepared, signature = v11.parse(view, key_text, input_text, signature_text, now)
            token = prepared.sigkey.jwt or ""
            warm = v11.tokens.warm(token, now)
            if warm is None:
                warm = yield from v11.tokens.flow(token, now)
            key, identity = warm
            if identity.person is not None and self.revocations is not None:
                yield from check_revoked(self.revocations, identity)
            if key.httpsig_alg not in self._policy.algorithms:
                raise SignatureError(f"key algorithm {key.httpsig_alg} is not accepted", code="unsupported_algorithm")
            verify_signature(view, prepared.params, signature, key, base="rfc9421")
            yield from self._remember(prepared.params, signature, key)
        except AAuthError as exc:
            exc = as_11(exc)
            raise (exc if self._c11 is None else self._c11.with_link(exc)) from None
        verified = prepared.outcome(key, identity)
        if identity.person is not None and self._c11 is not None and self._c11.deferred is not None:
            return verified._replace(held_request=view)  # it may be held (deferred delivery, RS-36)
        return verified

    def _x509_flow(self, params: Any) -> Generator[Call[Any], Any, tuple[PublicKey, Identity]]:
        from ..x509chain import x509_identity  # x509 is rare; keep its imports off the hot path

        roots = self._policy.x509_roots
        if not roots:
            raise SignatureError("x509 keys need configured trust roots (x509_trust_roots)",
                                 code="unsupported_scheme")
        discovery = self.discovery
        chain_pem = yield from call(discovery.fetch_text, discovery.afetch_text, params["x5u"])
        key, agent = x509_identity(chain_pem, params["x5t"], roots, now=self.clock())
        return key, Identity(agent=agent)

    def _fixed_key_flow(self, view: RequestView, key: PublicKey) -> _Flow:
        view = self._canonical(view)
        prepared, signature = self._parse(view)
        sk, params = prepared.sigkey, prepared.params
        yield from self._accept(view, params, signature, key)
        return VerifiedRequest(scheme=sk.scheme, label=sk.label, key=key, created=params.created or 0,
                               components=params.components)

    def _exchange_flow(self, view: RequestView, intermediary: str, agent_jkt: str) -> _Flow:
        view = self._canonical(view)
        prepared, signature = self._parse(view)
        sk, params = prepared.sigkey, prepared.params
        if sk.scheme != "jwt":
            raise SignatureError("a token exchange must present the upstream auth token (scheme=jwt)",
                                 code="invalid_request")
        upstream = peek(sk.jwt or "")
        if upstream.header.get("typ") != dialect.TYP_AUTH:
            raise TokenError("the upstream token must be an auth+jwt", code="wrong_token_type")
        _, valid = yield from self.tokens.auth_token(upstream, audience=intermediary, now=self.clock(),
                                                      what="upstream token")
        discovery = self.discovery
        signer = yield from call(discovery.key_by_thumbprint, discovery.akey_by_thumbprint,
                                 intermediary, dialect.WELL_KNOWN_RESOURCE, agent_jkt)
        yield from self._accept(view, params, signature, signer)
        identity = auth_identity(valid.claims, valid.act, issuer=valid.claims["iss"], token=upstream.raw)
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
