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
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, NamedTuple, TypeGuard

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry, deserialize_compact, serialize_compact

from . import dialect
from .context import Actor
from .errors import TokenError
from .keys import KeyError_, PublicKey, SigningKey, b64url_decode

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

#: Tokens longer than this are refused before any decoding (16 KiB).
MAX_TOKEN_LENGTH: Final = 16 * 1024
#: Deepest JSON nesting accepted in a header or payload; guards the parser and ``act`` walking.
MAX_JSON_DEPTH: Final = 32
#: The latest NumericDate (``exp``/``iat``/``nbf``) accepted: 9999-12-31T23:59:59Z.  Anything
#: later, negative, non-finite, boolean or non-numeric is ``malformed_token``.
MAX_NUMERIC_DATE: Final = 253_402_300_799
#: The longest lifetime (seconds) minted, configured or accepted as ``expires_in``: 100 years.
MAX_LIFETIME: Final = 100 * 366 * 86_400
# I-JSON (RFC 7493 §2.2): the integers an IEEE double holds exactly.  Token JSON outside
# this range is refused at the parse, before any arithmetic can overflow.
_MAX_SAFE_INTEGER: Final = 2**53 - 1
_MAX_SAFE_DIGITS: Final = len(str(_MAX_SAFE_INTEGER))

# JWS algorithms this module can ever verify, by key type (PublicKey.alg).  Anything
# else (none, HS*, RS*, ...) is refused at step 2 regardless of the caller's list.
_ALGS_FOR_KEY: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"ed25519": dialect.JWT_ALGS_ED25519_IN, "p256": (dialect.JWT_ALG_P256,)}
)
_SUPPORTED_ALGS: Final = frozenset(a for algs in _ALGS_FOR_KEY.values() for a in algs)
_HTTPSIG_TO_JWT: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        dialect.HTTPSIG_ALG_ED25519: dialect.JWT_ALGS_ED25519_IN,
        dialect.HTTPSIG_ALG_P256: (dialect.JWT_ALG_P256,),
    }
)
_SHOW_LIMIT: Final = 40


def _registry(alg: str) -> JWSRegistry:
    # One registry per algorithm, each allowing exactly that algorithm.  Our own size
    # bound (MAX_TOKEN_LENGTH) replaces joserfc's 512-byte header limit, and header
    # members outside joserfc's registry are tolerated (they are never interpreted).
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    registry.max_header_length = MAX_TOKEN_LENGTH
    # A6 requires EdDSA; joserfc warns that it is deprecated (RFC 9864) on every
    # use.  A private copy of the algorithm without that flag silences it for our
    # registry only, without touching the process-wide warning filters.
    model = copy.copy(JWSRegistry.algorithms[alg])
    model.security_warning = None
    registry.algorithms = {**registry.algorithms, alg: model}
    return registry


_REGISTRIES: Final[Mapping[str, JWSRegistry]] = MappingProxyType({a: _registry(a) for a in _SUPPORTED_ALGS})


def jwt_algorithms_for(httpsig_algorithms: Iterable[str]) -> tuple[str, ...]:
    """JWS ``alg`` names matching HTTP-signature algorithm names (``AAuthSettings.algorithms``).

    Lets callers derive the ``algorithms`` list for :func:`validate_token` from the one
    setting, so enabling P-256 for signatures enables ``ES256`` tokens too.
    """
    out: list[str] = []
    for name in httpsig_algorithms:
        for alg in _HTTPSIG_TO_JWT.get(name, ()):
            if alg not in out:
                out.append(alg)
    return tuple(out)


def _show(value: object) -> str:
    """A short, safe rendering of an attacker-supplied public value for descriptions."""
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def _error(code: str, description: str) -> TokenError:
    return TokenError(description, code=code)


# --------------------------------------------------------------------------- values


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
        return _thaw_mapping(self.claims)


# --------------------------------------------------------------------------- JSON helpers


