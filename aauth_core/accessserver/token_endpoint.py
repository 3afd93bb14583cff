"""``POST /token`` and its pending URL at an access server (draft -11 §2.3 "Federation", §2.4,
§11.8), written once as flows on the sans-I/O driver (:mod:`aauth_core.effects`).

The caller is a person server signing as itself (``jwks_uri``, ``dwk`` ``aauth-person.json``,
body covered).  After the body's tokens verify (:mod:`.body_tokens`) the policy decides:
200 ``{"auth_token", "expires_in"}``, 403 ``denied``, or 202 with ``Location`` (the pending
URL), ``Retry-After``, ``Cache-Control: no-store`` and ``AAuth-Requirement:
requirement=claims`` (body ``{"status": "pending", "required_claims": [...]}``) or
``requirement=approval``.  Only the person server that asked may poll (signed ``GET``; anyone
else, and an unknown id, get 404) or answer a claims requirement (signed ``POST``
``{"claims": {...}}``; ``sub`` is never taken from it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..effects import Call, call
from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..request import RequestView
from ..resource.server_request11 import ServerSigner, server_signer_flow
from ..wire.coverage import required_components_11
from ..wire.requirement import AAuthRequirement, format_requirement
from .errors import problem
from .grant import Grant
from .policy import AccessDecision

if TYPE_CHECKING:
    from .server import AccessServer

__all__ = ["PENDING_PREFIX", "TOKEN_PATH", "AccessReply", "TokenEndpoint", "pending_key"]

log = logging.getLogger("aauth.accessserver")

TOKEN_PATH = "/token"  # noqa: S105 - a path, not a secret
PENDING_PREFIX = "/token/pending/"
DWK_PERSON = AAUTH_11.well_known_person or "aauth-person.json"
_WITH_BODY = required_components_11(body=True)
_WITHOUT_BODY = required_components_11()
_MAX_BODY = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store"}

Flow = Generator[Call[Any], Any, "AccessReply"]


@dataclass(frozen=True, slots=True)
class AccessReply:
    """One HTTP answer: status, headers, body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def json(cls, status: int, doc: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> AccessReply:
        return cls(status, {"Content-Type": "application/json", **_NO_STORE, **(headers or {})},
                   json.dumps(doc).encode())


def pending_key(pending_id: str) -> str:
    """The store key of a pending id: its SHA-256 (the id is a bearer secret, with the signature)."""
    return hashlib.sha256(pending_id.encode()).hexdigest()


class TokenEndpoint:
    """The flows behind ``POST /token`` and ``GET``/``POST /token/pending/{id}``."""

    def __init__(self, server: AccessServer) -> None:
        self.server = server

    # ------------------------------------------------------------------ POST /token

    def token_flow(self, view: RequestView) -> Flow:
        s = self.server
        now = s.clock()
        signer = yield from self._signer(view, body=True)
        body = _json_object(view.body)
        presented = yield from s.tokens.flow(body, signer.issuer, now)
        grant = Grant.of(presented)
        decision = self._decide(grant, {})
        return (yield from self._answer(decision, grant, now, claims={}, pending=None))

    # ------------------------------------------------------------------ the pending URL

    def pending_flow(self, view: RequestView, pending_id: str) -> Flow:
        """A signed poll (``GET``) or a claims answer (``POST {"claims": {...}}``)."""
        signer = yield from self._signer(view, body=view.method == "POST")
        claims = _claims(_json_object(view.body)) if view.method == "POST" else None
        return (yield from self.pending_answer(pending_id, signer.issuer, claims))

    def pending_answer(self, pending_id: str, caller: str, claims: Mapping[str, Any] | None = None) -> Flow:
        """The answer for ``pending_id`` to ``caller`` (already verified); also what a
        ``Prefer: wait`` poll re-reads."""
        s, key = self.server, pending_key(pending_id)
        store = s.store
        record = yield from call(store.get, store.aget, "pending", key)
        if record is None or record.get("ps") != caller:  # nothing revealed to other servers
            raise problem("no such pending request", code="not_found", status=404)
        grant, state = Grant.from_dict(record["grant"]), record["state"]
        if claims is not None:
            if state != "claims":
                raise problem("this request is not waiting for claims", code="invalid_request")
            merged = {**record.get("claims", {}), **claims}
            decision = self._decide(grant, merged)
            return (yield from self._answer(decision, grant, s.clock(), claims=merged, pending=(pending_id, record)))
        if state == "approved":
            yield from call(store.delete, store.adelete, "pending", key)
            scope = record.get("scope")
            return (yield from self._issue(grant, None if scope is None else frozenset(scope), s.clock()))
        if state == "denied":
            yield from call(store.delete, store.adelete, "pending", key)
            raise problem(record.get("reason") or "the request was denied", code="denied", status=403)
        return self._pending_reply(pending_id, record)

    # ------------------------------------------------------------------ deciding and answering

    def _decide(self, grant: Grant, claims: Mapping[str, Any]) -> AccessDecision:
        try:
            decision = self.server.policy.decide(grant.request(claims=claims))
        except Exception:  # a policy bug must not look like a grant or leak its details
            log.exception("access policy failed")
            raise problem("the access policy failed", code="server_error", status=500) from None
        if not isinstance(decision, AccessDecision):
            raise problem("the access policy answered nothing usable", code="server_error", status=500)
        return decision

    def _answer(self, decision: AccessDecision, grant: Grant, now: float, *, claims: Mapping[str, Any],
                pending: tuple[str, Mapping[str, Any]] | None) -> Flow:
        s = self.server
        store = s.store
        if decision.outcome == "grant":
            if pending is not None:
                yield from call(store.delete, store.adelete, "pending", pending_key(pending[0]))
            return (yield from self._issue(grant, decision.scope, now))
        if decision.outcome == "deny":
            if pending is not None:
                yield from call(store.delete, store.adelete, "pending", pending_key(pending[0]))
            raise problem(decision.reason or "the access server denies this request", code="denied", status=403)
        pending_id = pending[0] if pending is not None else secrets.token_urlsafe(24)
        expires_at = float(pending[1]["expires_at"]) if pending is not None else min(
            now + s.config.pending_lifetime, grant.not_after)
        record = {"ps": grant.person_server, "grant": grant.to_dict(), "state": decision.outcome,
                  "required_claims": list(decision.required_claims), "claims": dict(claims),
                  "scope": None if decision.scope is None else sorted(decision.scope), "expires_at": expires_at}
        yield from call(store.put, store.aput, "pending", pending_key(pending_id), record, expires_at)
        return self._pending_reply(pending_id, record)

    def _issue(self, grant: Grant, scope: frozenset[str] | None, now: float) -> Flow:
        s = self.server
        issued = grant.mint(s.signing_key, issuer=s.issuer, scope=scope, now=now,
                            lifetime=s.config.auth_token_lifetime)
        record = {"resource": grant.resource, "exp": issued.exp, "ps": grant.person_server}
        yield from call(s.store.put, s.store.aput, "issued", issued.jti, record, issued.exp + 60)
        return AccessReply.json(200, {"auth_token": issued.token, "expires_in": issued.expires_in})

    def _pending_reply(self, pending_id: str, record: Mapping[str, Any]) -> AccessReply:
        s = self.server
        state = record["state"]
        requirement = "claims" if state == "claims" else "approval"
        body: dict[str, Any] = {"status": "pending"}
        if state == "claims":
            body["required_claims"] = list(record.get("required_claims", ()))
        headers = {"Location": f"{s.issuer}{PENDING_PREFIX}{pending_id}", "Retry-After": str(s.config.retry_after),
                   AAUTH_11.requirement_header or "": format_requirement(AAuthRequirement(requirement))}
        return AccessReply.json(202, body, headers)

    # ------------------------------------------------------------------ the caller

    def _signer(self, view: RequestView, *, body: bool) -> Generator[Call[Any], Any, ServerSigner]:
        s = self.server
        return (yield from server_signer_flow(
            view, s.discovery, dwks=(DWK_PERSON,), required=_WITH_BODY if body else _WITHOUT_BODY, now=s.clock(),
            max_age=s.config.signature_window, max_future=s.config.max_future, loopback=s.config.allow_loopback_http,
            remember=s.remember, admit=self._admit))

    def _admit(self, signer: str) -> None:
        allowed = self.server.config.person_servers
        if allowed and signer not in allowed:
            raise problem("this access server does not take requests from that person server",
                          code="untrusted_person_server", status=403)


def _json_object(body: bytes | None) -> dict[str, Any]:
    if body is None or len(body) > _MAX_BODY:
        raise problem("the body must be a JSON object of at most 64 KiB", code="invalid_request")
    try:  # strict: a duplicate member or NaN is refused, never read one way here and another at the caller
        doc = json.loads(body, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        raise problem("the body must be a JSON object", code="invalid_request")
    return doc


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise ValueError("duplicate member")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _claims(body: Mapping[str, Any]) -> dict[str, Any]:
    claims = body.get("claims")
    if not isinstance(claims, dict) or not claims:
        raise problem("'claims' must be a non-empty JSON object", code="invalid_request")
    return {k: v for k, v in claims.items() if k != "sub"}  # the person is the resource token's sub


def refusal(exc: AAuthError) -> AccessReply:
    """An :class:`AAuthError` as -11 renders it: problem+json, with its headers."""
    headers = {"Content-Type": AAUTH_11.error_content_type, **_NO_STORE, **exc.headers}
    return AccessReply(exc.status_code, headers, json.dumps(AAUTH_11.error_body(exc)).encode())
