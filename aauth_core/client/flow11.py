"""The aauth-11 agent's challenge loop (-11 §6, §7, §9, §11.6, §11.8; reference §2.2),
written once as a generator like :class:`~aauth_core.client.flow.FlowEngine`: the httpx
and httpx2 ``Auth`` (``_httpx``) drive it, blocking or awaited.

The agent signs every request with ``Signature-Key: sig=jwt;jwt="<token>"`` and presents
its best token for the resource's origin: a cached auth token, else a cached person
token, else its agent token.  Then, for the resource's answer:

* ``401 requirement=agent-token``: present the agent token (a person or auth token was
  not what this route takes);
* ``401 requirement=person-token``: a person token from the agent's person server (the
  agent token's ``ps``), cached per resource and mission;
* ``401 requirement=auth-token; resource-token=...``: the resource token checked, traded
  at the person server's ``auth_token_endpoint`` for an auth token (polling a ``202``),
  cached per resource and scope;
* ``202`` with a requirement (deferred delivery, RS-36): the auth token as above, then the
  resource's ``Location`` polled, presenting it, until the result;
* ``401 Signature-Error``: ``invalid_input`` re-signs once with the ``required_input``;
  ``revoked_jwt`` / ``expired_jwt`` on a person or auth token drop it and fetch a new
  person token once; anything else is an error carrying the Signature-Error code.

The resource identifier is the request's origin; when the resource serves
``/.well-known/aauth-resource.json`` its ``issuer`` must agree (``issuer_mismatch``), so a
token is never asked for one party and sent to another.  Rounds are bounded
(``ClientOptions.max_rounds``), a token obtained in this flow and refused at once is an
error (``token_refused``), and a non-replayable body is never re-sent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import AAuthError, HeaderError
from ..keys import SigningKey
from ..profile.aauth_11 import AAUTH_11
from ..tokens import peek
from ..wire.coverage import AAUTH_11_BASE_COMPONENTS
from ..wire.requirement import AAuthRequirement
from ..wire.signature_error import SignatureErrorField, parse_signature_error
from .interaction import InteractionHandler, raise_interaction_required
from .pending import PollingOptions, poll, problem_error, requirement_of
from .person_server import PersonServerClient
from .responses import check_guarded, safe_url
from .signer import RequestSigner, SignerOptions
from .token_cache import TokenCache
from .tokens11 import Kind, Presented, TokenSteps11
from .values import (
    STATE,
    Body,
    ClientOptions,
    Flow,
    RequestFactory,
    RequestLike,
    ResponseLike,
    SentSignatures,
    SignState,
    origin_of,
)

__all__ = ["AgentToken", "FlowEngine11"]

log = logging.getLogger("aauth.client")

#: The agent token: a string, or a callable giving the current one (re-issued before it ends).
AgentToken = str | Callable[[], str]

_SIGNATURE_HEADERS = ("signature", "signature-input", "signature-key", "content-digest")
_SIGNATURE_ERROR = AAUTH_11.signature_error_header or "Signature-Error"
#: Seconds before expiry at which the default cache stops presenting a token (reference §2.2).
REFRESH_MARGIN = 300.0
#: Signature bases this process signed in the current second (decision P8), every -11 engine.
_SENT = SentSignatures()


@dataclass(slots=True)
class _Round:
    """What one flow has already tried (each recovery happens at most once)."""

    extras: bool = False
    renewed: bool = False
    auth_obtained: bool = False


def _not_replayable() -> AAuthError:
    return AAuthError("the resource asked for a retry but the request body is a stream that was already sent and "
                      "cannot be replayed; send bytes instead", code="body_not_replayable", status_code=400)


def _token_refused(what: str) -> AAuthError:
    return AAuthError(f"the resource refused {what}", code="token_refused", status_code=401)


def _signature_error_of(response: ResponseLike) -> SignatureErrorField | None:
    value = response.headers.get(_SIGNATURE_ERROR)
    if not value:
        return None
    try:
        return parse_signature_error(value)
    except HeaderError:
        return SignatureErrorField("invalid_signature")  # unreadable, but a signature failure all the same


def _refusal(field: SignatureErrorField) -> AAuthError:
    return AAuthError(f"the resource refused the request's signature (Signature-Error: {field.error})",
                      code=field.error, status_code=401)


class FlowEngine11(TokenSteps11):
    """One -11 agent: its key, its agent token and what it has obtained.

    ``upstream_token`` (call chaining, -11 §10.1.1): the person or auth token this
    intermediary received; it goes in every person-server request, and the person server
    is the one it names (its ``iss``, or an auth token's ``ps``).  ``mission_s256``: named
    in person-token requests; tokens are cached per mission.  ``resource_metadata``:
    fetch ``aauth-resource.json`` to check the resource's ``issuer`` before asking for a
    token for it.  Without a ``cache``, tokens are replaced when less than
    :data:`REFRESH_MARGIN` seconds (or ``options.token_cache_margin``, if longer) are left.
    """

    def __init__(
        self,
        key: SigningKey,
        agent_token: AgentToken,
        *,
        options: ClientOptions = ClientOptions(),  # noqa: B008  (frozen: one shared default is safe)
        polling: PollingOptions = PollingOptions(),  # noqa: B008
        cache: TokenCache | None = None,
        interaction: InteractionHandler | None = None,
        upstream_token: str | None = None,
        mission_s256: str | None = None,
        signer_options: SignerOptions | None = None,
        resource_metadata: bool = True,
    ) -> None:
        self.key = key
        self.jkt = key.thumbprint
        self.options = options
        self.polling = polling
        # -11 "Refresh": a token with less than 5 minutes left is replaced, not presented.
        self.cache = cache if cache is not None else TokenCache(max(options.token_cache_margin, REFRESH_MARGIN))
        self.interaction_given = interaction is not None
        self.interaction: InteractionHandler = interaction or raise_interaction_required
        self.signer_options = signer_options or SignerOptions.aauth_11()
        if self.signer_options.profile != "aauth-11":
            raise ValueError("an aauth-11 engine signs with SignerOptions.aauth_11()")
        self.upstream_token = upstream_token
        self.mission_s256 = mission_s256
        self.resource_metadata = resource_metadata
        self._source: Callable[[], str] = agent_token if callable(agent_token) else (lambda: agent_token)
        self._checked_agent_token: str | None = None
        self.agent_token()  # a token that is not ours fails here, not on the first request
        if upstream_token is not None:
            typ = peek(upstream_token).typ
            if typ not in (AAUTH_11.typ_person, AAUTH_11.typ_auth):
                raise ValueError("upstream_token must be an aa-person+jwt or aa-auth+jwt")
        upstream = hashlib.sha256(upstream_token.encode()).hexdigest()[:32] if upstream_token else ""
        partition = f"{self.jkt}|{mission_s256 or ''}|{upstream}"
        self._partitions: dict[Kind, str] = {"person": f"aauth-11|person|{partition}",
                                              "auth": f"aauth-11|auth|{partition}"}
        self._resources: dict[str, tuple[float, str]] = {}
        self._extras: dict[str, tuple[str, ...]] = {}
        self.person_server = PersonServerClient(options=options, polling=polling, interaction=self.interaction,
                                                send=self.send)

    # ------------------------------------------------------------------ identity

    @property
    def identity(self) -> RequestSigner:
        """The agent's signer: its key presenting its agent token."""
        return RequestSigner.jwt(self.key, self.agent_token(), options=self.signer_options)

    def signer(self, token: str, resource: str | None) -> RequestSigner:
        extras = self._extras.get(resource, ()) if resource is not None else ()
        options = self.signer_options
        if extras:
            options = replace(options, extra_components=(*options.extra_components, *extras))
        return RequestSigner.jwt(self.key, token, options=options)

    # ------------------------------------------------------------------ the loop

    def reads_answer(self, response: ResponseLike) -> bool:
        """Whether the flow reads the body of a resource's answer (the driver leaves others streamed)."""
        headers = response.headers
        if response.status_code == 401:
            return AAUTH_11.requirement_header in headers or _SIGNATURE_ERROR in headers
        return response.status_code == 202 and AAUTH_11.requirement_header in headers

    def flow(self, request: RequestLike, body: Body, make_request: RequestFactory) -> Flow:
        """Sign ``request``, answer requirements, return when a response needs nothing more."""
        resource = origin_of(str(request.url))
        presented = self.best_cached(resource)
        response = yield from self.send(request, body, self.signer(presented.token, resource))
        tried = _Round()
        for round_ in range(self.options.max_rounds + 1):
            requirement = requirement_of(response)
            if response.status_code == 202 and requirement is not None:
                yield from self._deferred(request, response, resource, presented, make_request)
                return None
            signature_error = _signature_error_of(response) if response.status_code == 401 else None
            if response.status_code != 401 or (requirement is None and signature_error is None):
                return None
            if round_ == self.options.max_rounds:
                break
            if not body.replayable:
                raise _not_replayable()
            if signature_error is not None:
                presented = yield from self._signature_refused(resource, presented, signature_error, tried,
                                                               make_request)
            else:
                assert requirement is not None
                presented = yield from self._requirement(resource, presented, requirement, tried, make_request)
            response = yield from self.send(request, body, self.signer(presented.token, resource))
        raise AAuthError(f"the resource still challenged after {self.options.max_rounds} rounds",
                         code="too_many_challenges", status_code=401)

    def _requirement(self, resource: str, presented: Presented, requirement: AAuthRequirement, tried: _Round,
                     make_request: RequestFactory) -> Flow:
        kind = requirement.requirement
        log.info("aauth client: %s requires %s", resource, kind)
        if kind == "agent-token":
            if presented.kind == "agent":
                raise _token_refused("the agent token (it requires an agent token)")
            return self.agent_presented()
        if kind == "person-token":
            if presented.kind == "person" and presented.fresh:
                raise _token_refused("the person token obtained for it just now")
            if presented.kind == "person":
                self.drop(presented)  # a cached one it no longer takes
            person: Presented = yield from self.person_token(resource, make_request)
            return person
        if kind == "auth-token":
            if tried.auth_obtained:
                raise _token_refused("the auth token obtained for it just now")
            tried.auth_obtained = True
            auth: Presented = yield from self.auth_token(resource, requirement.resource_token, presented,
                                                           make_request)
            return auth
        raise AAuthError(f"the resource requires {kind!r}, which this agent cannot provide",
                         code="unsupported_requirement", status_code=401)

    def _signature_refused(self, resource: str, presented: Presented, field: SignatureErrorField, tried: _Round,
                           make_request: RequestFactory) -> Flow:
        log.info("aauth client: %s refused the signature (%s)", resource, field.error)
        if field.error == "invalid_input" and field.required_input and not tried.extras:
            tried.extras = True
            extras = tuple(c for c in field.required_input if c not in AAUTH_11_BASE_COMPONENTS)
            self._extras[resource] = tuple(dict.fromkeys((*self._extras.get(resource, ()), *extras)))
            return presented
        if field.error in ("revoked_jwt", "expired_jwt") and presented.kind != "agent" and not tried.renewed:
            tried.renewed = True
            self.drop(presented)
            if field.error == "revoked_jwt":
                self.drop_person(resource)
            person: Presented = yield from self.person_token(resource, make_request)
            return person
        if presented.kind != "agent":
            self.drop(presented)
        raise _refusal(field)

    # ------------------------------------------------------------------ sending

    def sign_into(self, request: RequestLike, body: Body, signer: RequestSigner, *, nonce: bool = False) -> None:
        """(Re)sign ``request`` in place with ``created`` = now.

        Decision P8: no two signatures from this process are byte-identical.  When the
        base (``created`` and every covered value) was signed before in this second, a
        random ``nonce`` parameter tells the two apart."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SIGNATURE_HEADERS}
        created = int(self.options.clock())
        digest = body.digest if body.content is None else None
        url = str(request.url)
        signed = signer.sign(request.method, url, headers, body.content, created=created, content_digest=digest)
        fingerprint = hashlib.sha256(signer.key.thumbprint.encode() + b"\n" + signed.base).hexdigest()
        if nonce or not _SENT.first_use(created, fingerprint):
            signed = signer.sign(request.method, url, headers, body.content, created=created,
                                 content_digest=digest, nonce=secrets.token_urlsafe(16))
        for name in _SIGNATURE_HEADERS:
            if name in request.headers:
                del request.headers[name]
        request.headers.update(signed.headers)
        request.extensions[STATE] = SignState(request.method, url, signer)

    def send(self, request: RequestLike, body: Body, signer: RequestSigner) -> Flow:
        """Sign and send one request; its response."""
        self.sign_into(request, body, signer)
        if self.options.debug:
            lines = [f">>> {request.method} {request.url}", *(f"{k}: {v}" for k, v in request.headers.items())]
            if body.content:
                lines.append(body.content.decode("utf-8", "replace"))
            log.debug("\n".join(lines))
        response = yield request
        check_guarded(request, response)
        log.debug("aauth client: %s %s -> %s", request.method, safe_url(request), response.status_code)
        return response

    # ------------------------------------------------------------------ deferred delivery

    def _deferred(self, request: RequestLike, response: ResponseLike, resource: str, presented: Presented,
                  make_request: RequestFactory) -> Flow:
        """RS-36: obtain the auth token the 202 requires, then poll its ``Location`` presenting it."""
        current = [presented]
        handled: set[str] = set()

        def on_auth_token(requirement: AAuthRequirement) -> Flow:
            if requirement.resource_token in handled:
                return None
            if len(handled) >= 2:
                raise AAuthError("the resource keeps asking for new auth tokens", code="too_many_challenges")
            handled.add(requirement.resource_token or "")
            current[0] = yield from self.auth_token(resource, requirement.resource_token, current[0], make_request)
            return None

        def get(url: str) -> Flow:
            poll_request = make_request("GET", url, {}, None)
            answer = yield from self.send(poll_request, Body(), self.signer(current[0].token, resource))
            return answer

        final = yield from poll(response, str(request.url), get, options=self.polling, interaction=self.interaction,
                                allow_insecure_loopback=self.options.allow_insecure_loopback,
                                on_auth_token=on_auth_token)
        if final.status_code == 410:
            raise problem_error(final, "the resource's pending URL", "invalid_code")
        field = _signature_error_of(final) if final.status_code == 401 else None
        if field is not None:
            raise _refusal(field)
        return final
