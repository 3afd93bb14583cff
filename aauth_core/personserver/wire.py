"""The person server's HTTP vocabulary: its answers, problem+json refusals, the JSON bodies
it reads, ``Prefer: wait`` and interaction codes (-11 §11.8, §11.9.2; reference §4.4)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11
from ..wire.requirement import AAuthRequirement, format_requirement

__all__ = ["MAX_JSON", "PersonServerError", "Reply", "interaction_code", "json_reply", "pending_reply",
           "prefer_wait", "problem_reply", "read_json", "string_member"]

#: Largest JSON body the endpoints read (bytes); a larger one is refused before parsing.
MAX_JSON = 64 * 1024
_MAX_DEPTH = 16
#: Interaction codes: 8 characters that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*([0-9]{1,6})(?:$|[,;\s])", re.IGNORECASE)
_NO_STORE = {"Cache-Control": "no-store"}


class PersonServerError(AAuthError):
    """A refusal of the person server's JSON endpoints: ``application/problem+json`` with
    ``error`` (the -11 code) and ``detail``."""

    default_code = "invalid_request"
    default_status = 400


@dataclass(frozen=True, slots=True)
class Reply:
    """What an endpoint answers: status, headers and body, for an adapter to copy."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_reply(status: int, doc: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **_NO_STORE, **(headers or {})},
                 json.dumps(dict(doc), separators=(",", ":")).encode())


def problem_reply(error: AAuthError) -> Reply:
    """problem+json for any refusal (a ``Signature-Error`` and its headers are kept as they are)."""
    body = {"error": error.code, "detail": error.description}
    headers = {"Content-Type": "application/problem+json", **_NO_STORE, **error.headers}
    return Reply(error.status_code, headers, json.dumps(body, separators=(",", ":")).encode())


def pending_reply(location: str, retry_after: int, requirement: AAuthRequirement | None,
                  status: str = "pending") -> Reply:
    """``202`` + ``Location`` + ``Retry-After`` (+ ``AAuth-Requirement``), ``{"status": ...}`` (-11 §11.8)."""
    headers = {"Location": location, "Retry-After": str(retry_after)}
    if requirement is not None:
        headers[AAUTH_11.requirement_header or "AAuth-Requirement"] = format_requirement(requirement)
    return json_reply(202, {"status": status}, headers)


def read_json(body: bytes | None, content_type: str | None) -> dict[str, Any]:
    """A JSON object body: ``application/json``, at most :data:`MAX_JSON` bytes, no duplicate
    members, no ``NaN``, bounded nesting; anything else is ``invalid_request``."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise PersonServerError("the body must be application/json")
    if body is None or len(body) > MAX_JSON:
        raise PersonServerError(f"the body must be a JSON object of at most {MAX_JSON} bytes",
                                status_code=413 if body else 400)
    if body.count(b"{") + body.count(b"[") > 4 * _MAX_DEPTH and _too_deep(body):
        raise PersonServerError("the JSON body is nested too deeply")
    try:
        doc = json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PersonServerError("the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise PersonServerError("the body must be a JSON object")
    return doc


def string_member(doc: Mapping[str, Any], name: str, *, required: bool = False, limit: int = 16_384) -> str | None:
    """A string member of a request body (``invalid_request`` when absent but required, or mistyped)."""
    value = doc.get(name)
    if value is None:
        if required:
            raise PersonServerError(f"{name} is required")
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise PersonServerError(f"{name} must be a non-empty string")
    return value


def prefer_wait(value: str | None, bound: int) -> int:
    """``Prefer: wait=<n>`` (RFC 7240) in seconds, at most ``bound``; 0 when absent or unreadable."""
    match = _PREFER_WAIT.search(value or "")
    return min(int(match.group(1)), bound) if match else 0


def interaction_code() -> str:
    """A fresh ``XXXX-XXXX`` code (about 40 bits; single-use and short-lived)."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError("duplicate member")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(body: bytes) -> bool:
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            depth += 1
            if depth > _MAX_DEPTH:
                return True
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return False
