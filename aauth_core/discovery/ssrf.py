"""The SSRF guard: which URLs discovery may fetch from, decided before a packet is sent.

https to public addresses only (http just for loopback, behind
``allow_insecure_loopback``); no userinfo or fragment; IP literals are checked in
every spelling a resolver accepts without any I/O, host names by resolving them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from urllib.parse import SplitResult, urlsplit

import httpx

from ..errors import DiscoveryError
from ..wire.http_fields import bounded_int

__all__ = [
    "BLOCKED",
    "FAILED",
    "Resolver",
    "blocked",
    "check_addresses",
    "check_url",
    "host_of",
    "precheck",
    "resolve",
    "same_origin",
    "system_resolver",
]

Resolver = Callable[[str], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BLOCKED = "blocked_url"
FAILED = "discovery_failed"


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system (``socket.getaddrinfo``)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def blocked(host: str, reason: str) -> DiscoveryError:
    return DiscoveryError(f"refusing to fetch from {host or 'URL'}: {reason}", code=BLOCKED)


def host_of(url: str) -> str:
    """The host of ``url`` for messages (``"URL"`` when there is none to name)."""
    try:
        return urlsplit(url).hostname or "URL"
    except ValueError:
        return "URL"


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


def precheck(url: str, allow_loopback: bool) -> tuple[str, str | None]:
    """Every check that needs no DNS: returns (host for messages, DNS name to resolve or None)."""
    if any(c.isspace() or ord(c) < 0x20 or c in "\\\x7f" for c in url):
        raise blocked("", "malformed URL")
    try:
        parsed = httpx.URL(url)
        netloc = urlsplit(url).netloc
    except (httpx.InvalidURL, ValueError):
        raise blocked("", "malformed URL") from None
    host = parsed.raw_host.decode("ascii", "replace").lower()
    if parsed.scheme not in ("https", "http"):
        raise blocked(host, "scheme must be https")
    if not host:
        raise blocked("", "URL has no host")
    if "@" in netloc or parsed.userinfo:
        raise blocked(host, "URL must not carry userinfo")
    _, colon, port = netloc.rpartition("]")[2].partition(":")
    if colon and port and not 0 < (bounded_int(port, 65536) or 0) < 65536:  # httpx reads full-width digits
        raise blocked(host, "malformed port")
    if "#" in url:
        raise blocked(host, "URL must not carry a fragment")
    insecure = parsed.scheme == "http"
    if insecure and not allow_loopback:
        raise blocked(host, "scheme must be https")

    ip: IPAddress | None = None
    name = host[:-1] if host.endswith(".") else host
    if ":" in host:
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise blocked(host, "malformed IPv6 address") from None
    elif _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        ip = _inet_aton(name)
        if ip is None:
            raise blocked(host, "malformed IPv4 address")
    if ip is not None:
        if insecure and not _is_loopback(ip):
            raise blocked(host, "http is only allowed for loopback addresses")
        problem = _ip_problem(ip, allow_loopback)
        if problem:
            raise blocked(host, problem)
        return host, None

    if not _HOSTNAME.fullmatch(name):
        raise blocked(host, "malformed host name")
    if name == "localhost" or name.endswith(".localhost"):
        if not allow_loopback:
            raise blocked(host, "localhost")
        return host, None
    if insecure:
        raise blocked(host, "http is only allowed for loopback addresses")
    return host, host


def resolve(resolver: Resolver, name: str) -> list[str]:
    """The addresses ``name`` stands for (``discovery_failed`` when there are none)."""
    try:
        addresses = list(resolver(name))
    except (OSError, UnicodeError, ValueError):
        raise DiscoveryError(f"could not resolve {name}", code=FAILED) from None
    if not addresses:
        raise DiscoveryError(f"could not resolve {name}", code=FAILED)
    return addresses


def check_addresses(name: str, addresses: Sequence[str], allow_loopback: bool) -> None:
    """Refuse ``name`` unless every address it resolved to is public."""
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise blocked(name, "resolver returned a malformed address") from None
        problem = _ip_problem(ip, allow_loopback)
        if problem:
            raise blocked(name, f"resolves to a {problem}")


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
    _host, name = precheck(url, allow_insecure_loopback)
    if name is not None:
        addresses = resolve(resolver or system_resolver, name)
        check_addresses(name, addresses, allow_insecure_loopback)


def same_origin(url: str, origin: str) -> bool:
    """Whether ``url`` goes where ``origin`` is (RFC 6454: scheme, host, port; case and a
    default port folded) and names no userinfo: a server sends a signed request, or follows
    a ``Location``, only to the origin it learned it from."""
    a, b = urlsplit(url), urlsplit(origin)
    if a.username is not None or a.password is not None:
        return False
    try:
        return _origin_of(a) == _origin_of(b)
    except ValueError:  # an unparseable port
        return False


def _origin_of(parts: SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    port = parts.port if parts.port is not None else {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port
