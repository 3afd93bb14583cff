"""The two token values: one parsed but unverified (for routing), one fully validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..context import Actor
from ..keys import PublicKey
from .json import thaw_mapping

__all__ = ["UnverifiedToken", "ValidatedToken"]


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A structurally valid JWS whose signature has NOT been checked.

    Good for routing only (``typ``, ``kid``, ``iss`` to find the key); never trust
    its claims.  ``header`` and ``claims`` are deep-frozen (mappings are read-only,
    arrays are tuples).
    """

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    raw: str = field(repr=False)
    # Set only by peek(): lets validate_token reuse the parse while guaranteeing that
    # header/claims really are the decoding of ``raw`` (a hand-built instance is re-parsed).
    _sealed: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def typ(self) -> str | None:
        typ = self.header.get("typ")
        return typ if isinstance(typ, str) else None

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    @property
    def alg(self) -> str:
        return str(self.header["alg"])


@dataclass(frozen=True, slots=True)
class ValidatedToken:
    """A token whose signature and claims passed every check.

    ``claims`` is read-only and deep-frozen; :meth:`claims_dict` gives a mutable JSON-ready
    copy.  ``cnf_jwk`` is the confirmation key as carried, ``cnf_key`` the same key
    imported; ``act`` is the delegation chain, outermost (immediate upstream) first.
    """

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    raw: str = field(repr=False)
    cnf_jwk: Mapping[str, Any] | None
    act: tuple[Actor, ...]
    cnf_key: PublicKey | None = None

    @property
    def typ(self) -> str:
        return str(self.header["typ"])

    def claims_dict(self) -> dict[str, Any]:
        """A deep, mutable, ``json.dumps``-able copy of the claims."""
        return thaw_mapping(self.claims)
