"""Print an exchange the way the seed transcript does (demo output only).

This is the "explicit debug mode" of the house rules: it shows headers and
bodies, shortened like the transcript's logger (long values cut at 100
characters).  Nothing in the library itself prints any of this.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import httpx

__all__ = ["Printer", "decode_jwt", "shorten"]

RULE = "=" * 80
LIMIT = 100


def shorten(value: str, limit: int = LIMIT) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWT, for display only (no verification)."""
    def part(segment: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return data

    head, payload, _ = token.split(".")
    return part(head), part(payload)


class Printer:
    """Writes banners, requests, responses and decoded tokens; silent when ``quiet``."""

    def __init__(self, *, quiet: bool = False, out: TextIO | None = None) -> None:
        self.quiet = quiet
        self.out = out or sys.stdout

    def line(self, text: str = "") -> None:
        if not self.quiet:
            self.out.write(text + "\n")
            self.out.flush()

    def banner(self, title: str, description: str | None = None) -> None:
        self.line()
        self.line(RULE)
        self.line(title)
        self.line(RULE)
        if description:
            self.line(f"Description: {description}")
            self.line(RULE)

    def section(self, title: str, lines: Iterable[str]) -> None:
        self.line()
        self.line(RULE)
        self.line(title)
        self.line(RULE)
        for text in lines:
            self.line(text)
        self.line(RULE)
        self.line()

    def request(self, who: str, request: httpx.Request) -> None:
        lines = [f"{request.method} {request.url} HTTP/1.1"]
        lines += _headers(request.headers, skip={"host", "accept", "accept-encoding", "connection",
                                                 "user-agent", "content-length"})
        body = request.content
        if body:
            lines += ["", f"[Body ({len(body)} bytes)]", body.decode("utf-8", "replace")]
        self.section(f">>> {who} REQUEST to {request.url}", lines)

    def response(self, who: str, response: httpx.Response) -> None:
        lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        lines += _headers(response.headers, skip={"date", "server"})
        body = response.content
        lines += ["", f"[Body ({len(body)} bytes)]", body.decode("utf-8", "replace")]
        self.section(f"<<< {who} RESPONSE from {response.request.url}", lines)

    def token(self, title: str, token: str) -> None:
        header, payload = decode_jwt(token)
        self.section(f"{title} (decoded)", ["Header:", json.dumps(header, indent=2), "", "Payload:",
                                            json.dumps(payload, indent=2)])

    def hooks(self, who: str) -> dict[str, list[Callable[..., Any]]]:
        """httpx event hooks printing every request a client sends (auth-flow requests too)."""
        def on_request(request: httpx.Request) -> None:
            self.request(who, request)

        def on_response(response: httpx.Response) -> None:
            response.read()
            self.response(who, response)

        return {"request": [on_request], "response": [on_response]}

    def async_hooks(self, who: str) -> dict[str, list[Callable[..., Any]]]:
        """The same hooks for an ``httpx.AsyncClient``."""
        def on_request(request: httpx.Request) -> None:
            self.request(who, request)

        async def arequest(request: httpx.Request) -> None:
            on_request(request)

        async def aresponse(response: httpx.Response) -> None:
            await response.aread()
            self.response(who, response)

        return {"request": [arequest], "response": [aresponse]}

    def result(self, passed: bool, name: str, detail: str = "") -> None:
        mark = "✓" if passed else "✗"
        self.line(f"{mark} {name} {'PASSED' if passed else 'FAILED'}{': ' + detail if detail else ''}")


def _headers(headers: Mapping[str, str], *, skip: set[str]) -> list[str]:
    out = []
    for name, value in headers.items():
        if name.lower() in skip:
            continue
        out.append(f"{_title(name)}: {shorten(value)}")
    return sorted(out)


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