class _DuplicateMemberError(ValueError):
    pass


def _freeze_list(items: list[Any]) -> tuple[Any, ...]:
    return tuple(_freeze_list(v) if isinstance(v, list) else v for v in items)


def _frozen_object(pairs: list[tuple[str, Any]]) -> Mapping[str, Any]:
    # Duplicate member names are refused: different JSON parsers keep different
    # duplicates, and a token must mean one thing to every party (RFC 7519 §4).
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise _DuplicateMemberError(name)
        obj[name] = _freeze_list(value) if isinstance(value, list) else value
    return MappingProxyType(obj)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


class _NumberRangeError(ValueError):
    pass


def _parse_int(text: str) -> int:
    # Length first: int() of a long digit string is costly (and raises beyond 4300 digits).
    if len(text) > _MAX_SAFE_DIGITS + 1:
        raise _NumberRangeError(text)
    value = int(text)
    if not -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        raise _NumberRangeError(text)
    return value


def _parse_float(text: str) -> float:
    value = float(text)  # "1e400" is inf here, which JSON cannot mean
    if not math.isfinite(value):
        raise _NumberRangeError(text)
    return value


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """Cheap bracket-depth scan so a nesting bomb never reaches the JSON parser."""
    if text.count("{") + text.count("[") <= limit:
        return False  # the common case: too few brackets to be deep at all
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "{[":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _decode_json_object(segment: str, what: str) -> Mapping[str, Any]:
    try:
        text = b64url_decode(segment).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise _error("malformed_token", f"token {what} is not base64url-encoded UTF-8") from None
    if _too_deep(text, MAX_JSON_DEPTH):
        raise _error("malformed_token", f"token {what} JSON is nested too deeply")
    try:
        value = json.loads(text, object_pairs_hook=_frozen_object, parse_constant=_reject_constant,
                           parse_int=_parse_int, parse_float=_parse_float)
    except _DuplicateMemberError as exc:
        raise _error("malformed_token", f"token {what} repeats the member {_show(exc.args[0])}") from None
    except _NumberRangeError:
        raise _error("malformed_token", f"token {what} has a number outside the I-JSON range") from None
    except (ValueError, RecursionError):
        raise _error("malformed_token", f"token {what} is not valid JSON") from None
    if not isinstance(value, Mapping):
        raise _error("malformed_token", f"token {what} is not a JSON object")
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _thaw_mapping(value)
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


def _thaw_mapping(value: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _thaw(v) for k, v in value.items()}


# --------------------------------------------------------------------------- minting


def _check_signing_key(key: SigningKey) -> str:
    if not key.kid:
        raise ValueError("signing key has no kid; AAuth tokens must carry one (verifiers select keys by kid)")
    return key.kid


