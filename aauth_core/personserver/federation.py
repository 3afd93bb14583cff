"""Federation (four-party, -11 §2.3 "Federation", §2.4): the resource token names an access
server in ``aud``, so the person server asks it for the auth token.

1. ``{aud}/.well-known/aauth-access.json`` through discovery (SSRF-guarded, ``issuer`` = ``aud``);
2. ``POST {resource_token, agent_token, presented_token[, upstream_token]}`` to its
   ``auth_token_endpoint``, signed as the person server (:mod:`.as_client`);
3. a ``202`` is followed at its ``Location`` (same origin as the access server only) with
   signed ``GET``s, ``Retry-After`` apart, **within the agent's own** ``Prefer: wait`` (at most
   ``max_wait``); a ``requirement=claims`` is answered once from :class:`ClaimsRelease` (never
   ``sub``).  When the wait is spent the request is *parked*: the agent gets the person server's
   own ``202`` (a pending record of kind ``federated``, no interaction code), and each of its
   polls polls the access server once more, until ``lifetimes.pending`` runs out (``408``);
4. a ``200``'s token is checked (:mod:`.as_token`) and relayed as ``{auth_token, expires_in}``;
   an access server's problem+json ``4xx`` is relayed with its code and status; anything else
   (no answer, a redirect, a ``401`` to our own signature, a ``5xx``, garbage) is ``502
   as_unreachable``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin

from ..discovery import same_origin
from ..effects import Flow, call
from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..wire.requirement import AAuthRequirement, parse_requirement
from .as_client import AccessServerClient, ASAnswer
from .as_token import DWK_ACCESS, FederatedAsk, as_unreachable, check_access_token
from .deferred import PENDING_PATH
from .state import secret_key
from .wire import PersonServerError, Reply, json_reply, pending_reply

if TYPE_CHECKING:
    from .server import PersonServer

__all__ = ["ClaimsRelease", "Federation"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_RETRY_AFTER = 60


class ClaimsRelease(Protocol):
    """The person server's policy for a ``requirement=claims``: the values of ``names`` it
    releases about ``user`` to ``access_server`` (for ``resource``), or ``None`` to release
    nothing.  ``sub`` is never asked for nor sent (it is dropped either way)."""

    def __call__(self, user: str, names: Sequence[str], *, access_server: str,
                 resource: str) -> Mapping[str, Any] | None: ...


class Federation:
    """The person server's side of four-party requests."""

    def __init__(self, server: PersonServer, client: AccessServerClient, claims: ClaimsRelease | None) -> None:
        self.server = server
        self.client = client
        self.claims = claims

    # ------------------------------------------------------------------ the first request

    def request(self, ask: FederatedAsk, body: Mapping[str, str], wait: int) -> Flow[Reply]:
        """Ask the access server; the agent's answer (200, the relayed refusal, or a parked 202)."""
        discovery = self.server.service.discovery
        try:
            meta = yield from call(discovery.metadata, discovery.ametadata, ask.access_server, DWK_ACCESS)
        except AAuthError as exc:
            raise as_unreachable(f"the access server's metadata could not be had ({exc.code})") from None
        endpoint = meta.get("auth_token_endpoint")
        if not isinstance(endpoint, str) or not same_origin(endpoint, ask.access_server):
            raise as_unreachable("the access server's auth_token_endpoint is missing or on another origin")
        answer = yield from self.client.send("POST", endpoint, body)
        return (yield from self._settle(answer, ask, endpoint, wait, parked=None))

    # ------------------------------------------------------------------ a parked request, polled

    def resume(self, pending_id: str, record: Mapping[str, Any], wait: int) -> Flow[Reply]:
        """The agent polls a parked request: poll the access server (within ``wait``)."""
        key = secret_key(pending_id)
        if self.server.clock() >= float(record.get("expires_at", 0)):
            yield from self._done(key)
            raise PersonServerError("the access server did not answer in time", code="expired", status_code=408)
        ask = FederatedAsk.from_dict(record["ask"])
        location = str(record["location"])
        answer = yield from self.client.send("GET", location, None)
        return (yield from self._settle(answer, ask, location, wait, parked=(pending_id, record)))

    # ------------------------------------------------------------------ following the answer

    def _settle(self, answer: ASAnswer | None, ask: FederatedAsk, url: str, wait: int,
                parked: tuple[str, Mapping[str, Any]] | None) -> Flow[Reply]:
        server, waited, answered_claims = self.server, 0, False
        while True:
            if answer is None or answer.status != 202:
                if parked is not None:  # delivered or refused once, then a tombstone
                    yield from self._done(secret_key(parked[0]))
                if answer is None:
                    raise as_unreachable("the access server could not be reached")
                if answer.status != 200:
                    raise _relayed(answer)
                return (yield from self._deliver(answer, ask))
            location = _location(answer, url, ask.access_server)
            requirement = _requirement(answer)
            if requirement == "claims" and not answered_claims:
                answered_claims = True
                answer = yield from self.client.send("POST", location, {"claims": self._claims(answer, ask)})
                url = location
                continue
            retry = _retry_after(answer, server.config.poll_interval)
            if waited + retry > wait:
                return (yield from self._park(ask, location, retry, parked))
            yield from call(server.deferred.sleep.sleep, server.deferred.sleep.asleep, float(retry))
            waited += retry
            answer = yield from self.client.send("GET", location, None)
            url = location

    def _deliver(self, answer: ASAnswer, ask: FederatedAsk) -> Flow[Reply]:
        doc = answer.json()
        token = doc.get("auth_token") if isinstance(doc, dict) else None
        server = self.server
        now = server.clock()
        claims = yield from check_access_token(token, ask, issuer=server.issuer, discovery=server.service.discovery,
                                               now=now)
        return json_reply(200, {"auth_token": token, "expires_in": max(int(claims["exp"]) - int(now), 0)})

    def _claims(self, answer: ASAnswer, ask: FederatedAsk) -> dict[str, Any]:
        doc = answer.json()
        names = doc.get("required_claims") if isinstance(doc, dict) else None
        wanted = [n for n in names if isinstance(n, str) and n != "sub"] if isinstance(names, list) else []
        released = None
        if wanted and ask.user is not None and self.claims is not None:
            released = self.claims(ask.user, tuple(wanted), access_server=ask.access_server, resource=ask.resource)
        values = {k: v for k, v in (released or {}).items() if k in wanted and k != "sub"}
        if not wanted or set(values) != set(wanted):
            raise PersonServerError("the access server asks for claims this person server does not release",
                                    code="denied", status_code=403)
        return values

    def _park(self, ask: FederatedAsk, location: str, retry: int,
              parked: tuple[str, Mapping[str, Any]] | None) -> Flow[Reply]:
        server = self.server
        if parked is not None:
            return pending_reply(f"{server.issuer}{PENDING_PATH}{parked[0]}", retry, AAuthRequirement("approval"))
        record = {"kind": "federated", "agent_jkt": ask.agent_jkt, "location": location, "ask": ask.to_dict()}
        reply = yield from server.deferred.park(record, retry)
        return reply

    def _done(self, key: str) -> Flow[None]:
        taken = yield from self.server.records.take_pending(key)
        if taken is None or taken.get("status") != "pending":
            raise PersonServerError("this pending request was already answered", code="invalid_code",
                                    status_code=410)
        yield from self.server.deferred.tombstone(key, taken)


