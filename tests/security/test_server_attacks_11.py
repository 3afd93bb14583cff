"""Every attack on our -11 person server and access server (``attacks_servers_11``), through
each server's Starlette app and its core blocking driver: the status and code of the table
(never a 500), problem+json (or the consent page's error page) without token text, nothing
issued or stored, and no request ever sent to a forbidden or non-public host.

Also: docs/security.md lists exactly these rows, with the same outcomes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aauth_core.authserver import RequireConsent
from aauth_core.wire.signature_error import parse_signature_error

from ..accessserver.harness import FORBIDDEN as AS_FORBIDDEN
from ..accessserver.harness import build
from ..conftest import FrozenClock
from .attacks_servers_11 import SERVER_ATTACKS_11
from .servers11_env import FORBIDDEN_HOSTS, Answer, ASEnv, PSEnv, Req, ServerAttack, build_ps_env

_LEAKS = ("Traceback", 'File "', "eyJ", "-----BEGIN", "@signature-params", "person_token", "auth_token")
_DATA_CODE = re.compile(r'data-code="([a-z_]+)"')

CASES = [pytest.param(attack, driver, id=f"{attack.name}-{driver}")
         for attack in SERVER_ATTACKS_11 for driver in ("asgi", "core-sync")
         if driver == "asgi" or not (attack.page or attack.app_only)]


def make_env(attack: ServerAttack, driver: str, clock: FrozenClock) -> PSEnv | ASEnv:
    if attack.server == "PS":
        return build_ps_env(clock, policy=RequireConsent() if attack.consent else None, driver=driver)
    return ASEnv(build(clock), driver)


def hosts_seen(env: PSEnv | ASEnv) -> list[str]:
    return env.net.hosts if isinstance(env, PSEnv) else env.hosts()


@pytest.mark.parametrize(("attack", "driver"), CASES)
def test_server_attack_is_refused(attack: ServerAttack, driver: str, clock: FrozenClock) -> None:
    env = make_env(attack, driver, clock)
    built = attack.build(env)
    steps = built if isinstance(built, list) else [built]
    for prelude in steps[:-1]:
        answer = prelude() if callable(prelude) else env.send(prelude)
        assert answer.status < 500, f"{attack.name}: the scene-setting step failed: {answer.status} {answer.text}"
    stored = env.stored()
    last = steps[-1]
    answer = last() if callable(last) else env.send(last)
    check_answer(attack, answer, last if isinstance(last, Req) else None)
    assert env.stored() <= stored, f"{attack.name}: a refused request left state behind"
    seen = hosts_seen(env)
    for host in (*attack.forbidden, *FORBIDDEN_HOSTS, *AS_FORBIDDEN):
        assert host not in seen, f"{attack.name}: the network was asked for {host}"
    if isinstance(env, PSEnv):
        assert env.net.violations == [], attack.name
    if attack.check is not None:
        attack.check(env, answer)


def check_answer(attack: ServerAttack, answer: Answer, req: Req | None) -> None:
    text = answer.text
    assert answer.status != 500, f"{attack.name}: 500 {text[:300]}"
    for leak in _LEAKS:
        assert leak not in text, f"{attack.name}: the answer contains {leak!r}: {text[:300]}"
    if req is not None:
        for value in req.headers.values():
            for part in re.split(r'[";=, ]', value):
                if len(part) > 40:
                    assert part not in text, f"{attack.name}: the answer echoes request secrets"
    if attack.page:
        assert answer.headers["content-type"].startswith("text/html"), answer.headers
        found = _DATA_CODE.search(text)
        assert (answer.status, found.group(1) if found else "") == (attack.status, attack.code), \
            f"{attack.name}: {answer.status} {text[:400]}"
        return
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body: dict[str, Any] = answer.json()
    assert (answer.status, body.get("error")) == (attack.status, attack.code), \
        f"{attack.name}: {answer.status} {body}"
    assert isinstance(body.get("detail"), str) and set(body) <= {"type", "error", "detail"}, body
    assert answer.headers.get("cache-control") == "no-store", answer.headers
    if "signature-error" in answer.headers:
        assert parse_signature_error(answer.headers["signature-error"]).error == attack.code, answer.headers


# ----------------------------------------------------------------------------- docs/security.md

PAGE = Path(__file__).resolve().parents[2] / "docs" / "security.md"
_HEADER = "| server | endpoint | attack | what it tries | answer |"
_ROW = re.compile(r"^\| (PS|AS) \| (.+?) \| `([a-z0-9_]+)` \| (.+?) \| (\d{3}) (?:`([a-z_]+)`|\(the consent page\)) \|$")


def documented() -> dict[str, tuple[str, str, int, str]]:
    rows: dict[str, tuple[str, str, int, str]] = {}
    in_table = False
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line == _HEADER:
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        match = _ROW.match(line)
        if in_table and match:
            assert match.group(3) not in rows, f"{match.group(3)} is listed twice"
            rows[match.group(3)] = (match.group(1), match.group(2), int(match.group(5)), match.group(6) or "")
    return rows


def test_every_server_attack_is_documented_with_its_outcome() -> None:
    rows = documented()
    assert len({a.name for a in SERVER_ATTACKS_11}) == len(SERVER_ATTACKS_11), "duplicate row names"
    assert sorted({a.name for a in SERVER_ATTACKS_11} ^ set(rows)) == [], "docs/security.md and the rows differ"
    for attack in SERVER_ATTACKS_11:
        assert rows[attack.name] == (attack.server, f"`{attack.endpoint}`", attack.status, attack.code), attack.name
