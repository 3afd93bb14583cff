"""What every ``aauth`` command shares: usage errors, JSON output, the request envelope."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["UsageError", "load_envelope", "plain", "print_json", "usage"]


class UsageError(Exception):
    """A bad command line: exit code 2 with the message."""


def usage(message: str) -> NoReturn:
    raise UsageError(message)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def plain(value: Any) -> Any:
    """Frozen claims (mapping proxies, tuples) as plain JSON values."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def load_envelope(source: str) -> dict[str, Any]:
    """A signed request envelope from a file, or standard input for ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        usage(f"cannot read envelope {source!r}: {exc.strerror}")
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        usage(f"envelope {source!r} is not valid JSON: {exc.msg} (line {exc.lineno})")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("method"), str) \
            or not isinstance(envelope.get("url"), str) or not isinstance(envelope.get("headers"), dict):
        usage("envelope must be an object with string 'method', 'url' and object 'headers'")
    return envelope