def _relayed(answer: ASAnswer) -> PersonServerError:
    """An access server's problem+json 4xx keeps its code and status; the rest is ``as_unreachable``."""
    doc = answer.json()
    code = doc.get("error") if isinstance(doc, dict) else None
    if 400 <= answer.status < 500 and answer.status != 401 and isinstance(code, str) and _CODE.match(code):
        detail = doc.get("detail") if isinstance(doc.get("detail"), str) else None
        text = f"the access server refused: {detail[:300]}" if detail else "the access server refused the request"
        return PersonServerError(text, code=code, status_code=answer.status)
    return as_unreachable(f"the access server answered HTTP {answer.status}")


def _location(answer: ASAnswer, base: str, access_server: str) -> str:
    value = answer.headers.get("location")
    if not value:
        raise as_unreachable("the access server's 202 has no Location")
    url = urljoin(base, value)
    if not same_origin(url, access_server):
        raise as_unreachable("the access server's Location is on another origin")
    return url


def _requirement(answer: ASAnswer) -> str | None:
    value = answer.headers.get((AAUTH_11.requirement_header or "AAuth-Requirement").lower())
    if not value:
        return None
    try:
        return parse_requirement(value).requirement
    except (AAuthError, ValueError):
        return None


def _retry_after(answer: ASAnswer, default: int) -> int:
    value = answer.headers.get("retry-after", "").strip()
    seconds = int(value) if value.isdigit() and len(value) < 6 else default
    return min(max(seconds, 1), _MAX_RETRY_AFTER)
