"""Loaded by every process the documentation tests start: no packet may leave the machine.

Snippets name ``https://*.example`` parties only as configuration; if one ever tried to
resolve or connect to a non-loopback address, this refuses it and leaves a marker on
stderr that the test looks for.
"""

from __future__ import annotations

import socket
import sys

MARKER = "DOCTEST-NETWORK-BLOCKED"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _refuse(what: object) -> OSError:
    sys.stderr.write(f"{MARKER}: {what}\n")
    sys.stderr.flush()
    return socket.gaierror(f"documentation tests: network access refused ({what})")


def _getaddrinfo_guard(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOOPBACK:
        raise _refuse(name)
    return _getaddrinfo(host, *args, **kwargs)


def _address_ok(sock: socket.socket, address: object) -> bool:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return True
    return isinstance(address, tuple) and address[0] in _LOOPBACK


def _connect_guard(self, address):  # type: ignore[no-untyped-def]
    if not _address_ok(self, address):
        raise _refuse(address)
    return _connect(self, address)


def _connect_ex_guard(self, address):  # type: ignore[no-untyped-def]
    if not _address_ok(self, address):
        raise _refuse(address)
    return _connect_ex(self, address)


socket.getaddrinfo = _getaddrinfo_guard
socket.socket.connect = _connect_guard  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex_guard  # type: ignore[method-assign]
