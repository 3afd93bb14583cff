"""The -11 demos' transcript: every exchange printed, every token as its decoded claims.

Bodies and headers of -11 exchanges carry whole JWTs (person, auth, resource and agent
tokens).  :class:`TokenPrinter` prints each one as a reference naming its type and ``jti``
(``<aa-auth+jwt jti=Q2x…>``, the same in every party's output) and, the first time a client
sends or receives it, its decoded header and claims; never its signature, never a key.
Demo output only, like :mod:`sample_apps.printer`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

from .printer import Printer, decode_jwt, shorten

__all__ = ["TokenPrinter", "jwts_in"]

#: A compact JWS whose JOSE header is a JSON object (``eyJ``): what a token looks like on the wire.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: A token a server's logger cut short (``eyJ….eyJ…...``): only its header can be read.
_CUT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?\.\.\.")
_SKIP_REQUEST = {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length"}


def jwts_in(text: str) -> list[str]:
    """Every compact JWT in ``text``, in order."""
    return _JWT.findall(text)


def reference(token: str) -> str:
    """``<typ jti=…>``: the same in every party's output, and nothing a verifier would accept."""
    try:
        header, claims = decode_jwt(token)
    except (ValueError, UnicodeDecodeError):
        return "<JWT>"
    jti = str(claims.get("jti", ""))
    return f"<{header.get('typ', 'JWT')}{' jti=' + jti if jti else ''}>"


def _cut_reference(match: re.Match[str]) -> str:
    head = match.group(0).split(".", 1)[0]
    try:
        typ = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("typ", "JWT")
    except (ValueError, UnicodeDecodeError, AttributeError):  # the header itself was cut
        typ = "JWT"
    return f"<{typ}, cut>"


class TokenPrinter(Printer):
    """A :class:`Printer` that prints each JWT as a reference and, the first time a client
    (:meth:`request`, :meth:`response`) sees it, its decoded claims."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._decoded: set[str] = set()

    def section(self, title: str, lines: Iterable[str], *, decode: bool = False) -> None:
        out: list[str] = []
        fresh: list[str] = []
        for text in lines:
            fresh += [t for t in jwts_in(text) if t not in self._decoded and t not in fresh]
            out.append(_CUT.sub(_cut_reference, _JWT.sub(lambda m: reference(m.group(0)), text)))
        super().section(title, out)
        if not decode:
            return
        for token in fresh:
            self._decoded.add(token)
            try:
                self.token(reference(token), token)
            except (ValueError, UnicodeDecodeError):  # not JSON after all: its reference is enough
                continue

    def request(self, who: str, request: httpx.Request) -> None:
        lines = [f"{request.method} {request.url} HTTP/1.1"]
        lines += sorted(f"{_title(k)}: {self._value(k, v)}" for k, v in request.headers.items()
                        if k.lower() not in _SKIP_REQUEST)
        if request.content:
            lines += ["", f"[Body ({len(request.content)} bytes)]", request.content.decode("utf-8", "replace")]
        self.section(f">>> {who} REQUEST to {request.url}", lines, decode=True)

    def response(self, who: str, response: httpx.Response) -> None:
        lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        lines += sorted(f"{_title(k)}: {self._value(k, v)}" for k, v in response.headers.items()
                        if k.lower() not in ("date", "server"))
        lines += ["", f"[Body ({len(response.content)} bytes)]", response.content.decode("utf-8", "replace")]
        self.section(f"<<< {who} RESPONSE from {response.request.url}", lines, decode=True)

    @staticmethod
    def _value(name: str, value: str) -> str:
        """Header values: tokens kept whole (the section replaces them), the rest shortened."""
        return value if jwts_in(value) and name.lower() != "signature" else shorten(value)


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