def _public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ``cnf.jwk`` before it goes into a token; refuse private members."""
    if not isinstance(jwk, Mapping):
        raise ValueError("cnf_jwk must be a JWK object")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ValueError("cnf_jwk must be a public key (it contains private key material)")
    try:
        PublicKey.from_jwk(jwk)
    except KeyError_ as exc:
        raise ValueError(f"cnf_jwk is not a usable Ed25519 or P-256 public key: {exc.description}") from None
    return _thaw_mapping(jwk)


def _merge_extra(claims: dict[str, Any], extra: Mapping[str, Any] | None) -> None:
    if not extra:
        return
    clash = sorted(set(extra) & set(claims))
    if clash:
        raise ValueError(f"extra claims may not override {', '.join(clash)}")
    for name, value in extra.items():
        claims[name] = _thaw(value)


def _check_lifetime(lifetime: int) -> None:
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 0 < lifetime <= MAX_LIFETIME:
        raise ValueError(f"lifetime must be a positive whole number of seconds, at most {MAX_LIFETIME}")


def _audience(aud: str | Sequence[str]) -> str | list[str]:
    if isinstance(aud, str):
        return aud
    values = list(aud)
    if not values or not all(isinstance(a, str) for a in values):
        raise ValueError("aud must be a string or a non-empty sequence of strings")
    return values


def _import_joserfc(jwk: dict[str, Any]) -> OKPKey | ECKey:
    return OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)


def _sign(key: SigningKey, typ: str, claims: dict[str, Any]) -> str:
    kid = _check_signing_key(key)
    # Header members sorted, exactly as the transcript's tokens (B §6).
    header = {"alg": key.jwt_alg, "kid": kid, "typ": typ}
    # Imported per call on purpose: no module-level cache should hold private key material.
    private = key.private_jwk()
    private.pop("kid", None)
    jkey = _import_joserfc(private)
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return serialize_compact(header, payload.encode("utf-8"), jkey, registry=_REGISTRIES[key.jwt_alg])


def mint_agent_token(
    key: SigningKey,
    *,
    iss: str,
    sub: str,
    cnf_jwk: Mapping[str, Any],
    now: float,
    lifetime: int = 3600,
    aud: str | Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An ``agent+jwt`` binding a delegate (``sub``) and its key (``cnf.jwk``) to an agent server."""
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "sub": sub}
    if aud is not None:
        claims["aud"] = _audience(aud)
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    claims["cnf"] = {"jwk": _public_jwk(cnf_jwk)}
    _merge_extra(claims, extra)
    return _sign(key, dialect.TYP_AGENT, claims)


def mint_resource_token(
    key: SigningKey,
    *,
    iss: str,
    aud: str,
    agent: str,
    agent_jkt: str,
    now: float,
    scope: str | None = None,
    auth_request_url: str | None = None,
    lifetime: int = 600,
) -> str:
    """A ``resource+jwt``: what the resource asks the auth server to grant, and to whom."""
    if (scope is None) == (auth_request_url is None):
        raise ValueError("exactly one of scope and auth_request_url is required")
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "aud": aud, "agent": agent, "agent_jkt": agent_jkt}
    if scope is not None:
        claims["scope"] = scope
    else:
        claims["auth_request_url"] = auth_request_url
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    return _sign(key, dialect.TYP_RESOURCE, claims)


