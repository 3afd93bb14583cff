"""Metadata and JWKS discovery: fetching, caching, single-flight refresh, SSRF guard.

Every key the verifier trusts comes from a document fetched here, from a URL an
unauthenticated peer named, so the rules are strict:

* every URL passes :func:`check_url` before a packet is sent (https to public
  addresses only; loopback only behind ``allow_insecure_loopback``);
* key-discovery URLs carry no query, fragment or userinfo, so a peer cannot
  make us GET arbitrary endpoints; a host whose fetches fail is asked a few
  times a minute (``discovery_failed_host_budget``), not once per request;
* redirects are never followed, bodies are capped at ``discovery_max_bytes``;
* every value read from a response (``Cache-Control``, ``Content-Length``, the
  JSON body and its nesting) is read strictly: odd values fall back to
  defaults or fail as a ``DiscoveryError``, never as a stray exception;
* a metadata document must name the identifier it was fetched for (protocol A8);
* keys are looked up per identifier / ``jwks_uri``, never by ``kid`` alone, since
  ``kid``s collide across parties.

The sync and async methods share all logic: the lookups are written once as
generators that *yield* what they need (a document, a DNS answer, an HTTP
response) and two small drivers supply it with blocking or awaited I/O, the way
httpx's auth flows work.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from . import dialect
from ._http_fields import bounded_int, freshness
from .cache import CachedDocument, KeyCache, MemoryKeyCache
from .errors import DiscoveryError
from .keys import KeyError_, PublicKey
from .settings import AAuthSettings

__all__ = ["Discovery", "Resolver", "check_url", "system_resolver"]

logger = logging.getLogger("aauth.core")

Resolver = Callable[[str], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
T = TypeVar("T")

_BLOCKED = "blocked_url"
_FAILED = "discovery_failed"


# --------------------------------------------------------------------------- SSRF guard


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system (``socket.getaddrinfo``)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def _blocked(host: str, reason: str) -> DiscoveryError:
    return DiscoveryError(f"refusing to fetch from {host or 'URL'}: {reason}", code=_BLOCKED)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_HOSTNAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_HEX = re.compile(r"0x[0-9a-f]+")
_OCTAL = re.compile(r"0[0-7]*")
_DECIMAL = re.compile(r"[1-9][0-9]*")


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """Parse IPv4 the permissive way ``inet_aton`` does (``127.1``, ``0x7f.1``, ``2130706433``).

    Resolvers accept these spellings, so the guard must see through them; doing
    it here keeps IP literals free of any DNS call.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if _HEX.fullmatch(part):
            values.append(int(part[2:], 16))
        elif _OCTAL.fullmatch(part):
            values.append(int(part, 8))
        elif _DECIMAL.fullmatch(part):
            values.append(int(part))
        else:
            return None
    last_bits = 8 * (5 - len(values))
    if any(v > 0xFF for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    number = 0
    for v in values[:-1]:
        number = number << 8 | v
    return ipaddress.IPv4Address(number << last_bits | values[-1])


def _ip_problem(ip: IPAddress, allow_loopback: bool) -> str | None:
    """Why ``ip`` must not be fetched from, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _ip_problem(ip.ipv4_mapped, allow_loopback)
        if ip in _NAT64:
            return _ip_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), allow_loopback)
        if ip.sixtofour is not None:
            return _ip_problem(ip.sixtofour, allow_loopback)
        if ip.teredo is not None:
            return "Teredo address"
        if ip.is_site_local or ip in _UNIQUE_LOCAL:
            return "unique-local address"
    if ip.is_loopback:
        return None if allow_loopback else "loopback address"
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared address space"
    if ip.is_private:
        return "private address"
    if ip.is_reserved or not ip.is_global:
        return "reserved address"
    return None


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _precheck(url: str, allow_loopback: bool) -> tuple[str, str | None]:
    """Every check that needs no DNS: returns (host for messages, DNS name to resolve or None)."""
    if any(c.isspace() or ord(c) < 0x20 or c in "\\\x7f" for c in url):
        raise _blocked("", "malformed URL")
    try:
        parsed = httpx.URL(url)
        netloc = urlsplit(url).netloc
    except (httpx.InvalidURL, ValueError):
        raise _blocked("", "malformed URL") from None
    host = parsed.raw_host.decode("ascii", "replace").lower()
    if parsed.scheme not in ("https", "http"):
        raise _blocked(host, "scheme must be https")
    if not host:
        raise _blocked("", "URL has no host")
    if "@" in netloc or parsed.userinfo:
        raise _blocked(host, "URL must not carry userinfo")
    _, colon, port = netloc.rpartition("]")[2].partition(":")
    if colon and port and not 0 < (bounded_int(port, 65536) or 0) < 65536:  # httpx reads full-width digits
        raise _blocked(host, "malformed port")
    if "#" in url:
        raise _blocked(host, "URL must not carry a fragment")
    insecure = parsed.scheme == "http"
    if insecure and not allow_loopback:
        raise _blocked(host, "scheme must be https")

    ip: IPAddress | None = None
    name = host[:-1] if host.endswith(".") else host
    if ":" in host:
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise _blocked(host, "malformed IPv6 address") from None
    elif _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        ip = _inet_aton(name)
        if ip is None:
            raise _blocked(host, "malformed IPv4 address")
    if ip is not None:
        if insecure and not _is_loopback(ip):
            raise _blocked(host, "http is only allowed for loopback addresses")
        problem = _ip_problem(ip, allow_loopback)
        if problem:
            raise _blocked(host, problem)
        return host, None

    if not _HOSTNAME.fullmatch(name):
        raise _blocked(host, "malformed host name")
    if name == "localhost" or name.endswith(".localhost"):
        if not allow_loopback:
            raise _blocked(host, "localhost")
        return host, None
    if insecure:
        raise _blocked(host, "http is only allowed for loopback addresses")
    return host, host


def _resolve(resolver: Resolver, name: str) -> list[str]:
    try:
        addresses = list(resolver(name))
    except (OSError, UnicodeError, ValueError):
        raise DiscoveryError(f"could not resolve {name}", code=_FAILED) from None
    if not addresses:
        raise DiscoveryError(f"could not resolve {name}", code=_FAILED)
    return addresses


def _check_addresses(name: str, addresses: Sequence[str], allow_loopback: bool) -> None:
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise _blocked(name, "resolver returned a malformed address") from None
        problem = _ip_problem(ip, allow_loopback)
        if problem:
            raise _blocked(name, f"resolves to a {problem}")


def check_url(url: str, *, allow_insecure_loopback: bool, resolver: Resolver | None = None) -> None:
    """Refuse (``DiscoveryError`` code ``blocked_url``) any URL we must not fetch from.

    https only (http just for loopback behind the development switch), no
    userinfo or fragment, and every address the host stands for must be public:
    IP literals in any spelling are checked without I/O, DNS names by resolving
    them (a failed lookup is ``discovery_failed``).

    The fetch resolves the name again, so a DNS-rebinding attacker can still win
    the race between check and connect; fully defeating that needs a custom
    transport that connects to the checked address, which is out of scope here.
    """
    _host, name = _precheck(url, allow_insecure_loopback)
    if name is not None:
        addresses = _resolve(resolver or system_resolver, name)
        _check_addresses(name, addresses, allow_insecure_loopback)


# --------------------------------------------------------------------------- small values

_Kind = Literal["metadata", "jwks", "text"]


@dataclass(frozen=True, slots=True)
class _Need:
    """A document a lookup needs.  ``refresh_seen``: refetch unless the cache moved past it."""

    url: str
    kind: _Kind
    identifier: str = ""
    well_known: str = ""
    max_bytes: int = 0
    refresh_seen: float | None = None

    @property
    def key(self) -> str:
        return "text:" + self.url if self.kind == "text" else self.url


@dataclass(frozen=True, slots=True)
class _Got:
    doc: CachedDocument
    from_network: bool = False
    offline: bool = False


@dataclass(frozen=True, slots=True)
class _Resolve:
    name: str


@dataclass(frozen=True, slots=True)
class _Fetch:
    url: str
    host: str
    max_bytes: int


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    cache_control: str | None = None
    body: bytes = b""


_Op = _Resolve | _Fetch


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or "URL"
    except ValueError:
        return "URL"


def _strip_slash(value: str) -> str:
    return value[:-1] if value.endswith("/") else value


class _Body:
    """Accumulates a response body and stops as soon as it passes the limit."""

    def __init__(self, response: httpx.Response, host: str, limit: int) -> None:
        self.host, self.limit = host, limit
        self.chunks: list[bytes] = []
        self.size = 0
        declared = bounded_int(response.headers.get("content-length", ""), limit + 1)
        if declared is not None and declared > limit:  # a malformed length is ignored: the body is counted
            raise self._too_large()

    def _too_large(self) -> DiscoveryError:
        return DiscoveryError(f"document from {self.host} exceeds {self.limit} bytes", code="document_too_large")

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self._too_large()
        self.chunks.append(chunk)

    def done(self, response: httpx.Response) -> _Response:
        return _Response(200, response.headers.get("cache-control"), b"".join(self.chunks))


def _transport_error(host: str, exc: BaseException) -> DiscoveryError:
    what = "timed out" if isinstance(exc, httpx.TimeoutException | TimeoutError) else "failed"
    return DiscoveryError(f"fetching from {host} {what}", code=_FAILED)


def _ttl(cache_control: str | None, settings: AAuthSettings) -> float:
    """Seconds a document stays fresh, from ``Cache-Control``, within the configured bounds.

    ``no-store`` / ``no-cache`` get the minimum TTL rather than zero: the verifier
    needs keys on every request, and refetching per request would turn every
    signed request into an outbound fetch (and a denial-of-service amplifier).
    """
    return float(freshness(cache_control, default=settings.discovery_default_ttl,
                           low=settings.discovery_min_ttl, high=settings.discovery_max_ttl))


def _validate(need: _Need, value: Mapping[str, Any]) -> None:
    """Kind-specific checks, run on every document before it is used (cheap: hot path)."""
    if need.kind == "metadata":
        field = dialect.METADATA_ID_FIELD[need.well_known]
        named = value.get(field)
        # An origin's empty path and "/" are one URL (RFC 3986 §6.2.3): the only normalising here.
        if not isinstance(named, str) or _strip_slash(named) != _strip_slash(need.identifier):
            raise DiscoveryError(
                f"metadata from {_host_of(need.url)}: '{field}' does not match the identifier it was fetched for",
                code="metadata_mismatch",
            )
        jwks_uri = value.get("jwks_uri")
        try:
            parts = urlsplit(jwks_uri) if isinstance(jwks_uri, str) else None
        except ValueError:  # "https://[::1": unparseable
            parts = None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            raise DiscoveryError(
                f"metadata from {_host_of(need.url)}: 'jwks_uri' is not a URL", code="invalid_metadata"
            )
    elif need.kind == "jwks" and not isinstance(value.get("keys"), list):
        raise DiscoveryError(f"JWKS from {_host_of(need.url)} has no 'keys' list", code="invalid_jwks")


def _decode(need: _Need, body: bytes, host: str) -> Mapping[str, Any]:
    if need.kind == "text":
        try:
            return {"text": body.decode("utf-8")}
        except UnicodeDecodeError:
            raise DiscoveryError(f"document from {host} is not UTF-8 text", code=_FAILED) from None
    code = "invalid_jwks" if need.kind == "jwks" else "invalid_metadata"
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # also digits past int's limit, bad UTF-8
        raise DiscoveryError(f"document from {host} is not valid JSON", code=code) from None
    if not isinstance(value, dict):
        raise DiscoveryError(f"document from {host} is not a JSON object", code=code)
    if _deeper_than(value, _MAX_DEPTH):
        raise DiscoveryError(f"document from {host} is nested too deeply", code=code)
    return value


_MAX_DEPTH = 32
"""Metadata and JWKS documents are a few levels deep; deeper ones are refused so that
no later consumer (a cache that serialises them, a caller walking them) meets a
structure that exhausts the stack."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: Python's extension, not RFC 8259


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _import_keys(value: Mapping[str, Any]) -> tuple[PublicKey, ...]:
    """Every usable signing key of a JWKS; unsupported or malformed entries are skipped."""
    keys: list[PublicKey] = []
    for jwk in value.get("keys", ()):
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        try:
            keys.append(PublicKey.from_jwk(jwk))
        except KeyError_:
            continue
    return tuple(keys)


class _LockTable:
    """Per-key locks that disappear when nobody holds or waits for them (bounded memory)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._sync: dict[str, tuple[threading.Lock, list[int]]] = {}
        self._async: dict[tuple[int, str], tuple[asyncio.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._sync.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._sync[key]

    @asynccontextmanager
    async def ahold(self, key: str) -> AsyncIterator[None]:
        slot = (id(asyncio.get_running_loop()), key)  # asyncio locks belong to one loop
        with self._guard:
            lock, users = self._async.setdefault(slot, (asyncio.Lock(), [0]))
            users[0] += 1
        try:
            async with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._async[slot]


class _HostBudget:
    """Fetches per host, as a token bucket of ``size`` that refills over ``window`` seconds.

    A fetch takes a token and a good document gives it back, so only failed fetches
    (and ones still in flight) spend the budget: a flood of distinct URLs on a host
    that answers 404 costs ``size`` fetches, then ``size`` a window, while a host
    serving many good documents (many agents on one platform) is never limited.
    Keyed by host, not origin, so other ports do not buy more.  Memory is bounded:
    full buckets are dropped when the table fills, then the oldest quarter.
    """

    def __init__(self, size: int, window: float = 60.0, max_hosts: int = 4096) -> None:
        self._size, self._rate, self._max = float(size), size / window, max_hosts
        self._lock = threading.Lock()
        self._hosts: dict[str, list[float]] = {}  # host -> [tokens, as of]

    def __len__(self) -> int:
        return len(self._hosts)

    def _tokens(self, entry: list[float], now: float) -> float:
        return min(self._size, entry[0] + max(0.0, now - entry[1]) * self._rate)

    def take(self, host: str, now: float) -> bool:
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None:
                if len(self._hosts) >= self._max:
                    self._prune(now)
                self._hosts[host] = [self._size - 1, now]
                return True
            tokens = self._tokens(entry, now)
            allowed = tokens >= 1
            entry[0], entry[1] = tokens - 1 if allowed else tokens, now
            return allowed

    def give_back(self, host: str, now: float) -> None:
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None:
                return
            tokens = self._tokens(entry, now) + 1
            if tokens >= self._size:
                del self._hosts[host]
            else:
                entry[0], entry[1] = tokens, now

    def _prune(self, now: float) -> None:
        for host in [h for h, e in self._hosts.items() if self._tokens(e, now) >= self._size]:
            del self._hosts[host]
        if len(self._hosts) >= self._max:
            for host in list(self._hosts)[: max(1, self._max // 4)]:
                del self._hosts[host]


# --------------------------------------------------------------------------- Discovery


_KEY_MEMO_SIZE = 4096


class Discovery:
    """Fetches and caches AAuth metadata, JWKS and x509 chains, sync and async.

    ``documents`` holds offline documents by exact URL (the CLI's envelopes); they
    are served without any network or SSRF check.  A text document (for
    :meth:`fetch_text`) is given there as ``{"text": "..."}``.  ``resolver`` maps a
    host name to IP address strings for the SSRF guard.  ``clock`` drives cache
    freshness, the unknown-``kid`` refetch rate limit and the per-host fetch budget.
    """

    def __init__(
        self,
        settings: AAuthSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        cache: KeyCache | None = None,
        resolver: Resolver | None = None,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._async_transport = async_transport
        self._clock = clock
        self._cache: KeyCache = cache if cache is not None else MemoryKeyCache()
        self._resolver: Resolver = resolver or system_resolver
        self._documents = dict(documents or {})
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None
        self._state_lock = threading.Lock()
        self._locks = _LockTable()
        self._last_forced: dict[str, float] = {}
        self._keysets: OrderedDict[str, tuple[Mapping[str, Any], tuple[PublicKey, ...]]] = OrderedDict()
        self._key_memo: dict[tuple[str | None, ...], tuple[PublicKey, float]] = {}
        self._host_budget = _HostBudget(settings.discovery_failed_host_budget)

    # ----------------------------------------------------------------- public API

    def metadata(self, identifier: str, well_known: str) -> Mapping[str, Any]:
        """The validated ``{identifier}/.well-known/{well_known}`` document."""
        return self._run(self._metadata_flow(identifier, well_known))

    async def ametadata(self, identifier: str, well_known: str) -> Mapping[str, Any]:
        return await self._arun(self._metadata_flow(identifier, well_known))

    def jwks(self, jwks_uri: str) -> tuple[PublicKey, ...]:
        """Every supported key of the JWKS at ``jwks_uri``."""
        return self._run(self._jwks_flow(jwks_uri))

    async def ajwks(self, jwks_uri: str) -> tuple[PublicKey, ...]:
        return await self._arun(self._jwks_flow(jwks_uri))

    def key_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey:
        """Key ``kid`` of ``identifier`` (jwks mode 2: via metadata, or ``identifier`` as a JWKS)."""
        memo = self._memo_get(("kid", identifier, well_known, kid))
        if memo is not None:
            return memo
        return self._run(self._key_flow(identifier, well_known, None, lambda k: k.kid == kid,
                                        memo_key=("kid", identifier, well_known, kid)))

    async def akey_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey:
        memo = self._memo_get(("kid", identifier, well_known, kid))
        if memo is not None:
            return memo
        return await self._arun(self._key_flow(identifier, well_known, None, lambda k: k.kid == kid,
                                               memo_key=("kid", identifier, well_known, kid)))

    def jwks_key(self, jwks_uri: str, kid: str) -> PublicKey:
        """Key ``kid`` of the JWKS at ``jwks_uri`` (jwks mode 1)."""
        return self._run(self._key_flow("", None, jwks_uri, lambda k: k.kid == kid))

    async def ajwks_key(self, jwks_uri: str, kid: str) -> PublicKey:
        return await self._arun(self._key_flow("", None, jwks_uri, lambda k: k.kid == kid))

    def key_by_thumbprint(self, identifier: str, well_known: str, thumbprint: str) -> PublicKey:
        """The key of ``identifier`` whose RFC 7638 thumbprint is ``thumbprint`` (protocol A7)."""
        return self._run(self._key_flow(identifier, well_known, None, lambda k: k.thumbprint == thumbprint))

    async def akey_by_thumbprint(self, identifier: str, well_known: str, thumbprint: str) -> PublicKey:
        return await self._arun(self._key_flow(identifier, well_known, None, lambda k: k.thumbprint == thumbprint))

    def fetch_text(self, url: str, max_bytes: int | None = None) -> str:
        """A text document (an ``x5u`` PEM chain), under the same guard, limits and cache."""
        return self._run(self._text_flow(url, max_bytes))

    async def afetch_text(self, url: str, max_bytes: int | None = None) -> str:
        return await self._arun(self._text_flow(url, max_bytes))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None
        self.close()

    def __enter__(self) -> Discovery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Discovery:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- lookups (shared)

    def _metadata_need(self, identifier: str, well_known: str) -> _Need:
        if well_known not in dialect.METADATA_ID_FIELD:
            raise DiscoveryError("unknown metadata document name", code="invalid_metadata")
        if "?" in identifier:
            raise _blocked(_host_of(identifier), "identifier must not carry a query")
        url = f"{_strip_slash(identifier)}/.well-known/{well_known}"
        return _Need(url, "metadata", identifier=identifier, well_known=well_known)

    def _metadata_flow(self, identifier: str, well_known: str) -> Generator[_Need, _Got, Mapping[str, Any]]:
        got = yield self._metadata_need(identifier, well_known)
        return MappingProxyType(dict(got.doc.value))

    def _jwks_flow(self, url: str) -> Generator[_Need, _Got, tuple[PublicKey, ...]]:
        got = yield _Need(url, "jwks")
        return self._keyset(url, got)

    def _text_flow(self, url: str, max_bytes: int | None) -> Generator[_Need, _Got, str]:
        limit = self.settings.discovery_max_bytes if max_bytes is None else max_bytes
        got = yield _Need(url, "text", max_bytes=limit)
        text = got.doc.value.get("text")
        if not isinstance(text, str):
            raise DiscoveryError(f"no text document for {_host_of(url)}", code=_FAILED)
        if len(text.encode()) > limit:
            raise DiscoveryError(f"document from {_host_of(url)} exceeds {limit} bytes", code="document_too_large")
        return text

    def _key_flow(
        self,
        identifier: str,
        well_known: str | None,
        jwks_uri: str | None,
        match: Callable[[PublicKey], bool],
        memo_key: tuple[str | None, ...] | None = None,
    ) -> Generator[_Need, _Got, PublicKey]:
        """Find a key, refetching the JWKS once if it is not there (key rotation).

        The refetch is skipped when the JWKS was just fetched, and rate limited
        per ``jwks_uri`` so a stream of made-up ``kid``s cannot make us hammer the
        issuer.
        """
        fresh_until = float("inf")
        if jwks_uri is None:
            if well_known is None:
                jwks_uri = identifier
            else:
                meta = yield self._metadata_need(identifier, well_known)
                jwks_uri = str(meta.doc.value["jwks_uri"])
                fresh_until = meta.doc.fresh_until
        got = yield _Need(jwks_uri, "jwks")
        key = next((k for k in self._keyset(jwks_uri, got) if match(k)), None)
        if key is None and not got.from_network and not got.offline:
            got = yield _Need(jwks_uri, "jwks", refresh_seen=got.doc.fetched_at)
            key = next((k for k in self._keyset(jwks_uri, got) if match(k)), None)
        if key is None:
            raise DiscoveryError(f"no matching key in the JWKS from {_host_of(jwks_uri)}", code="unknown_key")
        if memo_key is not None and not got.offline:
            self._memo_put(memo_key, key, min(fresh_until, got.doc.fresh_until))
        return key

    def cached_key_for(self, identifier: str, well_known: str | None, kid: str) -> PublicKey | None:
        """:meth:`key_for`'s answer when it needs no I/O (every document still fresh), else ``None``."""
        hit = self._key_memo.get(("kid", identifier, well_known, kid))  # _memo_get, inlined: the warm path
        return hit[0] if hit is not None and self._clock() < hit[1] else None

    def _memo_get(self, memo_key: tuple[str | None, ...]) -> PublicKey | None:
        """A key found earlier from documents that are all still fresh: the warm path
        costs one dict lookup instead of re-walking metadata and JWKS."""
        hit = self._key_memo.get(memo_key)
        if hit is not None and self._clock() < hit[1]:
            return hit[0]
        return None

    def _memo_put(self, memo_key: tuple[str | None, ...], key: PublicKey, fresh_until: float) -> None:
        with self._state_lock:
            if len(self._key_memo) >= _KEY_MEMO_SIZE:
                self._key_memo.clear()
            self._key_memo[memo_key] = (key, fresh_until)

    def _keyset(self, url: str, got: _Got) -> tuple[PublicKey, ...]:
        """Imported keys of a JWKS, memoised per document object (import costs a key parse each)."""
        value = got.doc.value
        with self._state_lock:
            hit = self._keysets.get(url)
            if hit is not None and hit[0] is value:
                self._keysets.move_to_end(url)
                return hit[1]
        keys = _import_keys(value)
        if not got.offline:
            with self._state_lock:
                self._keysets[url] = (value, keys)
                self._keysets.move_to_end(url)
                while len(self._keysets) > 1024:
                    self._keysets.popitem(last=False)
        return keys

    def _fast_path(self, need: _Need) -> _Got | None:
        """The lock-free cache hit.  Forced refreshes always take the URL's lock, so a
        caller that is rate limited still waits for a refresh already in flight."""
        return None if need.refresh_seen is not None else self._lookup(need)

    def _lookup(self, need: _Need) -> _Got | None:
        """A usable document without I/O, or None when it must be fetched."""
        offline = self._documents.get(need.url)
        if offline is not None:
            now = self._clock()
            _validate(need, offline)
            return _Got(CachedDocument(offline, now, now, now), offline=True)
        entry = self._cache.get(need.key)
        if entry is None:
            return None
        now = self._clock()
        fresh = now < entry.fresh_until
        if need.refresh_seen is not None and entry.fetched_at <= need.refresh_seen:
            # A forced refresh, and nobody has refreshed since the caller looked.
            if not fresh or self._claim_refresh(need.key, now):
                return None
        elif not fresh:
            return None
        _validate(need, entry.value)
        return _Got(entry)

    def _claim_refresh(self, key: str, now: float) -> bool:
        """Record and allow a forced refresh of ``key``, unless one happened within the interval."""
        interval = self.settings.unknown_kid_refetch_interval
        with self._state_lock:
            last = self._last_forced.get(key)
            if last is not None and now - last < interval:
                return False
            if len(self._last_forced) >= 4096:  # keep the table bounded
                self._last_forced = {k: t for k, t in self._last_forced.items() if now - t < interval}
            self._last_forced[key] = now
            return True

    def _refresh_flow(self, need: _Need) -> Generator[_Op, Any, _Got]:
        """Check, fetch, parse and store one document; fall back to a stale copy on failure.

        Runs only when no usable copy is cached, so the URL checks and the host
        budget cost nothing on the warm path.  A fetch spends a token of its host's
        budget (:class:`_HostBudget`) and only a good document gives it back.
        """
        allow = self.settings.allow_insecure_loopback
        host, name = _precheck(need.url, allow)
        if "?" in need.url:  # any path is the peer's to name, but not a GET with parameters
            raise _blocked(host, "key discovery URLs must not carry a query")
        budget_key = host.rstrip(".")
        if not self._host_budget.take(budget_key, self._clock()):
            limited = DiscoveryError(f"fetching from {host} is rate-limited after failed fetches", code=_FAILED)
            return self._stale_or_raise(need, host, limited)
        try:
            if name is not None:
                addresses = yield _Resolve(name)
                _check_addresses(name, addresses, allow)
            limit = need.max_bytes or self.settings.discovery_max_bytes
            response: _Response = yield _Fetch(need.url, host, limit)
        except DiscoveryError as exc:
            if exc.code == _BLOCKED:
                self._host_budget.give_back(budget_key, self._clock())  # no request was sent
                raise
            return self._stale_or_raise(need, host, exc)
        if response.status != 200:
            error = DiscoveryError(f"{host} answered HTTP {response.status}", code=_FAILED)
            if 400 <= response.status < 500 and response.status not in (408, 429):
                raise error  # the issuer withdrew the document: no stale fallback
            return self._stale_or_raise(need, host, error)
        try:
            value = _decode(need, response.body, host)
            _validate(need, value)
        except DiscoveryError as exc:
            return self._stale_or_raise(need, host, exc)
        now = self._clock()
        self._host_budget.give_back(budget_key, now)
        fresh_until = now + _ttl(response.cache_control, self.settings)
        stale_until = max(fresh_until, now + self.settings.discovery_stale_ttl)
        doc = CachedDocument(value, now, fresh_until, stale_until)
        self._cache.set(need.key, doc)
        return _Got(doc, from_network=True)

    def _stale_or_raise(self, need: _Need, host: str, error: DiscoveryError) -> _Got:
        """Keep serving the last good copy while its issuer is down, within ``discovery_stale_ttl``."""
        entry = self._cache.get(need.key)
        if entry is None or self._clock() >= entry.stale_until:
            raise error
        try:
            _validate(need, entry.value)
        except DiscoveryError:
            raise error from None
        logger.warning("discovery: refresh from %s failed (%s); serving the cached copy", host, error.code)
        return _Got(entry)

    # ----------------------------------------------------------------- drivers (the only I/O)

    def _run(self, flow: Generator[_Need, _Got, T]) -> T:
        try:
            need = next(flow)
            while True:
                need = flow.send(self._get(need))
        except StopIteration as stop:
            return cast(T, stop.value)

    async def _arun(self, flow: Generator[_Need, _Got, T]) -> T:
        try:
            need = next(flow)
            while True:
                need = flow.send(await self._aget(need))
        except StopIteration as stop:
            return cast(T, stop.value)

    def _get(self, need: _Need) -> _Got:
        got = self._fast_path(need)
        if got is not None:
            return got
        with self._locks.hold(need.key):  # single flight: one fetch per URL, waiters reuse it
            got = self._lookup(need)
            if got is not None:
                return got
            flow = self._refresh_flow(need)
            try:
                op = next(flow)
                while True:
                    try:
                        result = self._sync_io(op)
                    except DiscoveryError as exc:
                        op = flow.throw(exc)
                    else:
                        op = flow.send(result)
            except StopIteration as stop:
                return cast(_Got, stop.value)

    async def _aget(self, need: _Need) -> _Got:
        got = self._fast_path(need)
        if got is not None:
            return got
        async with self._locks.ahold(need.key):
            got = self._lookup(need)
            if got is not None:
                return got
            flow = self._refresh_flow(need)
            try:
                op = next(flow)
                while True:
                    try:
                        result = await self._async_io(op)
                    except DiscoveryError as exc:
                        op = flow.throw(exc)
                    else:
                        op = flow.send(result)
            except StopIteration as stop:
                return cast(_Got, stop.value)

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "follow_redirects": False,
            "timeout": self.settings.discovery_timeout,
            "headers": {"Accept": "application/json", "Accept-Encoding": "identity"},
            # Proxies from the environment would bypass the address checks; pass a
            # transport to use a proxy deliberately.
            "trust_env": False,
        }

    def _sync_io(self, op: _Op) -> list[str] | _Response:
        if isinstance(op, _Resolve):
            return _resolve(self._resolver, op.name)
        with self._state_lock:
            if self._client is None:
                self._client = httpx.Client(transport=self._transport, **self._client_kwargs())
            client = self._client
        deadline = time.monotonic() + self.settings.discovery_timeout
        try:
            with client.stream("GET", op.url) as response:
                if response.status_code != 200:
                    return _Response(response.status_code)
                body = _Body(response, op.host, op.max_bytes)
                for chunk in response.iter_bytes():
                    body.feed(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError
                return body.done(response)
        except (httpx.HTTPError, OSError) as exc:  # TimeoutError is an OSError
            raise _transport_error(op.host, exc) from exc

    async def _async_io(self, op: _Op) -> list[str] | _Response:
        loop = asyncio.get_running_loop()
        if isinstance(op, _Resolve):
            return await loop.run_in_executor(None, _resolve, self._resolver, op.name)
        with self._state_lock:
            if self._aclient is None:
                self._aclient = httpx.AsyncClient(transport=self._async_transport, **self._client_kwargs())
            client = self._aclient
        try:
            async with asyncio.timeout(self.settings.discovery_timeout):
                async with client.stream("GET", op.url) as response:
                    if response.status_code != 200:
                        return _Response(response.status_code)
                    body = _Body(response, op.host, op.max_bytes)
                    async for chunk in response.aiter_bytes():
                        body.feed(chunk)
                    return body.done(response)
        except (httpx.HTTPError, OSError) as exc:
            raise _transport_error(op.host, exc) from exc
