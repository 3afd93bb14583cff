"""Mint and validate the three AAuth JWTs (agent, resource, auth) and their ``act`` chains.

All JWS work goes through joserfc with an explicit algorithm list (protocol A6):
``EdDSA`` is emitted for Ed25519, ``EdDSA`` and ``Ed25519`` are accepted, ``ES256``
only for P-256 keys; ``none`` and HMAC are refused whatever the caller passes.
The verification key is always the one the caller resolved (by issuer, then
``kid``); ``jku``/``x5u``/``jwk``/``x5c`` header members are never consulted.

Validation is split into :func:`peek` (a bounded structural parse, so callers can
read ``typ``/``kid``/``iss`` to find the key) and :func:`validate_token` (signature
and every claim check).  Every failure is a :class:`~aauth_core.errors.TokenError`
whose ``code`` is stable; descriptions never contain token text or signatures.

One concern per module: :mod:`.json` (strict claims JSON), :mod:`.parse` (``peek``),
:mod:`.jws` (joserfc, sign and verify), :mod:`.claims` (dates, ``aud``, ``cnf``,
strings), :mod:`.act` (delegation chains), :mod:`.mint`, :mod:`.validate`,
:mod:`.cache` (the verified-token cache) and :mod:`.values` (the token values).
"""

from ..context import Actor
from .act import build_act
from .cache import VerifiedTokenCache
from .claims import MAX_LIFETIME, MAX_NUMERIC_DATE, TokenTimes, check_token_times, is_lifetime, is_numeric_date
from .json import MAX_JSON_DEPTH
from .jws import jwt_algorithms_for
from .mint import mint_agent_token, mint_auth_token, mint_resource_token
from .parse import MAX_TOKEN_LENGTH, peek
from .validate import validate_token
from .values import UnverifiedToken, ValidatedToken

__all__ = [
    "Actor",
    "MAX_TOKEN_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_LIFETIME",
    "MAX_NUMERIC_DATE",
    "UnverifiedToken",
    "ValidatedToken",
    "VerifiedTokenCache",
    "TokenTimes",
    "build_act",
    "check_token_times",
    "is_lifetime",
    "is_numeric_date",
    "jwt_algorithms_for",
    "mint_agent_token",
    "mint_auth_token",
    "mint_resource_token",
    "peek",
    "validate_token",
]
