"""The verified-token cache: which (token, key) pairs already passed, and with which checks.

A warm request then costs no JWS verification, and, when the same checks were already
passed, no claim checks either; only the time checks, which ``validate_token`` always
re-runs.  Entries live in the engine's one :class:`~aauth_core.cache.BoundedCache`
(see docs/architecture.md for the cache map).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from ..cache import BoundedCache
from .values import ValidatedToken

__all__ = ["VerifiedTokenCache"]

_Key = tuple[bytes, str]
_Results = dict[tuple[Any, ...], ValidatedToken]
_Entry = tuple[float, _Results]


class VerifiedTokenCache:
    """Remembers which (token, key) pairs already passed verification.

    A warm request then costs no JWS verification, and — when the same checks
    (typ, audience, issuer, algorithms, act depth) were already passed — no claim
    checks either, only the time checks, which ``validate_token`` always re-runs.
    Entries are keyed by the SHA-256 of the token text (so memory stays bounded
    even for large tokens) and the key's RFC 7638 thumbprint, and expire at the
    token's ``exp`` by the caller's clock.  Bounded (oldest evicted first, the
    engine's one policy), thread-safe.
    """

    _RESULTS_PER_TOKEN = 8

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self._entries: BoundedCache[_Key, _Entry] = BoundedCache(maxsize)
        # Guards the counters and every read-then-write below (and so every write to _entries).
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def maxsize(self) -> int:
        return self._entries.maxsize

    @staticmethod
    def _key(raw: str, thumbprint: str) -> _Key:
        return hashlib.sha256(raw.encode("utf-8")).digest(), thumbprint

    def _live(self, key: _Key, now: float) -> _Results | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now > entry[0]:
            self._entries.pop(key)
            return None
        return entry[1]

    def contains(self, raw: str, thumbprint: str, *, now: float) -> bool:
        """True when this token was verified with this key and has not reached its ``exp``."""
        key = self._key(raw, thumbprint)
        with self._lock:
            found = self._live(key, now) is not None
            if found:
                self.hits += 1
            else:
                self.misses += 1
            return found

    def result(self, raw: str, thumbprint: str, checks: tuple[Any, ...], *, now: float) -> ValidatedToken | None:
        """A complete earlier validation of this token with exactly these ``checks``."""
        key = self._key(raw, thumbprint)
        with self._lock:
            results = self._live(key, now)
            found = results.get(checks) if results is not None else None
            if found is not None:
                self.hits += 1
            return found

    def add(self, raw: str, thumbprint: str, *, exp: float, now: float,
            checks: tuple[Any, ...] | None = None, result: ValidatedToken | None = None) -> None:
        """Record a successful verification (ignored when the token is already past ``exp``)."""
        if now > exp:
            return
        key = self._key(raw, thumbprint)
        with self._lock:
            entry = self._entries.get(key)
            results = entry[1] if entry is not None else {}
            if checks is not None and result is not None and len(results) < self._RESULTS_PER_TOKEN:
                results[checks] = result
            self._entries.put(key, (exp, results))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
