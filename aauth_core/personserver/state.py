"""Where the person server keeps its state, in the January auth server's store.

The store (:class:`~aauth_core.authserver.store.AuthServerStore`: memory, or Redis shared by
every worker) is reused as it is: a keyed, expiring map whose ``take`` is atomic.  The person
server's records use its four kinds:

* ``pending`` — a deferred request (person token, auth token, mission) by the SHA-256 of its
  pending id; delivered or refused ones stay as a tombstone so a late poll gets ``410``;
* ``code`` — an interaction code → its pending request; ``take`` makes a code single-use;
* ``session`` — the consent pages' sessions (:class:`~aauth_core.authserver.store.Session`);
* ``refresh`` — what outlives a request: remembered consents, agent → user bindings,
  missions, and the tokens issued (by ``jti``, for revocation and presented-token checks).

Secrets (pending ids, codes, session ids) are stored only as their SHA-256.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ..authserver.store import AuthServerStore, MemoryStore, secret_key
from ..effects import Flow, call

__all__ = ["Records", "binding_name", "consent_name", "mission_name", "open_store", "secret_key", "token_name"]


def open_store(url: str, *, clock: Callable[[], float] = time.time) -> AuthServerStore:
    """``memory://`` or a Redis URL (keys under ``aauth:ps:``, apart from an auth server's)."""
    if url == "memory://":
        return MemoryStore(clock=clock)
    from ..authserver.store_redis import RedisStore

    return RedisStore(url, prefix="aauth:ps:", clock=clock)


class Records:
    """The person server's records, as flows on the sans-I/O driver (store calls are effects)."""

    def __init__(self, store: AuthServerStore) -> None:
        self.store = store

    # pending requests

    def put_pending(self, key: str, record: Mapping[str, Any], expires_at: float) -> Flow[None]:
        yield from call(self.store.put, self.store.aput, "pending", key, record, expires_at)

    def pending(self, key: str) -> Flow[Mapping[str, Any] | None]:
        return (yield from call(self.store.get, self.store.aget, "pending", key))

    def take_pending(self, key: str) -> Flow[Mapping[str, Any] | None]:
        return (yield from call(self.store.take, self.store.atake, "pending", key))

    # interaction codes (single-use)

    def put_code(self, code: str, pending_key: str, expires_at: float) -> Flow[None]:
        yield from call(self.store.put, self.store.aput, "code", secret_key(code.upper()),
                        {"pending": pending_key}, expires_at)

    def code(self, code: str) -> Flow[str | None]:
        found = yield from call(self.store.get, self.store.aget, "code", secret_key(code.upper()))
        return _pending_of(found)

    def take_code(self, code: str) -> Flow[str | None]:
        found = yield from call(self.store.take, self.store.atake, "code", secret_key(code.upper()))
        return _pending_of(found)

    # durable records (consents, bindings, missions, issued tokens)

    def put_record(self, name: str, value: Mapping[str, Any], expires_at: float) -> Flow[None]:
        yield from call(self.store.put, self.store.aput, "refresh", name, value, expires_at)

    def record(self, name: str) -> Flow[Mapping[str, Any] | None]:
        return (yield from call(self.store.get, self.store.aget, "refresh", name))


def _pending_of(found: Mapping[str, Any] | None) -> str | None:
    value = found.get("pending") if found is not None else None
    return value if isinstance(value, str) else None


def consent_name(user: str, resource: str, agent: str) -> str:
    """The record of what ``user`` approved for ``agent`` at ``resource`` (names hashed: no PII in keys)."""
    return "consent:" + secret_key(f"{user}\0{resource}\0{agent}")


def binding_name(agent: str) -> str:
    return "agent:" + secret_key(agent)


def mission_name(s256: str) -> str:
    return f"mission:{s256}"


def token_name(jti: str) -> str:
    return "token:" + secret_key(jti)
