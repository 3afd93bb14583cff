"""Assertions every attack must pass, whatever the target."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping

from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_error import parse_signature_error

from .conftest import RESOLVES, AttackWorld
from .table import Attack, Req

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
    if attack.is_11:
        _check_11(attack, status, lower, body)
    else:
        assert set(body) == {"error", "error_description"}, body
        assert isinstance(body["error_description"], str)
        assert "signature-error" not in lower, lower
    for leak in _LEAKS:
        assert leak not in text, f"{attack.name}: response contains {leak!r}"
    for secret in _secrets(req):
        assert secret not in text, f"{attack.name}: response echoes request secrets"
    content_type = lower.get("content-type", "")
    expected_type = "application/problem+json" if attack.is_11 else "application/json"
    assert content_type.startswith(expected_type), content_type


#: What a Signature-Error code brings with it (SK-09 §5.4, -11 §11.3.4).
_COMPANIONS = {"unsupported_scheme": "accept-signature-scheme", "unsupported_algorithm": "accept-signature-alg"}


def _check_11(attack: Attack, status: int, lower: Mapping[str, str], body: Mapping[str, object]) -> None:
    """aauth-11's shape (P6): problem+json ``{error, detail}``; a signature or token failure
    with its ``Signature-Error`` (and SK-09's ``type``, the ``Accept-Signature-*`` or
    ``required_input`` its code calls for), anything else with no ``Signature-*`` header; the
    ``AAuth-Requirement`` the row names, or none; never January's ``Agent-Auth``; a 401 links
    the resource's metadata (-11 §11.2.5)."""
    assert isinstance(body.get("detail"), str) and set(body) <= {"type", "error", "detail"}, body
    assert "agent-auth" not in lower, lower
    code = attack.signature_error
    if code is not None:
        field = parse_signature_error(lower["signature-error"])
        assert field.error == code and body["error"] == code, (lower, body)
        assert body["type"] == f"urn:ietf:params:sig-error:{code}", body
        assert (field.required_input is not None) is (code == "invalid_input"), field
        for name in _COMPANIONS.values():
            assert (name in lower) is (_COMPANIONS.get(code) == name), (name, lower)
    else:
        assert not [k for k in lower if k.startswith(("signature-", "accept-signature"))], lower
        assert "type" not in body, body
    requirement = lower.get("aauth-requirement")
    if attack.requirement is None:
        assert requirement is None, requirement
    else:
        parsed = parse_requirement(requirement or "")
        assert parsed.requirement == attack.requirement, requirement
        if attack.requirement in ("agent-token", "person-token"):  # RS-11: no parameters
            assert requirement == f"requirement={attack.requirement}", requirement
    if status == 401:
        assert 'rel="aauth-resource"' in lower.get("link", ""), lower


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
