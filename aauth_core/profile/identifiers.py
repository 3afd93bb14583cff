"""aauth-11 identifiers: agents (``aauth:local@domain``, §5.2) and servers (``https://host``, §11.1.1).

Pure validators: they read a string and say whether -11 allows it, without fetching or
normalising anything.  -11 compares identifiers byte for byte, so a value is either
exactly right or refused; nothing here lower-cases, strips a slash or decodes IDNs.

* A **server identifier** is ``https://`` and a host: lowercase, A-labels (``xn--``) for
  internationalised names, no port, path, query, fragment, userinfo or trailing slash.
  IP literals are not domain names and are refused.
* An **agent identifier** is ``aauth:`` + a local part of 1-255 characters from
  ``A-Z a-z 0-9 . _ + -`` (case-sensitive, RS-52) + ``@`` + a server identifier's host.  A
  ``+`` appears only in a sub-agent's identifier, once, between its parent's local part and
  a non-empty discriminator (``planner.7f3c+search1``).

Decision P7 (issue 14): ``allow_loopback_http=True`` also admits ``http://127.0.0.1`` with an
optional port as a server identifier (and ``127.0.0.1[:port]`` as an agent's domain), for
local development stacks.  It is off by default and nothing turns it on implicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AgentIdentifier",
    "InvalidIdentifier",
    "check_server_identifier",
    "is_agent_identifier",
    "is_server_identifier",
    "parse_agent_identifier",
]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A DNS name of lowercase LDH labels; the last label is not all digits (an IPv4 literal is not a name).
_HOST = re.compile(rf"(?=.{{1,253}}\Z)(?:{_LABEL}\.)*(?![0-9]+\Z){_LABEL}")
_LOOPBACK = re.compile(r"127\.0\.0\.1(?::(?:[1-9][0-9]{0,4}))?")
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_MAX_LOCAL = 255


class InvalidIdentifier(ValueError):
    """The value is not an identifier -11 allows; the message says which rule it breaks."""


def _port_ok(host: str) -> bool:
    _, _, port = host.partition(":")
    return not port or int(port) <= 65535


def _check_host(host: str, *, allow_loopback_http: bool, what: str) -> None:
    if _HOST.fullmatch(host):
        return
    if allow_loopback_http and _LOOPBACK.fullmatch(host) and _port_ok(host):
        return
    raise InvalidIdentifier(f"{what} is not a lowercase DNS name in A-label form (no port, no IP literal)")


def check_server_identifier(value: str, *, allow_loopback_http: bool = False) -> str:
    """``value`` if it is a -11 server identifier (§11.1.1), else :class:`InvalidIdentifier`."""
    if allow_loopback_http and value.startswith("http://"):
        host = value[len("http://"):]
        if _LOOPBACK.fullmatch(host) and _port_ok(host):
            return value
        raise InvalidIdentifier("only http://127.0.0.1[:port] is allowed over http, and only in development")
    if not value.startswith("https://"):
        raise InvalidIdentifier("a server identifier must use the https scheme")
    _check_host(value[len("https://"):], allow_loopback_http=False, what="a server identifier's host")
    return value


def is_server_identifier(value: object, *, allow_loopback_http: bool = False) -> bool:
    """True when ``value`` is a string :func:`check_server_identifier` accepts."""
    if not isinstance(value, str):
        return False
    try:
        check_server_identifier(value, allow_loopback_http=allow_loopback_http)
    except InvalidIdentifier:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AgentIdentifier:
    """A parsed ``aauth:local@domain``; ``discriminator`` is set for a sub-agent (§5.2).

    ``str()`` gives the identifier back exactly.  Parties must not base protocol decisions
    on the local part (the ``parent_agent`` claim names a sub-agent's parent); :attr:`parent`
    is for logs and for checking that claim against the naming rule."""

    name: str
    domain: str
    discriminator: str | None = None

    @property
    def local(self) -> str:
        return self.name if self.discriminator is None else f"{self.name}+{self.discriminator}"

    @property
    def parent(self) -> AgentIdentifier | None:
        """The identifier a sub-agent's name says its parent has (``None`` for a top-level agent)."""
        return None if self.discriminator is None else AgentIdentifier(self.name, self.domain)

    def __str__(self) -> str:
        return f"aauth:{self.local}@{self.domain}"


def parse_agent_identifier(value: str, *, allow_loopback_http: bool = False) -> AgentIdentifier:
    """Parse an agent identifier (§5.2), or raise :class:`InvalidIdentifier`."""
    if not value.startswith("aauth:"):
        raise InvalidIdentifier("an agent identifier starts with 'aauth:'")
    local, at, domain = value[len("aauth:"):].rpartition("@")
    if not at:
        raise InvalidIdentifier("an agent identifier is aauth:local@domain")
    if not 1 <= len(local) <= _MAX_LOCAL:
        raise InvalidIdentifier(f"the local part must be 1 to {_MAX_LOCAL} characters")
    name, plus, discriminator = local.partition("+")
    if not _NAME.fullmatch(name) or (plus and not _NAME.fullmatch(discriminator)):
        raise InvalidIdentifier("the local part is A-Z a-z 0-9 . _ - with at most one '+' between two non-empty parts")
    _check_host(domain, allow_loopback_http=allow_loopback_http, what="an agent identifier's domain")
    return AgentIdentifier(name, domain, discriminator if plus else None)


def is_agent_identifier(value: object, *, allow_loopback_http: bool = False) -> bool:
    """True when ``value`` is a string :func:`parse_agent_identifier` accepts."""
    if not isinstance(value, str):
        return False
    try:
        parse_agent_identifier(value, allow_loopback_http=allow_loopback_http)
    except InvalidIdentifier:
        return False
    return True