def mint_auth_token(
    key: SigningKey,
    *,
    iss: str,
    aud: str | Sequence[str],
    cnf_jwk: Mapping[str, Any],
    now: float,
    agent: str | None = None,
    scope: str | None = None,
    sub: str | None = None,
    agent_delegate: str | None = None,
    act: Mapping[str, Any] | None = None,
    lifetime: int = 3600,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An ``auth+jwt`` bound to the agent's key; claim order is the transcript's plus ``iat``.

    ``agent`` is omitted only when the agent is itself the resource (``aud`` = agent).
    Absent optional claims are left out rather than written as ``null``.
    """
    _check_lifetime(lifetime)
    iat = int(now)
    claims: dict[str, Any] = {"iss": iss, "aud": _audience(aud)}
    if sub is not None:
        claims["sub"] = sub
    claims["cnf"] = {"jwk": _public_jwk(cnf_jwk)}
    if scope is not None:
        claims["scope"] = scope
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    if agent is not None:
        claims["agent"] = agent
    if agent_delegate is not None:
        claims["agent_delegate"] = agent_delegate
    if act is not None:
        if not isinstance(act, Mapping):
            raise ValueError("act must be a JSON object")
        claims["act"] = _thaw_mapping(act)
    _merge_extra(claims, extra)
    return _sign(key, dialect.TYP_AUTH, claims)


# --------------------------------------------------------------------------- act chains


def _parse_act(value: Any, *, max_depth: int) -> tuple[Actor, ...]:
    """Walk an ``act`` object iteratively (no recursion), outermost level first.

    ``None`` means "no act claim"; a nested ``"act": null`` is malformed, not absent.
    """
    chain: list[Actor] = []
    node = value
    while node is not None:
        if len(chain) >= max_depth:
            raise _error("act_too_deep", f"act chain is deeper than {max_depth} levels")
        if not isinstance(node, Mapping):
            raise _error("invalid_act", "every act level must be a JSON object")
        agent = node.get("agent")
        if not isinstance(agent, str) or not agent:
            raise _error("invalid_act", "every act level must carry a string 'agent'")
        delegate, sub = node.get("agent_delegate"), node.get("sub")
        if delegate is not None and not isinstance(delegate, str):
            raise _error("invalid_act", "act 'agent_delegate' must be a string")
        if sub is not None and not isinstance(sub, str):
            raise _error("invalid_act", "act 'sub' must be a string")
        if any(a.agent.rstrip("/") == agent.rstrip("/") for a in chain):
            raise _error("act_loop", "the act chain names the same agent twice (an exchange loop)")
        chain.append(Actor(agent=agent, agent_delegate=delegate, sub=sub))
        if "act" in node and node["act"] is None:
            raise _error("invalid_act", "a nested act must be a JSON object")
        node = node.get("act")
    return tuple(chain)


def _act_claim(claims: Mapping[str, Any], *, max_depth: int) -> tuple[Actor, ...]:
    if "act" in claims and claims["act"] is None:
        raise _error("invalid_act", "claim 'act' must be a JSON object")
    return _parse_act(claims.get("act"), max_depth=max_depth)


def build_act(upstream_claims: Mapping[str, Any], *, max_depth: int, presenter: str | None = None) -> dict[str, Any]:
    """The ``act`` for a token exchanged from ``upstream_claims`` (B §7.4).

    The upstream presenter (its ``agent``, ``agent_delegate`` and ``sub`` when present)
    is pushed on top of the upstream chain, which is nested unchanged.  ``sub`` is
    copied whenever present, as the demo does (§11 item 14).  The result is plain
    dicts, ready for :func:`mint_auth_token`.

    A chain that loops is refused (``act_loop``): an agent may appear only once among
    ``presenter`` (the intermediary the new token is for), the upstream ``agent`` and
    the upstream ``act`` agents, so a token cannot be exchanged round a cycle.
    """
    agent = upstream_claims.get("agent")
    if not isinstance(agent, str) or not agent:
        raise _error("invalid_act", "upstream token has no 'agent' to record in act")
    upstream_chain = _act_claim(upstream_claims, max_depth=max(max_depth, 0))
    if len(upstream_chain) + 1 > max_depth:
        raise _error("act_too_deep", f"the exchanged token's act chain would exceed {max_depth} levels")
    agents = [a.rstrip("/") for a in (presenter, agent, *(actor.agent for actor in upstream_chain)) if a is not None]
    if len(set(agents)) != len(agents):
        raise _error("act_loop", "the act chain would name the same agent twice (an exchange loop)")
    act: dict[str, Any] = {"agent": agent}
    for name in ("agent_delegate", "sub"):
        value = upstream_claims.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise _error("invalid_act", f"upstream '{name}' must be a string")
            act[name] = value
    upstream_act = upstream_claims.get("act")
    if upstream_act is not None:
        act["act"] = _thaw_mapping(upstream_act)
    return act


# --------------------------------------------------------------------------- cache


class VerifiedTokenCache:
    """Remembers which (token, key) pairs already passed verification.

    A warm request then costs no JWS verification, and — when the same checks
    (typ, audience, issuer, algorithms, act depth) were already passed — no claim
    checks either, only the time checks, which ``validate_token`` always re-runs.
    Entries are keyed by the SHA-256 of the token text (so memory stays bounded
    even for large tokens) and the key's RFC 7638 thumbprint, and expire at the
    token's ``exp`` by the caller's clock.  Bounded LRU, thread-safe.
    """

    _RESULTS_PER_TOKEN = 8

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[bytes, str], tuple[float, dict[tuple[Any, ...], ValidatedToken]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(raw: str, thumbprint: str) -> tuple[bytes, str]:
        return hashlib.sha256(raw.encode("utf-8")).digest(), thumbprint

    def _live(self, key: tuple[bytes, str], now: float) -> dict[tuple[Any, ...], ValidatedToken] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now > entry[0]:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
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
            self._entries[key] = (exp, results)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --------------------------------------------------------------------------- validation


@lru_cache(maxsize=512)
def peek(token: str) -> UnverifiedToken:
    """Structural parse only: three base64url JSON segments, bounded, no signature check.

    Refuses JWE (five segments), ``crit`` headers (we understand no extensions),
    headers without ``alg``/``kid`` and a non-string ``typ``.
    """
    if not isinstance(token, str):
        raise _error("malformed_token", "token must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise _error("malformed_token", f"token is longer than {MAX_TOKEN_LENGTH} bytes")
    parts = token.split(".")
    if len(parts) == 5:
        raise _error("malformed_token", "encrypted tokens (JWE) are not supported")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise _error("malformed_token", "token is not a compact JWS (three base64url segments)")
    if any("=" in part for part in parts):
        raise _error("malformed_token", "token segments must be unpadded base64url")
    header = _decode_json_object(parts[0], "header")
    claims = _decode_json_object(parts[1], "payload")
    try:
        b64url_decode(parts[2])
    except ValueError:
        raise _error("malformed_token", "token signature is not base64url") from None
    if "crit" in header:
        raise _error("unsupported_token", "token header 'crit' extensions are not supported")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _error("malformed_token", "token header has no 'alg'")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _error("malformed_token", "token header has no 'kid'")
    if "typ" in header and not isinstance(header["typ"], str):
        raise _error("malformed_token", "token header 'typ' must be a string")
    out = UnverifiedToken(header=header, claims=claims, raw=token)
    object.__setattr__(out, "_sealed", True)
    return out


@lru_cache(maxsize=1024)
def _joserfc_public(jwk_items: tuple[tuple[str, str], ...]) -> OKPKey | ECKey:
    # Public keys only: importing is costlier than verifying, and thumbprint-equal
    # material is the same key, so a bounded cache is safe.
    return _import_joserfc(dict(jwk_items))


def _verify_signature(raw: str, alg: str, key: PublicKey) -> None:
    # Only the key material goes to joserfc: a JWK "alg" of EdDSA must not refuse an
    # Ed25519-named token (A6 accepts both), and header members never select keys.
    material = tuple(
        (name, str(key.jwk[name])) for name in ("kty", "crv", "x", "y") if isinstance(key.jwk.get(name), str)
    )
    try:
        jkey = _joserfc_public(material)
        deserialize_compact(raw, jkey, registry=_REGISTRIES[alg])
    except (JoseError, ValueError, TypeError, KeyError):
        raise _error("invalid_token_signature", "token signature does not verify") from None


def is_numeric_date(value: object) -> TypeGuard[int | float]:
    """An RFC 7519 NumericDate we accept: an int (never a bool) or a float, 0..:data:`MAX_NUMERIC_DATE`.

    Compared without converting to float, so a 400-digit integer is refused rather than
    overflowing; NaN fails every comparison.
    """
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= MAX_NUMERIC_DATE)


def is_lifetime(value: object) -> TypeGuard[int | float]:
    """A lifetime in seconds from another party (``expires_in``): a number, 0 < value <= :data:`MAX_LIFETIME`."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= MAX_LIFETIME


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    # is_numeric_date(), inlined: this runs on every warm validation
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise _error("malformed_token", f"claim '{name}' must be a NumericDate (seconds, 0 to year 9999)")
    return value


def _string_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    if name not in claims:
        if required:
            raise _error("missing_claim", f"token is missing the '{name}' claim")
        return None
    value = claims[name]
    if not isinstance(value, str) or not value:
        raise _error("invalid_claim", f"claim '{name}' must be a non-empty string")
    return value


def _audiences(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _error("malformed_token", "claim 'aud' must be a string or a non-empty array of strings")


def _cnf(claims: Mapping[str, Any], *, required: bool) -> tuple[Mapping[str, Any] | None, PublicKey | None]:
    if "cnf" not in claims:
        if required:
            raise _error("missing_claim", "token is missing the 'cnf' claim")
        return None, None
    cnf = claims["cnf"]
    if not isinstance(cnf, Mapping):
        raise _error("invalid_cnf", "claim 'cnf' must be a JSON object")
    if "jwk" not in cnf:
        raise _error("missing_claim", "token is missing the 'cnf.jwk' claim")
    jwk = cnf["jwk"]
    if not isinstance(jwk, Mapping):
        raise _error("invalid_cnf", "claim 'cnf.jwk' must be a JSON object")
    if "d" in jwk:
        raise _error("invalid_cnf", "claim 'cnf.jwk' must be a public key")
    try:
        return jwk, PublicKey.from_jwk(jwk)
    except KeyError_:
        raise _error("invalid_cnf", "claim 'cnf.jwk' is not a usable Ed25519 or P-256 public key") from None


def validate_token(
    token: str | UnverifiedToken,
    *,
    typ: str,
    key: PublicKey,
    now: float,
    leeway: int,
    algorithms: Sequence[str],
    audience: str | None = None,
    issuer: str | None = None,
    max_act_depth: int = 8,
    require_agent: bool = True,
    cache: VerifiedTokenCache | None = None,
) -> ValidatedToken:
    """Fully validate a token of kind ``typ`` against ``key`` (the issuer's key, already resolved).

    Checks, in order: ``typ``; ``alg`` (explicit list, matching the key type, never
    ``none``/HMAC); signature (skipped only on a ``cache`` hit); ``iss``; ``exp``/``nbf``/``iat``
    with ``leeway``; ``aud``; the claims ``typ`` requires; ``cnf.jwk``; the ``act`` chain.
    ``require_agent=False`` accepts an auth token without ``agent`` (agent-is-resource, B §1.2).
    An agent token without ``aud`` is accepted even when ``audience`` is given (spec §5.7:
    ``aud`` is optional there and checked only when present).
    """
    if leeway < 0 or max_act_depth < 0:
        raise ValueError("leeway and max_act_depth must not be negative")
    unverified = token if isinstance(token, UnverifiedToken) and token._sealed else None
    if unverified is None:
        unverified = peek(token.raw if isinstance(token, UnverifiedToken) else token)
    header, claims, raw = unverified.header, unverified.claims, unverified.raw

    # A warm request: the same token, key and checks already passed; only time moved.
    checks = (typ, audience, issuer, tuple(algorithms), max_act_depth, require_agent, leeway)
    if cache is not None:
        earlier = cache.result(raw, key.thumbprint, checks, now=now)
        if earlier is not None:
            check_token_times(claims, now=now, leeway=leeway)
            return earlier

    # 1. typ: an agent token is never an auth token (A8).
    got_typ = header.get("typ")
    if got_typ != typ:
        got = "no typ" if got_typ is None else f"typ {_show(got_typ)}"
        raise _error("wrong_token_type", f"expected a {typ!r} token, got {got}")

    # 2. alg: explicit allow-list, never none/HMAC, and consistent with the key.
    alg = str(header["alg"])
    allowed = {a for a in algorithms if a in _SUPPORTED_ALGS}
    if alg not in allowed:
        raise _error("disallowed_algorithm", f"token algorithm {_show(alg)} is not allowed")
    if alg not in _ALGS_FOR_KEY[key.alg]:
        raise _error("disallowed_algorithm", f"token algorithm {_show(alg)} does not match the {key.alg} key")

    # 3. signature, unless this exact token already verified with this exact key.
    cached = cache is not None and cache.contains(raw, key.thumbprint, now=now)
    if not cached:
        _verify_signature(raw, alg, key)

    # 4. iss
    if "iss" not in claims:
        raise _error("missing_claim", "token is missing the 'iss' claim")
    iss = claims["iss"]
    if not isinstance(iss, str) or not iss:
        raise _error("invalid_issuer", "claim 'iss' must be a non-empty string")
    if issuer is not None and iss != issuer:
        raise _error("invalid_issuer", "token was not issued by the expected issuer")

    # 5. time claims
    exp = check_token_times(claims, now=now, leeway=leeway)

    # 6. aud
    aud_required = typ in (dialect.TYP_AUTH, dialect.TYP_RESOURCE)
    if "aud" in claims:
        audiences = _audiences(claims["aud"])
        if audience is not None and audience not in audiences:
            raise _error("invalid_audience", "token is not intended for this recipient ('aud')")
    elif aud_required:
        raise _error("missing_claim", "token is missing the 'aud' claim")
    elif audience is not None and typ != dialect.TYP_AGENT:
        raise _error("invalid_audience", "token has no 'aud' but one is required here")

    # 7. claims each token kind requires
    if typ == dialect.TYP_AGENT:
        _string_claim(claims, "sub", required=True)
    elif typ == dialect.TYP_RESOURCE:
        _string_claim(claims, "agent", required=True)
        _string_claim(claims, "agent_jkt", required=True)
        has_scope = _string_claim(claims, "scope", required=False) is not None
        has_url = _string_claim(claims, "auth_request_url", required=False) is not None
        if not has_scope and not has_url:
            raise _error("missing_claim", "token is missing the 'scope' (or 'auth_request_url') claim")
        if has_scope and has_url:
            raise _error("invalid_claim", "token carries both 'scope' and 'auth_request_url'")
    elif typ == dialect.TYP_AUTH:
        _string_claim(claims, "agent", required=require_agent)
        for optional in ("sub", "agent_delegate"):
            _string_claim(claims, optional, required=False)
        if "scope" in claims and not isinstance(claims["scope"], str):
            raise _error("invalid_claim", "claim 'scope' must be a string")

    # 8. cnf.jwk (the key the HTTP signature must verify with)
    cnf_jwk, cnf_key = _cnf(claims, required=typ in (dialect.TYP_AGENT, dialect.TYP_AUTH))

    # 9. act chain
    act = _act_claim(claims, max_depth=max_act_depth)

    result = ValidatedToken(header=header, claims=claims, raw=raw, cnf_jwk=cnf_jwk, act=act, cnf_key=cnf_key)
    if cache is not None:
        cache.add(raw, key.thumbprint, exp=exp, now=now, checks=checks, result=result)
    return result


def check_token_times(claims: Mapping[str, Any], *, now: float, leeway: int) -> float:
    """``exp`` (required), ``nbf`` and ``iat`` against ``now`` with ``leeway``; returns ``exp``."""
    exp = _numeric(claims, "exp")
    if exp is None:
        raise _error("missing_claim", "token is missing the 'exp' claim")
    times = TokenTimes(exp, _numeric(claims, "nbf"), _numeric(claims, "iat"))
    times.check(now, leeway)
    return exp


class TokenTimes(NamedTuple):
    """A validated token's time claims, kept so a token met again is checked without
    re-reading its claims."""

    exp: float
    nbf: float | None = None
    iat: float | None = None

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> TokenTimes:
        """From claims :func:`check_token_times` has accepted."""
        return cls(claims["exp"], claims.get("nbf"), claims.get("iat"))

    def check(self, now: float, leeway: int) -> None:
        if now > self.exp + leeway:
            raise _error("token_expired", "token has expired")
        if self.nbf is not None and now + leeway < self.nbf:
            raise _error("token_not_yet_valid", "token is not valid yet ('nbf' is in the future)")
        if self.iat is not None and self.iat > now + leeway:
            raise _error("token_not_yet_valid", "token was issued in the future ('iat')")
