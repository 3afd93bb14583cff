"""Users who can approve consent requests: a pluggable store and a small in-memory one.

These back the consent pages' own sign-in form, which is for demos and tests; in a
real deployment the host application's login says who the user is (an authenticator:
see :class:`~aauth_core.authserver.ConsentPages` and its framework adapters).

Passwords are hashed with scrypt (``hashlib.scrypt``, salted, memory-hard) and
compared in constant time.  Unknown users cost the same work as known ones, so
timing does not reveal which user names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["MemoryUserStore", "User", "UserStore", "hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1
_DKLEN = 32


@dataclass(frozen=True, slots=True)
class User:
    """``id`` becomes the auth token's ``sub``; ``name`` is shown on the consent page."""

    id: str
    name: str | None = None


@runtime_checkable
class UserStore(Protocol):
    """Authenticate a user by name and password; ``None`` when they do not match."""

    def authenticate(self, username: str, password: str) -> User | None: ...


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex), for storing."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        algo, n, r, p, salt, expected = encoded.split("$")
        if algo != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(bytes.fromhex(expected)))
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(expected))


_DUMMY = hash_password(secrets.token_urlsafe(16))


class MemoryUserStore:
    """Users held in memory, for samples, demos and tests only (no account management, no rate
    limiting, no second factor).  Give plain passwords; only hashes are kept."""

    def __init__(self, users: Mapping[str, str] | None = None, *, names: Mapping[str, str] | None = None) -> None:
        self._hashes: dict[str, str] = {}
        self._names = dict(names or {})
        for username, password in (users or {}).items():
            self.add(username, password)

    def add(self, username: str, password: str, *, name: str | None = None) -> None:
        self._hashes[username] = hash_password(password)
        if name is not None:
            self._names[username] = name

    def authenticate(self, username: str, password: str) -> User | None:
        encoded = self._hashes.get(username)
        ok = verify_password(password, encoded if encoded is not None else _DUMMY)
        if encoded is None or not ok:
            return None
        return User(id=username, name=self._names.get(username))
