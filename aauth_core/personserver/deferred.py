"""Deferred answers (-11 §11.8): a request the user must approve waits as a pending record;
the agent polls its URL with signed ``GET``s; the user answers on the consent page.

A pending record says what was asked (``kind`` ``person``, ``auth`` or ``mission``), by which
agent and key, for which user (``None`` until someone approves), and what to issue on
approval.  Its states: ``pending`` → ``approved`` or ``denied`` (the page) → delivered (the
poll that ``take``s it, atomically: one delivery even with several workers), after which a
tombstone answers ``410``.  A poll from another key, or for an unknown id, is ``404`` and
reveals nothing.  ``Prefer: wait=<n>`` holds a poll up to ``n`` seconds (at most
``max_wait``) while the user decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..effects import Flow, call
from ..wire.requirement import AAuthRequirement
from .state import Records, secret_key
from .wire import PersonServerError, Reply, interaction_code, pending_reply

__all__ = ["PENDING_PATH", "Deferred", "Sleep"]

#: Pending URLs are ``{issuer}/pending/<id>``.
PENDING_PATH = "/pending/"
#: A decided or delivered record is kept this long past its deadline, so late polls get 408/410.
_TOMBSTONE = 600
#: How long one wait step of a ``Prefer: wait`` poll is (seconds).
_STEP = 1.0


@dataclass(frozen=True, slots=True)
class Sleep:
    """How a held poll waits, blocking and awaited (tests inject their clock's advance)."""

    sleep: Callable[[float], None]
    asleep: Callable[[float], Awaitable[None]]


class Deferred:
    """Creates, polls and decides pending records in :class:`~.state.Records`."""

    def __init__(self, records: Records, *, issuer: str, interaction_url: str, poll_interval: int,
                 lifetime: int, clock: Callable[[], float], sleep: Sleep) -> None:
        self.records = records
        self.issuer = issuer
        self.interaction_url = interaction_url
        self.poll_interval = poll_interval
        self.lifetime = lifetime
        self.clock = clock
        self.sleep = sleep

    def start(self, record: Mapping[str, Any]) -> Flow[Reply]:
        """Store ``record`` as pending; the ``202`` with ``requirement=interaction`` (URL and code)."""
        pending_id = secrets.token_urlsafe(24)
        code = interaction_code()
        key = secret_key(pending_id)
        expires_at = self.clock() + self.lifetime
        value = {**record, "status": "pending", "expires_at": expires_at}
        yield from self.records.put_pending(key, value, expires_at + _TOMBSTONE)
        yield from self.records.put_code(code, key, expires_at)
        requirement = AAuthRequirement("interaction", url=self.interaction_url, code=code)
        return pending_reply(f"{self.issuer}{PENDING_PATH}{pending_id}", self.poll_interval, requirement)

    def park(self, record: Mapping[str, Any], retry_after: int) -> Flow[Reply]:
        """Store ``record`` as pending without an interaction code (a request another server is
        deciding, :mod:`.federation`); the ``202`` with ``requirement=approval``."""
        pending_id = secrets.token_urlsafe(24)
        expires_at = self.clock() + self.lifetime
        value = {**record, "status": "pending", "expires_at": expires_at}
        yield from self.records.put_pending(secret_key(pending_id), value, expires_at + _TOMBSTONE)
        return pending_reply(f"{self.issuer}{PENDING_PATH}{pending_id}", retry_after, AAuthRequirement("approval"))

    def poll(self, pending_id: str, agent_jkt: str, wait: int) -> Flow[Mapping[str, Any]]:
        """The record once settled for this poll (``approved``), or the refusal/202 as an error.

        Raises :class:`PersonServerError` for 404 / 403 ``denied`` / 408 ``expired`` / 410, and
        :class:`StillPending` (a reply) while the user has not answered."""
        key = secret_key(pending_id)
        waited = 0.0
        while True:
            record = yield from self.records.pending(key)
            if record is None or record.get("agent_jkt") != agent_jkt:
                raise PersonServerError("no such pending request", code="not_found", status_code=404)
            status = record.get("status")
            if status == "done":
                raise PersonServerError("this pending request was already answered", code="invalid_code",
                                        status_code=410)
            if status in ("approved", "denied"):
                taken = yield from self.records.take_pending(key)
                if taken is None or taken.get("status") != status:  # another worker delivered it
                    raise PersonServerError("this pending request was already answered", code="invalid_code",
                                            status_code=410)
                yield from self.tombstone(key, taken)
                if status == "denied":
                    raise PersonServerError("the user denied the request", code="denied", status_code=403)
                return taken
            if self.clock() >= float(record.get("expires_at", 0)):
                yield from self.tombstone(key, record)
                raise PersonServerError("the user did not answer in time", code="expired", status_code=408)
            if waited >= wait:
                raise StillPending(pending_reply(f"{self.issuer}{PENDING_PATH}{pending_id}", self.poll_interval,
                                                 None))
            step = min(_STEP, wait - waited)
            yield from call(self.sleep.sleep, self.sleep.asleep, step)
            waited += step

    def tombstone(self, key: str, record: Mapping[str, Any]) -> Flow[None]:
        value = {"status": "done", "agent_jkt": record.get("agent_jkt")}
        yield from self.records.put_pending(key, value, self.clock() + _TOMBSTONE)

    def decide(self, code: str, user: str, approve: bool) -> Flow[Mapping[str, Any]]:
        """The user's answer for ``code`` (single-use): the record as decided.  Raises
        ``invalid_code`` (unknown, used or expired code) or ``wrong_user`` (the request is for
        another user)."""
        key = yield from self.records.take_code(code)
        record = (yield from self.records.pending(key)) if key is not None else None
        if key is None or record is None or record.get("status") != "pending":
            raise PersonServerError("this code is unknown, used or expired", code="invalid_code", status_code=410)
        owner = record.get("user")
        if owner is not None and owner != user:
            yield from self.records.put_code(code, key, float(record["expires_at"]))  # the right user may still
            raise PersonServerError("this request is for another account", code="wrong_user", status_code=403)
        decided = {**record, "status": "approved" if approve else "denied", "user": user}
        yield from self.records.put_pending(key, decided, float(record["expires_at"]) + _TOMBSTONE)
        return decided

    def shown(self, code: str) -> Flow[Mapping[str, Any]]:
        """The pending record behind ``code`` (for the consent page), or ``invalid_code``."""
        key = yield from self.records.code(code)
        record = (yield from self.records.pending(key)) if key is not None else None
        if record is None or record.get("status") != "pending" or self.clock() >= float(record["expires_at"]):
            raise PersonServerError("this code is unknown, used or expired", code="invalid_code", status_code=410)
        return record


class StillPending(Exception):
    """The poll's answer is another ``202``."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("pending")
        self.reply = reply
