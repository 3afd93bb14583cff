"""Assertions every attack must pass, whatever the target."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping

from aauth_core.wire.signature_error import parse_signature_error

from .attacks import Attack, Req
from .conftest import RESOLVES, AttackWorld

__all__ = ["check_network", "check_prelude", "check_refusal"]

_LEAKS = ("Traceback", 'File "', "eyJ", "-----BEGIN", "@signature-params")


def _secrets(req: Req) -> list[str]:
    """Values that must never be echoed: signatures and any token text."""
    out: list[str] = []
    for name, value in req.headers:
        if name.lower() == "signature" and ":" in value:
            out += [part for part in value.split(":")[1::2] if len(part) > 20]
        if name.lower() == "signature-key" and "jwt" in value:
            out += [part for part in value.replace('"', " ").replace("=", " ").split() if part.count(".") >= 2]
    return out


def check_refusal(attack: Attack, expected: tuple[int, str], status: int, headers: Mapping[str, str],
                  content: bytes, req: Req, *, ran: bool) -> None:
    """The response refuses the attack exactly as the table says, and leaks nothing."""
    text = content.decode("utf-8", "replace")
    assert status != 500, f"{attack.name}: 500 {text[:300]}"
    assert not ran, f"{attack.name}: the handler ran (status {status})"
    assert (status, _code(text)) == expected, f"{attack.name}: {status} {text[:300]}"
    lower = {k.lower(): v for k, v in headers.items()}
    body = json.loads(text)
    if attack.signature_error is not None:  # aauth-11 (P6): Signature-Error and problem+json
        assert parse_signature_error(lower["signature-error"]).error == attack.signature_error, lower
        assert body["error"] == attack.signature_error, body
        assert body["type"] == f"urn:ietf:params:sig-error:{attack.signature_error}", body
        assert isinstance(body["detail"], str) and "agent-auth" not in lower, (body, lower)
    else:
        assert set(body) == {"error", "error_description"}, body
        assert isinstance(body["error_description"], str)
        assert "signature-error" not in lower, lower
    for leak in _LEAKS:
        assert leak not in text, f"{attack.name}: response contains {leak!r}"
    for secret in _secrets(req):
        assert secret not in text, f"{attack.name}: response echoes request secrets"
    content_type = lower.get("content-type", "")
    expected_type = "application/json" if attack.signature_error is None else "application/problem+json"
    assert content_type.startswith(expected_type), content_type


def _code(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def check_prelude(attack: Attack, status: int, content: bytes) -> None:
    """Requests sent before the attack (the original of a replay, a code's first redemption)."""
    assert status == 200, f"{attack.name}: the legitimate first request failed: {status} {content[:300]!r}"


def check_network(attack: Attack, world: AttackWorld) -> None:
    """No request ever went to a forbidden or non-public host."""
    seen = world.net.hosts_seen()
    for host in attack.forbidden:
        assert host.strip("[]").lower() not in seen, f"{attack.name}: the network was asked for {host}"
    for host in seen:
        assert host not in RESOLVES, f"{attack.name}: fetched from {host}, which resolves to a private address"
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            continue
        raise AssertionError(f"{attack.name}: fetched from the IP literal {ip}")
